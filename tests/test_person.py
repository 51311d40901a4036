"""The person timeline (socialleads.engage.person; METRICS.md §2 "person timeline").

A hand-made store; every expected value is worked out in the fixture's docstring.
"""

from __future__ import annotations

import datetime as dt

import pytest

from socialleads.engage.person import AmbiguousAccount, UnknownAccount, find_account, person_timeline
from socialleads.engage.who import EngageError
from socialleads.store import open_store
from socialleads.store.db import run_sql
from tests.test_inbox import add_post, derive_interactions

T0 = dt.datetime(2026, 1, 1)
UTC = dt.UTC


def d(days: float) -> dt.datetime:
    return T0 + dt.timedelta(days=days)


def account(con, key, platform, handle):
    run_sql(con, "INSERT INTO accounts (account_key, platform, handle, source) VALUES (?, ?, ?, 'test')",
            [key, platform, handle])


def inter(con, key, typ, actor, t, target_account=None, target_post=None):
    run_sql(con, "INSERT INTO interactions (interaction_key, platform, type, actor_key, target_account_key, "
                 "target_post_key, created_at, source) VALUES (?, 'test', ?, ?, ?, ?, ?, 'test')",
            [key, typ, actor, target_account, target_post, t])


TOPICS_DDL = """
CREATE TABLE IF NOT EXISTS topics (topic_id INTEGER NOT NULL, label VARCHAR, terms VARCHAR[], size BIGINT);
CREATE TABLE IF NOT EXISTS post_topics (post_key VARCHAR NOT NULL, topic_id INTEGER NOT NULL, score DOUBLE);
"""


@pytest.fixture
def hand():
    """Owner 'o'. Accounts: did:alice (bluesky, alice.bsky.social), ap:alice (mastodon, alice@mastodon.social),
    x:bob (x, handle bob). Times in days after T0; the data ends at day 40 (the post 'end').

    Between alice and o, in time order:
      (no time) alice reposts po1                      in  repost  (listed first, no strength)
      day 0     alice follows o                        in  follow  (no strength: a state)
      day 2     alice replies pa1 "love it" to po1     in  reply   age 38 d
      day 3     o replies po2 to pa1                   out reply   age 37 d
      day 5     alice likes po1                        in  like    age 35 d
      day 10    o mentions alice in po3                out mention age 30 d
    Not with o: bob replies to po1 (day 4); alice replies pa2 to bob's pb (day 6).
    strength_in = 2^(−38/30) + 2^(−35/30), strength_out = 2^(−37/30) + 2^(−1); first contact day 0, last day 10.
    Ego network of o over the 90 days: alice and bob (both acted on o), joined by alice's reply to bob →
    one community of size 2, reach 1.0 (below the report's min_size 3: in_report False).
    """
    s = open_store(None)
    con = s.con
    account(con, "o", "bluesky", "brand.bsky.social")
    account(con, "did:alice", "bluesky", "alice.bsky.social")
    account(con, "ap:alice", "mastodon", "alice@mastodon.social")
    account(con, "x:bob", "x", "bob")
    add_post(con, "po1", "o", d(1), "our new meter")
    add_post(con, "pa1", "did:alice", d(2), "love it", kind="reply", reply_to="po1")
    run_sql(con, "UPDATE posts SET url = 'https://bsky.app/pa1' WHERE post_key = 'pa1'")
    add_post(con, "po2", "o", d(3), "thank you!", kind="reply", reply_to="pa1")
    add_post(con, "pb", "x:bob", d(4), "meh", kind="reply", reply_to="po1")
    add_post(con, "pa2", "did:alice", d(6), "@bob try it", kind="reply", reply_to="pb")
    add_post(con, "po3", "o", d(10), "shout out to @alice", mentions=("did:alice",))
    add_post(con, "end", "o", d(40), "the end")
    derive_interactions(con)
    inter(con, "f1", "follow", "did:alice", d(0), target_account="o")
    inter(con, "l1", "like", "did:alice", d(5), target_post="po1")
    inter(con, "r1", "repost", "did:alice", None, target_post="po1")
    yield s
    s.close()


def test_lookup(hand):
    assert find_account(hand, "@alice.bsky.social")["account"] == "did:alice"
    assert find_account(hand, "ALICE.bsky.social")["account"] == "did:alice"
    assert find_account(hand, "did:alice")["account"] == "did:alice"
    assert find_account(hand, "@bob")["account"] == "x:bob"
    assert find_account(hand, "alice", platform="mastodon")["account"] == "ap:alice"
    with pytest.raises(AmbiguousAccount) as e:
        find_account(hand, "@alice")
    msg = str(e.value)
    assert "\n" not in msg and "did:alice" in msg and "ap:alice" in msg
    with pytest.raises(UnknownAccount):
        find_account(hand, "@nobody")
    with pytest.raises(UnknownAccount):
        find_account(hand, "bob", platform="bluesky")


def test_timeline(hand):
    r = person_timeline(hand, ["o"], "@alice.bsky.social")
    ev = r["events"]
    assert [(e["direction"], e["type"]) for e in ev] == [
        ("in", "repost"), ("in", "follow"), ("in", "reply"), ("out", "reply"), ("in", "like"), ("out", "mention")]
    assert ev[0]["time"] is None
    assert ev[2]["snippet"] == "love it" and ev[2]["url"] == "https://bsky.app/pa1" and ev[2]["post_key"] == "pa1"
    assert ev[4]["snippet"] == "our new meter"  # a like shows the post liked
    assert ev[3]["snippet"] == "thank you!"
    assert r["first_contact"] == d(0).replace(tzinfo=UTC) and r["last_contact"] == d(10).replace(tzinfo=UTC)
    assert r["as_of"] == d(40).replace(tzinfo=UTC)
    assert r["strength_in"] == pytest.approx(2 ** (-38 / 30) + 2 ** (-35 / 30))
    assert r["strength_out"] == pytest.approx(2 ** (-37 / 30) + 0.5)
    assert r["strength"] == pytest.approx(r["strength_in"] + r["strength_out"])
    assert r["reciprocal"] and r["follows_you"] and not r["you_follow"]
    assert r["counts"]["in"] == {"reply": 1, "mention": 0, "repost": 1, "quote": 0, "like": 1, "follow": 1}
    assert r["counts"]["out"] == {"reply": 1, "mention": 1, "repost": 0, "quote": 0, "like": 0, "follow": 0}
    (c,) = r["communities"]
    assert c["size"] == 2 and c["reach"] == 1.0 and not c["in_report"]
    assert {m["account"] for m in c["top_members"]} == {"did:alice", "x:bob"}


def test_half_life_and_as_of(hand):
    r = person_timeline(hand, ["o"], "did:alice", now=d(10), half_life_days=10)
    # as of day 10: in = 2^(−8/10) + 2^(−5/10); out = 2^(−7/10) + 1
    assert r["strength_in"] == pytest.approx(2 ** -0.8 + 2 ** -0.5)
    assert r["strength_out"] == pytest.approx(2 ** -0.7 + 1)


def test_topics(hand):
    r = person_timeline(hand, ["o"], "did:alice")
    # the migrations may already have made empty tables: empty → not available
    assert r["topics"] is None and "leads topics" in r["unavailable"]["topics"]
    for stmt in TOPICS_DDL.strip().split(";"):
        if stmt.strip():
            run_sql(hand.con, stmt)
    add_post(hand.con, "pa3", "did:alice", d(7), "solar")
    add_post(hand.con, "pa4", "did:alice", d(8), "noise")
    run_sql(hand.con, "INSERT INTO topics (topic_id, label, terms, size) VALUES (0, 'meters · data', "
                      "['meters', 'data'], 10), (1, 'solar · panels', ['solar', 'panels'], 5)")
    run_sql(hand.con, "INSERT INTO post_topics VALUES ('pa1', 0, 0.9), ('pa2', 0, 0.8), ('pa3', 1, 0.7), "
                      "('pa4', -1, 0.1), ('po1', 1, 0.9)")
    r = person_timeline(hand, ["o"], "did:alice")
    assert r["topics"] == [{"topic_id": 0, "label": "meters · data", "posts": 2, "share": pytest.approx(2 / 3)},
                           {"topic_id": 1, "label": "solar · panels", "posts": 1, "share": pytest.approx(1 / 3)}]


def test_errors(hand):
    with pytest.raises(EngageError, match="owner"):
        person_timeline(hand, ["o"], "brand.bsky.social")
    with pytest.raises(UnknownAccount):
        person_timeline(hand, ["o"], "")
    with pytest.raises(EngageError):
        person_timeline(hand, ["o"], "did:alice", half_life_days=0)


def test_no_contact(hand):
    account(hand.con, "x:carol", "x", "carol")
    r = person_timeline(hand, ["o"], "carol")
    assert r["events"] == [] and r["strength"] == 0 and r["first_contact"] is None
    assert r["communities"] == [] and "ego network" in r["unavailable"]["communities"]
