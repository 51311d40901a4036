"""`leads who`: a thin adapter over socialleads.engage.who_matters (wired in cli/main.py).

A user's mistake (a LeadsError: no workspace, bad option) is one line on stderr and a non-zero exit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from socialleads.cli.output import console, err_console, print_json
from socialleads.errors import LeadsError

# The same options as cli/main.py (defined here too so that this module does not import main.py,
# which imports this module).
WorkspaceOpt = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", envvar="LEADS_WORKSPACE", show_envvar=True,
                 help="Workspace folder (default: the current folder)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]


@contextmanager
def _user_errors() -> Iterator[None]:
    """Print a LeadsError as plain text (not Rich markup) and exit with its code, as main() does."""
    try:
        yield
    except LeadsError as exc:
        err_console.print(Text("error: ", style="red") + Text(str(exc)), soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None


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

    with _user_errors(), open_workspace(workspace, read_only=True) as ws:
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
