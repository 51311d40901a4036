"""The Dominate stage of the scorecard (metrics/stages.py): grade and evidence.

Checks and their targets (defaults, documented in docs/dominate-mandate.md):
* post-SoV, mention-SoV and engagement-SoV of the owner ≥ 1/|S| (a fair share of S);
* first-mover share ≥ 1/|S| on the emerging topics (when topics exist and some emerged in W);
* plan vs execution, one check per goal: share of weeks meeting the posts-per-week goal ≥ 0.75,
  median response time ≤ the SLA, conversation ratio ≥ its goal, follower goal on track.
"""

from __future__ import annotations

from typing import Any

from socialleads.dominate.members import DominateError, members_of
from socialleads.dominate.plan import plan_vs_execution
from socialleads.dominate.voice import KIND_LABELS, KINDS, first_movers, share_of_voice, topic_authority, whitespace
from socialleads.engage.section import cached_response_stats
from socialleads.metrics.stages import Check, StageContext, graded, unavailable

WEEKS_MET_TARGET = 0.75


def dominate_report(ctx: StageContext) -> dict[str, Any]:
    w = ctx.window
    members = members_of(ctx.store, ctx.config, ctx.owner_keys)
    sov = share_of_voice(ctx.store, members, w.start, w.end)
    goal = (ctx.audience or {}).get("goal")
    sla = float(getattr(getattr(ctx.config, "goals", None), "response_sla_hours", 24.0) or 24.0)
    overall = cached_response_stats(ctx, w.start, w.end, sla) if ctx.owner_keys else None
    return {"members": sov["members"], "sov": sov,
            "first_movers": first_movers(ctx.store, members, w.start, w.end),
            "authority": topic_authority(ctx.store, members, w.start, w.end, sov=sov),
            "whitespace": whitespace(ctx.store, members, w.start, w.end, limit=20),
            "plan": plan_vs_execution(ctx.store, ctx.owner_keys, ctx.config.goals, w.start, w.end,
                                      follower_goal=goal, overall=overall)}


def section(ctx: StageContext) -> dict[str, Any]:
    if ctx.window is None:
        return unavailable("no timestamped posts or interactions in the workspace")
    if not ctx.owner_keys:
        from socialleads.workspace.workspace import no_owner_reason

        return unavailable(no_owner_reason(ctx.config))
    try:
        rep = ctx.cached("dominate", lambda: dominate_report(ctx))
    except DominateError as exc:
        return unavailable(str(exc))
    members = rep["members"]
    owner = members[0]["name"]
    fair = 1 / len(members)
    checks = []
    for kind in ("posts", "mentions", "engagement"):
        k = rep["sov"]["kinds"][kind]
        checks.append(Check(f"{KIND_LABELS[kind]} of the owner", k["share"][owner], fair if len(members) > 1 else None,
                            "min", f"{k['counts'][owner]} of {k['total']}; fair share = 1/|S| = 1/{len(members)}"
                            if len(members) > 1 else "no competitors in leads.toml"))
    fm = rep["first_movers"]
    if fm.get("available") and fm.get("emerging_topics"):
        checks.append(Check("first-mover share", fm["first_mover_share"][owner], fair, "min",
                            f"on {fm['emerging_topics']} emerging topics"))
    g = rep["plan"]["goals"]
    ppw = g["posts_per_week"]
    if ppw["target"] is not None and ppw["weeks"]:
        checks.append(Check("weeks meeting the posts-per-week goal", ppw["weeks_met"] / ppw["weeks"],
                            WEEKS_MET_TARGET, "min", f"goal {ppw['target']:g} posts a week; "
                            f"actual {ppw['actual']:.1f} a week over {ppw['weeks']} weeks"))
    rs = g["response_sla"]
    checks.append(Check("median response time (hours)", rs["median_response_hours"], rs["target_hours"], "max",
                        rs.get("reason") or _sla_share_text(rs.get("within_sla_share")), unit="hours"))
    cr = g["conversation_ratio"]
    checks.append(Check("conversation ratio", cr["actual"], cr["target"], "min", "replies + quotes ÷ all posts"))
    fg = g["followers"]
    if isinstance(fg, dict) and "on_track" in fg:
        checks.append(Check("follower goal on track", 1.0 if fg["on_track"] else 0.0, 1.0, "min",
                            f"{fg.get('followers')} of {fg.get('target')} followers", unit="flag"))
    return graded(checks, kinds=list(KINDS), **rep)


__all__ = ["dominate_report", "section"]


def _sla_share_text(share: float | None) -> str:
    return "within-SLA share not measurable" if share is None else f"within-SLA share {share:.0%}"
