"""HTML fragments of the dashboard, built with the report's helpers (report/parts.py, report/html.py,
report/charts.py) so the dashboard and the offline report show the same figures the same way.

Every fragment here is already escaped (the helpers escape all data); templates insert them as Markup.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from socialleads.report import charts
from socialleads.report import html as report_html
from socialleads.report.parts import _fmt_value, esc, grade_badge, grade_block, num, pct, table, tile
from socialleads.serve.data import stage_title
from socialleads.serve.figures import chart_div, defuse_scripts


def fmt(value: Any) -> str:
    """A cell or figure as text (n/a for None); used by the templates' `fmt` filter."""
    if isinstance(value, float) and 0 < abs(value) < 1e-3:
        return f"{value:.2e}"
    return _fmt_value(value)


def audience_tiles(audience: dict[str, Any]) -> str:
    return report_html._tiles(audience)


def listen_summary_html(section: dict[str, Any] | None) -> str:
    """The report's Listen section (report/listen.py `render`), CSP-safe."""
    try:
        fn = importlib.import_module("socialleads.report.listen").render
    except (ModuleNotFoundError, AttributeError):
        fn = getattr(report_html, "_listen", None)
    if fn is None:
        return generic_html(section or {})
    return defuse_scripts(fn(section))


def audience_charts(series: dict[str, Any]) -> str:
    return "".join(chart_div(fig, f"chart-{key}") for key, fig in charts.audience_figures(series or {}))


def _has_renderer(stage: str) -> bool:
    modname = report_html.STAGE_RENDERERS.get(stage)
    if not modname:
        return False
    try:
        return importlib.util.find_spec(modname) is not None
    except ModuleNotFoundError:
        return False


def generic_html(value: Any, depth: int = 0) -> str:
    """Any JSON-ready figures: scalars as a definition list, lists of records as tables (escaped)."""
    if isinstance(value, dict):
        scalars = [(k, v) for k, v in value.items() if not isinstance(v, dict | list)]
        nested = [(k, v) for k, v in value.items() if isinstance(v, dict | list)]
        out = ""
        if scalars:
            out += '<dl class="figures">' + "".join(
                f"<dt>{esc(k.replace('_', ' '))}</dt><dd>{esc(fmt(v))}</dd>" for k, v in scalars) + "</dl>"
        for k, v in nested:
            if depth >= 2 or not v:
                continue
            out += f"<h4>{esc(k.replace('_', ' '))}</h4>" + generic_html(v, depth + 1)
        return out
    if isinstance(value, list):
        if value and all(isinstance(r, dict) for r in value):
            cols: dict[str, None] = {}
            for r in value:
                cols.update({k: None for k, v in r.items() if not isinstance(v, dict | list)})
            return table([(c, c.replace("_", " ")) for c in cols], value[:200])
        return f"<p>{esc(', '.join(fmt(v) for v in value[:50]))}</p>"
    return f"<p>{esc(fmt(value))}</p>"


def tiles_html(items: list[tuple[str, Any, str]], unavailable: dict[str, str]) -> str:
    """Figure tiles: (label, value, 'pct' | 'h' | '') each; n/a with the reason when the value is None."""
    fmts = {"pct": pct, "h": lambda v: f"{v:.1f} h", "": num}
    return '<div class="tiles">' + "".join(tile(label, value, fmts[kind], "not available") for label, value, kind
                                           in items) + "</div>"


defuse = defuse_scripts

SKIP_GENERIC = {"available", "reason", "grade", "evidence"}


def section_html(stage: str, section: dict[str, Any]) -> str:
    """A stage: the report's rendering (grade, evidence, the stage's own renderer); a stage without a
    renderer also shows its figures generically. Inline plotly scripts become CSP-safe data divs."""
    body = report_html.stage_html(stage, section) if stage in report_html.STAGE_NAMES else grade_block(section)
    if section.get("available") and not _has_renderer(stage):
        rest = {k: v for k, v in section.items() if k not in SKIP_GENERIC}
        if rest:
            body += '<div class="generic">' + generic_html(rest) + "</div>"
    return defuse_scripts(body)


def stage_cards(card: dict[str, Any], stages: list[str]) -> list[dict[str, Any]]:
    out = []
    for s in stages:
        sec = card.get(s) or {}
        g = sec.get("grade") or {}
        out.append({"stage": s, "title": stage_title(s), "available": bool(sec.get("available")),
                    "letter": g.get("letter"), "met": g.get("met"), "checks": g.get("checks"),
                    "reason": sec.get("reason")})
    return out


__all__ = ["audience_charts", "audience_tiles", "fmt", "generic_html", "grade_badge", "listen_summary_html",
           "section_html", "stage_cards", "tiles_html"]
