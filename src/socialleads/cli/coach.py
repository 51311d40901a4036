"""`leads classes`, `leads stage`, `leads coach`: thin adapters over socialleads.classify (wired in cli/main.py).

A user's mistake (a LeadsError: no workspace, unknown account) is one line on stderr and a non-zero exit.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from socialleads.cli.options import JsonOpt, WorkspaceOpt, user_errors, workspace_writable
from socialleads.cli.output import console, print_json
from socialleads.errors import LeadsError


class AccountNotFound(LeadsError):
    """--account names no account of the store."""


def _account_keys(store: Any, handle: str) -> list[str]:
    h = handle.lstrip("@").lower()
    rows = store.con.execute("SELECT DISTINCT account_key FROM accounts WHERE lower(handle) = ? OR account_key = ?",
                             [h, handle]).fetchall()
    if not rows:
        raise AccountNotFound(f"--account {handle}: no account with that handle or key in this workspace")
    return [r[0] for r in rows]


def classes_command(
    as_json: JsonOpt = False,
    account: Annotated[str | None, typer.Option("--account", help="Only this account (handle or key); "
                                                "default: the owner's accounts.")] = None,
    all_accounts: Annotated[bool, typer.Option("--all", help="Classify every post of the store.")] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Classify posts into content classes (only posts not yet classified) and print the class mix."""
    from socialleads.classify.classes import classify_posts
    from socialleads.classify.profile import account_profiles
    from socialleads.workspace import open_workspace

    with user_errors(), open_workspace(workspace) as ws:
        keys = None if all_accounts else _account_keys(ws.store, account) if account else ws.owner_keys()
        if keys is not None and not keys:
            why = getattr(keys, "reason", None) or "no owner accounts: declare [[owner.accounts]] in leads.toml"
            raise AccountNotFound(f"{why}, or use --account / --all")
        run = classify_posts(ws.store, ws.config, account_keys=keys)
        profiles = account_profiles(ws.store, keys)
    if as_json:
        print_json({"run": run, "accounts": profiles})
        return
    from rich.markup import escape
    from rich.table import Table

    console.print(f"classified {run['computed']:,} new posts in {run['seconds']:.2f} s")
    t = Table(title="content classes (share of each account's classified posts)", title_justify="left")
    t.add_column("account", no_wrap=True)
    t.add_column("posts", justify="right")
    for c in ("thought", "how-to", "promo", "curation", "conv", "personal"):
        t.add_column(c, justify="right")
    t.add_column("profile")
    for p in profiles[:30]:
        t.add_row(escape(p["handle"] or p["account_key"]), f"{p['posts']:,}",
                  *[f"{p['shares'][c]:.0%}" for c in ("thought-leadership", "how-to", "promotional", "curation",
                                                      "conversational", "personal")], p["profile"])
    console.print(t if profiles else "No classified posts.")


def stage_command(as_json: JsonOpt = False, workspace: WorkspaceOpt = None) -> None:
    """Stage of influence: Social Proof → Social Leadership → Social Profits, why, and what moves it on."""
    from socialleads.classify.stage import stage_for_store
    from socialleads.metrics.scorecard import build_scorecard
    from socialleads.workspace import open_workspace

    with user_errors(), open_workspace(workspace, read_only=True) as ws:
        owners = ws.owner_keys()
        # the stage of influence reads the audience figures and Activate's: the other sections are not built
        card = build_scorecard(ws.store, owners, ws.config, sections={"activate"})
        st = stage_for_store(ws.store, owners, card)
    if as_json:
        print_json(st)
        return
    if not st.get("available", True):
        from rich.markup import escape

        console.print(f"[bold]stage of influence[/bold]: {escape(str(st['reason']))}")
        return
    console.print(f"[bold]{st['stage']}[/bold]  (rule: {st['rule']})")
    for group, checks in st["checks"].items():
        for c in checks:
            mark = "?" if c["met"] is None else "✓" if c["met"] else "✗"
            value = "n/a (not measured yet; `leads scorecard` says why)" if c["value"] is None else c["value"]
            console.print(f"  {mark} {group}: {c['metric']} = {value} (target ≥ {c['target']})")
    if st["next_stage"]:
        console.print(f"To reach {st['next_stage']}:")
        for s in st["to_move_on"]:
            console.print(f"  • {s}")


def coach_command(
    as_json: JsonOpt = False,
    limit: Annotated[int, typer.Option("-n", "--limit", min=1, help="Show the N most urgent actions.")] = 10,
    workspace: WorkspaceOpt = None,
) -> None:
    """The coach: ranked next actions, each with the metric below target, the evidence and whom to act on."""
    from socialleads.classify.classes import classify_posts
    from socialleads.classify.coach import coach
    from socialleads.metrics.scorecard import build_scorecard
    from socialleads.workspace import open_workspace

    writable = workspace_writable(workspace)   # read-only: the classes stored so far are used as they are
    with user_errors(), open_workspace(workspace, read_only=not writable) as ws:
        owners = ws.owner_keys()
        if owners and writable:
            classify_posts(ws.store, ws.config, account_keys=owners)
        # the coach reads Dominate's first movers from the card; its other rules query the store
        card = build_scorecard(ws.store, owners, ws.config, sections={"dominate"}) if owners else None
        actions = coach(ws.store, owners, ws.config, card, limit=limit)
    if as_json:
        print_json(actions)
        return
    from rich.markup import escape

    if not actions:
        console.print("Nothing to do: every measured figure meets its target (or there is no owner data yet).")
        return
    for a in actions:
        console.print(f"[bold]{a['rank']}. {escape(a['action'])}[/bold]")
        console.print(f"   {escape(a['metric'])}: {a['value']} vs target {a['target']} — {escape(a['evidence'])}")
        for t in a["targets"]:   # the coach lists at most classify.coach.MAX_TARGETS
            who = t.get("handle") or t.get("account_key") or t.get("topic") or ""
            console.print(f"   · {escape(str(who))} {escape(str(t.get('post_key') or ''))} "
                          f"{escape((t.get('text') or '')[:80])}")
