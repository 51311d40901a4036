"""`leads sov`, `leads whitespace`, `leads plan`, `leads mandate`: thin adapters over socialleads.dominate
and socialleads.mandate (wired in cli/main.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

import typer

from socialleads.cli.options import JsonOpt, WindowOpt, WorkspaceOpt, user_errors
from socialleads.cli.output import console, print_json


def _run(workspace: Any, window_days: int | None, fn: Callable[[Any, dt.datetime, dt.datetime], Any]) -> Any:
    from socialleads.engage.inbox import data_end
    from socialleads.errors import LeadsError
    from socialleads.metrics.window import window_days as resolve_days
    from socialleads.workspace import open_workspace

    with user_errors(), open_workspace(workspace, read_only=True) as ws:
        end = data_end(ws.store)
        if end is None:
            raise LeadsError("the workspace has no timestamped posts (import some first)")
        end = end.replace(tzinfo=None)
        days = resolve_days(window_days, ws.config)
        return fn(ws, end - dt.timedelta(days=days), end)


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    for c in columns:
        t.add_column(c)
    for r in rows:
        t.add_row(*[escape("" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))) for v in r])
    console.print(t)


def sov_command(
    by: Annotated[str, typer.Option("--by", help="mentions | posts | engagement")] = "posts",
    topic: Annotated[int | None, typer.Option("--topic", help="Only this topic id (see `leads topics`).")] = None,
    as_json: JsonOpt = False, window_days: WindowOpt = None, workspace: WorkspaceOpt = None,
) -> None:
    """Share of voice of you and your competitors (labelled with its kind)."""
    from socialleads.dominate import DominateError, members_of, share_of_voice
    from socialleads.dominate.voice import sov_kind

    with user_errors():
        kind = sov_kind(by)  # a bad --by is said before the workspace is opened and the figures computed

    def go(ws: Any, s: dt.datetime, e: dt.datetime) -> Any:
        out = share_of_voice(ws.store, members_of(ws.store, ws.config, ws.owner_keys()), s, e)
        if topic is None:
            return kind, out["kinds"][kind], out
        if out["by_topic"] is None:
            raise DominateError(out["topics_reason"])
        rows = [r for r in out["by_topic"][kind] if r["topic_id"] == topic]
        if not rows:
            raise DominateError(f"--topic {topic}: no posts of S in that topic in the window")
        return kind, rows[0], out

    kind, fig, full = _run(workspace, window_days, go)
    if as_json:
        print_json({"kind": kind, "label": fig.get("label", f"{kind} SoV"), "topic": topic, **fig,
                    "weekly": full["weekly"].get(kind)})
        return
    _table(f"{fig.get('label', kind)}" + (f", topic {topic}" if topic is not None else ""),
           ["member", "count", "share"], [[m, fig["counts"][m], fig["share"][m]] for m in fig["counts"]])


def whitespace_command(as_json: JsonOpt = False, window_days: WindowOpt = None,
                       workspace: WorkspaceOpt = None) -> None:
    """Topics with audience demand and little supply from you and your competitors."""
    from socialleads.dominate import DominateError, members_of, whitespace

    def go(ws: Any, s: dt.datetime, e: dt.datetime) -> Any:
        r = whitespace(ws.store, members_of(ws.store, ws.config, ws.owner_keys()), s, e)
        if not r["available"]:
            raise DominateError(r["reason"])
        return r

    r = _run(workspace, window_days, go)
    if as_json:
        print_json(r)
        return
    _table("whitespace: demand ÷ (1 + posts by S)", ["#", "topic", "volume", "questions", "supply", "score"],
           [[t["rank"], t["label"], t["volume"], t["questions"], t["supply"], t["score"]] for t in r["topics"]])


def plan_command(as_json: JsonOpt = False, window_days: WindowOpt = None, workspace: WorkspaceOpt = None) -> None:
    """Plan vs execution: the goals of leads.toml against the actuals, per week."""
    from socialleads.dominate import plan_vs_execution
    from socialleads.metrics.scorecard import build_scorecard

    def go(ws: Any, s: dt.datetime, e: dt.datetime) -> Any:
        owners = ws.owner_keys()
        # the follower goal's progress is the scorecard's audience.goal, which the scorecard's Dominate
        # section passes to plan_vs_execution: the same figures here (only the audience is built)
        card = build_scorecard(ws.store, owners, ws.config, window_days, sections=frozenset())
        return plan_vs_execution(ws.store, owners, ws.config.goals, s, e,
                                 follower_goal=(card.get("audience") or {}).get("goal"))

    r = _run(workspace, window_days, go)
    if as_json:
        print_json(r)
        return
    _table("plan vs execution: goals of leads.toml over the window", ["goal", "target", "actual", "detail"],
           _plan_goal_rows(r["goals"]))
    # the response time per week is not computed (plan_vs_execution's response_weekly, slow): the goal row
    # above gives it over the window
    _table("plan vs execution per week", ["week", "posts", "posts goal met", "conversation ratio",
                                          "conversation goal met"],
           [[w["week"], w["posts"], _yes_no(w["posts_met"]), w["conversation_ratio"], _yes_no(w["conversation_met"])]
            for w in r["weeks"]])


def _yes_no(v: bool | None) -> str | None:
    return None if v is None else "yes" if v else "no"


def _plan_goal_rows(g: dict[str, Any]) -> list[list[Any]]:
    """One row per goal of `plan_vs_execution`: target, actual over the window, and how it is met."""
    from socialleads.cli.output import fmt_rate

    def weeks(d: dict[str, Any]) -> str:
        return "" if d.get("weeks_met") is None else f"met in {d['weeks_met']} of {d['weeks']} whole weeks"

    ppw, rs, cr, fg = g["posts_per_week"], g["response_sla"], g["conversation_ratio"], g["followers"]
    rows: list[list[Any]] = [
        ["posts per week", ppw["target"], ppw["actual"], weeks(ppw)],
        ["response SLA (hours)", rs["target_hours"], rs["median_response_hours"],
         rs["reason"] or "median response time; within SLA "
         + ("—" if rs["within_sla_share"] is None else fmt_rate(rs["within_sla_share"]))
         + ("" if rs["p90_response_hours"] is None else f", p90 {rs['p90_response_hours']:.1f} h")],
        ["conversation ratio", cr["target"], cr["actual"], weeks(cr)],
    ]
    if isinstance(fg, dict) and "progress" in fg:
        detail = f"{fmt_rate(fg['progress'])} of the goal" + (f" by {fg['by']}" if fg.get("by") else "")
        if fg.get("required_per_day") is not None and fg.get("pace_per_day") is not None:
            detail += f"; needs {fg['required_per_day']:+.1f}/day, pace {fg['pace_per_day']:+.1f}/day"
        detail += "; on track" if fg.get("on_track") else "; behind"
        rows.append(["followers", fg.get("target"), fg.get("followers"), detail])
    else:
        rows.append(["followers", (fg or {}).get("target"), None, (fg or {}).get("reason") or "no follower goal"])
    return rows


def mandate_command(as_json: JsonOpt = False, window_days: WindowOpt = None, workspace: WorkspaceOpt = None) -> None:
    """Social mandate: principle alignment, staying in character, self-promotion, cross-posting."""
    from socialleads.mandate import mandate_report

    r = _run(workspace, window_days, lambda ws, s, e: mandate_report(ws.store, ws.owner_keys(), ws.config.brand,
                                                                     s, e))
    if as_json:
        print_json(r)
        return
    al, sp, ch, cp = r["alignment"], r["self_promotion"], r["character"], r["cross_posting"]
    _table("social mandate", ["figure", "value", "detail"], [
        ["on-mandate share", al and al["on_mandate_share"],
         r["unavailable"].get("alignment") or f"{al['on_mandate']} of {al['posts']} posts"],
        ["self-promotion ratio", sp["self_promotion_ratio"], sp["reason"] or f"{sp['promotional']} of {sp['posts']}"],
        ["out-of-character share", ch["out_of_character_share"], f"{ch['out_of_character']} of {ch['posts']}"],
        ["cross-posted share", cp["cross_post_share"], f"{cp['cross_posted']} of {cp['posts']}, {cp['groups']} groups"],
    ])
