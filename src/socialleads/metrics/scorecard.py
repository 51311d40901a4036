"""The audience scorecard and chart series (METRICS.md §0), JSON-ready.

`build_scorecard` gives the figures; `audience_timeseries` the series behind the report's charts.
Both are computed in DuckDB through Ibis (a dozen small queries; only aggregates reach Python).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from socialleads.metrics import audience as am
from socialleads.metrics.actions import all_actions_on_owner, in_window, timed, untimed_actions_count
from socialleads.metrics.followers import (
    ALL,
    FOLLOWS,
    NO_FOLLOWERS,
    Audience,
    audience_for,
    follower_counts_at,
)
from socialleads.metrics.listen import listen_summary
from socialleads.metrics.result import Metric
from socialleads.metrics.stages import NOT_YET, StageContext, stage_sections
from socialleads.metrics.tables import Tables, tables_for
from socialleads.metrics.window import UTC, Window, window_for
from socialleads.metrics.window import window_days as window_days_of

NO_INBOUND = ("not available from these sources: no action by another account on the owner's posts or account "
              "is stored (an account archive holds the owner's own activity; notifications, a `leads pull` or a "
              "platform capture supply the others' replies, likes, reposts and follows)")
INBOUND_KEYS = ("engagers", "reactivity", "active_followers", "passive_share", "action_distribution",
                "week4_retention", "returning_engager_share", "hidden_network")
AUDIENCE_KEYS = ("followers", "followers_start", "net_growth", "gained", "lost", "growth_rate", "reactivity",
                 "passive_share", "active_followers", "week4_retention", "hidden_network",
                 "action_distribution", "returning_engager_share", "post_reactivity", "audience_reaction_rate",
                 "posts_measured", "engagers", "goal")

NO_DATA = "not available: the store has no timestamped posts or interactions yet (import some data)"


def _prepare(store: Any, owner_keys: list[str], config: Any, window_days: int | None,
             tables: Tables | None = None) -> tuple[Audience, Window | None]:
    t = tables if tables is not None else tables_for(store)
    return audience_for(t, owner_keys), window_for(t, window_days_of(window_days, config))


def _audience_figures(aud: Audience, w: Window, config: Any,
                      cached: Any) -> tuple[dict[str, Metric], dict[str, Any]]:
    """All §0 figures as Metrics, plus per-platform counts and side facts. `cached` = the materialized
    all_actions_on_owner(aud) (or None without owner keys)."""
    counts = follower_counts_at(aud, [w.start, w.end])
    m: dict[str, Metric] = {}
    if not counts:
        for k in ("followers", "followers_start", "net_growth", "growth_rate"):
            m[k] = Metric.missing(NO_FOLLOWERS)
        f_start = f_end = None
    else:
        f_start, f_end = counts[ALL]
        m["followers"] = Metric.of(f_end) if f_end is not None else Metric.missing(
            "not available: no follower snapshot at or before the end of the data")
        m["followers_start"] = Metric.of(f_start) if f_start is not None else Metric.missing(
            "not available: no follower snapshot at or before the start of the window "
            "(a longer series of snapshots would supply it)")
        if f_start is not None and f_end is not None:
            m["net_growth"] = Metric.of(f_end - f_start)
            m["growth_rate"] = (Metric.of((f_end - f_start) / f_start) if f_start else
                                Metric.missing("undefined: no followers at the start of the window"))
        else:
            m["net_growth"] = m["growth_rate"] = Metric.missing(
                m["followers_start"].reason or m["followers"].reason or NO_FOLLOWERS)
    m.update(am.gained_lost(aud, w))
    if not aud.owner:
        from socialleads.workspace.workspace import no_owner_reason

        miss = Metric.missing(no_owner_reason(config))
        for k in AUDIENCE_KEYS:
            m.setdefault(k, miss)
        return m, {"per_platform": {}, "untimed_actions": 0, "source": aud.source, "returning_week": None}
    actions = timed(cached)
    if int(cached.count().execute()) == 0:
        # not one action by another account on O in the whole store: the imported sources cannot show them
        # (an account archive holds the owner's own activity), so these figures are not available — not 0
        miss = Metric.missing(NO_INBOUND)
        for k in INBOUND_KEYS:
            m[k] = miss
    matrix = am.cohort_retention(actions, w)
    returning = am.returning_engagers(actions, w)
    last = returning[-1] if returning else None
    if "engagers" not in m:
        _inbound_figures(m, aud, w, actions, f_start, f_end, matrix, last)
    m.update(am.per_post_summary(am.per_post(aud, w, actions)))
    if "engagers" in m and not m["engagers"].available:
        m["post_reactivity"] = m["audience_reaction_rate"] = m["engagers"]
    m["goal"] = am.goal_progress(f_end, m["net_growth"].value, w, getattr(config, "goals", None))
    per_platform = {}
    for p, (s, e) in sorted((p, v) for p, v in counts.items() if p != ALL):
        per_platform[p] = {"followers": e, "followers_start": s,
                           "net_growth": (e - s) if (e is not None and s is not None) else None}
    extra = {"per_platform": per_platform, "untimed_actions": untimed_actions_count(aud, cached),
             "source": aud.source, "returning_week": last["week"] if last else None,
             "matrix": matrix, "returning": returning, "actions": actions}
    return m, extra


def _inbound_figures(m: dict[str, Metric], aud: Audience, w: Window, actions: Any, f_start: int | None,
                     f_end: int | None, matrix: dict[str, Any], last: dict[str, Any] | None) -> None:
    """The figures made of other accounts' actions on O (METRICS.md §0)."""
    m["engagers"] = Metric.of(int(in_window(actions, w).select("actor_key").distinct().count().execute()))
    m["reactivity"] = am.reactivity(aud, w, actions, f_start)
    m.update(am.active_passive(aud, w, actions, f_end))
    m["week4_retention"] = am.week4_retention(matrix)
    m["returning_engager_share"] = (Metric.of(last["share"]) if last and last["share"] is not None else
                                    Metric.missing("not available: no engagers in the latest week"))
    m["hidden_network"] = am.hidden_network(aud, w, actions)


def build_scorecard(store: Any, owner_keys: list[str], config: Any, window_days: int | None = None,
                    sections: frozenset[str] | set[str] | None = None) -> dict:
    """The LEADS scorecard as a JSON-ready dict (METRICS.md §0 for `audience`; other stages pending).

    `audience` holds each figure's value (None when not available, with the reason under
    `audience.unavailable[key]`), `window` {start, end, days}, `per_platform`, `follower_source`
    (follows | follower_snapshots | metrics_snapshots | none) and `untimed_actions` (actions on O left out
    because they have no time). `sections`: compute only these LEADS sections (e.g. {"activate"} for the
    stage of influence); the others are left out of the card.
    """
    return scorecard_and_series(store, owner_keys, config, window_days, series=False,
                                sections=sections)["scorecard"]


def audience_timeseries(store: Any, owner_keys: list[str], config: Any,
                        window_days: int | None = None) -> dict[str, Any]:
    """The series behind the audience charts (JSON-ready):

    * `audience_daily`: {dates: [iso], series: {platform | 'all': [int | None]}} — |F| at the end of each
      day of W (the last day at T_end);
    * `growth_daily` / `growth_weekly` / `growth_monthly`: [{period, gained, lost, net}];
    * `reactivity_weekly`: [{week, followers_start, engaged_followers, reactivity, complete}];
    * `action_distribution`: {bucket: followers} or None;
    * `cohort_retention`: {cohorts, sizes, j, retention};
    * `returning_weekly`: [{week, engagers, returning, share}].
    """
    return scorecard_and_series(store, owner_keys, config, window_days, series=True)["series"]


def _day_instants(w: Window) -> tuple[list[str], list[dt.datetime]]:
    dates, instants = [], []
    d = w.start.date()
    while d <= w.end.date():
        end_of_day = dt.datetime(d.year, d.month, d.day, tzinfo=UTC) + dt.timedelta(days=1, microseconds=-1)
        dates.append(d.isoformat())
        instants.append(min(end_of_day, w.end))
        d += dt.timedelta(days=1)
    return dates, instants


SPARK_ONLY = ("not available: computed without a store (only Ibis tables were given); pass the workspace's "
              "store, or socialleads.engine.spark_sql.SparkStore(session, dataset) for every section on Spark")


def _other_sections(store: Any, owner_keys: list[str], w: Window | None, config: Any,
                    audience: dict[str, Any], sections: frozenset[str] | set[str] | None = None) -> dict[str, Any]:
    """listen + the four stage sections (computed on the workspace's DuckDB store); only `sections` if given."""
    if store is None:
        from socialleads.metrics.stages import STAGES, unavailable

        return {k: unavailable(SPARK_ONLY) for k in STAGES}
    ctx = StageContext(store, owner_keys, w, config, audience)
    if sections is not None and "listen" not in sections:
        return stage_sections(ctx, only=sections)
    # hot questions rank askers by PageRank on the interaction graph of W, shared with Engage
    # the listened-and-acted rate is Engage's response_stats figure: computed once, shared through ctx
    sla = float(getattr(getattr(config, "goals", None), "response_sla_hours", None) or 24.0)
    response = None
    if w is not None and owner_keys:
        from socialleads.engage.section import cached_response_stats

        response = cached_response_stats(ctx, w.start, w.end, sla)
    out = {"listen": listen_summary(store, owner_keys, w, graph=ctx.window_graph(), sla_hours=sla,
                                    response=response)}
    out.update(stage_sections(ctx, only=sections))
    return out


def _materialize(aud: Audience) -> tuple[Any, Any]:
    """Actions on O, read by most figures, materialized once: (table, release)."""
    if not aud.owner:
        return None, lambda: None
    backend = aud.t.backend
    if backend.name == "duckdb":
        # A DuckDB temp table (works on a read-only store too). Ibis' own Table.cache()/release() fails
        # to drop the table on DuckDB 2.0, so it is dropped with one raw DuckDB statement.
        name = f"leads_actions_{uuid.uuid4().hex}"
        table = backend.create_table(name, all_actions_on_owner(aud), temp=True)
        return table, lambda: backend.con.execute(f'DROP TABLE IF EXISTS temp.main."{name}"')
    cached = all_actions_on_owner(aud).cache()  # Spark: a persisted DataFrame
    return cached, cached.release


def scorecard_and_series(store: Any, owner_keys: list[str], config: Any, window_days: int | None = None,
                         series: bool = True, tables: Tables | None = None,
                         sections: frozenset[str] | set[str] | None = None) -> dict[str, Any]:
    """{'scorecard': ..., 'series': ... or None}: one pass shared by the report.

    `store`: the workspace's DuckDB store, or a `socialleads.engine.spark_sql.SparkStore` (every section on
    Spark). `tables`: run the audience figures on these Ibis tables instead of the store's; with
    `store=None` the other sections say they are not available."""
    aud, w = _prepare(store, owner_keys, config, window_days, tables)
    engine = aud.t.backend.name
    audience: dict[str, Any] = {}
    unavailable: dict[str, str] = {}
    if w is None:
        for k in AUDIENCE_KEYS:
            audience[k] = None
            unavailable[k] = NO_DATA
        audience.update(window=None, per_platform={}, follower_source=aud.source, untimed_actions=0,
                        returning_week=None, unavailable=unavailable)
        card = {"workspace": getattr(config, "name", None), "engine": engine, "audience": audience}
        card.update(_other_sections(store, list(owner_keys), None, config, audience, sections))
        _add_stage_of_influence(store, list(aud.owner), card)
        return {"scorecard": card, "series": None if not series else _empty_series()}
    cached, release = _materialize(aud)
    try:
        out = _compute(aud, w, config, cached, series)
    finally:
        release()
    card = out["scorecard"]
    card["engine"] = engine
    card.update(_other_sections(store, list(aud.owner), w, config, card["audience"], sections))
    _add_stage_of_influence(store, list(aud.owner), card)
    return out


def _add_stage_of_influence(store: Any, owner_keys: list[str], card: dict[str, Any]) -> None:
    """The stage of influence (classify/stage.py), read from the audience and Activate figures of the card
    and the owner's content-class profile; only with the workspace's store (not on Spark tables alone)."""
    if store is None:
        return
    from socialleads.classify.stage import stage_for_store

    card["stage_of_influence"] = stage_for_store(store, list(owner_keys), card)


def _compute(aud: Audience, w: Window, config: Any, cached: Any, series: bool) -> dict[str, Any]:
    audience: dict[str, Any] = {}
    unavailable: dict[str, str] = {}
    m, extra = _audience_figures(aud, w, config, cached)
    for k in AUDIENCE_KEYS:
        metric = m.get(k, Metric.missing("not computed"))
        audience[k] = metric.value
        if not metric.available:
            unavailable[k] = metric.reason or "not available"
    audience.update(window=w.to_json(), per_platform=extra["per_platform"], follower_source=aud.source,
                    untimed_actions=extra["untimed_actions"], returning_week=extra["returning_week"],
                    unavailable=unavailable)
    card = {"workspace": getattr(config, "name", None), "owner_keys": list(aud.owner), "audience": audience}
    out: dict[str, Any] = {"scorecard": card, "series": None}
    if series:
        dates, instants = _day_instants(w)
        weeks = am._weeks(w)
        counts = follower_counts_at(aud, instants + weeks)
        n = len(instants)
        daily = {p: v[:n] for p, v in counts.items()}
        at_week = counts[ALL][n:] if counts else [None] * len(weeks)
        actions = extra.get("actions")
        out["series"] = {
            "window": w.to_json(),
            "audience_daily": {"dates": dates, "series": daily},
            "growth_daily": am.growth_by_period(aud, w, "D"),
            "growth_weekly": am.growth_by_period(aud, w, "W"),
            "growth_monthly": am.growth_by_period(aud, w, "M"),
            "reactivity_weekly": (am.weekly_reactivity(aud, w, actions, at_week) if actions is not None
                                  else []),
            "action_distribution": audience["action_distribution"],
            "cohort_retention": extra.get("matrix") or {"cohorts": [], "sizes": [], "j": [], "retention": []},
            "returning_weekly": extra.get("returning") or [],
        }
    return out


def _empty_series() -> dict[str, Any]:
    return {"window": None, "audience_daily": {"dates": [], "series": {}}, "growth_daily": [],
            "growth_weekly": [], "growth_monthly": [], "reactivity_weekly": [], "action_distribution": None,
            "cohort_retention": {"cohorts": [], "sizes": [], "j": [], "retention": []}, "returning_weekly": []}


__all__ = ["AUDIENCE_KEYS", "FOLLOWS", "NOT_YET", "audience_timeseries", "build_scorecard", "scorecard_and_series"]
