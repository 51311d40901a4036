"""Plan vs execution (METRICS.md §4): the goals of leads.toml against the actuals, per week of W.

* posts per week: O's posts (all kinds) per ISO week against goals.posts_per_week;
* response SLA: `engage.inbox.response_stats` over W (and per week with response_weekly=True: one call a
  week, ~2 s each on 1 M posts, so off by default) —
  the within-SLA share and the median / p90 response time against goals.response_sla_hours;
* conversation ratio: O's replies + quotes with a comment ÷ all O's posts, per week, against
  goals.conversation_ratio (the same definition as response_stats);
* follower goal: the scorecard's audience.goal (progress and pace), passed in as `follower_goal`.

Only whole weeks inside W are judged (a partial first or last week would read as a miss).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from socialleads.dominate.members import DominateError
from socialleads.engage.inbox import response_stats


def _weeks(start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    s = start.replace(tzinfo=None)
    e = end.replace(tzinfo=None)
    monday = dt.datetime.combine((s - dt.timedelta(days=s.weekday())).date(), dt.time())
    if monday < s:
        monday += dt.timedelta(days=7)
    out = []
    while monday + dt.timedelta(days=7) <= e + dt.timedelta(microseconds=1):
        out.append((monday, monday + dt.timedelta(days=7)))
        monday += dt.timedelta(days=7)
    return out


def plan_vs_execution(store: Any, owner_keys: Sequence[str], goals: Any, start: dt.datetime, end: dt.datetime, *,
                      follower_goal: dict[str, Any] | None = None, response_weekly: bool = False,
                      overall: dict[str, Any] | None = None) -> dict[str, Any]:
    """Per goal: its target, the actual over W, and the weekly actuals with a met flag per week.

    `overall`: `response_stats` over [start, end] with this SLA when the caller already has it (the
    scorecard shares Engage's), else computed here."""
    owners = sorted(set(owner_keys))
    if not owners:
        raise DominateError(getattr(owner_keys, "reason", None)
                            or "no owner accounts: declare [[owner.accounts]] in leads.toml")
    weeks = _weeks(start, end)
    ppw = getattr(goals, "posts_per_week", None)
    conv_goal = getattr(goals, "conversation_ratio", None)
    sla = float(getattr(goals, "response_sla_hours", 24.0) or 24.0)
    rows = store.con.execute("""
        SELECT date_trunc('week', created_at) AS w, count(*),
               count(*) FILTER (WHERE kind = 'reply'
                                OR (kind = 'quote' AND nullif(trim(coalesce(text, '')), '') IS NOT NULL))
        FROM posts WHERE author_key IN (SELECT unnest(CAST(? AS VARCHAR[]))) AND NOT coalesce(is_deleted, FALSE)
          AND created_at >= CAST(? AS TIMESTAMP) AND created_at < CAST(? AS TIMESTAMP)
        GROUP BY 1""", [owners, weeks[0][0] if weeks else start, weeks[-1][1] if weeks else start]).fetchall()
    by_week = {w: (int(n), int(c)) for w, n, c in rows}
    weekly = []
    for w0, w1 in weeks:
        n, c = by_week.get(w0, (0, 0))
        row: dict[str, Any] = {"week": w0.date().isoformat(), "posts": n,
                               "posts_met": None if ppw is None else n >= ppw,
                               "conversation_ratio": c / n if n else None,
                               "conversation_met": None if conv_goal is None or not n else c / n >= conv_goal}
        if response_weekly:
            rs = response_stats(store, owners, start=w0, end=w1 - dt.timedelta(microseconds=1), sla_hours=sla)
            row["within_sla_share"] = rs["within_sla_share"]
            row["median_response_hours"] = rs["median_response_hours"]
            med = rs["median_response_hours"]
            row["sla_met"] = None if med is None else med <= sla
        weekly.append(row)
    if overall is None:
        overall = response_stats(store, owners, start=start, end=end, sla_hours=sla)
    n_weeks = len(weeks)
    total_posts = sum(r["posts"] for r in weekly)
    goals_out = {
        "posts_per_week": {"target": ppw, "actual": total_posts / n_weeks if n_weeks else None,
                           "weeks_met": sum(bool(r["posts_met"]) for r in weekly) if ppw is not None else None,
                           "weeks": n_weeks},
        "response_sla": {"target_hours": sla, "within_sla_share": overall["within_sla_share"],
                         "median_response_hours": overall["median_response_hours"],
                         "p90_response_hours": overall["p90_response_hours"],
                         "weeks_met": sum(bool(r.get("sla_met")) for r in weekly) if response_weekly else None,
                         "weeks": n_weeks,
                         "reason": overall.get("unavailable", {}).get("within_sla_share")},
        "conversation_ratio": {"target": conv_goal, "actual": overall["conversation_ratio"],
                               "weeks_met": sum(bool(r["conversation_met"]) for r in weekly)
                               if conv_goal is not None else None, "weeks": n_weeks},
        "followers": follower_goal if follower_goal else {
            "target": getattr(goals, "followers", None), "reason": "no follower goal progress (see the scorecard)"},
    }
    return {"weeks": weekly, "goals": goals_out, "sla_hours": sla}


__all__ = ["plan_vs_execution"]
