"""The interaction graph (METRICS.md §2 "who matters most"): directed, weighted, edge engager → engaged.

A graph is a `scipy.sparse.csr_matrix` `A` (A[i, j] = summed weight of i's actions on j) plus the array of
account keys (node index ↔ key). It is built by DuckDB aggregation (GROUP BY actor, target) and
vectorized key encoding (Arrow hash lookups), never a Python dict of dicts: 1 M interactions aggregate
in a fraction of a second.

Columns used: interactions.type, actor_key, target_account_key, target_post_key, created_at, ended_at;
posts.post_key, author_key, kind, created_at (the target of an action on a post is the post's author).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from socialleads.errors import LeadsError
from socialleads.store import Store

#: METRICS.md §2: default weights of each action on the engaged account.
DEFAULT_WEIGHTS: Mapping[str, float] = {"repost": 3.0, "quote": 3.0, "reply": 2.0, "mention": 2.0, "like": 1.0}
INTERACTION_TYPES = ("reply", "mention", "repost", "quote", "like", "follow")
#: Actions that spread a post (Cha et al.'s "spread" axis; the IP graph of Romero et al.).
SPREAD_TYPES = ("repost", "quote")
#: Actions that talk to an account (Cha et al.'s "conversation" axis).
CONVERSATION_TYPES = ("reply", "mention")


class GraphError(LeadsError):
    """Bad input to a graph builder (unknown interaction type, negative weight, mismatched arrays)."""


@dataclass(frozen=True)
class Graph:
    """A directed weighted graph: `matrix[i, j]` = weight of edge i → j; `keys[i]` = node i's key."""

    matrix: sp.csr_matrix
    keys: np.ndarray

    @property
    def n(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.matrix.nnz)

    def index(self) -> dict[Any, int]:
        """key → node index (a dict built on demand, for look-ups of a few keys)."""
        return {k: i for i, k in enumerate(self.keys.tolist())}

    def edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(src index, dst index, weight) arrays, in CSR order."""
        coo = self.matrix.tocoo()
        return coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data


def _encode(src: pa.Array, dst: pa.Array, nodes: pa.Array | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted unique keys, and src/dst as indices into them: one Arrow hash pass (dictionary
    encoding) over all labels, then a sort of the distinct keys only — no Python loop."""
    parts = [src, dst] if nodes is None else [nodes, src, dst]
    enc = pc.dictionary_encode(pa.concat_arrays(parts))
    dictionary, codes = enc.dictionary, enc.indices.to_numpy()
    order = pc.sort_indices(dictionary).to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    codes = rank[codes]
    off = 0 if nodes is None else len(nodes)
    keys = dictionary.take(pa.array(order)).to_numpy(zero_copy_only=False)
    return keys, codes[off:off + len(src)], codes[off + len(src):]


def _as_arrow(values: Sequence[Any] | np.ndarray | pa.Array | pa.ChunkedArray, name: str) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    try:
        return pa.array(values if isinstance(values, np.ndarray) else list(values))
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise GraphError(f"{name}: node labels must be all strings or all integers ({exc})") from exc


def from_edges(src: Sequence[Any] | np.ndarray | pa.Array | pa.ChunkedArray,
               dst: Sequence[Any] | np.ndarray | pa.Array | pa.ChunkedArray,
               weight: Sequence[float] | np.ndarray | pa.Array | pa.ChunkedArray | None = None,
               *, nodes: Sequence[Any] | np.ndarray | pa.Array | None = None) -> Graph:
    """A graph from an edge list: node labels (strings or integers) and optional weights (default 1).

    Parallel edges are summed, self-loops dropped, zero-weight edges dropped (they carry no walk
    probability). `nodes` adds labels that may have no edge (isolated nodes). Nodes are sorted by label.
    """
    s_arr, d_arr = _as_arrow(src, "src"), _as_arrow(dst, "dst")
    if len(s_arr) != len(d_arr):
        raise GraphError(f"from_edges: src has {len(s_arr)} labels but dst has {len(d_arr)}")
    if s_arr.null_count or d_arr.null_count:
        raise GraphError("from_edges: an edge has a missing (null) node label")
    if weight is None:
        w = np.ones(len(s_arr), dtype=np.float64)
    else:
        w = np.asarray(weight.to_numpy(zero_copy_only=False) if isinstance(weight, pa.Array | pa.ChunkedArray)
                       else weight, dtype=np.float64)
        if w.shape != (len(s_arr),):
            raise GraphError(f"from_edges: {len(s_arr)} edges but {w.size} weights")
        if not np.isfinite(w).all() or (w < 0).any():
            raise GraphError("from_edges: weights must be finite and non-negative")
    n_arr = None if nodes is None else _as_arrow(nodes, "nodes")
    if n_arr is not None and n_arr.null_count:
        raise GraphError("from_edges: a node label is missing (null)")
    # One label type for all three (int32 vs int64, an empty list's null type): the first known one.
    known = [a.type for a in (s_arr, d_arr, n_arr) if a is not None and a.type != pa.null()]
    label_type = known[0] if known else pa.string()
    try:
        s_arr, d_arr = s_arr.cast(label_type), d_arr.cast(label_type)
        n_arr = n_arr.cast(label_type) if n_arr is not None else None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise GraphError(f"from_edges: node labels are of different kinds ({exc})") from exc
    keys, s, d = _encode(s_arr, d_arr, n_arr)
    return _csr(keys, s, d, w)


def _csr(keys: np.ndarray, s: np.ndarray, d: np.ndarray, w: np.ndarray) -> Graph:
    keep = (s != d) & (w > 0)
    n = len(keys)
    m = sp.csr_matrix((w[keep], (s[keep], d[keep])), shape=(n, n), dtype=np.float64)
    m.sum_duplicates()  # also sorts the column indices of each row
    return Graph(matrix=m, keys=keys)


def _ts(value: dt.datetime | None, name: str) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        raise GraphError(f"{name} must be a datetime, got {type(value).__name__}")
    # The store holds naive UTC timestamps (session TimeZone = UTC).
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo is not None else value


def _check_window(start: dt.datetime | None, end: dt.datetime | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    s, e = _ts(start, "start"), _ts(end, "end")
    if s is not None and e is not None and s > e:
        raise GraphError(f"the window starts ({s.isoformat()}) after it ends ({e.isoformat()})")
    return s, e


def _weights(types: Iterable[str] | None, weights: Mapping[str, float] | None,
             follow_weight: float | None) -> dict[str, float]:
    table = dict(DEFAULT_WEIGHTS if weights is None else weights)
    if follow_weight is not None:
        table["follow"] = float(follow_weight)
    for t, v in table.items():
        if t not in INTERACTION_TYPES:
            raise GraphError(f"unknown interaction type {t!r} (known: {', '.join(INTERACTION_TYPES)})")
        if not np.isfinite(v) or v < 0:
            raise GraphError(f"the weight of {t!r} must be a finite non-negative number, got {v!r}")
    if types is not None:
        wanted = list(types)
        for t in wanted:
            if t not in INTERACTION_TYPES:
                raise GraphError(f"unknown interaction type {t!r} (known: {', '.join(INTERACTION_TYPES)})")
            if t not in table:
                raise GraphError(f"no weight for {t!r} interactions: give one"
                                 + (" (follow_weight)" if t == "follow" else ""))
        table = {t: v for t, v in table.items() if t in wanted}
    return {t: v for t, v in table.items() if v > 0}


#: One row per interaction with its resolved target account (the author of the target post when the
#: interaction names a post only). Parameters: window start, end (NULL = open).
_RESOLVED = """
SELECT i.type, i.actor_key AS actor, coalesce(i.target_account_key, p.author_key) AS target,
       i.target_post_key, i.interaction_key, i.created_at, i.ended_at
FROM interactions i
LEFT JOIN (SELECT post_key, any_value(author_key) AS author_key FROM posts GROUP BY post_key) p
       ON i.target_account_key IS NULL AND p.post_key = i.target_post_key
WHERE i.type IN ({types})
"""

#: Which interactions fall in the window [start, end]: an event counts when it happened in W (an event
#: with no time counts only when there is no window) and was not undone (unlike, un-repost) by the end
#: of W; a follow counts when it was in force at some time in W (created ≤ end, NULL = older than the
#: data; not ended before start), as in metrics/followers.py.
_IN_WINDOW = """
  AND actor IS NOT NULL AND target IS NOT NULL AND actor <> target
  AND CASE WHEN type = 'follow' THEN
        (CAST(? AS TIMESTAMP) IS NULL OR created_at IS NULL OR created_at <= CAST(? AS TIMESTAMP))
        AND (ended_at IS NULL OR CAST(? AS TIMESTAMP) IS NULL OR ended_at > CAST(? AS TIMESTAMP))
      ELSE
        (CAST(? AS TIMESTAMP) IS NULL OR created_at >= CAST(? AS TIMESTAMP))
        AND (CAST(? AS TIMESTAMP) IS NULL OR created_at <= CAST(? AS TIMESTAMP))
        AND (ended_at IS NULL OR (CAST(? AS TIMESTAMP) IS NOT NULL AND ended_at > CAST(? AS TIMESTAMP)))
      END
"""


def _window_params(start: dt.datetime | None, end: dt.datetime | None) -> list[Any]:
    return [end, end, start, start, start, start, end, end, end, end]


def _sql_list(values: Iterable[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _fetch_arrow(store: Store, sql: str, params: list[Any]) -> pa.Table:
    return store.con.sql(sql, params=params).to_arrow_table()


def interaction_graph(store: Store, *, start: dt.datetime | None = None, end: dt.datetime | None = None,
                      types: Iterable[str] | None = None, weights: Mapping[str, float] | None = None,
                      follow_weight: float | None = None) -> Graph:
    """The weighted interaction graph of the store within [start, end] (either end open when None).

    Edge engager → engaged with weight Σ over the actions of `weights[type]` (METRICS.md §2 defaults:
    repost 3, quote 3, reply 2, mention 2, like 1). Follow edges are excluded unless `follow_weight`
    is given (or `weights` names 'follow'). `types` keeps only those interaction types. The engaged
    account is `target_account_key`, or the author of `target_post_key`; actions whose target cannot be
    resolved, and self-loops, are dropped. Nodes are the accounts with at least one edge, sorted by key.
    """
    s, e = _check_window(start, end)
    table = _weights(types, weights, follow_weight)
    if not table:
        return _csr(np.array([], dtype=object), np.array([], np.int64), np.array([], np.int64), np.array([]))
    case = " ".join(f"WHEN '{t}' THEN {float(v)!r}" for t, v in table.items())
    sql = (f"SELECT actor, target, sum(CASE type {case} END) AS w FROM ({_RESOLVED.format(types=_sql_list(table))}) r "
           f"WHERE TRUE {_IN_WINDOW} GROUP BY actor, target")
    tbl = _fetch_arrow(store, sql, _window_params(s, e))
    keys, src, dst = _encode(tbl["actor"].combine_chunks(), tbl["target"].combine_chunks(), None)
    return _csr(keys, src, dst, tbl["w"].to_numpy())


def repost_graph(store: Store, *, start: dt.datetime | None = None, end: dt.datetime | None = None) -> Graph:
    """The influence graph of the IP algorithm (Romero et al. 2011, §4) from reposts and quotes in W.

    Edge i → j (note: author → reposter, the direction influence flows, the reverse of the interaction
    graph) with weight w_ij = S_ij / Q_i ∈ (0, 1]: the share of i's content that j spread.
    S_ij = distinct posts of i that j reposted or quoted in W (an action naming an account only counts
    once per action); Q_i = the number of i's posts that j could have spread: i's own posts (original,
    reply, quote) created in W, or — when the store holds fewer of them than were spread (we see a
    repost of a post we never imported) — the number of distinct posts of i spread by anyone in W.
    The paper's Q_ij counts only the posts j was exposed to (j follows i); without complete follow
    lists we take all of i's posts, so w_ij is a lower bound on j's acceptance.
    """
    s, e = _check_window(start, end)
    sql = f"""
    WITH r AS (
      SELECT actor, target, coalesce(target_post_key, interaction_key) AS item
      FROM ({_RESOLVED.format(types=_sql_list(SPREAD_TYPES))}) r WHERE TRUE {_IN_WINDOW}
    ),
    s AS (SELECT target AS i, actor AS j, count(DISTINCT item) AS s_ij FROM r GROUP BY ALL),
    spread AS (SELECT target AS i, count(DISTINCT item) AS n FROM r GROUP BY ALL),
    own AS (
      SELECT author_key AS i, count(DISTINCT post_key) AS n FROM posts
      WHERE kind <> 'repost' AND author_key IN (SELECT i FROM spread)
        AND (CAST(? AS TIMESTAMP) IS NULL OR created_at >= CAST(? AS TIMESTAMP))
        AND (CAST(? AS TIMESTAMP) IS NULL OR created_at <= CAST(? AS TIMESTAMP))
      GROUP BY ALL
    )
    SELECT s.i, s.j, s.s_ij / greatest(spread.n, coalesce(own.n, 0)) AS w
    FROM s JOIN spread USING (i) LEFT JOIN own USING (i)
    """
    tbl = _fetch_arrow(store, sql, _window_params(s, e) + [s, s, e, e])
    keys, src, dst = _encode(tbl["i"].combine_chunks(), tbl["j"].combine_chunks(), None)
    return _csr(keys, src, dst, tbl["w"].to_numpy().astype(np.float64))


def account_axes(store: Store, *, start: dt.datetime | None = None, end: dt.datetime | None = None) -> pa.Table:
    """The three axes of Cha et al. (2010), reported separately (METRICS.md §2), one row per account.

    Columns: account, audience (followers: distinct accounts whose follow was in force at the end of W,
    a follow with no time counting as older than the data), spread (reposts + quotes received in W),
    conversation (replies + mentions received in W). Self-actions are not counted. Rows: every account
    with a non-zero axis, sorted by account key.
    """
    s, e = _check_window(start, end)
    sql = f"""
    WITH r AS (
      SELECT * FROM ({_RESOLVED.format(types=_sql_list(SPREAD_TYPES + CONVERSATION_TYPES))}) r WHERE TRUE {_IN_WINDOW}
    ),
    f AS (
      SELECT target_account_key AS account, count(DISTINCT actor_key) AS audience FROM interactions
      WHERE type = 'follow' AND actor_key IS NOT NULL AND target_account_key IS NOT NULL
        AND actor_key <> target_account_key
        AND (CAST(? AS TIMESTAMP) IS NULL OR created_at IS NULL OR created_at <= CAST(? AS TIMESTAMP))
        AND (ended_at IS NULL OR (CAST(? AS TIMESTAMP) IS NOT NULL AND ended_at > CAST(? AS TIMESTAMP)))
      GROUP BY ALL
    ),
    a AS (
      SELECT target AS account,
             count(*) FILTER (WHERE type IN ({_sql_list(SPREAD_TYPES)})) AS spread,
             count(*) FILTER (WHERE type IN ({_sql_list(CONVERSATION_TYPES)})) AS conversation
      FROM r GROUP BY ALL
    )
    SELECT account, coalesce(f.audience, 0)::BIGINT AS audience, coalesce(a.spread, 0)::BIGINT AS spread,
           coalesce(a.conversation, 0)::BIGINT AS conversation
    FROM f FULL OUTER JOIN a USING (account)
    WHERE coalesce(f.audience, 0) + coalesce(a.spread, 0) + coalesce(a.conversation, 0) > 0
    ORDER BY account
    """
    return _fetch_arrow(store, sql, _window_params(s, e) + [e, e, e, e])
