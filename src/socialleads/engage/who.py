"""Who matters most (METRICS.md §2): weighted PageRank, the three axes of Cha et al., influence–passivity,
and the reasons each account ranks.

`who_matters` ranks the non-owner accounts active in the window W = [T_end − window_days, T_end] by
weighted PageRank on the interaction graph of W (graph.interaction_graph: edge engager → engaged,
repost 3, quote 3, reply 2, mention 2, like 1). Each row carries the three axes of Cha et al. (2010)
with the account's percentile on each, the influence and passivity of Romero et al. (2011) on the
repost/quote graph of W, the counts of each interaction type between the account and the owner in W
(one DuckDB query), and `reasons`: short sentences saying why it ranks.

Everything is computed for all accounts at once (sparse mat-vec, numpy, Arrow hash look-ups, DuckDB
aggregation); only the `limit` returned rows are turned into Python dicts.

Columns used: interactions.type, actor_key, target_account_key, target_post_key, created_at, ended_at;
posts.post_key, author_key, kind, created_at; accounts.account_key, platform, handle, display_name.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from socialleads.errors import LeadsError
from socialleads.graph import Graph, account_axes, influence_passivity, interaction_graph, pagerank, repost_graph
from socialleads.graph.build import _IN_WINDOW, _RESOLVED, INTERACTION_TYPES, _sql_list, _window_params
from socialleads.metrics.tables import tables_for
from socialleads.metrics.window import DEFAULT_WINDOW_DAYS, window_for
from socialleads.store import Store

AXES = ("audience", "spread", "conversation")
#: When two axes have the same percentile, the first of this order is the account's strongest.
AXIS_PRIORITY = ("spread", "conversation", "audience")
#: An axis is named with "top N%" when the account is in the top share of this size (else plainly).
TOP_SHARE_NAMED = 0.25
#: Other (non-strongest) axes are added to the reasons when the account is in the top share of this size.
TOP_SHARE_EXTRA = 0.10
#: Per interaction type: the column stem of the counts between an account and the owner.
OWNER_TYPES = ("reply", "mention", "repost", "quote", "like", "follow")


class EngageError(LeadsError):
    """Bad input to an engage function (a non-positive limit or window, no owner to rank around)."""


# ------------------------------------------------------------------------------------------ helpers

def _lookup(keys: pa.Array, table_keys: pa.Array | np.ndarray, values: np.ndarray, fill: float = 0.0) -> np.ndarray:
    """values[i] for each key's position i in `table_keys` (one Arrow hash pass), `fill` when absent."""
    tk = table_keys if isinstance(table_keys, pa.Array) else pa.array(table_keys, type=pa.string())
    out = np.full(len(keys), fill, dtype=np.float64)
    if len(tk) == 0 or len(keys) == 0:
        return out
    pos = pc.index_in(keys, value_set=tk.cast(pa.string()))
    hit = pos.is_valid().to_numpy(zero_copy_only=False)
    out[hit] = np.asarray(values, dtype=np.float64)[pos.drop_null().to_numpy()]
    return out


def percentile_rank(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(percentile, top share) of each value within `values`: percentile = 100 × the share of values
    strictly below it (0 for the minimum; ties share one percentile); top share = the share of values
    at or above it (1/N for a unique maximum)."""
    v = np.asarray(values, dtype=np.float64)
    n = len(v)
    if n == 0:
        return np.zeros(0), np.zeros(0)
    below = np.searchsorted(np.sort(v), v, side="left")
    return 100.0 * below / n, (n - below) / n


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _times(n: int) -> str:
    return _plural(n, "time", "times")


AXIS_TEXT = {
    "audience": ("follower", "followers"),
    "spread": ("repost or quote received", "reposts and quotes received"),
    "conversation": ("reply or mention received", "replies and mentions received"),
}


def _top(share: float) -> str:
    pct = 100.0 * share
    return f"top {math.ceil(pct - 1e-9)}%" if pct >= 1 else f"top {pct:.1g}%"


def _axis_sentence(axis: str, value: int, share: float) -> str:
    one, many = AXIS_TEXT[axis]
    counted = _plural(value, one, many)
    return f"{_top(share)} by {axis}: {counted}" if share <= TOP_SHARE_NAMED else f"{axis}: {counted}"


def _verbs(n: dict[str, int], pairs: Sequence[tuple[str, str]]) -> tuple[str, int]:
    """'replies to and mentions' from the types with a non-zero count, and their total."""
    have = [verb for t, verb in pairs if n.get(t, 0) > 0]
    return " and ".join(have), sum(n.get(t, 0) for t, _ in pairs)


def owner_sentences(inbound: dict[str, int], outbound: dict[str, int], follows_you: bool,
                    you_follow: bool) -> list[str]:
    """Human sentences for the interactions between an account and the owner in W."""
    out: list[str] = []
    verbs, total = _verbs(inbound, (("reply", "replies to"), ("mention", "mentions")))
    if total:
        out.append(f"{verbs} you: {_times(total)}")
    verbs, total = _verbs(inbound, (("repost", "reposts"), ("quote", "quotes")))
    if total:
        out.append(f"{verbs} you: {_times(total)}")
    if inbound.get("like", 0):
        out.append(f"likes your posts: {_times(inbound['like'])}")
    if follows_you:
        out.append("follows you")
    elif inbound.get("follow", 0):
        out.append("unfollowed you")
    verbs, total = _verbs(outbound, (("reply", "reply to"), ("mention", "mention")))
    if total:
        out.append(f"you {verbs.replace(' and ', ' or ')} them: {_times(total)}")
    verbs, total = _verbs(outbound, (("repost", "repost"), ("quote", "quote")))
    if total:
        out.append(f"you {verbs.replace(' and ', ' or ')} them: {_times(total)}")
    if outbound.get("like", 0):
        out.append(f"you like their posts: {_times(outbound['like'])}")
    if you_follow:
        out.append("you follow them")
    return out


# ------------------------------------------------------------------------------------------ queries

def owner_interactions(store: Store, owner_keys: Sequence[str], keys: Sequence[str], *, start: Any,
                       end: Any) -> pa.Table:
    """Per account in `keys`: the count of each interaction type from it to the owner (`in_<type>`) and
    from the owner to it (`out_<type>`) in W, with the graph's window rules (graph.build: an event
    counts when it happened in W and was not undone by its end; a follow when in force at some time in
    W), plus `follows_you` / `you_follow` (a follow still in force at the end of W), and the account's
    platform, handle and display name. One DuckDB query; one row per key, in no particular order."""
    counts = ", ".join(
        f"count(*) FILTER (WHERE type = '{t}' AND dir = '{d}')::BIGINT AS {d}_{t}"
        for d in ("in", "out") for t in OWNER_TYPES)
    sql = f"""
    WITH r AS (
      SELECT * FROM ({_RESOLVED.format(types=_sql_list(INTERACTION_TYPES))}) r
      WHERE TRUE {_IN_WINDOW}
        AND list_contains(CAST(? AS VARCHAR[]), actor) <> list_contains(CAST(? AS VARCHAR[]), target)
    ),
    o AS (
      SELECT CASE WHEN list_contains(CAST(? AS VARCHAR[]), actor) THEN target ELSE actor END AS account,
             CASE WHEN list_contains(CAST(? AS VARCHAR[]), actor) THEN 'out' ELSE 'in' END AS dir,
             type, ended_at
      FROM r
    ),
    c AS (
      SELECT account, {counts},
             bool_or(type = 'follow' AND dir = 'in' AND (ended_at IS NULL OR ended_at > CAST(? AS TIMESTAMP)))
               AS follows_you,
             bool_or(type = 'follow' AND dir = 'out' AND (ended_at IS NULL OR ended_at > CAST(? AS TIMESTAMP)))
               AS you_follow
      FROM o WHERE account IN (SELECT unnest(CAST(? AS VARCHAR[]))) GROUP BY account
    ),
    a AS (
      SELECT account_key AS account, any_value(platform) AS platform, any_value(handle) AS handle,
             any_value(display_name) AS display_name
      FROM accounts WHERE account_key IN (SELECT unnest(CAST(? AS VARCHAR[]))) GROUP BY account_key
    ),
    k AS (SELECT unnest(CAST(? AS VARCHAR[])) AS account)
    SELECT k.account, a.platform, a.handle, a.display_name,
           {", ".join(f"coalesce(c.{d}_{t}, 0)::BIGINT AS {d}_{t}" for d in ("in", "out") for t in OWNER_TYPES)},
           coalesce(c.follows_you, FALSE) AS follows_you, coalesce(c.you_follow, FALSE) AS you_follow
    FROM k LEFT JOIN c USING (account) LEFT JOIN a USING (account)
    """
    owners, ks = list(owner_keys), list(keys)
    params = _window_params(start, end) + [owners] * 4 + [end, end, ks, ks, ks]
    return store.con.sql(sql, params=params).to_arrow_table()


# ------------------------------------------------------------------------------------------ ranking

def _naive(value: Any) -> Any:
    return value.replace(tzinfo=None) if value is not None and value.tzinfo is not None else value


def who_matters(store: Store, owner_keys: Sequence[str], *, window_days: int = DEFAULT_WINDOW_DAYS,
                limit: int = 20, around_owner: bool = False, graph: Graph | None = None) -> list[dict[str, Any]]:
    """The accounts that matter most in the window, best first (METRICS.md §2 "who matters most").

    Population: the non-owner accounts active in W (a node of the interaction graph of W, or with a
    non-zero axis). Ranked by weighted PageRank on the interaction graph of W (computed with the owner's
    accounts in the graph, which are then left out of the ranking); ties by account key. With
    `around_owner`, the PageRank is personalised: the walk restarts at the accounts that interacted with
    the owner in W (either way), in proportion to the weight of those interactions — who matters in the
    owner's neighbourhood rather than in the whole store.

    Each row: account, handle, display_name, platform, rank (1 = first), pagerank, the three axes of
    Cha et al. (audience = followers at the end of W, spread = reposts + quotes received in W,
    conversation = replies + mentions received in W) and `<axis>_percentile` (100 × share of the
    population strictly below), influence and passivity (the IP algorithm on the repost graph of W; 0 for
    accounts outside it), engaged_by (distinct accounts with an edge to it in W), `with_owner`
    ({"inbound": {type: n}, "outbound": {type: n}, "follows_you", "you_follow"}) and `reasons`: the
    strongest axis first (highest percentile; ties in the order spread, conversation, audience), any
    other axis in the top 10%, then its interactions with the owner, then its IP influence when in the
    top 10%. An empty store gives [].

    `graph`: the interaction graph of this window (`interaction_graph(store, start=, end=)` with the
    window of `window_for(tables_for(store), window_days)`), when the caller already built it (the
    scorecard shares one between its sections); None builds it here.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise EngageError(f"limit must be a positive whole number, got {limit!r}")
    if isinstance(window_days, bool) or not isinstance(window_days, int) or window_days < 1:
        raise EngageError(f"window_days must be a positive whole number of days, got {window_days!r}")
    owners = [str(k) for k in owner_keys]
    if around_owner and not owners:
        why = getattr(owner_keys, "reason", None) or "no owner accounts (declare [[owner.accounts]] in leads.toml)"
        raise EngageError(f"who matters around the owner: {why}")
    w = window_for(tables_for(store), window_days)
    if w is None:
        return []
    start, end = _naive(w.start), _naive(w.end)

    g = graph if graph is not None else interaction_graph(store, start=start, end=end)
    gkeys = pa.array(g.keys, type=pa.string()) if g.n else pa.array([], type=pa.string())
    owner_arr = pa.array(owners, type=pa.string())
    personalization = None
    if around_owner and g.n:
        is_owner = pc.is_in(gkeys, value_set=owner_arr).to_numpy(zero_copy_only=False)
        m = g.matrix
        near = np.asarray(m[is_owner].sum(axis=0)).ravel() + np.asarray(m[:, is_owner].sum(axis=1)).ravel()
        near[is_owner] = 0.0
        if near.sum() <= 0:
            raise EngageError(f"who matters around the owner: no account interacted with the owner in the "
                              f"{window_days}-day window ending {w.end:%Y-%m-%d}")
        personalization = near
    elif around_owner:
        raise EngageError(f"who matters around the owner: no interactions in the {window_days}-day window")
    pr = pagerank(g, personalization=personalization) if g.n else np.zeros(0)
    in_deg = np.bincount(g.matrix.indices, minlength=g.n).astype(np.float64) if g.n else np.zeros(0)

    axes = account_axes(store, start=start, end=end)
    akeys = axes["account"].combine_chunks().cast(pa.string())

    pop = pc.unique(pa.concat_arrays([gkeys, akeys]))
    pop = pop.filter(pc.invert(pc.is_in(pop, value_set=owner_arr)))
    if len(pop) == 0:
        return []

    rg = repost_graph(store, start=start, end=end)
    ip = influence_passivity(rg) if rg.n else None
    rkeys = pa.array(rg.keys, type=pa.string()) if rg.n else pa.array([], type=pa.string())

    score = _lookup(pop, gkeys, pr)
    axis_vals = {a: _lookup(pop, akeys, axes[a].to_numpy()) for a in AXES}
    axis_pct = {a: percentile_rank(v) for a, v in axis_vals.items()}
    influence = _lookup(pop, rkeys, ip.influence) if ip is not None else np.zeros(len(pop))
    passivity = _lookup(pop, rkeys, ip.passivity) if ip is not None else np.zeros(len(pop))
    infl_active = influence > 0
    infl_share = np.ones(len(pop))
    if infl_active.any():
        infl_share[infl_active] = percentile_rank(influence[infl_active])[1] * infl_active.sum() / len(pop)
    engaged_by = _lookup(pop, gkeys, in_deg)

    pop_np = pop.to_numpy(zero_copy_only=False)
    order = np.lexsort((pop_np, -score))[:limit]
    top_keys = pop_np[order].tolist()

    rel = owner_interactions(store, owners, top_keys, start=start, end=end).to_pylist()
    rel_by = {r["account"]: r for r in rel}  # `limit` rows

    rows: list[dict[str, Any]] = []
    for rank, i in enumerate(order.tolist(), start=1):
        key = top_keys[rank - 1]
        r = rel_by[key]
        inbound = {t: int(r[f"in_{t}"]) for t in OWNER_TYPES}
        outbound = {t: int(r[f"out_{t}"]) for t in OWNER_TYPES}
        row: dict[str, Any] = {
            "rank": rank, "account": key, "handle": r["handle"], "display_name": r["display_name"],
            "platform": r["platform"], "pagerank": float(score[i]), "engaged_by": int(engaged_by[i]),
        }
        for a in AXES:
            row[a] = int(axis_vals[a][i])
            row[f"{a}_percentile"] = round(float(axis_pct[a][0][i]), 2)
        row["influence"] = float(influence[i])
        row["passivity"] = float(passivity[i])
        row["with_owner"] = {"inbound": inbound, "outbound": outbound, "follows_you": bool(r["follows_you"]),
                             "you_follow": bool(r["you_follow"])}
        row["reasons"] = _reasons(i, axis_vals, axis_pct, infl_share, row)
        rows.append(row)
    return rows


def _reasons(i: int, vals: dict[str, np.ndarray], pct: dict[str, tuple[np.ndarray, np.ndarray]],
             infl_share: np.ndarray, row: dict[str, Any]) -> list[str]:
    out: list[str] = []
    nonzero = [a for a in AXIS_PRIORITY if vals[a][i] > 0]
    if nonzero:
        best = max(nonzero, key=lambda a: (pct[a][0][i], -AXIS_PRIORITY.index(a)))
        out.append(_axis_sentence(best, int(vals[best][i]), float(pct[best][1][i])))
        out += [_axis_sentence(a, int(vals[a][i]), float(pct[a][1][i])) for a in nonzero
                if a != best and pct[a][1][i] <= TOP_SHARE_EXTRA]
    wo = row["with_owner"]
    out += owner_sentences(wo["inbound"], wo["outbound"], wo["follows_you"], wo["you_follow"])
    if infl_share[i] <= TOP_SHARE_EXTRA:
        out.append(f"{_top(float(infl_share[i]))} by influence (IP): spread by accounts "
                   "that rarely spread others")
    if not out:
        out.append(f"engaged by {_plural(row['engaged_by'], 'account', 'accounts')} (PageRank)" if row["engaged_by"]
                   else "no engagement received in the window: ranked by its own activity only")
    return out
