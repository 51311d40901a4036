"""Plotly figures under a strict Content-Security-Policy (`script-src 'self'`: no inline script).

A chart is a `<div class="plotly-fig" data-figure="{json}">`; static/dashboard.js calls Plotly.newPlot
on it. Stage renderers shared with the offline report (report/<stage>.py) emit plotly's usual inline
`<script>Plotly.newPlot(...)</script>`; `defuse_scripts` turns each into such a data div, so the report's
renderers work unchanged in the dashboard.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

from socialleads.report.parts import PLOTLY_CONFIG

_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
_NEWPLOT = "Plotly.newPlot("


def figure_dict(fig: go.Figure) -> dict[str, Any]:
    return json.loads(pio.to_json(fig, validate=False))


def chart_div(fig: go.Figure | dict[str, Any], div_id: str) -> str:
    """A chart rendered by static/dashboard.js from its JSON (no inline script)."""
    spec = fig if isinstance(fig, dict) else figure_dict(fig)
    spec = {"data": spec.get("data", []), "layout": spec.get("layout", {}), "config": PLOTLY_CONFIG}
    data = html.escape(json.dumps(spec, separators=(",", ":")), quote=True)
    return (f'<div class="chart"><div id="{html.escape(div_id, quote=True)}" class="plotly-fig" '
            f'data-figure="{data}"></div></div>')


def _parse_newplot(js: str) -> tuple[str, list[Any], dict[str, Any]] | None:
    i = js.find(_NEWPLOT)
    if i < 0:
        return None
    dec = json.JSONDecoder()
    pos = i + len(_NEWPLOT)
    parts = []
    try:
        for _ in range(3):  # "div id", data, layout
            while js[pos] in " \t\r\n,":
                pos += 1
            value, pos = dec.raw_decode(js, pos)
            parts.append(value)
    except (ValueError, IndexError):
        return None
    div_id, data, layout = parts
    if not isinstance(div_id, str) or not isinstance(data, list) or not isinstance(layout, dict):
        return None
    return div_id, data, layout


def defuse_scripts(fragment: str) -> str:
    """Replace plotly's inline scripts by data divs; drop any other inline script (CSP would block it)."""

    def repl(m: re.Match[str]) -> str:
        attrs, body = m.group(1), m.group(2)
        if "src=" in attrs.lower():
            return ""  # page scripts come from /static only
        parsed = _parse_newplot(body)
        if parsed is None:
            return ""
        div_id, data, layout = parsed
        spec = html.escape(json.dumps({"data": data, "layout": layout, "config": PLOTLY_CONFIG},
                                      separators=(",", ":")), quote=True)
        return f'<div hidden class="plotly-spec" data-target="{html.escape(div_id, quote=True)}" data-figure="{spec}"></div>'

    return _SCRIPT.sub(repl, fragment)


__all__ = ["chart_div", "defuse_scripts", "figure_dict"]
