"""Who matters most (socialleads.engage.who): a hand-made store worked out by hand, the simulator's
ground truth, and the `leads who` command."""

from __future__ import annotations

import datetime as dt
import json
import statistics

import pytest
import typer
from typer.testing import CliRunner

from socialleads.engage import EngageError, percentile_rank, who_matters
from socialleads.store.db import run_sql

T = dt.datetime(2026, 10, 31, 12, 0, 0)  # the end of the data (the latest created_at below)
OWNER = "acct:o"


def _d(days: float) -> dt.datetime:
    return T - dt.timedelta(days=days)


ACCOUNTS = [  # key, platform, handle, is_owner
    (OWNER, "bluesky", "o.test", True),
    ("acct:a", "bluesky", "alice.test", False),
    ("acct:b", "x", "bob", False),
    ("acct:c", "bluesky", "carol.test", False),
    ("acct:d", "bluesky", "dan.test", False),
    ("acct:e", "bluesky", "eve.test", False),
]
POSTS = [  # key, author, created_at
    ("p0", OWNER, _d(5)),
    ("p1", "acct:a", _d(4)),
]
INTERACTIONS = [  # key, type, actor, target account, target post, created_at, ended_at
    ("i1", "repost", "acct:b", None, "p1", _d(3), None),      # b → a through a's post
    ("i2", "repost", "acct:c", "acct:a", None, _d(3), None),
    ("i3", "quote", "acct:d", "acct:a", None, _d(2), None),
    ("i4", "like", "acct:e", "acct:a", None, _d(2), None),
    ("i5", "reply", OWNER, "acct:a", None, _d(1), None),
    ("i6", "mention", "acct:a", OWNER, None, _d(1), None),
    ("i7", "reply", "acct:a", OWNER, None, T, None),
    ("i8", "like", "acct:a", None, "p0", _d(1), None),        # a likes the owner's post
    ("i9", "reply", "acct:b", OWNER, None, _d(1), None),
    ("i10", "mention", "acct:c", "acct:b", None, _d(1), None),
    ("i11", "follow", "acct:a", OWNER, None, None, None),     # a follow older than the data
    ("i12", "follow", "acct:c", "acct:a", None, _d(30), None),
    ("i13", "follow", "acct:b", "acct:c", None, _d(30), None),
    ("i14", "mention", "acct:e", "acct:d", None, _d(200), None),  # before the 90-day window
    ("i15", "mention", "acct:a", OWNER, None, _d(200), None),     # before the window
    ("i16", "follow", "acct:d", OWNER, None, _d(60), _d(10)),     # followed, then unfollowed in W
    ("i17", "like", "acct:e", None, "p0", _d(3), _d(2)),          # liked, then unliked
]


def fill(con) -> None:
    for key, platform, handle, owner in ACCOUNTS:
        run_sql(con, "INSERT INTO accounts (account_key, platform, handle, display_name, is_owner, source) "
                     "VALUES (?, ?, ?, ?, ?, 'test')", [key, platform, handle, handle.split(".")[0].title(), owner])
    for key, author, at in POSTS:
        run_sql(con, "INSERT INTO posts (post_key, platform, author_key, kind, created_at, source) "
                     "VALUES (?, 'bluesky', ?, 'original', ?, 'test')", [key, author, at])
    for key, typ, actor, tacc, tpost, at, ended in INTERACTIONS:
        run_sql(con, "INSERT INTO interactions (interaction_key, platform, type, actor_key, target_account_key, "
                     "target_post_key, created_at, ended_at, source) VALUES (?, 'bluesky', ?, ?, ?, ?, ?, ?, 'test')",
                [key, typ, actor, tacc, tpost, at, ended])


# The interaction graph of W = [T − 90 d, T] (repost 3, quote 3, reply 2, mention 2, like 1; follows,
# i14, i15 and the undone like i17 left out):
#   a→o 5 (mention 2 + reply 2 + like 1), b→a 3, b→o 2, c→a 3, c→b 2, d→a 3, e→a 1, o→a 2.
# N = 6 nodes, none dangling. c, d, e have no in-edge: PageRank = 0.15/6 = 0.025 each.
#   b = 0.025 + 0.85 · c · 2/5 = 0.025 + 0.85 · 0.025 · 0.4 = 0.0335
#   a = 0.025 + 0.85 · (3/5 b + 3/5 c + d + e + o) = 0.097335 + 0.85 o
#   o = 0.025 + 0.85 · (a + 2/5 b) = 0.03639 + 0.85 a
#   ⇒ a = (0.097335 + 0.85 · 0.03639) / (1 − 0.85²) = 0.1282665 / 0.2775 = 0.462222
# Order without the owner: a, b, then c, d, e tied (broken by key).
EXPECTED_PR = {"acct:a": 0.1282665 / 0.2775, "acct:b": 0.0335, "acct:c": 0.025, "acct:d": 0.025, "acct:e": 0.025}

# Axes in W over the 5 non-owner accounts active in W (a, b, c, d, e):
#   audience (follows in force at T): a 1 (c, i12), c 1 (b, i13); d's follow of o ended (and o is left out)
#   spread: a 3 (i1, i2, i3); conversation: a 1 (i5), b 1 (i10); d 0 (i14 is before W)
# Percentile = 100 × share strictly below: a's spread 3 > the 4 others → 80; a's conversation 1 ties
# with b, 3 below → 60; top share of a's spread = 1/5 = 20% ≤ 25% → "top 20% by spread".
# With the owner in W: a → o reply 1 (i7), mention 1 (i6; i15 is before W), like 1 (i8), follow (i11);
# o → a reply 1 (i5). b → o reply 1 (i9). d → o follow in force during W but ended (i16). e's like undone.
EXPECTED_REASONS = {
    "acct:a": ["top 20% by spread: 3 reposts and quotes received", "replies to and mentions you: 2 times",
               "likes your posts: 1 time", "follows you", "you reply to them: 1 time"],
    "acct:b": ["conversation: 1 reply or mention received", "replies to you: 1 time"],
    "acct:c": ["audience: 1 follower"],
    "acct:d": ["unfollowed you"],
    "acct:e": ["no engagement received in the window: ranked by its own activity only"],
}


def test_who_matters_by_hand(store):
    fill(store.con)
    rows = who_matters(store, [OWNER], window_days=90)
    assert [r["account"] for r in rows] == ["acct:a", "acct:b", "acct:c", "acct:d", "acct:e"]
    assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5]
    for r in rows:
        assert r["pagerank"] == pytest.approx(EXPECTED_PR[r["account"]], rel=1e-6)
        assert r["reasons"] == EXPECTED_REASONS[r["account"]]
    a = rows[0]
    assert (a["handle"], a["display_name"], a["platform"]) == ("alice.test", "Alice", "bluesky")
    assert (a["audience"], a["spread"], a["conversation"]) == (1, 3, 1)
    assert (a["audience_percentile"], a["spread_percentile"], a["conversation_percentile"]) == (60.0, 80.0, 60.0)
    assert a["engaged_by"] == 5  # b, c, d, e, o
    assert a["with_owner"]["inbound"] == {"reply": 1, "mention": 1, "repost": 0, "quote": 0, "like": 1, "follow": 1}
    assert a["with_owner"]["outbound"] == {"reply": 1, "mention": 0, "repost": 0, "quote": 0, "like": 0, "follow": 0}
    d = rows[3]
    assert d["with_owner"]["inbound"]["follow"] == 1 and d["with_owner"]["follows_you"] is False
    assert d["conversation"] == 0
    assert rows[4]["with_owner"]["inbound"]["like"] == 0
    # IP on the repost graph of W: a → b, c, d, each w = 1/3 (3 distinct items spread, 1 own post).
    # a is the only node with out-edges: I_a = 1; P_b = P_c = P_d = v_a· = (2/3) / 2 = 1/3.
    assert a["influence"] == pytest.approx(1.0) and a["passivity"] == 0.0
    assert [r["passivity"] for r in rows[1:4]] == pytest.approx([1 / 3] * 3)
    assert rows[4]["influence"] == rows[4]["passivity"] == 0.0
    # limit
    assert [r["account"] for r in who_matters(store, [OWNER], limit=2)] == ["acct:a", "acct:b"]
    # without owner keys, the owner is ranked like anyone: o gets a's whole out-flow (0.429 by hand)
    everyone = who_matters(store, [])
    assert [r["account"] for r in everyone[:2]] == ["acct:a", OWNER]
    assert everyone[1]["pagerank"] == pytest.approx(0.03639 + 0.85 * EXPECTED_PR["acct:a"], rel=1e-6)


def test_who_matters_around_owner(store):
    fill(store.con)
    rows = who_matters(store, [OWNER], around_owner=True)
    # The walk restarts at a (7 = 5 + 2 with o) and b (2 with o) only: c, d, e are never reached.
    assert [r["account"] for r in rows[:2]] == ["acct:a", "acct:b"]
    assert [r["pagerank"] for r in rows[2:]] == [0.0, 0.0, 0.0]
    with pytest.raises(EngageError, match="no owner accounts"):
        who_matters(store, [], around_owner=True)


def test_who_matters_errors_and_empty(store):
    assert who_matters(store, [OWNER]) == []
    with pytest.raises(EngageError, match="limit"):
        who_matters(store, [OWNER], limit=0)
    with pytest.raises(EngageError, match="window_days"):
        who_matters(store, [OWNER], window_days=0)


def test_percentile_rank_by_hand():
    pct, top = percentile_rank([0, 3, 1, 1, 0])
    assert pct.tolist() == [0.0, 80.0, 40.0, 40.0, 0.0]
    assert top.tolist() == [1.0, 0.2, 0.6, 0.6, 1.0]


@pytest.fixture(scope="module")
def sim_store(tmp_path_factory):
    from socialleads.simulate import simulate
    from socialleads.sources.importer import import_path
    from socialleads.store import open_store

    out = tmp_path_factory.mktemp("who_world")
    truth = simulate(out, posts=20_000, seed=1)
    s = open_store(None)
    import_path(s, out)
    yield s, truth
    s.close()


def test_who_matters_finds_the_simulated_influencers(sim_store):
    """truth["top_influencers"]: the 20 non-owner accounts that received the most engagement in the window,
    weighted as METRICS.md §2 weighs the graph (repost 3, quote 3, reply 2, mention 2, like 1), counted by the
    simulator's own bookkeeping of every interaction it emitted (simulate/truth.py). PageRank is not weighted
    in-degree (it also weighs who engages), so the sets differ a little.

    Measured with 20,000 posts, seeds 1-5: 17, 18, 18, 17, 16 of the true top 20 in our top 20, median rank
    of the true top 20: 12, 10.5, 10.5, 10.5, 10.5, worst: 39, 27, 25, 24, 26 (~1,000 accounts; chance for
    the overlap and the median: 0.4 and ~500). Against the
    designed influence (truth["top_designed_influence"], which only biases which posts get engaged, so an
    account that rarely posts receives little whatever its design) the overlap was 3-8 of 20 — the old test's
    bar, a fault of the truth, not of the ranking."""
    s, truth = sim_store
    n = s.con.sql("SELECT count(DISTINCT account_key) FROM accounts WHERE NOT coalesce(is_owner, FALSE)").fetchall()[0][0]
    rows = who_matters(s, truth["owner_keys"], window_days=truth["window_days"], limit=n)
    assert not set(truth["owner_keys"]) & {r["account"] for r in rows}
    top20 = {r["account"] for r in rows[:20]}
    overlap = len(top20 & set(truth["top_influencers"]))
    assert overlap >= 15, overlap
    rank = {r["account"]: r["rank"] for r in rows}
    ranks = [rank.get(k, len(rows) + 1) for k in truth["top_influencers"]]
    assert statistics.median(ranks) <= 15, ranks
    assert max(ranks) <= 60, ranks
    assert all(r["reasons"] for r in rows[:20])


def test_who_command_json(tmp_path, monkeypatch):
    from socialleads.cli import output
    from socialleads.cli.engage import who_command

    # the shared Rich console measured the terminal at import; make the table wide enough to read
    monkeypatch.setattr(output.console, "width", 200)
    from socialleads.workspace import init_workspace, open_workspace

    ws = tmp_path / "ws"
    init_workspace(ws)
    with open_workspace(ws) as w:
        fill(w.store.con)
    app = typer.Typer()
    app.command("who")(who_command)

    @app.callback()
    def _root() -> None:
        pass

    runner = CliRunner()
    res = runner.invoke(app, ["who", "--json", "-w", str(ws), "-n", "3"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert [r["account"] for r in rows] == ["acct:a", "acct:b", "acct:c"]
    assert [r["handle"] for r in rows] == ["alice.test", "bob", "carol.test"]
    assert rows[0]["pagerank"] == pytest.approx(EXPECTED_PR["acct:a"], rel=1e-6)

    res = runner.invoke(app, ["who", "-w", str(ws)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "alice.test" in res.stdout and "top 20% by spread" in res.stdout

    res = runner.invoke(app, ["who", "-w", str(tmp_path / "nowhere")])
    assert res.exit_code == 1 and res.output.startswith("error: ") and "no such folder" in res.output
