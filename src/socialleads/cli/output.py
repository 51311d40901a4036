"""Terminal output: Rich tables for summaries and scorecards, progress bars for long jobs.

Presentation only: every figure comes from the library's JSON-ready scorecard (metrics/scorecard.py);
this module chooses labels, number formats and layout, and computes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich import box
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from socialleads.format import fmt_check_value, fmt_share

console = Console(stderr=False, highlight=False)
err_console = Console(stderr=True, highlight=False)


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()


@contextmanager
def progress_bar(label: str, unit: str = "items", quiet: bool = False) -> Iterator[Callable[[int, int], None]]:
    """A Rich progress bar fed by `update(done, total)`; drawn on stderr, silent when `quiet`."""
    if quiet:
        yield lambda done, total: None
        return
    columns = [TextColumn("[bold]{task.description}"), BarColumn(),
               DownloadColumn() if unit == "bytes" else MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=err_console, transient=False) as prog:
        task = prog.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            prog.update(task, completed=done, total=total or None)

        yield update


# ------------------------------------------------------------------------------------------ formatting

NOT_AVAILABLE = "not available"


def fmt_count(v: int | float) -> str:
    """12345 → '12,345'."""
    return f"{int(v):,}"


def fmt_signed(v: int | float) -> str:
    """Growth with a sign: +71, −9 (a true minus sign), 0."""
    v = int(v)
    return f"+{v:,}" if v > 0 else (f"−{-v:,}" if v < 0 else "0")


def fmt_rate(v: float, signed: bool = False) -> str:
    """A share as a percentage (`socialleads.format.fmt_share`: small shares keep two significant digits)."""
    return fmt_share(v, signed)


def fmt_date(v: Any) -> str:
    """An ISO timestamp or date → 'YYYY-MM-DD' (the UTC date)."""
    if v is None:
        return "?"
    try:
        t = dt.datetime.fromisoformat(str(v).replace("Z", "+00:00"))
    except ValueError:
        return str(v)
    if t.tzinfo is not None:
        t = t.astimezone(dt.UTC)
    return t.date().isoformat()


def fmt_value(v: Any) -> str:
    """A generic scalar: counts with separators, fractions in [0, 1] as percentages."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if 0 <= abs(v) <= 1:
            return fmt_rate(v)
        return f"{v:,.2f}"
    if isinstance(v, int):
        return fmt_count(v)
    return str(v)


def humanize(key: str) -> str:
    return key.replace("_", " ").capitalize()


# ---------------------------------------------------------------------------------------- the audience

# (key, label, kind, explanation); kind: count | signed | rate. Groups are separated by a rule.
AUDIENCE_ROWS: tuple[tuple[tuple[str, str, str, str], ...], ...] = (
    (
        ("followers", "Followers", "count", "followers at the end of the window"),
        ("followers_start", "Followers at start", "count", "followers at the window's start"),
        ("net_growth", "Net growth", "signed", "followers at the end minus followers at the start"),
        ("growth_rate", "Growth rate", "signed_rate", "net growth ÷ followers at the start"),
        ("gained", "Gained", "signed", "follows that began in the window"),
        ("lost", "Lost", "lost", "follows that ended in the window (unfollows)"),
    ),
    (
        ("reactivity", "Reactivity", "rate", "share of followers at the window's start who acted in it"),
        ("active_followers", "Active followers", "count", "followers at the end who acted in the window"),
        ("passive_share", "Passive followers", "rate", "share of followers at the end who took no action in it"),
        ("engagers", "Engagers", "count", "accounts (followers or not) that acted on you in the window"),
        ("hidden_network", "Hidden network", "count",
         "accounts that acted on you and that you acted on, both in the window"),
    ),
    (
        ("week4_retention", "Week-4 retention", "rate",
         "share of each week's new engagers who acted again 4 weeks later (mean of cohorts)"),
        ("returning_engager_share", "Returning engagers", "rate",
         "share of the latest week's engagers who also acted the week before"),
    ),
    (
        ("post_reactivity", "Post reactivity", "rate",
         "mean over your posts in the window: distinct engagers ÷ followers at post time"),
        ("audience_reaction_rate", "Audience reaction rate", "rate",
         "mean over your posts in the window: reposts ÷ followers at post time"),
        ("posts_measured", "Posts measured", "count", "your posts in the window with a known follower count"),
    ),
)

STAGES = (("listen", "Listen"), ("engage", "Engage"), ("activate", "Activate"), ("dominate", "Dominate"),
          ("mandate", "Social mandate"))

_SOURCES = {
    "follows": "followers from follow events",
    "follower_snapshots": "followers from follower-list snapshots",
    "metrics_snapshots": "follower counts from profile snapshots (counts only)",
    "none": "no follower source",
}


def _format(kind: str, v: Any) -> str:
    if kind == "count":
        return fmt_count(v)
    if kind == "signed":
        return fmt_signed(v)
    if kind == "lost":  # a loss reads as a negative change
        return fmt_signed(-v)
    if kind == "signed_rate":
        return fmt_rate(v, signed=True)
    if kind == "rate":
        return fmt_rate(v)
    return fmt_value(v)


def _returning_note(a: dict[str, Any], text: str) -> str:
    week = a.get("returning_week")
    return f"share of the engagers of the week of {week} who also acted the week before" if week else text


def _goal_row(goal: Any) -> tuple[str, str] | None:
    if not isinstance(goal, dict) or not goal.get("target"):
        return None
    value = f"{fmt_count(goal['followers'])} / {fmt_count(goal['target'])}"
    parts = [f"{fmt_rate(goal['progress'])} of the goal"]
    if goal.get("by"):
        parts.append(f"by {goal['by']}")
    if goal.get("required_per_day") is not None and goal.get("pace_per_day") is not None:
        parts.append(f"needs {goal['required_per_day']:+.1f}/day, pace {goal['pace_per_day']:+.1f}/day")
    status = "[green]on track[/green]" if goal.get("on_track") else "[yellow]behind[/yellow]"
    return value, f"{status} · " + ", ".join(parts)


def audience_table(a: dict[str, Any], name: str) -> Table:
    """The audience section: one row per figure, with a human label, a formatted value and a short
    explanation; figures the sources cannot supply say so, with the reason."""
    t = Table(title=f"[bold]{name}[/bold] · audience", title_justify="left", box=box.SIMPLE_HEAD,
              header_style="bold", show_edge=False, pad_edge=False, expand=False)
    t.add_column("figure", no_wrap=True)
    t.add_column("value", justify="right", no_wrap=True)
    t.add_column("what it means", style="dim", overflow="fold", max_width=76)
    unavailable: dict[str, str] = a.get("unavailable") or {}
    groups = list(AUDIENCE_ROWS)
    for gi, group in enumerate(groups):
        rows = []
        for key, label, kind, note in group:
            if key not in a:
                continue
            v = a.get(key)
            if key == "returning_engager_share":
                note = _returning_note(a, note)
            if v is None:
                reason = unavailable.get(key, NOT_AVAILABLE)
                rows.append((label, f"[dim]{NOT_AVAILABLE}[/dim]", f"[dim italic]{_strip(reason)}[/dim italic]"))
            else:
                rows.append((label, _format(kind, v), note))
        if gi == 0:
            g = _goal_row(a.get("goal"))
            if g:
                rows.append(("Follower goal", g[0], g[1]))
            elif "goal" in unavailable:
                rows.append(("Follower goal", f"[dim]{NOT_AVAILABLE}[/dim]",
                             f"[dim italic]{_strip(unavailable['goal'])}[/dim italic]"))
        for i, row in enumerate(rows):
            t.add_row(*row, end_section=(i == len(rows) - 1 and gi < len(groups) - 1))
    w = a.get("window")
    if isinstance(w, dict):
        cap = f"window {fmt_date(w.get('start'))} → {fmt_date(w.get('end'))} ({w.get('days')} days)"
        src = _SOURCES.get(str(a.get("follower_source")))
        if src:
            cap += f" · {src}"
        if a.get("untimed_actions"):
            cap += f" · {fmt_count(a['untimed_actions'])} actions without a time left out"
        t.caption = cap
        t.caption_justify = "left"
    return t


def _strip(reason: str) -> str:
    """'not available: X' → 'X' (the value column already says it is not available), escaped for Rich
    markup (a reason may name a leads.toml table such as [owner], which Rich would take for a style)."""
    r = str(reason).strip()
    for prefix in ("not available from these sources: ", "not available yet: ", "not available: "):
        if r.startswith(prefix):
            r = r[len(prefix):]
            break
    return escape(r)


BLOCKS = " ▏▎▍▌▋▊▉█"


def hbar(value: float, top: float, width: int) -> str:
    """A horizontal bar of `width` cells for value/top, with eighth-cell precision; a non-zero value
    always shows at least a sliver."""
    if top <= 0 or value <= 0:
        return ""
    eighths = max(1, round(value / top * width * 8))
    full, rest = divmod(eighths, 8)
    return "█" * full + (BLOCKS[rest] if rest else "")


def distribution_table(dist: dict[str, int], width: int = 32) -> Table:
    """Actions per follower in the window: bucket, bar, followers, share."""
    total = sum(int(n) for n in dist.values())
    top = max((int(n) for n in dist.values()), default=0)
    t = Table(title="actions per follower in the window", title_justify="left", title_style="bold",
              box=None, show_header=False, pad_edge=False, padding=(0, 1))
    t.add_column(justify="right", no_wrap=True)
    t.add_column(style="cyan", no_wrap=True, min_width=width)
    t.add_column(justify="right", no_wrap=True)
    t.add_column(justify="right", style="dim", no_wrap=True)
    for bucket, n in dist.items():
        n = int(n)
        t.add_row(bucket, hbar(n, top, width), fmt_count(n), fmt_rate(n / total) if total else "")
    t.caption = (f"{fmt_count(total)} follower{'' if total == 1 else 's'} at the window's end; 0 = passive")
    t.caption_justify = "left"
    return t


def platform_table(per_platform: dict[str, dict[str, Any]]) -> Table | None:
    if len(per_platform) < 2:
        return None
    t = Table(title="followers by platform", title_justify="left", title_style="bold", box=box.SIMPLE_HEAD,
              header_style="bold", show_edge=False, pad_edge=False)
    t.add_column("platform")
    for c in ("followers", "at start", "net growth"):
        t.add_column(c, justify="right")
    for p, v in per_platform.items():
        t.add_row(p, *(fmt_count(v[k]) if v.get(k) is not None else "[dim]—[/dim]"
                       for k in ("followers", "followers_start")),
                  fmt_signed(v["net_growth"]) if v.get("net_growth") is not None else "[dim]—[/dim]")
    return t


def _generic_table(section: str, body: dict[str, Any], name: str) -> Table | None:
    """A stage's scalar figures, labelled from their keys (None when it has none)."""
    t = Table(title=f"[bold]{section}[/bold]", title_justify="left", box=box.SIMPLE_HEAD,
              header_style="bold", show_edge=False, pad_edge=False)
    t.add_column("figure")
    t.add_column("value", justify="right")
    unavailable = body.get("unavailable") or {}
    for k, v in body.items():
        if k in ("unavailable", "available", "window", "grade", "evidence") or isinstance(v, (dict, list)):
            continue
        if v is None and k in unavailable:
            t.add_row(humanize(k), f"[dim]{NOT_AVAILABLE} — {_strip(unavailable[k])}[/dim]")
        else:
            t.add_row(humanize(k), fmt_value(v))
    return t if t.row_count else None


_GRADE_STYLE = {"A": "bold green", "B": "green", "C": "yellow", "D": "dark_orange", "F": "bold red"}


def _grade_text(section: dict[str, Any]) -> str:
    g = section.get("grade") or {}
    letter = g.get("letter")
    if not letter:
        return "[dim]–[/dim]"
    return f"[{_GRADE_STYLE.get(letter, 'bold')}]{letter}[/]"


def grades_table(card: dict[str, Any], name: str) -> Table:
    """The five LEADS stages at a glance: grade, checks met, or why the stage is not available."""
    t = Table(title=f"[bold]{name}[/bold] · LEADS", title_justify="left", box=box.SIMPLE_HEAD,
              header_style="bold", show_edge=False, pad_edge=False)
    t.add_column("stage")
    t.add_column("grade", justify="center")
    t.add_column("checks met", justify="right")
    t.add_column("notes", overflow="fold")
    for key, label in STAGES:
        body = card.get(key)
        if not isinstance(body, dict):
            continue
        if body.get("available") is False:
            t.add_row(label, "[dim]–[/dim]", "", f"[dim]{escape(_strip(str(body.get('reason') or NOT_AVAILABLE)))}[/dim]")
            continue
        g = body.get("grade") or {}
        missed = [c["metric"] for c in body.get("evidence") or [] if c.get("met") is False]
        note = ("below target: " + ", ".join(missed)) if missed else ("all checks met" if g.get("letter") else
                                                                    "no check with a value and a target")
        t.add_row(label, _grade_text(body), f"{g.get('met', 0)} / {g.get('checks', 0)}" if g else "",
                  escape(note))
    soi = card.get("stage_of_influence")
    if isinstance(soi, dict) and soi.get("stage"):
        t.caption = f"stage of influence: {soi['stage']}"
        t.caption_justify = "left"
    return t


def evidence_table(label: str, section: dict[str, Any]) -> Table | None:
    """The checks behind a stage's grade: metric, value, target, met."""
    rows = section.get("evidence") or []
    if not rows:
        return None
    t = Table(title=f"{label}: evidence for grade {_grade_text(section)}", title_justify="left",
              box=box.SIMPLE_HEAD, header_style="bold", show_edge=False, pad_edge=False)
    t.add_column("")
    t.add_column("metric")
    t.add_column("value", justify="right")
    t.add_column("target", justify="right")
    t.add_column("evidence", overflow="fold")
    for c in rows:
        met = c.get("met")
        mark = "[green]✓[/green]" if met else ("[red]✗[/red]" if met is False else "[dim]–[/dim]")
        op = "≥" if c.get("direction") == "min" else "≤"
        unit = c.get("unit") or "share"
        target = "" if c.get("target") is None else f"{op} {fmt_check_value(c.get('target'), unit)}"
        value = NOT_AVAILABLE if c.get("value") is None else fmt_check_value(c.get("value"), unit)
        if unit == "flag":   # a yes/no check (1 = yes): value and target read yes / no
            target = "" if c.get("target") is None else fmt_check_value(bool(c.get("target")), unit)
            value = NOT_AVAILABLE if c.get("value") is None else fmt_check_value(bool(c.get("value")), unit)
        t.add_row(mark, escape(str(c.get("metric"))), value, target, escape(str(c.get("note") or "")))
    return t


def alerts_table(alerts: list[dict[str, Any]]) -> RenderableType:
    """Negative-mention spikes (METRICS.md §1): window, peak and the baseline it stood out from."""
    if not alerts:
        return Text.from_markup("[dim]no negative-mention spike in the window[/dim]")
    t = Table(title="negative-mention spikes", title_justify="left", box=box.SIMPLE_HEAD,
              header_style="bold", show_edge=False, pad_edge=False)
    for c, j in (("from", "left"), ("to", "left"), ("peak / hour", "right"), ("baseline / hour", "right"),
                 ("p", "right")):
        t.add_column(c, justify=j)  # type: ignore[arg-type]
    for a in alerts:
        t.add_row(str(a.get("start"))[:16], str(a.get("end"))[:16], fmt_value(a.get("peak_count")),
                  f"{float(a.get('baseline_mean') or 0):.2f}", f"{float(a.get('p_value') or 0):.1e}")
    return t


def scorecard_tables(card: dict[str, Any], name: str) -> list[RenderableType]:
    """The scorecard for the terminal: the audience table, the action distribution as a bar chart,
    followers by platform, and one small table for the stages that are not available yet. Scalar
    figures only (series go to the HTML report)."""
    out: list[RenderableType] = []
    a = card.get("audience")
    if isinstance(a, dict):
        if a.get("window") is None:
            reason = next(iter((a.get("unavailable") or {}).values()), NOT_AVAILABLE)
            t = Table(title=f"[bold]{name}[/bold] · audience", title_justify="left", box=box.SIMPLE_HEAD,
                      show_header=False, show_edge=False, pad_edge=False)
            t.add_column()
            t.add_row(f"[dim]{NOT_AVAILABLE}: {_strip(reason)}[/dim]")
            out.append(t)
        else:
            out.append(audience_table(a, name))
            extras: list[RenderableType] = []
            dist = a.get("action_distribution")
            if isinstance(dist, dict) and dist:
                extras.append(distribution_table(dist))
            elif "action_distribution" in (a.get("unavailable") or {}):
                extras.append(Text.from_markup(
                    f"[bold]actions per follower[/bold]  [dim]{NOT_AVAILABLE}: "
                    f"{_strip(a['unavailable']['action_distribution'])}[/dim]"))
            pt = platform_table(a.get("per_platform") or {})
            if pt is not None:
                extras.append(pt)
            for e in extras:
                out.append(Text(""))
                out.append(e)
    out.append(Text(""))
    out.append(grades_table(card, name))
    for key, label in STAGES:
        body = card.get(key)
        if not isinstance(body, dict) or body.get("available") is False:
            continue
        out.append(Text(""))
        figures = _generic_table(label, body, name)
        if figures is not None:
            out.append(figures)
        alerts = body.get("spike_alerts")
        if key == "listen" and isinstance(alerts, list):
            out.append(alerts_table(alerts))
        ev = evidence_table(label, body)
        if ev is not None:
            out.append(ev)
    return out
