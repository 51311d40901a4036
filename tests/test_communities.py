"""Leiden communities (socialleads.graph.communities): a planted partition recovered exactly, determinism,
modularity against networkx, and the community report on a hand-made store worked out by hand."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

pytest.importorskip("igraph")

from socialleads.graph import from_edges  # noqa: E402
from socialleads.graph.build import GraphError  # noqa: E402
from socialleads.graph.communities import communities, community_report  # noqa: E402
from socialleads.store.db import run_sql  # noqa: E402


def _cliques(k: int = 4, size: int = 10) -> tuple[list[str], list[str], np.ndarray]:
    """k cliques of `size` nodes in a ring, clique c's node 0 linked to clique c+1's node 1."""
    src, dst = [], []
    for c in range(k):
        for i in range(size):
            for j in range(i + 1, size):
                src.append(f"n{c * size + i:03d}")
                dst.append(f"n{c * size + j:03d}")
        src.append(f"n{c * size:03d}")
        dst.append(f"n{((c + 1) % k) * size + 1:03d}")
    truth = np.repeat(np.arange(k), size)  # node keys sort as n000, n001, … = clique order
    return src, dst, truth


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal up to relabelling: the same pairs of nodes are together."""
    return bool((np.equal.outer(a, a) == np.equal.outer(b, b)).all())


def test_planted_partition_recovered_exactly():
    src, dst, truth = _cliques()
    res = communities(from_edges(src, dst))
    assert _same_partition(res.membership, truth)
    assert res.sizes.tolist() == [10, 10, 10, 10]
    assert res.membership.tolist() == truth.tolist()  # ids by size, ties by lowest node first
    # by hand: m = 4·45 + 4 = 184 edges; each clique holds 45 edges and has degree sum 2·45 + 2 = 92
    assert res.modularity == pytest.approx(4 * (45 / 184 - (92 / 368) ** 2), abs=1e-12)


def test_planted_partition_with_reversed_and_duplicated_edges():
    """Directions do not matter: i → j and j → i are one undirected edge of weight w_ij + w_ji."""
    src, dst, truth = _cliques(k=5, size=8)
    res = communities(from_edges(src + dst, dst + src))
    assert _same_partition(res.membership, truth)


def test_deterministic_for_a_seed():
    rng = np.random.default_rng(3)
    n, m = 400, 3000
    block = rng.integers(0, 8, n)
    src = rng.integers(0, n, m)
    # 70% of edges inside the source's block
    pool = [np.flatnonzero(block == b) for b in range(8)]
    inside = rng.random(m) < 0.7
    dst = np.where(inside, [rng.choice(pool[block[s]]) for s in src], rng.integers(0, n, m))
    g = from_edges(src, dst, rng.integers(1, 4, m).astype(float))
    a = communities(g, seed=7)
    b = communities(g, seed=7)
    assert a.membership.tolist() == b.membership.tolist()
    assert a.modularity == b.modularity
    assert a.membership.shape == (g.n,)
    assert a.sizes.sum() == g.n and (np.diff(a.sizes) <= 0).all()
    assert np.bincount(a.membership).tolist() == a.sizes.tolist()


def test_modularity_matches_networkx():
    nx = pytest.importorskip("networkx")
    rng = np.random.default_rng(11)
    n, m = 80, 600
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    w = rng.random(m) * 3
    g = from_edges(src, dst, w)
    for resolution in (0.5, 1.0, 2.0):
        res = communities(g, resolution=resolution, seed=1)
        ug = nx.Graph()
        ug.add_nodes_from(range(g.n))
        coo = g.matrix.tocoo()
        for i, j, x in zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True):
            old = ug.get_edge_data(i, j, {"weight": 0.0})["weight"]
            ug.add_edge(i, j, weight=old + x)  # w_ij + w_ji
        parts = [set(np.flatnonzero(res.membership == c).tolist()) for c in range(res.n_communities)]
        ref = nx.algorithms.community.modularity(ug, parts, weight="weight")
        assert res.modularity == pytest.approx(ref, abs=1e-9)
        assert res.n_communities >= (2 if resolution >= 1 else 1)  # a non-trivial partition is checked


def test_resolution_splits_more():
    src, dst, _ = _cliques(k=6, size=6)
    few = communities(from_edges(src, dst), resolution=0.05)
    many = communities(from_edges(src, dst), resolution=1.0)
    assert few.n_communities < many.n_communities == 6


def test_isolated_nodes_and_empty_graph():
    g = from_edges(["a", "b"], ["b", "c"], nodes=["z"])
    res = communities(g)
    assert res.membership[g.index()["z"]] != res.membership[g.index()["a"]]
    empty = communities(from_edges([], []))
    assert empty.membership.size == 0 and math.isnan(empty.modularity)


def test_bad_input_is_a_clear_error():
    g = from_edges(["a"], ["b"])
    with pytest.raises(GraphError, match="resolution"):
        communities(g, resolution=0)
    with pytest.raises(GraphError, match="needs a Graph"):
        communities([("a", "b")])  # type: ignore[arg-type]


# --- the report around the owner: a hand-made store --------------------------------------------------

T = dt.datetime(2026, 5, 20, 12, 0, 0)
START = T - dt.timedelta(days=10)
OWNER = "o"


def _d(days: float) -> dt.datetime:
    return T - dt.timedelta(days=days)


GROUP_A = ["a1", "a2", "a3", "a4"]
GROUP_B = ["b1", "b2", "b3"]
ACCOUNTS = [(OWNER, "owner.test"), *[(k, k + ".test") for k in GROUP_A + GROUP_B], ("x", "x.test"), ("l", "l.test")]
POSTS = [  # key, author, kind, created_at, text
    ("po", OWNER, "original", _d(5), "Hello Python world"),
    ("pa1", "a1", "original", _d(4), "Python and pandas https://pandas.pydata.org/docs @b1.test"),
    ("pa2", "a2", "original", _d(4), "pandas with python"),
    ("pa3", "a3", "reply", _d(3), "I love PANDAS"),
    ("pa4", "a4", "original", _d(3), "hello world"),
    ("pb1", "b1", "original", _d(2), "Tomatoes in the garden"),
    ("pb2", "b2", "original", _d(2), "garden soil"),
    ("pb3", "b3", "original", _d(2), "hello garden"),
    ("px", "x", "original", _d(2), "python python"),
    ("pl", "l", "original", _d(2), "hello"),
    ("old", "a1", "original", _d(30), "pandas pandas pandas gardening"),  # before the window
    ("rp", "b2", "repost", _d(1), "pandas pandas pandas"),                # a repost: not b2's words
]
INTERACTIONS: list[tuple[str, str, str | None, str | None, dt.datetime]] = [  # type, actor, target acct, target post
    # group A: a complete graph of mentions (weight 2 each)
    *[("mention", u, v, None, _d(3)) for i, u in enumerate(GROUP_A) for v in GROUP_A[i + 1:]],
    # group B: a triangle of mentions
    *[("mention", u, v, None, _d(2)) for i, u in enumerate(GROUP_B) for v in GROUP_B[i + 1:]],
    ("like", "a1", None, "pb1", _d(2)),       # the weak bridge a1 → b1 (weight 1)
    ("reply", "a1", OWNER, None, _d(1)),
    ("reply", "a2", OWNER, None, _d(1)),
    ("repost", "a3", None, "po", _d(1)),      # a3 → O through O's post
    ("reply", OWNER, "a4", None, _d(1)),      # O → a4; a4 never acts on O in W …
    ("reply", "a4", OWNER, None, _d(40)),     # … only before the window
    ("like", "b1", None, "po", _d(1)),
    ("mention", OWNER, "b2", None, _d(1)),
    ("mention", "b3", OWNER, None, _d(1)),
    ("reply", "x", "a1", None, _d(1)),        # x never meets O: outside the ego network
    ("like", "l", None, "po", _d(1)),         # l only talks to O: a community of one, dropped
]


@pytest.fixture
def hand_store(store):
    con = store.con
    for key, handle in ACCOUNTS:
        run_sql(con, "INSERT INTO accounts (account_key, platform, handle, is_owner, source) VALUES (?, 't', ?, ?, 'test')",
                [key, handle, key == OWNER])
    for key, author, kind, at, text in POSTS:
        run_sql(con, "INSERT INTO posts (post_key, platform, author_key, kind, created_at, text, source) "
                     "VALUES (?, 't', ?, ?, ?, ?, 'test')", [key, author, kind, at, text])
    for n, (typ, actor, tacc, tpost, at) in enumerate(INTERACTIONS):
        run_sql(con, "INSERT INTO interactions (interaction_key, platform, type, actor_key, target_account_key, "
                     "target_post_key, created_at, source) VALUES (?, 't', ?, ?, ?, ?, ?, 'test')",
                [f"i{n}", typ, actor, tacc, tpost, at])
    return store


def _ctfidf(n: int, n_c: int, a: float, f: int) -> float:
    return n / n_c * math.log(1 + a / f)


def test_community_report_by_hand(hand_store):
    rep = community_report(hand_store, [OWNER], start=START, end=T, top=2, min_size=3)
    assert [c["size"] for c in rep] == [4, 3]  # l (alone) dropped, x outside the ego network
    a, b = rep
    assert a["community"] == 0 and b["community"] == 1
    # reach: a1, a2, a3 acted on O in W (a4 only before W) → 3/4; b1, b3 acted, b2 did not → 2/3
    assert (a["acted_on_owner"], a["reach"]) == (3, 0.75)
    assert (b["acted_on_owner"], b["reach"]) == (2, pytest.approx(2 / 3))
    # weighted degree in the ego network: K4 of mentions (2 each) → 6, a1 also has the bridge (+1) → 7;
    # the x → a1 reply is outside the ego network. Ties by key.
    assert a["top_members"] == [{"account": "a1", "handle": "a1.test", "degree": 7.0},
                                {"account": "a2", "handle": "a2.test", "degree": 6.0}]
    assert b["top_members"] == [{"account": "b1", "handle": "b1.test", "degree": 5.0},
                                {"account": "b2", "handle": "b2.test", "degree": 4.0}]
    # words (stop words, URL and @handle removed; the old post and the repost left out):
    # A: pandas 3, python 2, love 1, hello 1, world 1 → N_A = 8; B: garden 3, tomatoes 1, soil 1, hello 1 → N_B = 6
    # all posts of W: pandas 3, python 5 (A 2, O 1, x 2), love 1, hello 4, world 2, garden 3, tomatoes 1, soil 1
    avg = (8 + 6) / 2
    exp_a = sorted([("pandas", 3, _ctfidf(3, 8, avg, 3)), ("python", 2, _ctfidf(2, 8, avg, 5)),
                    ("love", 1, _ctfidf(1, 8, avg, 1)), ("hello", 1, _ctfidf(1, 8, avg, 4)),
                    ("world", 1, _ctfidf(1, 8, avg, 2))], key=lambda r: (-r[2], r[0]))[:2]
    exp_b = sorted([("garden", 3, _ctfidf(3, 6, avg, 3)), ("tomatoes", 1, _ctfidf(1, 6, avg, 1)),
                    ("soil", 1, _ctfidf(1, 6, avg, 1)), ("hello", 1, _ctfidf(1, 6, avg, 4))],
                   key=lambda r: (-r[2], r[0]))[:2]
    assert [t["term"] for t in a["top_terms"]] == ["pandas", "love"] == [r[0] for r in exp_a]
    assert [t["term"] for t in b["top_terms"]] == ["garden", "soil"] == [r[0] for r in exp_b]
    for got, exp in zip(a["top_terms"] + b["top_terms"], exp_a + exp_b, strict=True):
        assert got["count"] == exp[1]
        assert got["score"] == pytest.approx(exp[2], rel=1e-12)


def test_community_report_edges(hand_store):
    assert community_report(hand_store, ["nobody"]) == []
    assert community_report(hand_store, OWNER, start=T + dt.timedelta(days=1)) == []
    small = community_report(hand_store, [OWNER], start=START, end=T, min_size=1, top=1)
    assert [c["size"] for c in small] == [4, 3, 1]
    assert small[2]["top_members"][0]["account"] == "l" and small[2]["reach"] == 1.0
    with pytest.raises(GraphError, match="owner"):
        community_report(hand_store, [])
    with pytest.raises(GraphError, match="top"):
        community_report(hand_store, [OWNER], top=0)
