"""Plotly figures for the audience series (shared by the HTML report and, later, the web dashboard).

Each builder takes the JSON-ready series from `socialleads.metrics.audience_timeseries` and returns a
`plotly.graph_objects.Figure`; none reads the store.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from socialleads.metrics.audience import BUCKETS
from socialleads.report.parts import esc

TITLES = {
    "audience": "Audience over time",
    "reactivity": "Reactivity per week",
    "distribution": "Actions per follower",
    "retention": "Cohort retention of engagers",
}

_LAYOUT = dict(template="plotly_white", margin=dict(l=60, r=20, t=60, b=50), height=380,
               font=dict(family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size=13),
               legend=dict(orientation="h", y=-0.2))


def audience_chart(daily: dict[str, Any]) -> go.Figure:
    """Followers at the end of each day, one line per platform and the combined line ('all')."""
    fig = go.Figure()
    dates = daily.get("dates", [])
    series = daily.get("series", {})
    for name in sorted(series, key=lambda p: (p == "all", p)):
        fig.add_trace(go.Scatter(x=dates, y=series[name], mode="lines", name="combined" if name == "all" else esc(name),
                                 line=dict(width=3 if name == "all" else 1.5)))
    fig.update_layout(title=TITLES["audience"], xaxis_title="Date (UTC)", yaxis_title="Followers", **_LAYOUT)
    return fig


def reactivity_chart(weekly: list[dict[str, Any]]) -> go.Figure:
    """Share of the followers at a week's start who acted on the owner during that week."""
    x = [r["week"] for r in weekly]
    y = [r["reactivity"] for r in weekly]
    text = [f"{r['engaged_followers']} of {r['followers_start']} followers"
            + ("" if r.get("complete", True) else " (week in progress)") for r in weekly]
    fig = go.Figure(go.Scatter(x=x, y=y, mode="lines+markers", name="reactivity", text=text,
                               hovertemplate="%{x}: %{y:.2%}<br>%{text}<extra></extra>"))
    fig.update_layout(title=TITLES["reactivity"], xaxis_title="Week starting (Monday, UTC)",
                      yaxis_title="Followers who acted (share)", yaxis_tickformat=".1%", **_LAYOUT)
    return fig


def distribution_chart(distribution: dict[str, int] | None) -> go.Figure:
    """How many of today's followers took 0, 1, 2, 3–5, … actions on the owner in the window."""
    dist = distribution or {}
    counts = [dist.get(b, 0) for b in BUCKETS]
    total = sum(counts) or 1
    # The passive bucket dwarfs the rest, so each bar carries its share as a label.
    fig = go.Figure(go.Bar(x=list(BUCKETS), y=counts, name="followers",
                           text=[f"{c / total:.1%}" for c in counts], textposition="outside", cliponaxis=False,
                           hovertemplate="%{x} actions: %{y} followers<extra></extra>"))
    fig.update_layout(title=TITLES["distribution"], xaxis_title="Actions on the owner in the window",
                      yaxis_title="Followers", xaxis_type="category", **_LAYOUT)
    return fig


def retention_heatmap(matrix: dict[str, Any], last_cohorts: int = 26) -> go.Figure:
    """Share of each weekly cohort of new engagers acting again j weeks later (blank: not ended yet)."""
    cohorts = matrix.get("cohorts", [])[-last_cohorts:]
    values = matrix.get("retention", [])[-last_cohorts:]
    sizes = matrix.get("sizes", [])[-last_cohorts:]
    js = matrix.get("j", [])
    fig = go.Figure(go.Heatmap(
        z=values, x=[f"+{j}" for j in js], y=[f"{c} (n={n})" for c, n in zip(cohorts, sizes)],
        colorscale="Blues", zmin=0, colorbar=dict(title="retained", tickformat=".0%"),
        hovertemplate="cohort %{y}, week %{x}: %{z:.1%}<extra></extra>"))
    fig.update_layout(title=TITLES["retention"], xaxis_title="Weeks since first action",
                      yaxis_title="Cohort week (first action)", **_LAYOUT)
    fig.update_layout(height=max(380, 22 * len(cohorts) + 140))
    return fig


def audience_figures(series: dict[str, Any]) -> list[tuple[str, go.Figure]]:
    """The four audience charts, in report order: (key, figure)."""
    return [
        ("audience", audience_chart(series.get("audience_daily") or {})),
        ("reactivity", reactivity_chart(series.get("reactivity_weekly") or [])),
        ("distribution", distribution_chart(series.get("action_distribution"))),
        ("retention", retention_heatmap(series.get("cohort_retention") or {})),
    ]


# ---------------------------------------------------------------- dashboard additions (issue 7)

def volume_chart(volume: list[dict[str, Any]], title: str = "Mentions per day") -> go.Figure:
    """Matching posts per period (listen/monitors.py `mention_volume`: [{period, count}])."""
    fig = go.Figure(go.Bar(x=[str(r["period"])[:19] for r in volume], y=[r["count"] for r in volume],
                           name="posts", hovertemplate="%{x}: %{y} posts<extra></extra>"))
    fig.update_layout(title=esc(title), xaxis_title="Period (UTC)", yaxis_title="Posts", **_LAYOUT)
    return fig


def who_chart(rows: list[dict[str, Any]], top: int = 15) -> go.Figure:
    """PageRank of the accounts that matter most (engage/who.py `who_matters`), best at the top."""
    rows = rows[:top][::-1]
    fig = go.Figure(go.Bar(x=[r["pagerank"] for r in rows], y=[esc(r.get("handle") or r["account"]) for r in rows],
                           orientation="h", name="PageRank",
                           hovertemplate="%{y}: %{x:.4f}<extra></extra>"))
    fig.update_layout(title="Who matters most (weighted PageRank)", xaxis_title="PageRank", **_LAYOUT)
    fig.update_layout(height=max(380, 24 * len(rows) + 120), yaxis=dict(type="category"))
    return fig
