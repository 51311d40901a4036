"""Plotly figures of the Activate stage (used by the HTML report and the dashboard).

plotly.js draws a few tags in labels (<a href>, <b>, <br>), so campaign and experiment names, taken from
data, go through parts.esc before they become a label."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from socialleads.report.charts import _LAYOUT as _CHARTS_LAYOUT
from socialleads.report.parts import esc

_LAYOUT = {**_CHARTS_LAYOUT, "height": 360}  # the report's chart style, a little shorter


def funnel_chart(funnel: dict[str, Any]) -> go.Figure:
    """followers → engagers → clickers → converters (counts; each stage labelled with its unit)."""
    st = [s for s in funnel.get("stages", []) if s.get("count") is not None]
    fig = go.Figure(go.Funnel(y=[esc(f"{s['stage']} ({s['unit']})") for s in st], x=[s["count"] for s in st],
                              textinfo="value", hovertemplate="%{y}: %{x}<extra></extra>"))
    fig.update_layout(title="Activation funnel in the window", **_LAYOUT)
    return fig


def campaign_chart(campaigns: list[dict[str, Any]]) -> go.Figure:
    fig = go.Figure(go.Bar(x=[esc(c["campaign"]) for c in campaigns], y=[c["clicks"] for c in campaigns],
                           name="clicks", hovertemplate="%{x}: %{y} clicks<extra></extra>"))
    fig.update_layout(title="Attributed clicks per campaign", yaxis_title="Clicks", **_LAYOUT)
    return fig


def experiment_chart(experiments: list[dict[str, Any]]) -> go.Figure:
    """Difference (variant − control) with its 95% interval, one row per experiment."""
    ex = [e for e in experiments if e.get("difference") is not None and e.get("interval")]
    fig = go.Figure(go.Scatter(
        x=[e["difference"] for e in ex], y=[esc(e["experiment"]) for e in ex], mode="markers",
        error_x=dict(type="data", symmetric=False, array=[e["interval"][1] - e["difference"] for e in ex],
                     arrayminus=[e["difference"] - e["interval"][0] for e in ex]),
        text=[esc(e["verdict"]) for e in ex], hovertemplate="%{y}: %{x:.4f} (%{text})<extra></extra>"))
    fig.add_vline(x=0, line_dash="dot")
    fig.update_layout(title="Experiments: difference with its 95% interval", xaxis_title="Difference in rate",
                      **{**_LAYOUT, "height": max(220, 80 + 50 * len(ex))})
    return fig
