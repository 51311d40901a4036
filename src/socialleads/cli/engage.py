"""`leads who`, `leads inbox`, `leads communities`, `leads person`: thin adapters over socialleads.engage
and socialleads.graph.communities (wired in cli/main.py).

A user's mistake (a LeadsError: no workspace, bad option) is one line on stderr and a non-zero exit.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.text import Text

from socialleads.cli.options import JsonOpt, WindowOpt, WorkspaceOpt, user_errors
from socialleads.cli.output import console, print_json


def _fmt_pr(v: float) -> str:
    return f"{v:.4f}" if v >= 1e-4 else f"{v:.2e}"


def _axis(row: dict[str, Any], axis: str) -> str:
    return f"{row[axis]:,} ({row[axis + '_percentile']:.0f})"


def who_command(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Show the N accounts that matter most.")] = 20,
    as_json: JsonOpt = False,
    window_days: WindowOpt = None,
    workspace: WorkspaceOpt = None,
    around_me: Annotated[bool, typer.Option("--around-me", help="Rank within the owner's neighbourhood "
                                            "(PageRank restarting at the accounts that interact with you).")]
    = False,
    topic: Annotated[str | None, typer.Option("--topic", "-t", help="Influence on one topic (id, label or term; "
                                              "needs `leads topics`): PageRank on the interactions around its posts.")]
    = None,
) -> None:
    """Who matters most: weighted PageRank, the audience / spread / conversation axes, and why."""
    from socialleads.engage import who_matters
    from socialleads.metrics.window import window_days as resolve_days
    from socialleads.workspace import open_workspace

    if topic is not None:
        _who_topic(topic, limit, as_json, window_days, workspace)
        return
    with user_errors(), open_workspace(workspace, read_only=True) as ws:
        days = resolve_days(window_days, ws.config)
        rows = who_matters(ws.store, ws.owner_keys(), window_days=days, limit=limit, around_owner=around_me)
    if as_json:
        print_json(rows)
        return
    from rich.markup import escape
    from rich.table import Table

    # a narrow terminal gets the rank, the account, PageRank and the reason (the axes are in --json)
    wide = console.width >= 120
    t = Table(title=f"who matters: the last {days} days of data" + (", around you" if around_me else ""),
              title_justify="left",
              caption="axes: count (percentile among the accounts active in the window)" if wide else
              "the audience / spread / conversation axes: a terminal ≥ 120 columns wide, or --json",
              caption_justify="left")
    t.add_column("#", justify="right")
    t.add_column("account", overflow="fold", min_width=12)
    if wide:
        t.add_column("platform", no_wrap=True)
    t.add_column("PageRank", justify="right", no_wrap=True)
    if wide:
        t.add_column("audience", justify="right")
        t.add_column("spread", justify="right")
        t.add_column("conversation", justify="right")
    t.add_column("why", overflow="fold", min_width=24)
    for r in rows:
        cells = [str(r["rank"]), escape(r["handle"] or r["account"])]
        cells += [escape(r["platform"] or "?")] if wide else []
        cells += [_fmt_pr(r["pagerank"])]
        cells += [_axis(r, "audience"), _axis(r, "spread"), _axis(r, "conversation")] if wide else []
        t.add_row(*cells, escape(r["reasons"][0] if r["reasons"] else ""))
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
        from socialleads.cli.output import fmt_rate

        def share(k: str) -> str:  # None = not available (the JSON says why), never 0
            return "—" if stats.get(k) is None else fmt_rate(stats[k])
        ratio = stats.get("conversation_ratio")
        console.print(
            f"response rate {share('response_rate')} · median {_hours(stats.get('median_response_hours'))} · "
            f"p90 {_hours(stats.get('p90_response_hours'))} · within SLA ({sla:g} h) "
            f"{share('within_sla_share')} · conversation ratio {'—' if ratio is None else f'{ratio:.2f}'}")
        missing = [k for k in ("response_rate", "within_sla_share", "conversation_ratio") if stats.get(k) is None]
        for k in missing:
            reason = (stats.get("unavailable") or {}).get(k)
            console.print(Text(f"{k.replace('_', ' ')}: not available" + (f" ({reason})" if reason else "")),
                          style="dim")


def _window(ws: Any, window_days: int | None) -> tuple[Any, Any, int]:
    import datetime as dt

    from socialleads.engage.inbox import data_end
    from socialleads.metrics.window import window_days as resolve_days

    days = resolve_days(window_days, ws.config)
    end = data_end(ws.store)
    return (end - dt.timedelta(days=days) if end else None), end, days


def _who_topic(topic: str, limit: int, as_json: bool, window_days: int | None, workspace: Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    from socialleads.engage.topic_influence import topic_influence
    from socialleads.workspace import open_workspace

    with user_errors(), open_workspace(workspace, read_only=True) as ws:
        start, end, days = _window(ws, window_days)
        res = topic_influence(ws.store, ws.owner_keys(), topic, start=start, end=end, limit=limit)
    if as_json:
        print_json(res)
        return
    t = res["topic"]
    tab = Table(title=f"who matters on topic {t['topic_id']} ({t['label'] or '?'}): the last {days} days, "
                      f"{res['interactions']:,} interactions around its posts", title_justify="left")
    for c, j in (("#", "right"), ("account", "left"), ("platform", "left"), ("PageRank", "right"),
                 ("received", "right"), ("why", "left")):
        tab.add_column(c, justify=j, overflow="fold")  # type: ignore[arg-type]
    for r in res["rows"]:
        tab.add_row(str(r["rank"]), escape(r["handle"] or r["account"]), escape(r["platform"] or "?"),
                    _fmt_pr(r["pagerank"]), f"{r['topic_interactions_received']:,}", escape(r["reasons"][0]))
    if not res["rows"]:
        console.print("No interactions around the posts of this topic in the window.")
        return
    console.print(tab)


def communities_command(
    as_json: JsonOpt = False,
    resolution: Annotated[float, typer.Option("--resolution", "-r", min=0.0001,
                                              help="Leiden resolution: higher → more, smaller communities.")] = 1.0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of Leiden (same seed, same communities).")] = 0,
    top: Annotated[int, typer.Option("--top", min=1, help="Top members and terms shown per community.")] = 5,
    window_days: WindowOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Communities around you: Leiden on the accounts that interact with you, with your reach into each."""
    from rich.table import Table

    from socialleads.graph.communities import community_report
    from socialleads.workspace import open_workspace

    with user_errors(), open_workspace(workspace, read_only=True) as ws:
        start, end, days = _window(ws, window_days)
        rows = community_report(ws.store, ws.owner_keys(), start=start, end=end, top=top, resolution=resolution,
                                seed=seed) if end else []
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print(f"No community of 3 or more accounts interacted with you in the last {days} days of data.")
        return
    t = Table(title=f"communities around you: the last {days} days of data (resolution {resolution:g}, "
                    f"seed {seed})", title_justify="left",
              caption="reach: share of the members who acted on you", caption_justify="left")
    for c, j in (("#", "right"), ("members", "right"), ("reach", "right"), ("top members", "left"),
                 ("top terms", "left")):
        t.add_column(c, justify=j, overflow="fold")  # type: ignore[arg-type]
    for r in rows:
        t.add_row(str(r["community"]), f"{r['size']:,}", f"{r['reach']:.0%}",
                  Text(", ".join(m["handle"] or m["account"] for m in r["top_members"])),
                  Text(", ".join(x["term"] for x in r["top_terms"])))
    console.print(t)


def person_command(
    handle: Annotated[str, typer.Argument(help="A handle (with or without @) or an account key.")],
    platform: Annotated[str | None, typer.Option("--platform", "-p", help="Only accounts on this platform.")]
    = None,
    as_json: JsonOpt = False,
    window_days: WindowOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """One person and you: every interaction in time order, relationship strength, community, topics."""
    from rich.table import Table

    from socialleads.engage.person import person_timeline
    from socialleads.metrics.window import window_days as resolve_days
    from socialleads.workspace import open_workspace

    with user_errors(), open_workspace(workspace, read_only=True) as ws:
        days = resolve_days(window_days, ws.config)
        r = person_timeline(ws.store, ws.owner_keys(), handle, platform=platform, window_days=days)
    if as_json:
        print_json(r)
        return
    a = r["account"]
    name = a["handle"] or a["account"]
    console.print(Text(f"{name} ({a['platform']}) — {a['account']}", style="bold"))
    first, last = r["first_contact"], r["last_contact"]
    console.print(Text(
        f"first contact {first:%Y-%m-%d} · last contact {last:%Y-%m-%d} · " if first else "no contact yet · ")
        + Text(f"strength {r['strength']:.3g} (in {r['strength_in']:.3g}, out {r['strength_out']:.3g}; half-life "
               f"{r['half_life_days']:g} d) · {'two-way' if r['reciprocal'] else 'one-way'} · "
               f"{'follows you' if r['follows_you'] else 'does not follow you'} · "
               f"{'you follow' if r['you_follow'] else 'you do not follow'}"))
    for c in r["communities"]:
        console.print(Text(f"community {c['community']}: {c['size']:,} members, your reach {c['reach']:.0%}; "
                           f"terms: {', '.join(x['term'] for x in c['top_terms']) or '—'}"))
    if not r["communities"] and "communities" in r["unavailable"]:
        console.print(Text(f"community: {r['unavailable']['communities']}"))
    if r["topics"] is None:
        console.print(Text(f"topics: {r['unavailable'].get('topics', 'not available')}"))
    else:
        console.print(Text("topics: " + (", ".join(f"{x['label'] or x['topic_id']} ({x['posts']})"
                                                  for x in r["topics"]) or "none of its posts has a topic")))
    t = Table(title=f"{len(r['events']):,} interactions, oldest first", title_justify="left")
    for c in ("when", "", "type", "text", "link"):
        t.add_column(c, overflow="fold")
    for e in r["events"]:
        t.add_row(f"{e['time']:%Y-%m-%d %H:%M}" if e["time"] else "(no time)",
                  "→ you" if e["direction"] == "in" else "you →", e["type"],
                  Text((e["snippet"] or "")[:120]), Text(e["url"] or e["post_key"] or ""))
    console.print(t)
