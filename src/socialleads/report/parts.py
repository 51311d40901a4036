"""HTML building blocks shared by the report and the dashboard: escaping, figure tiles, tables, charts,
and the grade/evidence block of a LEADS stage.

Everything taken from data (handles, post text, account keys) must go through `esc` (or a helper here
that calls it): post text is untrusted input.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

from socialleads.format import fmt_check_value

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def num(v: Any) -> str:
    return f"{v:,}" if isinstance(v, int) else f"{v:,.2f}"


def pct(v: Any) -> str:
    return f"{100 * v:.1f}%"


def tile(label: str, value: Any, fmt: Callable[[Any], str] = num, reason: str | None = None,
         note: str = "") -> str:
    """One figure: its value, or n/a with the reason it is not available."""
    if value is None:
        return (f'<div class="tile na"><div class="label">{esc(label)}</div><div class="value">n/a</div>'
                f'<div class="note">{esc(reason or "not available")}</div></div>')
    n = f'<div class="note">{esc(note)}</div>' if note else ""
    return (f'<div class="tile"><div class="label">{esc(label)}</div><div class="value">{esc(fmt(value))}</div>'
            f"{n}</div>")


def tiles(items: Sequence[str]) -> str:
    return '<div class="tiles">' + "".join(items) + "</div>"


def table(columns: Sequence[tuple[str, str]], rows: Sequence[dict[str, Any]],
          formats: dict[str, Callable[[Any], str]] | None = None, caption: str = "") -> str:
    """An HTML table of `rows` (dicts); `columns` = [(key, heading)]; every cell escaped."""
    formats = formats or {}
    head = "".join(f"<th>{esc(h)}</th>" for _, h in columns)
    body = []
    for r in rows:
        cells = []
        for k, _ in columns:
            v = r.get(k)
            text = "" if v is None else (formats[k](v) if k in formats else (num(v) if isinstance(v, int | float)
                                                                              and not isinstance(v, bool) else v))
            cells.append(f"<td>{esc(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return f'<table class="data">{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def figure_div(fig: go.Figure, div_id: str) -> str:
    """A chart's div (plotly.js itself is included once per page by the page)."""
    div = pio.to_html(fig, full_html=False, include_plotlyjs=False, include_mathjax=False, config=PLOTLY_CONFIG,
                      div_id=div_id)
    return f'<div class="chart">{div}</div>'


def _fmt_value(v: Any) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}"
    return num(v) if isinstance(v, int) and not isinstance(v, bool) else str(v)


def grade_badge(section: dict[str, Any]) -> str:
    """The stage's grade letter as a coloured badge (– when no check has both a value and a target)."""
    letter = (section.get("grade") or {}).get("letter")
    return (f'<span class="grade grade-{esc(letter)}">{esc(letter)}</span>' if letter else
            '<span class="grade grade-none">–</span>')


def grade_block(section: dict[str, Any]) -> str:
    """The stage's grade and the checks behind it (metric, value, target, met)."""
    g = section.get("grade") or {}
    letter = g.get("letter")
    badge = grade_badge(section)
    summary = (f"{g.get('met', 0)} of {g.get('checks', 0)} checks meet their target" if letter else
               "no check has both a value and a target yet")
    rows = []
    for c in section.get("evidence") or []:
        met = c.get("met")
        mark = "✓" if met else ("✗" if met is False else "–")
        op = "≥" if c.get("direction") == "min" else "≤"
        unit = c.get("unit") or "share"
        target = "" if c.get("target") is None else f"{op} {fmt_check_value(c.get('target'), unit)}"
        value = "n/a" if c.get("value") is None else fmt_check_value(c.get("value"), unit)
        if unit == "flag":   # a yes/no check (1 = yes): value and target read yes / no
            target = "" if c.get("target") is None else fmt_check_value(bool(c.get("target")), unit)
            value = "n/a" if c.get("value") is None else fmt_check_value(bool(c.get("value")), unit)
        rows.append({"met": mark, "metric": c.get("metric"), "value": value, "target": target,
                     "note": c.get("note") or ""})
    evidence = table([("met", ""), ("metric", "metric"), ("value", "value"), ("target", "target"),
                      ("note", "evidence")], rows) if rows else ""
    return f'<div class="gradebox">{badge}<div><div>{esc(summary)}</div>{evidence}</div></div>'


CSS = """
:root { --ink:#1f2933; --muted:#616e7c; --line:#e4e7eb; --bg:#f5f7fa; --accent:#2563eb; }
* { box-sizing: border-box; }
body { margin:0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--ink);
       background:var(--bg); line-height:1.45; }
header { background:#fff; border-bottom:1px solid var(--line); padding:24px 32px; }
header h1 { margin:0 0 4px; font-size:26px; }
header p { margin:0; color:var(--muted); }
main { max-width:1180px; margin:0 auto; padding:24px 32px 48px; }
h2 { font-size:20px; margin:32px 0 12px; }
h3 { font-size:16px; margin:20px 0 8px; }
.tiles { display:grid; grid-template-columns:repeat(auto-fill, minmax(200px, 1fr)); gap:12px; }
.tile { background:#fff; border:1px solid var(--line); border-radius:10px; padding:14px 16px; }
.tile .label { font-size:13px; color:var(--muted); }
.tile .value { font-size:26px; font-weight:650; margin-top:4px; }
.tile .note { font-size:12px; color:var(--muted); margin-top:4px; }
.tile.na .value { color:#9aa5b1; font-size:20px; }
.chart { background:#fff; border:1px solid var(--line); border-radius:10px; padding:8px; margin:12px 0; }
.stage { background:#fff; border:1px dashed var(--line); border-radius:10px; padding:12px 16px; margin:8px 0;
         color:var(--muted); }
.stage b { color:var(--ink); }
table.data { border-collapse:collapse; background:#fff; margin:8px 0; font-size:13px; width:100%; }
table.data th, table.data td { border-bottom:1px solid var(--line); padding:5px 8px; text-align:left;
                               vertical-align:top; }
table.data th { color:var(--muted); font-weight:600; }
table.data caption { text-align:left; color:var(--muted); font-size:12px; padding:4px 0; }
.gradebox { display:flex; gap:16px; align-items:flex-start; margin:8px 0 16px; }
.grade { font-size:34px; font-weight:700; width:56px; height:56px; border-radius:12px; display:flex;
         align-items:center; justify-content:center; color:#fff; flex:none; }
.grade-A { background:#16a34a; } .grade-B { background:#65a30d; } .grade-C { background:#ca8a04; }
.grade-D { background:#ea580c; } .grade-F { background:#dc2626; } .grade-none { background:#9aa5b1; }
footer { color:var(--muted); font-size:12px; margin-top:32px; }
code { font-size:12px; }
"""

__all__ = ["CSS", "PLOTLY_CONFIG", "esc", "figure_div", "grade_badge", "grade_block", "num", "pct", "table", "tile", "tiles"]
