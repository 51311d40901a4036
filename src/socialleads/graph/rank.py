"""Who matters (METRICS.md §2): weighted PageRank and the influence–passivity (IP) algorithm.

Both are power iterations of a sparse matrix on a vector (scipy.sparse CSR mat-vec, no Python loop per
node or edge): PageRank on the Higgs mention network (150 k edges) takes milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from socialleads.errors import LeadsError
from socialleads.graph.build import Graph, GraphError

DAMPING = 0.85
#: L1 change between iterates at which PageRank stops. networkx stops at `err < N * tol` with
#: tol = 1e-6, i.e. a total change of up to N·1e-6 — far from converged on a large graph (DESIGN.md).
TOL = 1e-10
MAX_ITER = 1000


class NotConverged(LeadsError):
    """A power iteration did not reach its tolerance within max_iter iterations."""


def _matrix(graph: Graph | sp.sparray | sp.spmatrix) -> sp.csr_matrix:
    m = graph.matrix if isinstance(graph, Graph) else sp.csr_matrix(graph)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise GraphError(f"a graph's adjacency matrix must be square, got shape {m.shape}")
    m = sp.csr_matrix(m, dtype=np.float64)
    if m.nnz and (not np.isfinite(m.data).all() or (m.data < 0).any()):
        raise GraphError("edge weights must be finite and non-negative")
    return m


def pagerank(graph: Graph | sp.sparray | sp.spmatrix, *, damping: float = DAMPING, tol: float = TOL,
             max_iter: int = MAX_ITER, personalization: np.ndarray | None = None) -> np.ndarray:
    """Weighted PageRank: the stationary distribution of the walk that follows an out-edge with
    probability ∝ its weight (with probability `damping`) or teleports (1 − damping).

    x ← d·Pᵀx + (d·Σ_{dangling} x + 1 − d)·p, where P = D⁻¹A is A row-normalised, a dangling node (no
    out-weight) spreads its mass over p, and p is uniform unless `personalization` (non-negative, any
    scale; topic-specific PageRank) is given — networkx's definition, so networkx.pagerank is the
    reference in the tests. Stops when ‖x_{k+1} − x_k‖₁ < tol. Returns scores summing to 1, indexed
    like the graph's nodes. Edge direction: engager → engaged, so engaged accounts gain rank.
    """
    a = _matrix(graph)
    n = a.shape[0]
    if not 0.0 <= damping < 1.0:
        raise GraphError(f"damping must be in [0, 1), got {damping}")
    if not tol > 0:
        raise GraphError(f"tol must be positive, got {tol}")
    if n == 0:
        return np.zeros(0)
    if personalization is None:
        p = np.full(n, 1.0 / n)
    else:
        p = np.asarray(personalization, dtype=np.float64)
        if p.shape != (n,) or not np.isfinite(p).all() or (p < 0).any() or p.sum() <= 0:
            raise GraphError(f"personalization must be {n} finite non-negative values with a positive sum")
        p = p / p.sum()
    coo = a.tocoo()
    keep = coo.data > 0                 # a zero-weight edge carries no walk probability
    src, dst, w = coo.row[keep], coo.col[keep], coo.data[keep]
    out = np.bincount(src, weights=w, minlength=n)
    dang = out <= 0
    val = damping * w / out[src]        # damping·P[src, dst]
    # Nodes with no in-edge (most accounts of a social graph: Higgs mentions, 86 k of 116 k) receive
    # teleport mass only, so at every step they equal c·p with one scalar c = d·Σ_dangling x + 1 − d.
    # Iterating on the other nodes R plus the scalar c is exactly the full iteration (same iterates,
    # same L1 change), at a fraction of the cost.
    has_in = np.bincount(dst, minlength=n) > 0
    r, q = np.flatnonzero(has_in), np.flatnonzero(~has_in)
    pos = np.full(n, -1, dtype=np.int64)
    pos[r] = np.arange(len(r))
    from_r = has_in[src]
    nr = len(r)
    # State z = [x_R, c]. What the no-in-edge nodes send to R (per unit of c) is one extra column of
    # the matrix, so each step is one mat-vec: x_R' = [A_RR | b]·z + c'·p_R.
    rows = pos[dst]
    cols = np.where(from_r, pos[src], nr)
    vals = np.where(from_r, val, val * p[src])
    a_aug = sp.csr_matrix((vals, (rows, cols)), shape=(nr, nr + 1))
    d_aug = np.append(dang[r].astype(np.float64), p[q][dang[q]].sum())  # dangling mass, per unit of c
    p_r = p[r]
    uniform = personalization is None
    pq = float(p[q].sum())
    z = np.append(p_r, 1.0)             # x₀ = p, so c₀ = 1
    diff = np.empty(nr)
    for _ in range(max_iter):
        c_new = damping * float(d_aug @ z) + (1.0 - damping)
        nxt = a_aug @ z
        nxt += c_new / n if uniform else c_new * p_r
        np.subtract(nxt, z[:nr], out=diff)
        err = float(np.abs(diff, out=diff).sum()) + abs(c_new - z[nr]) * pq
        z[:nr] = nxt
        z[nr] = c_new
        if err < tol:
            full = c_new * p
            full[r] = nxt
            result: np.ndarray = full / full.sum()
            return result
    raise NotConverged(f"PageRank did not converge to tol={tol} in {max_iter} iterations")


@dataclass(frozen=True)
class IPResult:
    """Influence and passivity per node (each sums to 1 over nodes with a non-zero score)."""

    influence: np.ndarray
    passivity: np.ndarray
    iterations: int
    converged: bool


def influence_passivity(graph: Graph | sp.sparray | sp.spmatrix, *, tol: float = TOL,
                        max_iter: int = MAX_ITER) -> IPResult:
    """The IP algorithm of Romero, Galuba, Asur and Huberman, "Influence and passivity in social
    media" (ECML PKDD 2011 / WWW 2011 companion; arXiv:1008.1253), §4.

    Input: edge i → j with weight w_ij ∈ [0, 1] = the share of the influence i attempted on j that
    j accepted (e.g. build.repost_graph: the share of i's posts that j reposted). Definitions:
      acceptance  u_ij = w_ij / Σ_{k:(k,j)∈E} w_kj           (what j accepted from i, over all j accepted)
      rejection   v_ji = (1 − w_ji) / Σ_{k:(j,k)∈E} (1 − w_jk) (what i rejected from j, over all
                                                              rejections j's influence met)
      passivity   P_i = Σ_{j:(j,i)∈E} v_ji · I_j    (hard to influence: rejects influential users)
      influence   I_i = Σ_{j:(i,j)∈E} u_ij · P_j    (influences passive users who are loyal to i)
    Algorithm 1: I = P = 1; repeat: update P from I, then I from the new P, normalise each to sum 1.
    The paper runs a fixed number M of rounds; we stop when the L1 change of I and P together is below
    `tol` (max_iter = M when iterating a fixed number of times). A node with no in-edge has P = 0, a
    node with no out-edge has I = 0; a sum of zero (no edges) leaves the vector at 0.
    """
    w = _matrix(graph)
    n = w.shape[0]
    if w.nnz and (w.data > 1.0 + 1e-12).any():
        raise GraphError("IP edge weights are acceptance shares and must lie in [0, 1]")
    if max_iter < 1:
        raise GraphError(f"max_iter must be at least 1, got {max_iter}")
    col = np.asarray(w.sum(axis=0)).ravel()
    u = sp.csr_matrix(w @ sp.diags(np.divide(1.0, col, out=np.zeros(n), where=col > 0)))
    r = w.copy()
    r.data = 1.0 - r.data  # the structure is kept: an edge with w = 1 has a rejection of 0
    row = np.asarray(r.sum(axis=1)).ravel()
    vt = sp.csr_matrix((sp.diags(np.divide(1.0, row, out=np.zeros(n), where=row > 0)) @ r).T)
    infl = np.ones(n)
    pas = np.ones(n)
    for it in range(1, max_iter + 1):
        new_p = _normalised(vt @ infl)
        new_i = _normalised(u @ new_p)
        err = np.abs(new_i - infl).sum() + np.abs(new_p - pas).sum()
        infl, pas = new_i, new_p
        if err < tol:
            return IPResult(influence=infl, passivity=pas, iterations=it, converged=True)
    return IPResult(influence=infl, passivity=pas, iterations=max_iter, converged=False)


def _normalised(v: np.ndarray) -> np.ndarray:
    s = v.sum()
    return v / s if s > 0 else v
