"""Plotly figures for Dominate and Social mandate (shared by the HTML report and the dashboard).

Each builder takes the JSON-ready section figures and returns a `plotly.graph_objects.Figure`. Member
names and account keys come from data and plotly.js draws some tags in labels: they go through parts.esc."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from socialleads.report.charts import _LAYOUT
from socialleads.report.parts import esc


def sov_chart(weekly: list[dict[str, Any]], label: str) -> go.Figure:
    """Share of voice per week, one line per member of S (labelled with the kind)."""
    fig = go.Figure()
    names = list(weekly[0]["share"]) if weekly else []
    weeks = [w["week"] for w in weekly]
    for n in names:
        fig.add_trace(go.Scatter(x=weeks, y=[w["share"].get(n) for w in weekly], mode="lines+markers", name=esc(n)))
    fig.update_layout(title=f"{label} per week", xaxis_title="Week (UTC, Monday)", yaxis_title=label,
                      yaxis_tickformat=".0%", **_LAYOUT)
    return fig


def drift_chart(drift: list[dict[str, Any]]) -> go.Figure:
    """Voice drift: 1 − cosine between consecutive monthly voice centroids, one line per owner account."""
    fig = go.Figure()
    for a in sorted({d["account"] for d in drift}):
        rows = [d for d in drift if d["account"] == a]
        fig.add_trace(go.Scatter(x=[r["month"] for r in rows], y=[r["drift"] for r in rows], mode="lines+markers",
                                 name=esc(a)))
    fig.update_layout(title="Voice drift month to month", xaxis_title="Month", yaxis_title="1 − cosine",
                      **_LAYOUT)
    return fig


__all__ = ["drift_chart", "sov_chart"]
