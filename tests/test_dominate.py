"""Dominate (METRICS.md §4) on a hand-made store with hand-computed answers (topics written by hand, as
the topic contract of migration 004 describes)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from socialleads.dominate import (
    NO_TOPICS,
    first_movers,
    members_of,
    plan_vs_execution,
    share_of_voice,
    topic_authority,
    whitespace,
)
from socialleads.dominate.members import DominateError
from socialleads.store.db import run_sql
from socialleads.workspace.config import AccountRef, Competitor, Goals

START, END = dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 31)
CONFIG = SimpleNamespace(name="Me", competitors=(Competitor("Comp", (AccountRef("x", key="c1"),)),),
                         goals=Goals(posts_per_week=2, conversation_ratio=0.3))

# key, author, kind, time, topic (None = no row, -1 = outlier), mentions
POSTS = [
    ("p1", "o1", "original", "2026-01-05 10:00", 0, []),
    ("p2", "o1", "reply", "2026-01-06 10:00", 1, []),
    ("p3", "o1", "repost", "2026-01-06 11:00", None, []),
    ("p4", "c1", "original", "2026-01-05 12:00", 0, []),
    ("p5", "u1", "original", "2026-01-06 12:00", 0, ["o1"]),
    ("p6", "u2", "original", "2026-01-07 12:00", 1, ["o1", "c1"]),
    ("p7", "c1", "original", "2026-01-07 13:00", -1, ["o1"]),
    ("p8", "o1", "original", "2026-01-07 14:00", None, ["o1"]),
    ("p9", "u1", "original", "2026-01-08 12:00", 1, []),
    *[(f"s{i}", "u1", "original", f"2026-01-20 12:{i:02d}", 2, []) for i in range(10)],
    ("c2", "c1", "original", "2026-01-20 12:30", 2, []),
    ("o2", "o1", "original", "2026-01-20 14:00", 2, []),
]
INTERACTIONS = [("i1", "like", "u1", "p1"), ("i2", "repost", "u2", "p1"), ("i3", "like", "c1", "p1"),
                ("i4", "like", "o1", "p1"), ("i5", "like", "u1", "p4")]


@pytest.fixture
def dstore(store):
    con = store.con
    for k, a, kind, t, _, ments in POSTS:
        run_sql(con, "INSERT INTO posts (post_key, platform, author_key, kind, created_at, text, source) "
                     "VALUES (?, 'x', ?, ?, CAST(? AS TIMESTAMP), 'text', 'test')", [k, a, kind, t])
        for m in ments:
            run_sql(con, "INSERT INTO post_entities (post_key, etype, value, target_account_key) "
                         "VALUES (?, 'mention', ?, ?)", [k, m, m])
    for k, ty, actor, post in INTERACTIONS:
        t = next(p[3] for p in POSTS if p[0] == post)
        run_sql(con, "INSERT INTO interactions (interaction_key, platform, type, actor_key, target_post_key, "
                     "created_at, source) VALUES (?, 'x', ?, ?, ?, CAST(? AS TIMESTAMP) + INTERVAL 1 HOUR, 'test')",
                [k, ty, actor, post, t])
    run_sql(con, "INSERT INTO post_signals (post_key, is_question) VALUES ('p5', TRUE), ('p6', FALSE), ('p9', FALSE)")
    return store


def _topics(store) -> None:
    run_sql(store.con, "CREATE TABLE IF NOT EXISTS topics (topic_id INTEGER, label VARCHAR, terms VARCHAR[], "
                       "size BIGINT)")
    run_sql(store.con, "CREATE TABLE IF NOT EXISTS post_topics (post_key VARCHAR, topic_id INTEGER, score DOUBLE)")
    run_sql(store.con, "INSERT INTO topics (topic_id, label) VALUES (0, 'solar'), (1, 'batteries'), (2, 'v2h')")
    for p in POSTS:
        if p[4] is not None:
            run_sql(store.con, "INSERT INTO post_topics (post_key, topic_id, score) VALUES (?, ?, 1.0)", [p[0], p[4]])


def test_share_of_voice_by_hand(dstore) -> None:
    m = members_of(dstore, CONFIG, ["o1"])
    r = share_of_voice(dstore, m, START, END)
    k = r["kinds"]
    # posts: O = p1, p2, p8, o2 (p3 is a repost); Comp = p4, p7, c2
    assert k["posts"]["counts"] == {"Me": 4, "Comp": 3} and k["posts"]["label"] == "post-SoV"
    # mentions: O in p5, p6, p7 (p8 mentions itself: not counted); Comp in p6
    assert k["mentions"]["share"] == {"Me": 3 / 4, "Comp": 1 / 4}
    # engagement: on p1 by u1, u2, c1 (o1's own like excluded); on p4 by u1
    assert k["engagement"]["counts"] == {"Me": 3, "Comp": 1}
    assert r["by_topic"] is None and r["topics_reason"] == NO_TOPICS
    weeks = {w["week"]: w["counts"] for w in r["weekly"]["posts"]}
    assert weeks == {"2026-01-05": {"Me": 3, "Comp": 2}, "2026-01-19": {"Me": 1, "Comp": 1}}
    _topics(dstore)
    r = share_of_voice(dstore, m, START, END)
    t0 = next(x for x in r["by_topic"]["posts"] if x["topic_id"] == 0)
    assert t0["counts"] == {"Me": 1, "Comp": 1} and t0["label"] == "solar"


def test_whitespace_first_movers_authority_by_hand(dstore) -> None:
    m = members_of(dstore, CONFIG, ["o1"])
    assert whitespace(dstore, m, START, END)["reason"] == NO_TOPICS
    _topics(dstore)
    ws = {t["topic_id"]: t for t in whitespace(dstore, m, START, END)["topics"]}
    # topic 0: volume p5 (a question) → demand 2, supply p1 + p4 = 2 → 2/3
    assert (ws[0]["volume"], ws[0]["questions"], ws[0]["supply"], ws[0]["score"]) == (1, 1, 2, pytest.approx(2 / 3))
    # topic 1: volume p6 + p9, no question, supply p2 → 2/2
    assert ws[1]["score"] == pytest.approx(1.0) and ws[1]["rank"] < ws[0]["rank"]
    fm = first_movers(dstore, m, START, END)
    # topics 0 and 1 start inside the first 168 h (no baseline); topic 2 spikes at 2026-01-20 12:00
    assert [t["topic_id"] for t in fm["topics"]] == [2]
    t2 = fm["topics"][0]
    assert t2["emergence"].startswith("2026-01-20T12:00")
    assert t2["lead_hours"] == {"Me": pytest.approx(2.0), "Comp": pytest.approx(0.5)}
    assert t2["first_mover"] == "Comp" and fm["first_mover_share"] == {"Me": 0.0, "Comp": 1.0}
    au = {t["topic_id"]: t for t in topic_authority(dstore, m, START, END)["topics"]}
    assert au[0]["engagement_share"] == {"Me": 0.75, "Comp": 0.25}
    assert au[0]["rank"]["Me"] == 1 and au[0]["pagerank"]["Me"] > au[0]["pagerank"]["Comp"]


def test_plan_vs_execution_by_hand(dstore) -> None:
    r = plan_vs_execution(dstore, ["o1"], CONFIG.goals, START, END)
    weeks = {w["week"]: w for w in r["weeks"]}
    assert list(weeks) == ["2026-01-05", "2026-01-12", "2026-01-19"]  # whole weeks inside W only
    assert [w["posts"] for w in r["weeks"]] == [4, 0, 1]  # p1 p2 p3 p8 | – | o2
    assert weeks["2026-01-05"]["conversation_ratio"] == pytest.approx(1 / 4)
    assert r["goals"]["posts_per_week"]["weeks_met"] == 1
    assert r["goals"]["posts_per_week"]["actual"] == pytest.approx(5 / 3)


def test_no_owner_is_an_error(dstore) -> None:
    with pytest.raises(DominateError, match="owner"):
        members_of(dstore, CONFIG, [])
