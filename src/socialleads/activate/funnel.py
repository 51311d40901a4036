"""The activation funnel for W (METRICS.md §3): followers → engagers → clickers → converters.

* followers: |F(end of W)| from follow events to O (an actor counted once however many O accounts
  it follows), else the sum of O's latest account metrics snapshots (then not deduplicated);
* engagers: distinct non-O accounts with ≥ 1 action on O in W (reply, mention, repost, quote, like);
* clickers: distinct visitor_key of clicks in W attributed to O's posts (attribution.py); a click
  without a visitor_key counts as one visitor;
* converters: distinct visitors with an attributed conversion in W.

The stage units differ: followers and engagers are accounts, clickers and converters are web
visitors, which usually cannot be linked to accounts. So each rate is labelled with its units and is
a ratio of counts, not a share of one population following another.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from socialleads.activate import attribution as A
from socialleads.activate.links import owner_sql
from socialleads.metrics.scorecard import NO_INBOUND
from socialleads.metrics.window import store_data_end
from socialleads.store.db import run_sql


def data_window(con: Any, days: int = 90) -> tuple[dt.datetime, dt.datetime] | None:
    """W = [T_end − days, T_end], T_end = the latest post or interaction time (METRICS.md notation)."""
    end = store_data_end(con)
    return None if end is None else (end - dt.timedelta(days=days), end)


def funnel(con: Any, owner_keys: list[str], start: dt.datetime, end: dt.datetime,
           lookback_days: int = A.LOOKBACK_DAYS, built: bool = False) -> dict[str, Any]:
    if not built:
        A._build(con, owner_keys, lookback_days)
    o = owner_sql(owner_keys)
    p = [start, end]
    fol = run_sql(con, f"""SELECT count(DISTINCT actor_key) FROM interactions WHERE type = 'follow'
        AND target_account_key IN ({o}) AND actor_key IS NOT NULL AND coalesce(created_at, ?) <= ?
        AND (ended_at IS NULL OR ended_at > ?)""", [end, end, end])[0][0]
    basis = "follow events"
    if not fol:
        fol = run_sql(con, f"""SELECT sum(f) FROM (SELECT arg_max(followers, observed_at) AS f FROM metrics_snapshots
            WHERE subject_type = 'account' AND subject_key IN ({o}) AND observed_at <= ? AND followers IS NOT NULL
            GROUP BY subject_key)""", [end])[0][0]
        basis = "metrics snapshots" if fol else "none"
    eng = run_sql(con, f"""SELECT count(DISTINCT i.actor_key) FROM interactions i
        WHERE i.type IN ('reply', 'mention', 'repost', 'quote', 'like') AND i.actor_key IS NOT NULL
          AND i.actor_key NOT IN ({o}) AND i.created_at BETWEEN ? AND ?
          AND (i.target_account_key IN ({o}) OR i.target_post_key IN (SELECT post_key FROM posts
                                                                       WHERE author_key IN ({o})))""", p)[0][0]
    clk = run_sql(con, """SELECT count(DISTINCT coalesce(visitor_key, 'click:' || k)), count(*) FROM act_clicks
        WHERE post_key IS NOT NULL AND t BETWEEN ? AND ?""", p)[0]
    cv = run_sql(con, """SELECT count(DISTINCT coalesce(visitor_key, 'conv:' || k)), count(*) FROM act_conversions
        WHERE post_key IS NOT NULL AND t BETWEEN ? AND ?""", p)[0]
    fol = int(fol) if fol else None

    def rate(a: int | None, b: int | None) -> float | None:
        return a / b if a is not None and b else None
    eng_rate = rate(eng, fol)
    eng_reason = None
    if not eng and not run_sql(con, f"""SELECT count(*) FROM interactions i
            WHERE i.type IN ('reply', 'mention', 'repost', 'quote', 'like') AND i.actor_key NOT IN ({o})
              AND (i.target_account_key IN ({o}) OR i.target_post_key IN (SELECT post_key FROM posts
                                                                           WHERE author_key IN ({o})))""")[0][0]:
        # no action of another account on O in the whole store: the sources cannot show engagers
        eng_rate, eng_reason = None, NO_INBOUND
    stages = [
        {"stage": "followers", "unit": "accounts", "count": fol, "basis": basis},
        {"stage": "engagers", "unit": "accounts", "count": None if eng_reason else int(eng), "rate": eng_rate,
         "rate_label": "engagers ÷ followers (engagers may include non-followers)", "reason": eng_reason},
        {"stage": "clickers", "unit": "web visitors", "count": int(clk[0]), "clicks": int(clk[1]),
         "rate": rate(clk[0], eng), "rate_label": "visitors ÷ engaging accounts (different units)"},
        {"stage": "converters", "unit": "web visitors", "count": int(cv[0]), "conversions": int(cv[1]),
         "rate": rate(cv[0], clk[0]), "rate_label": "converting visitors ÷ clicking visitors"},
    ]
    return {"window": {"start": start.isoformat(), "end": end.isoformat()}, "stages": stages,
            "note": "followers and engagers are accounts, clickers and converters web visitors: the analytics "
                    "rarely link a visitor to an account, so rates between units are ratios of counts"}
