"""Communities (METRICS.md §2 "communities"): Leiden on the undirected interaction graph around O.

The Leiden algorithm (Traag, Waltman & van Eck 2019) optimising modularity with a resolution γ
(γ = 1: Newman–Girvan modularity; the RBConfiguration model of leidenalg for other γ) runs in igraph's C
core (`Graph.community_leiden`). We measured leidenalg's `find_partition` (same algorithm, same
objective) 12× slower on a 1 M-edge graph here (41 s vs 3.5 s), so leidenalg is not used.

The igraph graph is built from the CSR arrays of the symmetrised matrix (w_ij + w_ji, upper triangle)
passed as one int64 (m, 2) array — no Python loop over edges. Modularity is computed here from the
sparse matrix (vectorized), independently of igraph, and checked against networkx in the tests.

`community_report` describes the owner's ego network: the accounts that interacted with O in either
direction in W and the interactions among them (O itself removed, so that O does not glue every
community into one), per community: size, O's reach, top members, top terms.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from socialleads.errors import NotInstalled
from socialleads.graph.build import Graph, GraphError, _check_window, interaction_graph
from socialleads.store import Store
from socialleads.text.terms import STOP_WORDS as _STOP_WORDS

#: Leiden iterations: igraph's default (2). Iterating to a fixed point (-1) took > 4 min on a
#: structureless 1 M-edge graph here for +0.006 modularity.
N_ITERATIONS = 2

#: The stop words of the top terms (shared with topics: socialleads.text.terms).
STOP_WORDS = _STOP_WORDS


@dataclass(frozen=True)
class CommunityResult:
    """A partition of a graph's nodes.

    `membership[i]` is node i's community (aligned with `keys`, the graph's node keys); communities are
    numbered 0, 1, … by decreasing size (ties: the community holding the lower node index first), so
    `sizes[c]` is non-increasing. `modularity` is Newman's weighted modularity (γ = 1) of the partition
    on the undirected graph (NaN for a graph without edges); `resolution` is the γ Leiden optimised.
    """

    membership: np.ndarray
    sizes: np.ndarray
    modularity: float
    keys: np.ndarray
    resolution: float

    @property
    def n_communities(self) -> int:
        return int(self.sizes.size)


def _igraph() -> Any:
    try:
        import igraph
    except ImportError as exc:
        raise NotInstalled("communities need igraph: pip install 'socialleads[communities]' "
                           "(or pip install igraph)") from exc
    return igraph


def undirected(graph: Graph | sp.sparray | sp.spmatrix) -> sp.csr_matrix:
    """The symmetric weight matrix S = A + Aᵀ (S_ij = w_ij + w_ji), diagonal dropped."""
    a = sp.csr_matrix(graph.matrix if isinstance(graph, Graph) else graph, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise GraphError(f"a graph's adjacency matrix must be square, got shape {a.shape}")
    if a.nnz and (not np.isfinite(a.data).all() or (a.data < 0).any()):
        raise GraphError("edge weights must be finite and non-negative")
    s = (a + a.T).tocsr()
    s.setdiag(0)
    s.eliminate_zeros()
    return sp.csr_matrix(s)


def modularity(sym: sp.csr_matrix, membership: np.ndarray, *, resolution: float = 1.0) -> float:
    """Weighted modularity of a partition of an undirected graph given by its symmetric matrix:
    Q = Σ_c [ L_c / m − γ (d_c / 2m)² ], m = total edge weight, L_c = weight inside c, d_c = Σ strengths
    in c (networkx's definition). NaN when the graph has no edges."""
    total = float(sym.sum())  # = 2m
    if total == 0:
        return float("nan")
    memb = np.asarray(membership, dtype=np.int64)
    coo = sym.tocoo()
    inside = memb[coo.row] == memb[coo.col]
    k = int(memb.max()) + 1 if memb.size else 0
    within = np.bincount(memb[coo.row[inside]], weights=coo.data[inside], minlength=k)  # = 2 L_c
    strength = np.bincount(memb, weights=np.asarray(sym.sum(axis=1)).ravel(), minlength=k)  # = d_c
    return float(within.sum() / total - resolution * np.square(strength / total).sum())


def _relabel(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Community ids 0.. by decreasing size, ties by the lowest node index in the community."""
    _, inv = np.unique(raw, return_inverse=True)
    inv = inv.ravel()
    sizes = np.bincount(inv)
    first = np.full(sizes.size, inv.size, dtype=np.int64)
    np.minimum.at(first, inv, np.arange(inv.size, dtype=np.int64))
    order = np.lexsort((first, -sizes))
    new = np.empty(sizes.size, dtype=np.int64)
    new[order] = np.arange(sizes.size)
    return new[inv], sizes[order]


def communities(graph: Graph, *, resolution: float = 1.0, seed: int = 0,
                n_iterations: int = N_ITERATIONS) -> CommunityResult:
    """Leiden communities of the undirected weighted version of `graph` (edge weight w_ij + w_ji).

    Optimises modularity with resolution γ = `resolution` (> 0; higher → more, smaller communities).
    Deterministic for a seed (igraph's random generator is swapped for a seeded one during the call,
    then restored). Isolated nodes are communities of their own.
    """
    if not isinstance(graph, Graph):
        raise GraphError(f"communities() needs a Graph (from interaction_graph or from_edges), "
                         f"got {type(graph).__name__}")
    if not (isinstance(resolution, int | float) and np.isfinite(resolution) and resolution > 0):
        raise GraphError(f"resolution must be a positive number, got {resolution!r}")
    if not isinstance(n_iterations, int) or n_iterations == 0:
        raise GraphError(f"n_iterations must be a non-zero integer (negative: until stable), got {n_iterations!r}")
    ig = _igraph()
    sym = undirected(graph)
    n = sym.shape[0]
    if n == 0:
        return CommunityResult(np.zeros(0, np.int64), np.zeros(0, np.int64), float("nan"), graph.keys,
                               float(resolution))
    upper = sp.triu(sym, k=1).tocoo()
    edges = np.empty((upper.nnz, 2), dtype=np.int64)
    edges[:, 0], edges[:, 1] = upper.row, upper.col
    g = ig.Graph(n=n)
    g.add_edges(edges)  # an int64 (m, 2) array: read by igraph's C core without per-edge Python objects
    ig.set_random_number_generator(random.Random(seed))
    try:
        part = g.community_leiden(objective_function="modularity", weights=upper.data.tolist(),
                                  resolution=float(resolution), n_iterations=n_iterations)
    finally:
        ig.set_random_number_generator(random)
    membership, sizes = _relabel(np.asarray(part.membership, dtype=np.int64))
    return CommunityResult(membership=membership, sizes=sizes, modularity=modularity(sym, membership),
                           keys=graph.keys, resolution=float(resolution))


# ---------------------------------------------------------------------------------------------------
# The report around the owner


def _owner_list(owner_keys: Iterable[str] | str) -> list[str]:
    keys = [owner_keys] if isinstance(owner_keys, str) else list(owner_keys)
    if not keys or not all(isinstance(k, str) and k for k in keys):
        why = getattr(owner_keys, "reason", None) or "no owner accounts: declare [[owner.accounts]] in leads.toml"
        raise GraphError(f"{why} (the communities are those around the owner)")
    return keys


#: Word tokens of the posts of W: lower-cased, URLs and @handles removed, runs of letters/digits/'
#: that start with a letter and have ≥ 2 characters, stop words dropped. Parameters: start, end.
_TERMS = """
WITH p AS (
  SELECT author_key, text FROM posts
  WHERE text IS NOT NULL AND kind <> 'repost' AND NOT coalesce(is_deleted, FALSE)
    AND (CAST(? AS TIMESTAMP) IS NULL OR created_at >= CAST(? AS TIMESTAMP))
    AND (CAST(? AS TIMESTAMP) IS NULL OR created_at <= CAST(? AS TIMESTAMP))
),
tok AS (
  SELECT author_key, unnest(regexp_extract_all(
           regexp_replace(lower(text), '(https?://|www\\.)\\S+|@[\\w.@-]+', ' ', 'g'),
           '\\p{{L}}[\\p{{L}}\\p{{N}}'']+')) AS term
  FROM p
),
t AS (SELECT * FROM tok WHERE term NOT IN ({stop})),
bg AS (SELECT term, count(*) AS f FROM t GROUP BY ALL),
ct AS (SELECT m.community, t.term, count(*) AS n FROM t JOIN {members} m ON t.author_key = m.account GROUP BY ALL),
tot AS (SELECT community, sum(n) AS nc FROM ct GROUP BY ALL),
a AS (SELECT avg(nc) AS a FROM tot),
s AS (
  SELECT ct.community, ct.term, ct.n, ct.n / tot.nc * ln(1 + a.a / bg.f) AS score
  FROM ct JOIN tot USING (community) JOIN bg USING (term) CROSS JOIN a
)
SELECT community, term, n, score FROM s
QUALIFY row_number() OVER (PARTITION BY community ORDER BY score DESC, term) <= ?
ORDER BY community, score DESC, term
"""


def _top_terms(store: Store, members: pa.Table, start: dt.datetime | None, end: dt.datetime | None,
               top: int) -> dict[int, list[dict[str, Any]]]:
    """c-TF-IDF (BERTopic's class-based TF-IDF) of each community's posts in W against all posts in W:
    score(t, c) = n_tc / N_c · ln(1 + A / f_t), n_tc = occurrences of t in the posts of c's members,
    N_c = Σ_t n_tc, f_t = occurrences of t in all posts of W, A = mean N_c over the communities given."""
    name = f"_communities_{uuid.uuid4().hex}"
    stop = ", ".join("'" + w.replace("'", "''") + "'" for w in sorted(STOP_WORDS))
    store.con.register(name, members)
    try:
        rows = store.con.execute(_TERMS.format(stop=stop, members=name),
                                 [start, start, end, end, top]).fetchall()
    finally:
        store.con.unregister(name)
    out: dict[int, list[dict[str, Any]]] = {}
    for c, term, n, score in rows:  # ≤ top rows per community
        out.setdefault(int(c), []).append({"term": term, "count": int(n), "score": float(score)})
    return out


def _handles(store: Store, keys: list[str]) -> dict[str, str | None]:
    if not keys:
        return {}
    rows = store.con.execute("SELECT account_key, any_value(handle) FROM accounts "
                             "WHERE account_key IN (SELECT unnest(?::VARCHAR[])) GROUP BY ALL", [keys]).fetchall()
    return {k: h for k, h in rows}


def community_report(store: Store, owner_keys: Iterable[str] | str, *, start: dt.datetime | None = None,
                     end: dt.datetime | None = None, top: int = 5, min_size: int = 3, resolution: float = 1.0,
                     seed: int = 0) -> list[dict[str, Any]]:
    """Leiden communities of the owner's ego network in W (METRICS.md §2 "communities").

    The ego network: the accounts that interacted with any of `owner_keys` in W, in either direction
    (edges of `interaction_graph`: replies, mentions, reposts, quotes, likes; follows excluded), and
    the interactions among them; the owner's accounts are removed before Leiden. Communities smaller
    than `min_size` (e.g. accounts that only talk to O) are left out. One dict per community, largest
    first: `community` (id), `size`, `acted_on_owner` (members with an action on O in W), `reach`
    (acted_on_owner ÷ size), `top_members` (up to `top`, by weighted degree inside the ego network:
    account, handle, degree), `top_terms` (up to `top`: term, count, c-TF-IDF score against all posts
    of W). Empty when O has no interactions in W.
    """
    owners = _owner_list(owner_keys)
    if not isinstance(top, int) or top < 1:
        raise GraphError(f"top must be a positive integer, got {top!r}")
    if not isinstance(min_size, int) or min_size < 1:
        raise GraphError(f"min_size must be a positive integer, got {min_size!r}")
    s, e = _check_window(start, end)
    g = interaction_graph(store, start=s, end=e)
    if g.n == 0:
        return []
    keys = g.keys.astype(str)
    is_owner = np.isin(keys, np.asarray(owners, dtype=str))
    if not is_owner.any():
        return []
    a = g.matrix
    to_owner = np.asarray(a[:, is_owner].sum(axis=1)).ravel() > 0
    from_owner = np.asarray(a[is_owner].sum(axis=0)).ravel() > 0
    ego = np.flatnonzero((to_owner | from_owner) & ~is_owner)
    if ego.size == 0:
        return []
    sub = Graph(matrix=sp.csr_matrix(a[ego][:, ego]), keys=g.keys[ego])
    res = communities(sub, resolution=resolution, seed=seed)
    degree = np.asarray(undirected(sub).sum(axis=1)).ravel()
    memb = res.membership
    kept = np.flatnonzero(res.sizes >= min_size)
    if kept.size == 0:
        return []
    acted = np.bincount(memb, weights=to_owner[ego].astype(np.float64), minlength=res.n_communities)
    # top members: sort by (community, −degree, key) and keep the first `top` of each community
    order = np.lexsort((keys[ego], -degree, memb))
    starts = np.searchsorted(memb[order], np.arange(res.n_communities))
    rank = np.arange(order.size) - starts[memb[order]]
    best = order[(rank < top) & (res.sizes[memb[order]] >= min_size)]
    handles = _handles(store, keys[ego][best].tolist())
    members_tbl = pa.table({"account": keys[ego][np.isin(memb, kept)],
                            "community": memb[np.isin(memb, kept)]})
    terms = _top_terms(store, members_tbl, s, e, top)
    tops: dict[int, list[dict[str, Any]]] = {}
    for i in best.tolist():  # ≤ top × communities rows
        k = str(keys[ego][i])
        tops.setdefault(int(memb[i]), []).append({"account": k, "handle": handles.get(k),
                                                  "degree": float(degree[i])})
    return [{"community": int(c), "size": int(res.sizes[c]), "acted_on_owner": int(acted[c]),
             "reach": float(acted[c] / res.sizes[c]), "top_members": tops.get(int(c), []),
             "top_terms": terms.get(int(c), [])}
            for c in kept.tolist()]
