"""`leads activate`, `leads experiment list|report`, `leads what-works`: thin adapters over
socialleads.activate (wired in cli/main.py under the Activate marker)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from socialleads.cli.options import JsonOpt, WindowOpt, WorkspaceOpt, user_errors
from socialleads.cli.output import console, print_json

experiment_app = typer.Typer(help="Experiments: posts tagged with an experiment and a variant.", no_args_is_help=True)
LookbackOpt = Annotated[int, typer.Option("--lookback-days", min=0, help="Last-touch attribution lookback.")]


def _f(v: Any, fmt: str = ".4f") -> str:
    return "n/a" if v is None else format(v, fmt) if isinstance(v, float) else str(v)


#: columns that hold shares: shown as percentages, as the summary lines show them
PERCENT = frozenset({"ctr", "rate"})


def _table(title: str, rows: list[dict[str, Any]], cols: list[str]) -> Table:
    t = Table(title=title, title_justify="left")
    for c in cols:
        t.add_column(c)
    for r in rows:
        t.add_row(*[escape(_f(r.get(c), ".2%" if c in PERCENT else ".4f")) for c in cols])
    return t


def _by_method(counts: dict[str, int]) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in sorted(counts.items(), key=lambda x: -x[1]))


def activate_command(as_json: JsonOpt = False, lookback_days: LookbackOpt = 7,
                     window_days: WindowOpt = None,
                     workspace: WorkspaceOpt = None) -> None:
    """The activation funnel and click/conversion attribution per campaign and per post."""
    from socialleads.activate.attribution import attribution
    from socialleads.activate.funnel import data_window, funnel
    from socialleads.metrics.window import window_days as resolve_days
    from socialleads.workspace import open_workspace

    with user_errors(), open_workspace(workspace, read_only=True) as ws:
        con, owners = ws.store.con, ws.owner_keys()
        w = data_window(con, resolve_days(window_days, ws.config))
        # the window's clicks, conversions and link posts, as the scorecard's Activate section counts them
        att = attribution(con, owners, lookback_days, **({"start": w[0], "end": w[1]} if w else {}))
        fun = funnel(con, owners, *w, lookback_days=lookback_days, built=True) if w else None
    if as_json:
        print_json({"attribution": att, "funnel": fun})
        return
    if fun:
        console.print(_table(f"funnel {fun['window']['start'][:10]} – {fun['window']['end'][:10]}", fun["stages"],
                             ["stage", "unit", "count", "rate", "rate_label"]))
    clicks = (f"clicks {att['clicks']:,} ({_f(att['attributed_click_share'], '.1%')} attributed: "
              f"{escape(_by_method(att['clicks_by_method']))})" if att["clicks"] else "no clicks imported")
    console.print(f"links {att['links']:,} in {att['link_posts']:,} posts · {clicks} · conversions "
                  f"{att['conversions']:,} · CTR {_f(att['ctr'], '.2%')} ({escape(att['ctr_basis'] or 'n/a')})")
    if att["per_campaign"]:
        console.print(_table("per campaign", att["per_campaign"], ["campaign", "link_posts", "clicks", "conversions", "ctr"]))
    clicked = [r for r in att["top_posts"] if r.get("clicks")]
    if clicked:
        console.print(_table("top posts by clicks", clicked,
                             ["post_key", "created_at", "campaign", "clicks", "conversions", "ctr"]))
    else:
        console.print("no click attributed to a post (import web analytics clicks: docs/activate.md)")


@experiment_app.command("list")
def experiment_list_command(as_json: JsonOpt = False, workspace: WorkspaceOpt = None) -> None:
    """The experiments tagged in the workspace, with their variants and post counts."""
    from socialleads.activate.experiments import experiment_list
    from socialleads.workspace import open_workspace

    with user_errors(), open_workspace(workspace, read_only=True) as ws:
        rows = experiment_list(ws.store.con, ws.owner_keys())
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("no experiments: tag posts with experiment_assignment records or #exp_NAME_VARIANT hashtags")
        return
    console.print(_table("experiments", [{**r, "variants": ", ".join(f"{k}: {v}" for k, v in r["variants"].items()),
                                          "tagged_by": ", ".join(r["tagged_by"])} for r in rows],
                         ["experiment", "variants", "posts", "tagged_by", "first", "last"]))


@experiment_app.command("report")
def experiment_report_command(
    name: Annotated[str, typer.Argument(help="The experiment's name.")],
    metric: Annotated[str, typer.Option("--metric", help="engagement_rate | reply_rate | ctr")] = "engagement_rate",
    as_json: JsonOpt = False, workspace: WorkspaceOpt = None,
) -> None:
    """Compare an experiment's variants: difference, 95% interval, z test, P(best), and a warning."""
    from socialleads.activate.experiments import experiment_report
    from socialleads.workspace import open_workspace

    with user_errors(), open_workspace(workspace, read_only=True) as ws:
        r = experiment_report(ws.store.con, ws.owner_keys(), name, metric)
    if as_json:
        print_json(r)
        return
    console.print(_table(f"{name}: {r['definition']}", [{**v, "interval_by_post": "[{}, {}]".format(
        *(_f(x) for x in v["interval_by_post"]))} for v in r["variants"]],
        ["variant", "posts", "numerator", "denominator", "rate", "interval_by_post", "p_best"]))
    for c in r["comparisons"]:
        lo, hi = c["decision_interval"]
        console.print(f"{escape(c['variant'])} − {escape(c['control'])}: {c['difference']:+.4f}, 95% interval "
                      f"[{lo:+.4f}, {hi:+.4f}] (binomial [{c['interval'][0]:+.4f}, {c['interval'][1]:+.4f}]), "
                      f"z = {c['z']:.2f}, p = {c['p_value']:.3g} → [bold]{escape(c['verdict'])}[/bold]")
        if c["warning"]:
            console.print(f"[yellow]warning:[/yellow] {escape(c['warning'])}")
    if r["warning"]:
        console.print(f"[yellow]warning:[/yellow] {escape(r['warning'])}")


def what_works_command(as_json: JsonOpt = False, workspace: WorkspaceOpt = None) -> None:
    """Engagement rate of your posts by hour, weekday, length, media, link, hashtags, question, class."""
    from socialleads.activate.whatworks import what_works
    from socialleads.workspace import open_workspace

    with user_errors(), open_workspace(workspace, read_only=True) as ws:
        r = what_works(ws.store.con, ws.owner_keys())
    if as_json:
        print_json(r)
        return
    if not r["available"]:
        console.print(escape(r["reason"]))
        return
    console.print(escape(f"{r['posts']} posts; rate = {r['rate']}"))
    for dim, d in r["dimensions"].items():
        if not d["available"]:
            console.print(f"{escape(dim)}: {escape(d['reason'])}")
            continue
        console.print(_table(f"{dim}: {d['verdict']}", [{**b, "interval": f"[{_f(b['low'])}, {_f(b['high'])}]"}
                                                        for b in d["buckets"]],
                             ["bucket", "posts", "engagers", "followers", "rate", "interval"]))
