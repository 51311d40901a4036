"""The offline HTML report: one file, plotly.js embedded once inline, no external URL.

Everything taken from data (workspace name, account keys, handles) is HTML-escaped.
"""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path
from typing import Any

from plotly.offline import get_plotlyjs

from socialleads.errors import LeadsError
from socialleads.metrics.scorecard import scorecard_and_series
from socialleads.metrics.stages import STAGE_NAMES
from socialleads.report.charts import audience_figures
from socialleads.report.listen import render as render_listen
from socialleads.report.parts import CSS, esc, figure_div, grade_block, num, pct, tile

# stage -> module exposing render(section: dict) -> str (the stage's own tables and charts; the grade
# and evidence block is added here). A stage without a module shows its grade block (or its reason).
STAGE_RENDERERS = {
    "engage": "socialleads.report.engage",
    "activate": "socialleads.report.activate",
    "dominate": "socialleads.report.dominate",
    "mandate": "socialleads.report.mandate",
}


def _tiles(a: dict[str, Any]) -> str:
    un = a.get("unavailable", {})
    signed = lambda v: f"{v:+,}"  # noqa: E731
    gl = ""
    if a.get("gained") is not None and a.get("lost") is not None:
        gl = f"+{a['gained']:,} gained, −{a['lost']:,} lost"
    goal = a.get("goal")
    tiles = [
        tile("Followers", a.get("followers"), num, un.get("followers"),
              f"from {a.get('follower_source')}"),
        tile("Net growth", a.get("net_growth"), signed, un.get("net_growth"), gl),
        tile("Growth rate", a.get("growth_rate"), pct, un.get("growth_rate"), "net ÷ followers at start"),
        tile("Reactivity", a.get("reactivity"), pct, un.get("reactivity"),
              "followers at start who acted in the window"),
        tile("Passive share", a.get("passive_share"), pct, un.get("passive_share"),
              "followers with no action in the window"),
        tile("Active followers", a.get("active_followers"), num, un.get("active_followers")),
        tile("Week-4 retention", a.get("week4_retention"), pct, un.get("week4_retention"),
              "mean over engager cohorts"),
        tile("Returning engagers", a.get("returning_engager_share"), pct, un.get("returning_engager_share"),
              f"week of {a.get('returning_week')}" if a.get("returning_week") else ""),
        tile("Hidden network", a.get("hidden_network"), num, un.get("hidden_network"),
              "two-way action partners in the window"),
        tile("Per-post reactivity", a.get("post_reactivity"), lambda v: f"{100 * v:.3f}%",
              un.get("post_reactivity"), "mean engagers ÷ followers at post time"),
        tile("Audience reaction rate", a.get("audience_reaction_rate"), lambda v: f"{100 * v:.3f}%",
              un.get("audience_reaction_rate"), "mean reposts ÷ followers at post time"),
        tile("Follower goal", goal["progress"] if goal else None, pct, un.get("goal"),
              f"of {goal['target']:,}" + (f" by {goal['by']}" if goal and goal.get("by") else "") if goal else ""),
    ]
    return '<div class="tiles">' + "".join(tiles) + "</div>"


def stage_html(stage: str, section: dict[str, Any]) -> str:
    """One LEADS stage: its grade and evidence, then its own tables and charts (or why it is missing)."""
    if not section.get("available"):
        return f'<div class="stage"><b>{esc(STAGE_NAMES[stage])}</b>: {esc(section.get("reason", "not available"))}</div>'
    body = ""
    modname = STAGE_RENDERERS.get(stage)
    if modname:
        try:
            body = importlib.import_module(modname).render(section)
        except ModuleNotFoundError as exc:
            if exc.name is None or not modname.startswith(exc.name):
                raise
    return grade_block(section) + body


def render_report(card: dict[str, Any], series: dict[str, Any] | None) -> str:
    """The report as one HTML string (pure: no store access)."""
    a = card["audience"]
    name = card.get("workspace") or "socialleads"
    win = a.get("window")
    window_text = (f"Window: {win['start'][:10]} to {win['end'][:10]} ({win['days']} days, ending at the "
                   f"latest data)" if win else "No timestamped data yet")
    owners = ", ".join(card.get("owner_keys") or []) or "no owner accounts declared"
    charts = [figure_div(fig, f"chart-{key}") for key, fig in audience_figures(series or {})]
    items = []
    for p, v in (a.get("per_platform") or {}).items():
        followers = num(v["followers"]) if v["followers"] is not None else "n/a"
        net = "" if v["net_growth"] is None else f" ({v['net_growth']:+,} in the window)"
        items.append(f"<li>{esc(p)}: {esc(followers)} followers{esc(net)}</li>")
    per_platform = "".join(items)
    untimed = a.get("untimed_actions") or 0
    untimed_note = (f"<p>{untimed:,} actions on the owner have no time and are left out of every windowed "
                    f"figure.</p>" if untimed else "")
    stages = "".join(f"<h2>{esc(STAGE_NAMES[k])}</h2>{stage_html(k, card.get(k) or {})}" for k in STAGE_RENDERERS)
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(name)} — socialleads report</title>
<style>{CSS}</style>
<script type="text/javascript">{get_plotlyjs()}</script></head>
<body>
<header><h1>{esc(name)}</h1><p>{esc(window_text)} · owner accounts: {esc(owners)}</p></header>
<main>
<h2>Audience</h2>
{_tiles(a)}
<ul>{per_platform}</ul>
{untimed_note}
{''.join(charts)}
<h2>Listen</h2>
{render_listen(card.get("listen"))}
{stages}
<footer>Definitions: METRICS.md §0 and docs/audience-definitions.md. Generated {generated} by socialleads.
Figures marked n/a are not available from the imported sources; the note says what would supply them.</footer>
</main></body></html>
"""


class ReportError(LeadsError):
    """The report cannot be written where the user asked (a folder, no permission, a full disk)."""


def report_path(path: Path | str) -> Path:
    """`path` as the report's file, refused when it is a folder (checked before the figures are computed:
    the scorecard takes a while, the mistake does not)."""
    out = Path(path)
    if out.is_dir():
        raise ReportError(f"{out}: is a folder; give the report a file name, e.g. {out / 'report.html'}")
    return out


def save_report(both: dict[str, Any], path: Path | str) -> Path:
    """Render {'scorecard', 'series'} (from any engine) as one self-contained offline HTML file at `path`."""
    out = report_path(path)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render_report(both["scorecard"], both["series"]), encoding="utf-8")
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename and str(exc.filename) != str(out) else ""
        raise ReportError(f"{out}: cannot write the report ({where}{exc.strerror or exc})") from None
    return out


def write_report(store: Any, owner_keys: list[str], config: Any, path: Path | str,
                 window_days: int | None = None) -> Path:
    """Compute the scorecard and series on the store and write one self-contained offline HTML file."""
    report_path(path)
    return save_report(scorecard_and_series(store, owner_keys, config, window_days, series=True), path)
