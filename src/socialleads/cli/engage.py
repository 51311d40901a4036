"""`leads who`: a thin adapter over socialleads.engage.who_matters (wired in cli/main.py).

A user's mistake (a LeadsError: no workspace, bad option) is one line on stderr and a non-zero exit.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.text import Text

from socialleads.cli.options import JsonOpt, WorkspaceOpt, user_errors
from socialleads.cli.output import console, print_json


def _fmt_pr(v: float) -> str:
    return f"{v:.4f}" if v >= 1e-4 else f"{v:.2e}"


def _axis(row: dict[str, Any], axis: str) -> str:
    return f"{row[axis]:,} ({row[axis + '_percentile']:.0f})"


def who_command(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Show the N accounts that matter most.")] = 20,
    as_json: JsonOpt = False,
    window_days: Annotated[int | None, typer.Option("--window-days", min=1,
                                                       help="Analysis window (default: leads.toml).")] = None,
    workspace: WorkspaceOpt = None,
    around_me: Annotated[bool, typer.Option("--around-me", help="Rank within the owner's neighbourhood "
                                            "(PageRank restarting at the accounts that interact with you).")]
    = False,
) -> None:
    """Who matters most: weighted PageRank, the audience / spread / conversation axes, and why."""
    from socialleads.engage import who_matters
    from socialleads.workspace import open_workspace

    with user_errors(), open_workspace(workspace, read_only=True) as ws:
        days = int(window_days or getattr(ws.config, "window_days", None) or 90)
        rows = who_matters(ws.store, ws.owner_keys(), window_days=days, limit=limit, around_owner=around_me)
    if as_json:
        print_json(rows)
        return
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=f"who matters: the last {days} days of data" + (", around you" if around_me else ""),
              title_justify="left",
              caption="axes: count (percentile among the accounts active in the window)", caption_justify="left")
    t.add_column("#", justify="right")
    t.add_column("account", no_wrap=True)
    t.add_column("platform", no_wrap=True)
    t.add_column("PageRank", justify="right")
    t.add_column("audience", justify="right")
    t.add_column("spread", justify="right")
    t.add_column("conversation", justify="right")
    t.add_column("why", overflow="fold")
    for r in rows:
        t.add_row(str(r["rank"]), escape(r["handle"] or r["account"]), escape(r["platform"] or "?"),
                  _fmt_pr(r["pagerank"]), _axis(r, "audience"), _axis(r, "spread"), _axis(r, "conversation"),
                  escape(r["reasons"][0] if r["reasons"] else ""))
    if not rows:
        console.print("No accounts to rank: the store has no interactions in the window (import some data).")
        return
    console.print(t)


def _hours(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v:.1f} h" if v < 48 else f"{v / 24:.1f} d"


def inbox_command(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Show the N highest-priority items.")] = 20,
    show_all: Annotated[bool, typer.Option("--all", help="Include items you have answered.")] = False,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """The engagement inbox: unanswered replies, quotes and mentions, highest priority first."""
    import datetime as dt

    from rich.table import Table

    from socialleads.engage.inbox import data_end, inbox, response_stats
    from socialleads.workspace import open_workspace

    with user_errors(), open_workspace(workspace, read_only=True) as ws:
        sla = ws.config.goals.response_sla_hours
        owners = ws.owner_keys()
        rows = inbox(ws.store, owners, sla_hours=sla, limit=limit, only_unanswered=not show_all)
        end = data_end(ws.store)
        stats = response_stats(ws.store, owners, start=end - dt.timedelta(days=ws.config.window_days),
                               end=end, sla_hours=sla) if end else None
    if as_json:
        print_json({"items": rows, "stats": stats})
        return
    t = Table(title=f"inbox: {'all' if show_all else 'unanswered'} inbound items, highest priority first",
              title_justify="left")
    for c, j in (("priority", "right"), ("kind", "left"), ("from", "left"), ("age", "right"), ("?", "center"),
                 ("sentiment", "left"), ("text", "left")):
        t.add_column(c, justify=j, overflow="fold")  # type: ignore[arg-type]
    for r in rows:
        t.add_row(f"{r['priority']:.2f}", r["kind"], Text(str(r.get("handle") or r["author"])),
                  _hours(r["age_hours"]), "?" if r["is_question"] else "", str(r.get("sentiment") or "—"),
                  Text((r.get("text") or "")[:90]))
    console.print(t)
    if stats:
        console.print(
            f"response rate {stats['response_rate'] or 0:.1%} · median {_hours(stats.get('median_response_hours'))} · "
            f"p90 {_hours(stats.get('p90_response_hours'))} · within SLA ({sla:g} h) "
            f"{(stats.get('within_sla_share') or 0):.1%} · conversation ratio {(stats.get('conversation_ratio') or 0):.2f}")
