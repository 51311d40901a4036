"""Community-building behaviours (socialleads.engage.behaviours; METRICS.md §2 "community building").

The simulator does not plant welcomes, introductions or affirmations, so the expected values come from a
hand-made store (worked out in the comments) and from a slow Python reference on randomized stores.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest

from socialleads.engage.behaviours import community_behaviours
from socialleads.engage.who import EngageError
from socialleads.store import open_store
from socialleads.store.db import run_sql
from tests.test_inbox import add_post, add_signal, derive_interactions

T0 = dt.datetime(2026, 1, 1)


def h(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def inter(con, key, typ, actor, t, target_account=None, target_post=None, ended=None):
    run_sql(con, "INSERT INTO interactions (interaction_key, platform, type, actor_key, target_account_key, "
                 "target_post_key, created_at, ended_at, source) VALUES (?, 'test', ?, ?, ?, ?, ?, ?, 'test')",
            [key, typ, actor, target_account, target_post, t, ended])


@pytest.fixture
def hand():
    """Owner 'o'. W = [−1 h, 310 h]; the data ends at 310 h (the post 'pend').

    Follows of o: a at 0, b at 10, c at 20, e at 300 (new in W); d at −500 (not new; unfollows at 205).
    o follows b back at 11 (a follow-back is not a welcome).

    Welcomes (7 days = 168 h):
      a: o likes a's post pa at 5 (target_post only: resolved to a)   → welcomed after 5 h
      b: o's first action on b is the reply p6 at 179 > 10 + 168     → not welcomed, due (10 ≤ 310 − 168)
      c: o mentions c in p0 at 20 (the follow's own hour)            → welcomed after 0 h
      e: followed at 300 > 142, nothing yet                          → pending
      → new 4, welcomed 2, due 3, pending 1, rate 2/3, median (5, 0) = 2.5 h

    Introductions (o's non-repost posts in W: p0 p1 p2 p5 p6 p3 p7 p8 p9 p10 pend = 11; p4 is a repost):
      p1 (50) mentions a, x2: x2 replied to pa at 30 → prior → no
      p2 (60) mentions a, c, x: a–c: c likes pa only at 70 (later); a–x: x follows a (no time → prior);
              c–x: none → introduction, 2 pairs (a–c, c–x)
      p5 (95) mentions c, a: c liked pa at 70 < 95 → prior → no
      p3 (190) mentions c and o only: one non-owner → not a candidate
      → count 1, pairs 2, candidates 3 (p1, p2, p5), rate 1/11

    Affirmations (o's replies in W):
      p3 (190) → pb (b, follower since 10): positive
      p6 (179) → pb: negative
      p7 (200) → pz (z, not a follower): positive — not counted
      p8 (210) → pd (d unfollowed at 205): positive — not counted
      p9 (220) → pa (a, follower): no sentiment row
      p10 (230) → pc (c, follower): neutral
      → replies to followers 4 (p3 p6 p9 p10), scored 3, positive 1, rate 1/3
    """
    s = open_store(None)
    con = s.con
    add_post(con, "pa", "a", h(1), "my post")
    add_post(con, "pb", "b", h(12), "hello")
    add_post(con, "pc", "c", h(25), "question")
    add_post(con, "pd", "d", h(100), "thing")
    add_post(con, "pz", "z", h(150), "other")
    add_post(con, "px2", "x2", h(30), "reply", kind="reply", reply_to="pa")
    add_post(con, "p0", "o", h(20), "welcome @c", mentions=("c",))
    add_post(con, "p1", "o", h(50), "@a meet @x2", mentions=("a", "x2"))
    add_post(con, "p2", "o", h(60), "@a @c @x you should talk", mentions=("a", "c", "x"))
    add_post(con, "p4", "o", h(70), None, kind="repost", repost_of="pz", mentions=("a", "y"))
    add_post(con, "p5", "o", h(95), "@c @a again", mentions=("c", "a"))
    add_post(con, "p6", "o", h(179), "no", kind="reply", reply_to="pb")
    add_post(con, "p3", "o", h(190), "great @c", kind="reply", reply_to="pb", mentions=("c", "o"))
    add_post(con, "p7", "o", h(200), "great", kind="reply", reply_to="pz")
    add_post(con, "p8", "o", h(210), "great", kind="reply", reply_to="pd")
    add_post(con, "p9", "o", h(220), "hmm", kind="reply", reply_to="pa")
    add_post(con, "p10", "o", h(230), "ok", kind="reply", reply_to="pc")
    add_post(con, "pend", "o", h(310), "bye")
    derive_interactions(con)
    inter(con, "fa", "follow", "a", h(0), target_account="o")
    inter(con, "fb", "follow", "b", h(10), target_account="o")
    inter(con, "fc", "follow", "c", h(20), target_account="o")
    inter(con, "fd", "follow", "d", h(-500), target_account="o", ended=h(205))
    inter(con, "fe", "follow", "e", h(300), target_account="o")
    inter(con, "fob", "follow", "o", h(11), target_account="b")
    inter(con, "fxa", "follow", "x", None, target_account="a")
    inter(con, "l1", "like", "o", h(5), target_post="pa")
    inter(con, "l2", "like", "c", h(70), target_post="pa")
    for key, label in (("p3", "positive"), ("p6", "negative"), ("p7", "positive"), ("p8", "positive"),
                       ("p10", "neutral")):
        add_signal(con, key, label, 0.5, False)
    yield s
    s.close()


def test_hand_store(hand):
    r = community_behaviours(hand, ["o"], start=h(-1), end=h(310))
    w, i, a = r["welcomes"], r["introductions"], r["affirmations"]
    assert (w["new_followers"], w["count"], w["due"], w["pending"]) == (4, 2, 3, 1)
    assert w["rate"] == pytest.approx(2 / 3)
    assert w["median_hours"] == pytest.approx(2.5)
    assert (i["count"], i["pairs"], i["candidates"], i["owner_posts"]) == (1, 2, 3, 11)
    assert i["rate"] == pytest.approx(1 / 11)
    assert (a["replies_to_followers"], a["scored"], a["count"]) == (4, 3, 1)
    assert a["rate"] == pytest.approx(1 / 3)
    assert r["unavailable"] == {}


def test_without_sentiment_affirmations_are_not_available(hand):
    run_sql(hand.con, "DELETE FROM post_signals")
    r = community_behaviours(hand, ["o"], start=h(-1), end=h(310))
    assert r["affirmations"]["count"] is None and r["affirmations"]["rate"] is None
    assert "leads enrich" in r["unavailable"]["affirmations.rate"]


def test_without_follows_welcomes_are_not_available(hand):
    run_sql(hand.con, "DELETE FROM interactions WHERE type = 'follow'")
    r = community_behaviours(hand, ["o"], start=h(-1), end=h(310))
    assert r["welcomes"]["count"] is None and r["affirmations"]["count"] is None
    assert "follow" in r["unavailable"]["welcomes.rate"]
    assert r["introductions"]["count"] == 1  # p2 still introduces c and x (the x→a follow is gone: a–x too)
    assert r["introductions"]["pairs"] == 3


def test_bad_input(hand):
    with pytest.raises(EngageError):
        community_behaviours(hand, ["o"], start=h(10), end=h(0))
    with pytest.raises(EngageError):
        community_behaviours(hand, [], start=h(0), end=h(10))
    with pytest.raises(EngageError):
        community_behaviours(hand, ["o"], start=h(0), end=h(10), welcome_days=0)


# ------------------------------------------------------------------------------------------ reference

def reference(posts, ents, inters, signals, owners, t0, t1, t_data, days=7):
    """Slow, obvious Python: the module docstring's definitions, one loop at a time."""
    author = {p["key"]: p["author"] for p in posts}

    def target(i):
        return i["target_account"] if i["target_account"] is not None else author.get(i["target_post"])

    follows = [i for i in inters if i["type"] == "follow" and i["target_account"] in owners]
    # welcomes
    first_follow: dict[str, dt.datetime] = {}
    for f in follows:
        if f["actor"] in owners or f["t"] is None or not (t0 <= f["t"] <= t1):
            continue
        if f["actor"] not in first_follow or f["t"] < first_follow[f["actor"]]:
            first_follow[f["actor"]] = f["t"]
    welcomed = due = 0
    for acc, tf in first_follow.items():
        ok = any(i["actor"] in owners and i["type"] in ("reply", "mention", "repost", "quote", "like")
                 and i["t"] is not None and i["t"] <= t_data and target(i) == acc
                 and tf <= i["t"] <= tf + dt.timedelta(days=days) for i in inters)
        welcomed += ok
        due += ok or tf <= t_data - dt.timedelta(days=days)
    # introductions
    own = [p for p in posts if p["author"] in owners and p["kind"] != "repost" and t0 <= p["t"] <= t1]
    cands = intro = 0
    pairs = set()
    for p in own:
        ms = sorted({e["target"] for e in ents if e["post"] == p["key"] and e["target"] not in owners})
        if len(ms) < 2:
            continue
        cands += 1
        found = False
        for x in range(len(ms)):
            for y in range(x + 1, len(ms)):
                a, b = ms[x], ms[y]
                prior = any({i["actor"], target(i)} == {a, b} and (i["t"] is None or i["t"] < p["t"])
                            for i in inters)
                if not prior:
                    found = True
                    pairs.add((a, b))
        intro += found
    # affirmations
    rf = scored = pos = 0
    for p in posts:
        if p["author"] not in owners or p["reply_to"] is None or not (t0 <= p["t"] <= t1):
            continue
        par = author.get(p["reply_to"])
        if par is None or par in owners:
            continue
        if not any(f["actor"] == par and (f["t"] is None or f["t"] <= p["t"])
                   and (f["ended"] is None or f["ended"] > p["t"]) for f in follows):
            continue
        rf += 1
        if p["key"] in signals:
            scored += 1
            pos += signals[p["key"]] == "positive"
    return {"new": len(first_follow), "welcomed": welcomed, "due": due, "owner_posts": len(own),
            "candidates": cands, "intro": intro, "pairs": len(pairs), "rf": rf, "scored": scored, "pos": pos}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_slow_reference(seed):
    rng = random.Random(seed)
    owners = ["o1", "o2"]
    people = [f"u{i}" for i in range(14)]
    everyone = owners + people
    s = open_store(None)
    con = s.con
    posts, ents, inters, signals = [], [], [], {}

    def t():
        return h(rng.randint(0, 600))

    for k in range(160):
        a = rng.choice(owners) if rng.random() < 0.35 else rng.choice(people)
        kind = rng.choice(["original", "reply", "reply", "repost"] if a in owners else ["original", "reply", "repost"])
        parent = rng.choice(posts)["key"] if posts and kind in ("reply", "repost") else None
        if parent is None:
            kind = "original"
        key = f"p{k}"
        ms = rng.sample(everyone, rng.choice([0, 0, 1, 2, 3]))
        tt = t()
        add_post(con, key, a, tt, "x", kind=kind, reply_to=parent if kind == "reply" else None,
                 repost_of=parent if kind == "repost" else None, mentions=ms)
        posts.append({"key": key, "author": a, "kind": kind, "t": tt, "reply_to": parent if kind == "reply" else None})
        ents += [{"post": key, "target": m} for m in ms]
        if rng.random() < 0.8:
            label = rng.choice(["positive", "positive", "negative", "neutral"])
            add_signal(con, key, label, 0.0, False)
            signals[key] = label
    derive_interactions(con)
    for r in con.execute("SELECT type, actor_key, target_account_key, target_post_key, created_at "
                         "FROM interactions").fetchall():
        inters.append({"type": r[0], "actor": r[1], "target_account": r[2], "target_post": r[3], "t": r[4],
                       "ended": None})
    for k in range(200):
        typ = rng.choice(["like", "like", "follow", "follow", "repost"])
        actor = rng.choice(everyone)
        tt = None if rng.random() < 0.05 else t()
        if typ == "follow":
            tgt = rng.choice(owners) if rng.random() < 0.8 else rng.choice(everyone)
            ended = tt + dt.timedelta(hours=rng.randint(1, 200)) if tt is not None and rng.random() < 0.2 else None
            tp = None
        else:
            tp = rng.choice(posts)["key"]
            tgt, ended = None, None
        inter(con, f"i{k}", typ, actor, tt, target_account=tgt, target_post=tp, ended=ended)
        inters.append({"type": typ, "actor": actor, "target_account": tgt, "target_post": tp, "t": tt,
                       "ended": ended})
    t0, t1 = h(50), h(550)
    t_data = max([p["t"] for p in posts] + [i["t"] for i in inters if i["t"] is not None])
    ref = reference(posts, ents, inters, signals, set(owners), t0, t1, t_data)
    r = community_behaviours(s, owners, start=t0, end=t1)
    w, i, a = r["welcomes"], r["introductions"], r["affirmations"]
    assert (w["new_followers"], w["count"], w["due"]) == (ref["new"], ref["welcomed"], ref["due"])
    assert (i["owner_posts"], i["candidates"], i["count"], i["pairs"]) == (
        ref["owner_posts"], ref["candidates"], ref["intro"], ref["pairs"])
    assert (a["replies_to_followers"], a["scored"], a["count"]) == (ref["rf"], ref["scored"], ref["pos"])
    assert ref["welcomed"] and ref["intro"] and ref["pos"], str(ref)  # the random store exercises each behaviour
    s.close()
