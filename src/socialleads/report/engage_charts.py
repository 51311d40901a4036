"""Plotly figures for the Engage section (shared by the HTML report and the web dashboard).

Each builder takes part of the JSON-ready engage section (socialleads.engage.section) and returns a
`plotly.graph_objects.Figure`; none reads the store. Plotly reads a few HTML tags in labels (<b>, <a>,
<br>), so text taken from data (handles, terms) is escaped with parts.esc before it goes into a label.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from socialleads.report.charts import _LAYOUT
from socialleads.report.parts import esc

TITLES = {
    "response": "Time to first reply",
    "communities": "Communities around you: size and your reach",
    "inbox": "Open inbox by priority",
}


def response_time_chart(buckets: list[dict[str, Any]], sla_hours: float | None = None) -> go.Figure:
    """Bars: answered inbound items per time-to-first-reply bucket, each labelled with its share."""
    x = [b["bucket"] for b in buckets]
    y = [b["count"] for b in buckets]
    text = [f"{b['share']:.0%}" if b.get("share") is not None else "" for b in buckets]
    colors = ["#16a34a" if sla_hours is not None and b.get("upper_hours") is not None
              and b["upper_hours"] <= sla_hours else "#94a3b8" for b in buckets]
    fig = go.Figure(go.Bar(x=x, y=y, text=text, textposition="outside", cliponaxis=False, marker_color=colors,
                           hovertemplate="%{x}: %{y} replies<extra></extra>"))
    title = TITLES["response"] + (f" (green: within the {sla_hours:g} h SLA)" if sla_hours is not None else "")
    fig.update_layout(title=title, xaxis_title="Time from the inbound item to the owner's first reply",
                      yaxis_title="Answered items", xaxis_type="category", **_LAYOUT)
    return fig


def community_map(communities: list[dict[str, Any]]) -> go.Figure:
    """A bubble per community: x = size (members), y = the owner's reach (share of members who acted on
    the owner), bubble area ∝ members who acted on the owner; hover: top members and terms."""
    comms = communities or []
    size = [c["size"] for c in comms]
    reach = [c["reach"] for c in comms]
    acted = [c.get("acted_on_owner", 0) for c in comms]
    peak = max(acted) if acted and max(acted) > 0 else 1
    hover = [f"community {c['community']}<br>{c['size']} members, {c.get('acted_on_owner', 0)} acted on you"
             f"<br>members: {esc(', '.join(str(m) for m in c.get('top_members', [])[:3]))}"
             f"<br>terms: {esc(', '.join(str(t) for t in c.get('top_terms', [])[:5]))}" for c in comms]
    labels = [esc(", ".join(str(t) for t in c.get("top_terms", [])[:2])) or f"#{c['community']}" for c in comms]
    fig = go.Figure(go.Scatter(
        x=size, y=reach, mode="markers+text", text=labels, textposition="bottom center", hovertext=hover,
        hoverinfo="text", cliponaxis=False,
        marker=dict(size=[12 + 40 * (a / peak) ** 0.5 for a in acted], color=reach, colorscale="Blues",
                    cmin=0, cmax=1, line=dict(width=1, color="#1e3a8a"), opacity=0.8)))
    lo, hi = (min(size), max(size)) if size else (0, 1)
    pad = max(1.0, 0.12 * (hi - lo))
    fig.update_layout(title=TITLES["communities"], xaxis_title="Members",
                      yaxis_title="Your reach (members who acted on you)", yaxis_tickformat=".0%",
                      yaxis_range=[-0.15, 1.15], xaxis_range=[lo - pad, hi + pad], **_LAYOUT)
    return fig


def inbox_chart(by_band: dict[str, int]) -> go.Figure:
    """Horizontal bars: open inbox items per priority band (high, medium, low)."""
    bands = ["high", "medium", "low"]
    fig = go.Figure(go.Bar(x=[by_band.get(b, 0) for b in bands], y=bands, orientation="h",
                           marker_color=["#dc2626", "#ca8a04", "#94a3b8"],
                           hovertemplate="%{y}: %{x} open items<extra></extra>"))
    fig.update_layout(title=TITLES["inbox"], xaxis_title="Open items", yaxis_autorange="reversed",
                      **{**_LAYOUT, "height": 240})
    return fig


__all__ = ["TITLES", "community_map", "inbox_chart", "response_time_chart"]
