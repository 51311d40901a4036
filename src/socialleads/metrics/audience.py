"""Audience metrics: reactivity, active vs passive, stickiness, hidden network, growth, goal progress.

Every function is a pure function of the store's tables (via `Audience`), the owner's keys and the window,
computed in DuckDB through Ibis; only small aggregates come back to Python. Definitions:
METRICS.md §0 as read by docs/audience-definitions.md. Columns used are those of `actions.py`
(interactions, posts) and `followers.py` (follow interactions, follower_snapshots, metrics_snapshots).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
from ibis.expr.types import Table

from socialleads.metrics.actions import in_window, owner_actions_targets
from socialleads.metrics.asof import asof_left
from socialleads.metrics.followers import (
    ALL,
    FOLLOWS,
    NO_FOLLOWER_LIST,
    NO_FOLLOWERS,
    NO_SOURCE,
    TS,
    Audience,
    followers_among,
    followers_step_table,
)
from socialleads.metrics.result import Metric
from socialleads.metrics.window import UTC, Window, as_utc, naive

BUCKETS = ("0", "1", "2", "3–5", "6–10", "11–20", "21–50", "51+")
RETENTION_WEEKS = 8


def identities_missing(aud: Audience) -> Metric | None:
    """The 'not available' answer for follower-level metrics, or None when F(t) is a set of accounts."""
    if aud.has_identities:
        return None
    return Metric.missing(NO_FOLLOWERS if aud.source == NO_SOURCE else NO_FOLLOWER_LIST)


def _at(expr: Table, t: dt.datetime) -> Table:
    return expr.mutate(t=ibis.literal(naive(t)).cast(TS))


def _engaged_followers(aud: Audience, engagers: Table, t: dt.datetime) -> int:
    return int(followers_among(aud, _at(engagers, t)).count().execute())


def reactivity(aud: Audience, w: Window, actions: Table, followers_start: int | None) -> Metric:
    """|E(W) ∩ F(T_start)| / |F(T_start)| (METRICS.md §0 reactivity)."""
    miss = identities_missing(aud)
    if miss:
        return miss
    if followers_start is None:
        return Metric.missing("not available: no follower snapshot at or before the start of the window")
    if followers_start == 0:
        return Metric.missing("undefined: the owner had no followers at the start of the window")
    e = in_window(actions, w).select("actor_key").distinct()
    return Metric.of(_engaged_followers(aud, e, w.start) / followers_start)


def _bucket(n: Any) -> Any:
    return ibis.cases((n == 1, "1"), (n == 2, "2"), (n <= 5, "3–5"), (n <= 10, "6–10"), (n <= 20, "11–20"),
                      (n <= 50, "21–50"), else_="51+")


def active_passive(aud: Audience, w: Window, actions: Table, followers_end: int | None) -> dict[str, Metric]:
    """Active followers (F(T_end) with ≥1 action in W), passive share = 1 − active/|F(T_end)|, and the
    distribution of per-follower action counts in W over BUCKETS (METRICS.md §0 active vs passive)."""
    miss = identities_missing(aud)
    if miss is None and followers_end is None:
        miss = Metric.missing("not available: no follower snapshot at or before the end of the window")
    if miss:
        return {"active_followers": miss, "passive_share": miss, "action_distribution": miss}
    assert followers_end is not None
    aw = in_window(actions, w)
    per_actor = aw.group_by("actor_key").aggregate(n=aw.count())
    fol = followers_among(aud, _at(per_actor.select("actor_key"), w.end))
    j = per_actor.join(fol, "actor_key")
    j = j.mutate(bucket=_bucket(j.n))
    rows = j.group_by("bucket").aggregate(followers=j.count()).to_pyarrow().to_pylist()
    got = {r["bucket"]: int(r["followers"]) for r in rows}
    active = sum(got.values())
    dist = {b: got.get(b, 0) for b in BUCKETS}
    dist["0"] = followers_end - active
    passive: Metric = (Metric.of(1 - active / followers_end) if followers_end > 0 else
                       Metric.missing("undefined: the owner has no followers at the end of the window"))
    return {"active_followers": Metric.of(active), "passive_share": passive,
            "action_distribution": Metric.of(dist)}


def engager_weeks(actions: Table) -> Table:
    """(actor_key, week) for every week (Monday 00:00 UTC) in which the actor acted on O."""
    return actions.select("actor_key", week=actions.created_at.truncate("W")).distinct()


def cohort_retention(actions: Table, w: Window) -> dict[str, Any]:
    """Cohort retention of engagers (METRICS.md §0 stickiness).

    Cohort k = week of an engager's first action on O (all history); retention(k, j) = share of cohort k
    acting in week k + j, j = 1..8, defined (not None) when week k + j has ended by T_end.
    Returns {cohorts: [iso date], sizes: [int], j: [1..8], retention: [[float|None]]}.
    """
    ew = engager_weeks(actions)
    first = ew.group_by("actor_key").aggregate(cohort=ew.week.min())
    j = ew.join(first, "actor_key")
    j = j.mutate(off=j.week.date().delta(j.cohort.date(), unit="day") // 7)
    j = j.filter(j.off >= 1, j.off <= RETENTION_WEEKS)
    cells = j.group_by("cohort", "off").aggregate(n=j.count()).to_pyarrow().to_pylist()
    sizes = first.group_by("cohort").aggregate(size=first.count()).order_by("cohort").to_pyarrow().to_pylist()
    got = {(as_utc(r["cohort"]), int(r["off"])): int(r["n"]) for r in cells}
    cohorts, out_sizes, matrix = [], [], []
    for r in sizes:
        k = as_utc(r["cohort"])
        row: list[float | None] = []
        for jj in range(1, RETENTION_WEEKS + 1):
            ended = k + dt.timedelta(days=7 * (jj + 1)) <= w.end
            row.append(got.get((k, jj), 0) / int(r["size"]) if ended else None)
        cohorts.append(k.date().isoformat())
        out_sizes.append(int(r["size"]))
        matrix.append(row)
    return {"cohorts": cohorts, "sizes": out_sizes, "j": list(range(1, RETENTION_WEEKS + 1)),
            "retention": matrix}


def week4_retention(matrix: dict[str, Any]) -> Metric:
    """Unweighted mean of retention(k, 4) over the cohorts where it is defined."""
    vals = [row[3] for row in matrix["retention"] if row[3] is not None]
    if not vals:
        return Metric.missing("not available yet: no cohort of engagers has a completed week 4 by the end of "
                              "the data (needs at least 5 weeks of timestamped actions on the owner)")
    return Metric.of(sum(vals) / len(vals))


def returning_engagers(actions: Table, w: Window) -> list[dict[str, Any]]:
    """Per week w from the week of T_start to the week of T_end: engagers of w, those who also acted in
    w − 1, and their share (None when w had no engagers)."""
    ew = engager_weeks(actions)
    prev = ew.select("actor_key", week=ew.week + ibis.interval(days=7))
    r = ew.join(prev, ["actor_key", "week"])
    lo = naive(_week_start(w.start))
    counts = ew.filter(ew.week >= lo).group_by("week").aggregate(engagers=ibis._.count()).to_pyarrow().to_pylist()
    back = r.filter(r.week >= lo).group_by("week").aggregate(returning=ibis._.count()).to_pyarrow().to_pylist()
    eng = {as_utc(x["week"]): int(x["engagers"]) for x in counts}
    ret = {as_utc(x["week"]): int(x["returning"]) for x in back}
    out = []
    for wk in _weeks(w):
        e = eng.get(wk, 0)
        n = ret.get(wk, 0)
        out.append({"week": wk.date().isoformat(), "engagers": e, "returning": n,
                    "share": n / e if e else None})
    return out


def _week_start(t: dt.datetime) -> dt.datetime:
    d = as_utc(t)
    return dt.datetime(d.year, d.month, d.day, tzinfo=UTC) - dt.timedelta(days=d.weekday())


def _weeks(w: Window) -> list[dt.datetime]:
    out, k = [], _week_start(w.start)
    while k <= w.end:
        out.append(k)
        k += dt.timedelta(days=7)
    return out


def weekly_reactivity(aud: Audience, w: Window, actions: Table,
                      followers_at_week_start: list[int | None]) -> list[dict[str, Any]]:
    """Per week ws (weeks of W): |E(ws) ∩ F(ws)| / |F(ws)| with F at the week's start (Monday 00:00 UTC).
    `followers_at_week_start` are |F| at each of those weeks' starts (from follower_counts_at)."""
    weeks = _weeks(w)
    engaged: dict[dt.datetime, int] = {}
    if aud.has_identities:
        ew = engager_weeks(actions).filter(lambda t: t.week >= naive(weeks[0]))
        cand = ew.select("actor_key", t=ew.week)
        fol = followers_among(aud, cand)
        rows = fol.group_by("t").aggregate(n=fol.count()).to_pyarrow().to_pylist()
        engaged = {as_utc(r["t"]): int(r["n"]) for r in rows}
    out = []
    for wk, f in zip(weeks, followers_at_week_start):
        n = engaged.get(wk, 0) if aud.has_identities else None
        out.append({"week": wk.date().isoformat(), "followers_start": f, "engaged_followers": n,
                    "reactivity": (n / f) if (n is not None and f) else None,
                    "complete": wk + dt.timedelta(days=7) <= w.end})
    return out


def hidden_network(aud: Audience, w: Window, actions: Table) -> Metric:
    """Accounts not in O that acted on O in W and received an action from O in W (Huberman et al. 2009)."""
    e = in_window(actions, w).select("actor_key").distinct()
    got = owner_actions_targets(aud, w)
    return Metric.of(int(e.join(got, e.actor_key == got.account_key).count().execute()))


def per_post(aud: Audience, w: Window, actions: Table) -> Table | None:
    """Owner posts created in W with distinct engagers (all timestamped actions on the post), reposts, the
    followers at post time on the post's platform, reactivity = engagers ÷ followers and audience reaction
    rate = reposts ÷ followers (Romero et al. 2011, exposures ≈ followers). None without a follower source.
    Columns: post_key, platform, created_at, engagers, reposts, followers, reactivity, reaction_rate."""
    steps = followers_step_table(aud)
    if steps is None:
        return None
    p = aud.t.posts
    op = p.filter(p.author_key.isin(aud.owner), p.created_at.notnull())
    op = op.select("post_key", "platform", created_at=op.created_at.cast(TS))
    op = op.filter(op.created_at >= naive(w.start), op.created_at <= naive(w.end))
    a = actions.filter(actions.target_post_key.notnull())
    stats = a.group_by(post_key=a.target_post_key).aggregate(
        engagers=a.actor_key.nunique(), reposts=(a.type == "repost").sum())
    j = op.left_join(stats, "post_key").select(
        "post_key", "platform", "created_at", engagers=ibis._.engagers.fill_null(0),
        reposts=ibis._.reposts.fill_null(0))
    x = asof_left(j, steps.select("platform", "ts", "n"), "created_at", "ts", ["platform"])
    x = x.select("post_key", "platform", "created_at", "engagers", "reposts", followers=x.n)
    ok = x.followers.notnull() & (x.followers > 0)
    return x.mutate(reactivity=ibis.ifelse(ok, x.engagers / x.followers.cast("float64"), ibis.null()),
                    reaction_rate=ibis.ifelse(ok, x.reposts / x.followers.cast("float64"), ibis.null()))


def per_post_summary(table: Table | None) -> dict[str, Metric]:
    """Unweighted means over owner posts in W with a known, non-zero follower count."""
    if table is None:
        miss = Metric.missing(NO_FOLLOWERS)
        return {"post_reactivity": miss, "audience_reaction_rate": miss, "posts_measured": miss}
    r = table.aggregate(n=table.reactivity.count(), re=table.reactivity.mean(),
                        rr=table.reaction_rate.mean()).to_pyarrow().to_pylist()[0]
    if not r["n"]:
        miss = Metric.missing("not available: no owner post in the window with a known follower count")
        return {"post_reactivity": miss, "audience_reaction_rate": miss, "posts_measured": Metric.of(0)}
    return {"post_reactivity": Metric.of(float(r["re"])), "audience_reaction_rate": Metric.of(float(r["rr"])),
            "posts_measured": Metric.of(int(r["n"]))}


def gained_lost(aud: Audience, w: Window) -> dict[str, Metric]:
    """gained = follows that began in (T_start, T_end]; lost = follows that ended in (T_start, T_end]."""
    if aud.source != FOLLOWS:
        reason = ("not available from these sources: gained and lost followers need dated follow events "
                  "(Bluesky/Mastodon follow records); snapshots give only the net change")
        return {"gained": Metric.missing(reason), "lost": Metric.missing(reason)}
    i = aud.t.interactions
    f = i.filter(i.type == "follow", i.target_account_key.isin(aud.owner), i.actor_key.notnull())
    s, e = naive(w.start), naive(w.end)
    c, en = f.created_at.cast(TS), f.ended_at.cast(TS)
    r = f.aggregate(g=((c > s) & (c <= e)).cast("int64").sum(),
                    l=((en > s) & (en <= e)).cast("int64").sum()).to_pyarrow().to_pylist()[0]
    return {"gained": Metric.of(int(r["g"] or 0)), "lost": Metric.of(int(r["l"] or 0))}


def growth_by_period(aud: Audience, w: Window, unit: str = "D") -> list[dict[str, Any]]:
    """Gained, lost and net follows per period (unit 'D', 'W' or 'M') in (T_start, T_end]; follow events
    only (an empty list otherwise)."""
    if aud.source != FOLLOWS:
        return []
    i = aud.t.interactions
    f = i.filter(i.type == "follow", i.target_account_key.isin(aud.owner), i.actor_key.notnull())
    s, e = naive(w.start), naive(w.end)
    g = f.select(ts=f.created_at.cast(TS), gained=ibis.literal(1), lost=ibis.literal(0))
    lo = f.select(ts=f.ended_at.cast(TS), gained=ibis.literal(0), lost=ibis.literal(1))
    ev = g.union(lo)
    ev = ev.filter(ev.ts > s, ev.ts <= e)
    ev = ev.mutate(period=ev.ts.truncate(unit))  # type: ignore[arg-type]
    rows = ev.group_by("period").aggregate(gained=ev.gained.sum(), lost=ev.lost.sum()).order_by("period")
    return [{"period": as_utc(r["period"]).date().isoformat(), "gained": int(r["gained"]),
             "lost": int(r["lost"]), "net": int(r["gained"]) - int(r["lost"])}
            for r in rows.to_pyarrow().to_pylist()]


def goal_progress(followers: int | None, net_growth: int | None, w: Window, goals: Any) -> Metric:
    """Progress against goals.followers (and goals.followers_by) in leads.toml."""
    target = getattr(goals, "followers", None) if goals is not None else None
    if not target:
        return Metric.missing("no goal set: add goals.followers (and goals.followers_by) to leads.toml")
    if followers is None:
        return Metric.missing(NO_FOLLOWERS)
    out: dict[str, Any] = {"target": int(target), "followers": followers, "progress": followers / target,
                           "by": None, "days_left": None, "required_per_day": None, "pace_per_day": None,
                           "on_track": followers >= target}
    by = getattr(goals, "followers_by", None)
    if net_growth is not None:
        out["pace_per_day"] = net_growth / w.days
    if by is not None:
        days_left = (by - w.end.date()).days
        out["by"] = by.isoformat()
        out["days_left"] = days_left
        if followers < target and days_left > 0:
            out["required_per_day"] = (target - followers) / days_left
            out["on_track"] = out["pace_per_day"] is not None and out["pace_per_day"] >= out["required_per_day"]
    return Metric.of(out)


__all__ = ["ALL", "BUCKETS", "active_passive", "cohort_retention", "engager_weeks", "gained_lost",
           "goal_progress", "growth_by_period", "hidden_network", "per_post", "per_post_summary", "reactivity",
           "returning_engagers", "week4_retention", "weekly_reactivity"]
