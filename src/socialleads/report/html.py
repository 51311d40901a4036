"""The offline HTML report: one file, plotly.js embedded once inline, no external URL.

Everything taken from data (workspace name, account keys, handles) is HTML-escaped.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import Any

import plotly.io as pio

from socialleads.metrics.scorecard import NOT_YET, scorecard_and_series
from socialleads.report.charts import audience_figures

_CSS = """
:root { --ink:#1f2933; --muted:#616e7c; --line:#e4e7eb; --bg:#f5f7fa; --accent:#2563eb; }
* { box-sizing: border-box; }
body { margin:0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--ink);
       background:var(--bg); line-height:1.45; }
header { background:#fff; border-bottom:1px solid var(--line); padding:24px 32px; }
header h1 { margin:0 0 4px; font-size:26px; }
header p { margin:0; color:var(--muted); }
main { max-width:1180px; margin:0 auto; padding:24px 32px 48px; }
h2 { font-size:20px; margin:32px 0 12px; }
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
footer { color:var(--muted); font-size:12px; margin-top:32px; }
code { font-size:12px; }
"""

_STAGE_NAMES = {"listen": "Listen", "engage": "Engage", "activate": "Activate", "dominate": "Dominate",
                "mandate": "Social mandate"}


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _num(v: Any) -> str:
    return f"{v:,}" if isinstance(v, int) else f"{v:,.2f}"


def _pct(v: Any) -> str:
    return f"{100 * v:.1f}%"


def _tile(label: str, value: Any, fmt: Any, reason: str | None, note: str = "") -> str:
    if value is None:
        return (f'<div class="tile na"><div class="label">{_e(label)}</div><div class="value">n/a</div>'
                f'<div class="note">{_e(reason or "not available")}</div></div>')
    n = f'<div class="note">{_e(note)}</div>' if note else ""
    return (f'<div class="tile"><div class="label">{_e(label)}</div><div class="value">{_e(fmt(value))}</div>'
            f"{n}</div>")


def _tiles(a: dict[str, Any]) -> str:
    un = a.get("unavailable", {})
    signed = lambda v: f"{v:+,}"  # noqa: E731
    gl = ""
    if a.get("gained") is not None and a.get("lost") is not None:
        gl = f"+{a['gained']:,} gained, −{a['lost']:,} lost"
    goal = a.get("goal")
    tiles = [
        _tile("Followers", a.get("followers"), _num, un.get("followers"),
              f"from {a.get('follower_source')}"),
        _tile("Net growth", a.get("net_growth"), signed, un.get("net_growth"), gl),
        _tile("Growth rate", a.get("growth_rate"), _pct, un.get("growth_rate"), "net ÷ followers at start"),
        _tile("Reactivity", a.get("reactivity"), _pct, un.get("reactivity"),
              "followers at start who acted in the window"),
        _tile("Passive share", a.get("passive_share"), _pct, un.get("passive_share"),
              "followers with no action in the window"),
        _tile("Active followers", a.get("active_followers"), _num, un.get("active_followers")),
        _tile("Week-4 retention", a.get("week4_retention"), _pct, un.get("week4_retention"),
              "mean over engager cohorts"),
        _tile("Returning engagers", a.get("returning_engager_share"), _pct, un.get("returning_engager_share"),
              f"week of {a.get('returning_week')}" if a.get("returning_week") else ""),
        _tile("Hidden network", a.get("hidden_network"), _num, un.get("hidden_network"),
              "two-way action partners in the window"),
        _tile("Per-post reactivity", a.get("post_reactivity"), lambda v: f"{100 * v:.3f}%",
              un.get("post_reactivity"), "mean engagers ÷ followers at post time"),
        _tile("Audience reaction rate", a.get("audience_reaction_rate"), lambda v: f"{100 * v:.3f}%",
              un.get("audience_reaction_rate"), "mean reposts ÷ followers at post time"),
        _tile("Follower goal", goal["progress"] if goal else None, _pct, un.get("goal"),
              f"of {goal['target']:,}" + (f" by {goal['by']}" if goal and goal.get("by") else "") if goal else ""),
    ]
    return '<div class="tiles">' + "".join(tiles) + "</div>"


def _listen(ls: dict[str, Any] | None) -> str:
    """The Listen section: mentions of the owner in the window, their sentiment, questions, alerts."""
    if not ls or not ls.get("available"):
        return f'<div class="stage">{_e((ls or {}).get("reason", "not available"))}</div>'
    un = ls.get("unavailable") or {}
    tiles = "".join([
        _tile("Mentions", ls.get("mentions"), _num, un.get("mentions"), "of the owner in the window"),
        _tile("Negative", ls.get("negative_share"), _pct, un.get("negative_share"), "share of scored mentions"),
        _tile("Net sentiment", ls.get("net_sentiment"), lambda v: f"{v:+.2f}", un.get("net_sentiment"),
              "(pos − neg) / (pos + neg)"),
        _tile("Questions", ls.get("questions"), _num, un.get("questions"), "among the mentions"),
    ])
    alerts = ls.get("spike_alerts")
    if alerts:
        rows = "".join(
            f"<li>{_e(str(a.get('start'))[:16])} → {_e(str(a.get('end'))[:16])}: peak {_e(a.get('peak_count'))} "
            f"negative mentions in an hour (baseline {_e(round(float(a.get('baseline_mean') or 0), 2))})</li>"
            for a in alerts)
        alert_html = f"<h3>Negative-mention spikes</h3><ul>{rows}</ul>"
    elif alerts is None:
        alert_html = f"<p>{_e(un.get('spike_alerts', 'spike alerts not available'))}</p>"
    else:
        alert_html = "<p>No negative-mention spike in the window.</p>"
    return f'<div class="tiles">{tiles}</div>{alert_html}'


def render_report(card: dict[str, Any], series: dict[str, Any] | None) -> str:
    """The report as one HTML string (pure: no store access)."""
    a = card["audience"]
    name = card.get("workspace") or "socialleads"
    win = a.get("window")
    window_text = (f"Window: {win['start'][:10]} to {win['end'][:10]} ({win['days']} days, ending at the "
                   f"latest data)" if win else "No timestamped data yet")
    owners = ", ".join(card.get("owner_keys") or []) or "no owner accounts declared"
    charts = []
    for n, (key, fig) in enumerate(audience_figures(series or {})):
        div = pio.to_html(fig, full_html=False, include_plotlyjs=(n == 0), include_mathjax=False,
                          config={"displaylogo": False, "responsive": True}, div_id=f"chart-{key}")
        charts.append(f'<div class="chart">{div}</div>')
    items = []
    for p, v in (a.get("per_platform") or {}).items():
        followers = _num(v["followers"]) if v["followers"] is not None else "n/a"
        net = "" if v["net_growth"] is None else f" ({v['net_growth']:+,} in the window)"
        items.append(f"<li>{_e(p)}: {_e(followers)} followers{_e(net)}</li>")
    per_platform = "".join(items)
    untimed = a.get("untimed_actions") or 0
    untimed_note = (f"<p>{untimed:,} actions on the owner have no time and are left out of every windowed "
                    f"figure.</p>" if untimed else "")
    stages = "".join(
        f'<div class="stage"><b>{_e(_STAGE_NAMES[k])}</b>: {_e(card.get(k, {}).get("reason", NOT_YET[k]))}</div>'
        for k in NOT_YET)
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(name)} — socialleads report</title>
<style>{_CSS}</style></head>
<body>
<header><h1>{_e(name)}</h1><p>{_e(window_text)} · owner accounts: {_e(owners)}</p></header>
<main>
<h2>Audience</h2>
{_tiles(a)}
<ul>{per_platform}</ul>
{untimed_note}
{''.join(charts)}
<h2>Listen</h2>
{_listen(card.get("listen"))}
<h2>Other LEADS stages</h2>
{stages}
<footer>Definitions: METRICS.md §0 and docs/audience-definitions.md. Generated {generated} by socialleads.
Figures marked n/a are not available from the imported sources; the note says what would supply them.</footer>
</main></body></html>
"""


def write_report(store: Any, owner_keys: list[str], config: Any, path: Path | str,
                 window_days: int | None = None) -> Path:
    """Compute the scorecard and series and write one self-contained offline HTML file at `path`."""
    both = scorecard_and_series(store, owner_keys, config, window_days, series=True)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(both["scorecard"], both["series"]), encoding="utf-8")
    return out
