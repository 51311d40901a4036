"""`leads monitor add|list|remove` and `leads mentions`: thin adapters over socialleads.listen.

A query with a syntax error is a LeadsError: main() prints its message (with the caret line) on
stderr and exits 1.
"""

from __future__ import annotations

from typing import Annotated

import typer

from socialleads.cli.options import MAX_WINDOW_DAYS, JsonOpt, WorkspaceOpt, user_errors, workspace_writable
from socialleads.cli.output import console, print_json

monitor_app = typer.Typer(
    name="monitor",
    help="Saved listening queries: AND / OR / NOT, \"phrases\", NEAR/n, #tags, @handles, from:, lang:, wildcards.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@monitor_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="A short name: letters, digits, '_', '-', '.'.")],
    query: Annotated[str, typer.Argument(help='The query, e.g. \'@voltwise OR "voltwise hub" -lang:ja\'.')],
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Save a monitor (checked first; re-adding a name replaces its query)."""
    from socialleads.listen import add_monitor, count_matches
    from socialleads.workspace import open_workspace

    with user_errors(), open_workspace(workspace) as ws:
        saved = add_monitor(ws.store, name, query)
        n = count_matches(ws.store, query)
    if as_json:
        print_json({**saved, "matches": n})
    else:
        from rich.markup import escape

        console.print(f"Saved monitor [bold]{escape(name)}[/bold]: {n:,} matching post(s) in the store.")


@monitor_app.command("list")
def list_(as_json: JsonOpt = False, workspace: WorkspaceOpt = None) -> None:
    """The saved monitors and how many stored posts each matches."""
    from socialleads.listen import count_matches, list_monitors
    from socialleads.workspace import open_workspace

    with open_workspace(workspace, read_only=True) as ws:
        rows = [{**m, "matches": count_matches(ws.store, m["query"])} for m in list_monitors(ws.store)]
    if as_json:
        print_json(rows)
        return
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=f"monitors: {len(rows)}", title_justify="left")
    t.add_column("name", no_wrap=True)
    t.add_column("query", overflow="fold")
    t.add_column("matches", justify="right")
    for r in rows:
        t.add_row(escape(r["name"]), escape(r["query"]), f"{r['matches']:,}")
    console.print(t)


@monitor_app.command("remove")
def remove(
    name: Annotated[str, typer.Argument(help="The monitor to delete.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Delete a saved monitor."""
    from socialleads.listen import remove_monitor
    from socialleads.workspace import open_workspace

    with user_errors(), open_workspace(workspace) as ws:
        remove_monitor(ws.store, name)
    from rich.markup import escape

    console.print(f"Removed monitor [bold]{escape(name)}[/bold].")


def mentions_command(
    name: Annotated[str, typer.Argument(help="A saved monitor (see `leads monitor list`).")],
    since: Annotated[str | None, typer.Option("--since", help="From this date or time (UTC), inclusive.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Up to this date or time (UTC), exclusive.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=0, help="Show at most N posts.")] = 50,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Posts matching a monitor, newest first."""
    from socialleads.listen import count_matches, mentions
    from socialleads.listen.monitors import get_monitor
    from socialleads.workspace import open_workspace

    with user_errors(), open_workspace(workspace) as ws:
        query = get_monitor(ws.store, name)["query"]
        rows = mentions(ws.store, name, since=since, until=until, limit=limit)
        total = count_matches(ws.store, query, since=since, until=until)
    if as_json:
        print_json({"monitor": name, "query": query, "since": since, "until": until, "total": total,
                    "mentions": rows})
        return
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=f"{escape(name)}: {total:,} matching post(s)" + (f", newest {len(rows):,}" if len(rows) < total
                                                                      else ""),
              title_justify="left", caption=escape(query), caption_justify="left")
    t.add_column("time (UTC)", no_wrap=True)
    t.add_column("platform", no_wrap=True)
    t.add_column("author", no_wrap=True)
    t.add_column("text", overflow="fold")
    for r in rows:
        when = r["created_at"].strftime("%Y-%m-%d %H:%M") if r["created_at"] is not None else "?"
        t.add_row(when, r["platform"], escape(r["author"] or "?"), escape((r["text"] or "")[:200]))
    console.print(t)


def topics_command(
    refit: Annotated[bool, typer.Option("--refit", help="Fit again even if topics are stored.")] = False,
    k: Annotated[int | None, typer.Option("--k", min=1, max=500, help="Number of topics, at most 500 "
                                          "(default ≈ √(sample/50)).")] = None,
    period: Annotated[int, typer.Option("--period-days", min=1, max=MAX_WINDOW_DAYS,
                                        help="Days per growth period.")] = 7,
    embeddings: Annotated[bool, typer.Option("--embeddings", help="Cluster MiniLM sentence embeddings "
                                             "(the `embeddings` extra; slow: thousands of posts).")] = False,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Topics of the stored posts: label, size, growth, net sentiment, and the outlier share.

    Fitting stores the topics; in a workspace you cannot write, the stored topics are shown as they are."""
    from socialleads.errors import LeadsError
    from socialleads.listen.topics import assign_new, fit_topics, has_topics, minilm_embedder, topic_summary
    from socialleads.workspace import open_workspace

    writable = workspace_writable(workspace)
    with user_errors(), open_workspace(workspace, read_only=not writable) as ws:
        emb = minilm_embedder() if embeddings else None
        if refit or k is not None or embeddings or not has_topics(ws.store):
            if not writable:
                raise LeadsError(f"{ws.root}: the workspace is read-only, and fitting topics stores them "
                                 "(run `leads topics` where you can write)")
            fitted = fit_topics(ws.store, k=k, embedder=emb, method="embeddings:all-MiniLM-L6-v2" if emb else None)
        else:   # new posts get their topic (stored); a read-only workspace shows them as unassigned
            fitted = {"new_posts": assign_new(ws.store) if writable else 0}
        summ = topic_summary(ws.store, period_days=period)
    if as_json:
        print_json({**summ, "fit": fitted})
        return
    from rich.markup import escape
    from rich.table import Table

    share = summ.get("outlier_share")
    t = Table(title=f"topics: {summ.get('n_topics', 0)} over {summ.get('posts') or 0:,} posts; outliers "
                    f"{'n/a' if share is None else f'{100 * share:.1f}%'}", title_justify="left",
              caption=f"growth = (last {period} d + 1) / (previous {period} d + 1); net = (pos − neg)/(pos + neg)",
              caption_justify="left")
    for col, just in (("id", "right"), ("label", "left"), ("size", "right"), ("growth", "right"),
                      ("net sentiment", "right"), ("questions", "right")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in summ["topics"]:
        net = "n/a" if r["net_sentiment"] is None else f"{r['net_sentiment']:+.2f}"
        t.add_row(str(r["topic_id"]), escape(r["label"] or ""), f"{r['size']:,}", f"{r['growth']:.2f}", net,
                  f"{r['questions']:,}")
    console.print(t)
    if summ.get("unassigned"):
        console.print(f"{summ['unassigned']:,} post(s) have no topic (an embeddings model needs "
                      "`leads topics --embeddings`): run `leads topics --refit` to fit again.")


def questions_command(
    topic: Annotated[int | None, typer.Option("--topic", help="Only this topic id (see `leads topics`).")] = None,
    per_topic: Annotated[int, typer.Option("--per-topic", min=1, help="Questions shown per topic.")] = 3,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Topics shown.")] = 10,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Hot questions: other accounts' question posts grouped by topic, by volume and the askers' influence."""
    from socialleads.errors import LeadsError
    from socialleads.listen.questions import hot_questions
    from socialleads.workspace import open_workspace

    with user_errors(), open_workspace(workspace, read_only=True) as ws:
        out = hot_questions(ws.store, topic=topic, per_topic=per_topic, limit=limit, exclude=ws.owner_keys())
        if not out["available"]:
            raise LeadsError(out["reason"])
    if as_json:
        print_json(out)
        return
    from rich.markup import escape

    console.print(f"askers ranked by {out['influence_measure']}")
    for tp in out["topics"]:
        console.print(f"[bold]{tp['topic_id']}: {escape(tp['label'] or '')}[/bold] — {tp['questions']:,} question(s) "
                      f"from {tp['askers']:,} asker(s), {tp['asker_followers']:,} followers")
        for q in tp["top"]:
            who = q["handle"] or q["author_key"] or "?"
            fol = "followers unknown" if q["followers"] is None else f"{q['followers']:,}"
            console.print(f"  • {escape(who)} ({fol}): {escape((q['text'] or '')[:160])}")
