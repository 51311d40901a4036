"""The engagement inbox and response figures (socialleads.engage.inbox; METRICS.md §1, §2).

Expected values are computed by hand in the comments (a hand-made store), by a slow Python reference
(randomized stores), or checked against the simulator's records (a simulated world).
"""

from __future__ import annotations

import datetime as dt
import math
import random

import pytest

from socialleads.engage.inbox import inbox, response_stats
from socialleads.engage.who import EngageError
from socialleads.store import open_store
from socialleads.store.db import run_sql

T0 = dt.datetime(2026, 1, 1)


def h(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def add_post(con, key, author, t, text=None, kind="original", reply_to=None, quote_of=None, repost_of=None,
             mentions=()):
    run_sql(con, "INSERT INTO posts (post_key, platform, author_key, kind, created_at, text, reply_to_key, "
                 "quote_of_key, repost_of_key, source) VALUES (?, 'test', ?, ?, ?, ?, ?, ?, ?, 'test')",
            [key, author, kind, t, text, reply_to, quote_of, repost_of])
    for m in mentions:
        run_sql(con, "INSERT INTO post_entities (post_key, etype, value, target_account_key) "
                     "VALUES (?, 'mention', ?, ?)", [key, m, m])


def derive_interactions(con) -> None:
    """What the importer derives from posts: reply / quote / repost (target = the parent's author) and
    mention interactions, at the post's time."""
    for typ, col in (("reply", "reply_to_key"), ("quote", "quote_of_key"), ("repost", "repost_of_key")):
        run_sql(con, f"""INSERT INTO interactions (interaction_key, platform, type, actor_key, target_account_key,
                         target_post_key, via_post_key, created_at, source)
                         SELECT '{typ}:' || b.post_key, 'test', '{typ}', b.author_key, p.author_key, b.{col},
                                b.post_key, b.created_at, 'test'
                         FROM posts b LEFT JOIN posts p ON p.post_key = b.{col} WHERE b.{col} IS NOT NULL""")
    run_sql(con, """INSERT INTO interactions (interaction_key, platform, type, actor_key, target_account_key,
                    target_post_key, via_post_key, created_at, source)
                    SELECT 'mention:' || e.post_key || e.target_account_key, 'test', 'mention', b.author_key,
                           e.target_account_key, b.post_key, b.post_key, b.created_at, 'test'
                    FROM post_entities e JOIN posts b USING (post_key) WHERE e.etype = 'mention'""")


def add_interaction(con, key, typ, actor, t, target_account=None, target_post=None):
    run_sql(con, "INSERT INTO interactions (interaction_key, platform, type, actor_key, target_account_key, "
                 "target_post_key, created_at, source) VALUES (?, 'test', ?, ?, ?, ?, ?, 'test')",
            [key, typ, actor, target_account, target_post, t])


def add_signal(con, key, label, score, is_question):
    run_sql(con, "INSERT INTO post_signals (post_key, sentiment_label, sentiment_score, is_question) "
                 "VALUES (?, ?, ?, ?)", [key, label, score, is_question])


@pytest.fixture
def hand():
    """Owner 'o'; others a, b, c, d, e, x1..x3. Times are hours after T0 (2026-01-01 00:00 UTC).

    Followers (follow interactions at t = −2000 h): o ← a, b, c, d, x1 (5); a ← x1, x2, x3 (3); b ← x1 (1).
    The largest non-owner count is 3 (o's 5 is left out of the normalisation), so influence =
    ln(1+f)/ln(1+3): a = 1, b = ln 2 / ln 4 = 0.5, c = d = 0.

    posts                                             inbound?           owner reply (delay)
      o1  o  t=0   original "launch day"
      i1  a  t=1   reply to o1 "Does it work on Linux?"  reply, question  r1 at t=3   (2 h)
      i2  b  t=2   reply to o1 "love it"                 reply            r2 at t=32  (30 h)
      r1  o  t=3   reply to i1
      i8  a  t=4   reply to r1 "thanks!"                 reply (r1 is O's) —
      x   a  t=5   original "my blog post"               no (not to O)
      r5  o  t=6   reply to x                            (O engages a back)
      q1  o  t=7   quote of x "worth reading"            (O engages a back)
      bp  b  t=8   repost of o1                          no (a repost)
      rp1 o  t=9   repost of x                           (O engages a back)
      o2  o  t=10  original "new feature"
      i3  c  t=12  quote of o2 "this is broken"          quote; signals: negative, not a question
      i4  d  t=20  mentions o "hey @o what's the price?" mention, question r4 at t=24 (4 h)
      r4  o  t=24  reply to i4
      r2  o  t=32  reply to i2
      i5  c  t=40  reply to o2 "nice"                    reply            —
      i6  d  t=50  mentions o "@o thanks"                mention; signals: positive
      i7  a  t=60  reply to o2 "how?"                    reply, question  —
      o3  o  t=70  original "wrap-up"                    (the end of the data: now = t=70)
      i9  b  t=−1000 mentions o "@o old question?"       mention, question (outside the stats window)
    A like by e of o2 at t=15 (e is an engager); nothing else from e.
    """
    s = open_store(None)
    con = s.con
    add_post(con, "o1", "o", h(0), "launch day")
    add_post(con, "i1", "a", h(1), "Does it work on Linux?", "reply", reply_to="o1")
    add_post(con, "i2", "b", h(2), "love it", "reply", reply_to="o1")
    add_post(con, "r1", "o", h(3), "@a yes", "reply", reply_to="i1")
    add_post(con, "i8", "a", h(4), "thanks!", "reply", reply_to="r1")
    add_post(con, "x", "a", h(5), "my blog post")
    add_post(con, "r5", "o", h(6), "great post", "reply", reply_to="x")
    add_post(con, "q1", "o", h(7), "worth reading", "quote", quote_of="x")
    add_post(con, "bp", "b", h(8), None, "repost", repost_of="o1")
    add_post(con, "rp1", "o", h(9), None, "repost", repost_of="x")
    add_post(con, "o2", "o", h(10), "new feature")
    add_post(con, "i3", "c", h(12), "this is broken", "quote", quote_of="o2")
    add_post(con, "i4", "d", h(20), "hey @o what's the price?", mentions=("o",))
    add_post(con, "r4", "o", h(24), "@d ten euros", "reply", reply_to="i4")
    add_post(con, "r2", "o", h(32), "@b thank you", "reply", reply_to="i2")
    add_post(con, "i5", "c", h(40), "nice", "reply", reply_to="o2")
    add_post(con, "i6", "d", h(50), "@o thanks", mentions=("o",))
    add_post(con, "i7", "a", h(60), "how?", "reply", reply_to="o2")
    add_post(con, "o3", "o", h(70), "wrap-up")
    add_post(con, "i9", "b", h(-1000), "@o old question?", mentions=("o",))
    derive_interactions(con)
    add_interaction(con, "like1", "like", "e", h(15), target_post="o2")
    n = 0
    for actor, target in [("a", "o"), ("b", "o"), ("c", "o"), ("d", "o"), ("x1", "o"),
                          ("x1", "a"), ("x2", "a"), ("x3", "a"), ("x1", "b")]:
        n += 1
        add_interaction(con, f"f{n}", "follow", actor, h(-2000), target_account=target)
    add_signal(con, "i3", "negative", -0.8, False)
    add_signal(con, "i6", "positive", 0.7, False)
    yield s
    s.close()


def test_inbox_priority_order_and_scores(hand):
    # now = t=70. Unanswered inbound: i3, i5, i6, i7, i8, i9 (i1, i2, i4 have owner replies).
    # priority = influence + question + negative + 0.5 × age_term; age_term = age/720 up to 720 h,
    # exp(−(age − 720)/168) beyond.
    #   i7: a=1, question      , age 10  → 1 + 1 + 0.5·10/720              = 2.006944…
    #   i9: b=0.5, question    , age 1070→ 0.5 + 1 + 0.5·exp(−350/168)     = 1.562270…
    #   i8: a=1                , age 66  → 1 + 0.5·66/720                  = 1.045833…
    #   i3: c=0, negative      , age 58  → 1 + 0.5·58/720                  = 1.040277…
    #   i5: c=0                , age 30  → 0.5·30/720                      = 0.020833…
    #   i6: d=0, positive      , age 20  → 0.5·20/720                      = 0.013888…
    items = inbox(hand, ["o"])
    assert [i["post_key"] for i in items] == ["i7", "i9", "i8", "i3", "i5", "i6"]
    expected = {"i7": 2 + 5 / 720, "i9": 1.5 + 0.5 * math.exp(-350 / 168), "i8": 1 + 33 / 720,
                "i3": 1 + 29 / 720, "i5": 15 / 720, "i6": 10 / 720}
    for i in items:
        assert i["priority"] == pytest.approx(expected[i["post_key"]], abs=1e-12)
        assert not i["answered"]
    by = {i["post_key"]: i for i in items}
    assert by["i7"]["kind"] == "reply" and by["i3"]["kind"] == "quote" and by["i6"]["kind"] == "mention"
    assert by["i8"]["kind"] == "reply"  # a reply to an owner *reply* is inbound too
    assert by["i7"]["is_question"] and by["i9"]["is_question"] and not by["i3"]["is_question"]
    assert by["i3"]["sentiment"] == "negative" and by["i7"]["sentiment"] is None  # no signals row
    assert by["i9"]["influence"] == pytest.approx(0.5) and by["i7"]["followers"] == 3
    assert by["i7"]["age_hours"] == pytest.approx(10.0)
    assert by["i7"]["thread"]["post_key"] == "o2" and by["i7"]["thread"]["text"] == "new feature"
    assert by["i3"]["thread"]["post_key"] == "o2"
    assert by["i8"]["thread"] == {"post_key": "r1", "text": "@a yes", "root_key": None}
    assert by["i6"]["thread"]["post_key"] is None
    assert by["i7"]["handle"] is None and by["i7"]["author"] == "a"
    assert by["i7"]["created_at"] == h(60).replace(tzinfo=dt.UTC)
    # overdue: unanswered for more than the 24 h SLA: i9, i8, i3, i5 (ages 1070, 66, 58, 30), not i7, i6
    assert {k for k, i in by.items() if i["overdue"]} == {"i9", "i8", "i3", "i5"}
    assert [i["post_key"] for i in inbox(hand, ["o"], limit=2)] == ["i7", "i9"]


def test_inbox_answered_items_and_as_of(hand):
    everything = inbox(hand, ["o"], only_unanswered=False)
    by = {i["post_key"]: i for i in everything}
    assert set(by) == {"i1", "i2", "i3", "i4", "i5", "i6", "i7", "i8", "i9"}
    assert by["i1"]["answered"] and by["i1"]["response_hours"] == pytest.approx(2.0)
    assert by["i2"]["response_hours"] == pytest.approx(30.0)
    assert by["i4"]["response_hours"] == pytest.approx(4.0) and by["i4"]["kind"] == "mention"
    # as of t=25: i2's reply (t=32) has not happened yet, so i2 is unanswered; items after t=25 are absent
    early = {i["post_key"]: i for i in inbox(hand, ["o"], now=h(25).replace(tzinfo=dt.UTC))}
    assert set(early) == {"i2", "i3", "i8", "i9"}
    assert early["i2"]["age_hours"] == pytest.approx(23.0)
    # every owner account counts: with a and o both owners, i1/i7/i8 (by a) are no longer inbound
    assert not {"i1", "i7", "i8"} & {i["post_key"] for i in inbox(hand, ["o", "a"], only_unanswered=False)}


def test_response_stats_by_hand(hand):
    # window [t=0, t=70]; SLA 24 h; end of data t=70. Inbound items in it: i1 i2 i3 i4 i5 i6 i7 i8 (8).
    # answered: i1 (2 h), i2 (30 h), i4 (4 h) → 3; response rate 3/8.
    # delays sorted [2, 4, 30]; numpy's default (linear) percentile: rank q·(n−1):
    #   median: rank 1 → 4;  p90: rank 1.8 → 4 + 0.8·(30 − 4) = 24.8
    # met SLA: i1, i4. Due = met ∪ answered late (i2) ∪ unanswered with age at t=70 ≥ 24 h
    #   (i3 58 h, i5 30 h, i8 66 h) = 6; pending: i6 (20 h), i7 (10 h). within-SLA share = 2/6.
    # questions: i1, i4, i7; negative: i3 → asks = {i1, i3, i4, i7}; due asks = {i1, i3, i4}; met = {i1, i4}
    #   listened-and-acted = 2/3.
    # O's posts in [0, 70]: o1 r1 r5 q1 rp1 o2 r4 r2 o3 = 9; replies + quotes with comment: r1 r5 q1 r4 r2 = 5
    #   → conversation ratio 5/9. Non-repost O posts: 8; with a non-owner reply: o1 (i1, i2), r1 (i8),
    #   o2 (i5, i7) = 3 → 3/8 (i3 quotes o2: a quote is not a reply).
    # Engagers in [0, 70]: a (i1 …), b (i2, repost bp), c (i3, i5), d (i4, i6), e (like) = 5.
    #   O engaged back: a (r1, r5, q1, rp1), b (r2), d (r4) = 3 → reciprocity 3/5.
    st = response_stats(hand, ["o"], start=h(0), end=h(70), sla_hours=24)
    assert st["inbound"] == 8 and st["answered"] == 3
    assert st["response_rate"] == pytest.approx(3 / 8)
    assert st["median_response_hours"] == pytest.approx(4.0)
    assert st["p90_response_hours"] == pytest.approx(24.8)
    assert st["within_sla"] == 2 and st["pending"] == 2
    assert st["within_sla_share"] == pytest.approx(2 / 6)
    assert st["questions"] == 3 and st["negative"] == 1
    assert st["listened_and_acted_rate"] == pytest.approx(2 / 3)
    assert st["owner_posts"] == 9 and st["owner_conversational_posts"] == 5
    assert st["conversation_ratio"] == pytest.approx(5 / 9)
    assert st["conversation_start_share"] == pytest.approx(3 / 8)
    assert st["engagers"] == 5 and st["engaged_back"] == 3
    assert st["reciprocity"] == pytest.approx(3 / 5)
    assert st["unavailable"] == {}
    # a 48 h SLA: met = i1, i2, i4; due adds i3 (58), i8 (66) — i5 (30 h) is now pending → 3/5
    st48 = response_stats(hand, ["o"], start=h(0), end=h(70), sla_hours=48)
    assert st48["within_sla_share"] == pytest.approx(3 / 5)


def test_response_stats_unavailable_is_none_not_zero(hand):
    st = response_stats(hand, ["o"], start=h(100), end=h(200))
    for k in ("response_rate", "median_response_hours", "p90_response_hours", "within_sla_share",
              "listened_and_acted_rate", "conversation_ratio", "conversation_start_share", "reciprocity"):
        assert st[k] is None and st["unavailable"][k]
    # [t=40, t=70]: i5, i6, i7 unanswered → rate 0 (a real 0), no timed reply → median None
    st = response_stats(hand, ["o"], start=h(40), end=h(70))
    assert st["response_rate"] == 0.0 and st["median_response_hours"] is None
    assert "median_response_hours" in st["unavailable"]


def test_bad_input(hand):
    with pytest.raises(EngageError, match="limit"):
        inbox(hand, ["o"], limit=0)
    with pytest.raises(EngageError, match="sla_hours"):
        inbox(hand, ["o"], sla_hours=-1)
    with pytest.raises(EngageError, match="owner"):
        inbox(hand, [])
    with pytest.raises(EngageError, match="after end"):
        response_stats(hand, ["o"], start=h(10), end=h(0))
    with pytest.raises(EngageError, match="now"):
        inbox(hand, ["o"], now="yesterday")


def test_empty_store():
    s = open_store(None)
    assert inbox(s, ["o"]) == []
    st = response_stats(s, ["o"], start=h(0), end=h(1))
    assert st["inbound"] == 0 and st["response_rate"] is None
    s.close()


# ------------------------------------------------------------------------------------------ reference

def reference(posts, mentions, owners, start, end, sla, t_data):
    """Slow, obvious response figures: a loop over the posts."""
    by_key = {p["key"]: p for p in posts}
    items = []
    for p in posts:
        if p["author"] in owners or p["kind"] == "repost":
            continue
        parent = by_key.get(p["reply_to"])
        quoted = by_key.get(p["quote_of"])
        if (parent and parent["author"] in owners) or (quoted and quoted["author"] in owners) \
                or (mentions.get(p["key"], set()) & owners):
            items.append(p)
    rows = []
    for p in items:
        replies = [q["t"] for q in posts if q["author"] in owners and q["reply_to"] == p["key"]]
        delay = max((min(replies) - p["t"]).total_seconds() / 3600, 0.0) if replies else None
        rows.append((p, delay))
    win = [(p, d) for p, d in rows if start <= p["t"] <= end]
    delays = sorted(d for _, d in win if d is not None)

    def pct(q):
        if not delays:
            return None
        r = q * (len(delays) - 1)
        lo = math.floor(r)
        hi = min(lo + 1, len(delays) - 1)
        return delays[lo] + (r - lo) * (delays[hi] - delays[lo])

    met = sum(1 for _, d in win if d is not None and d <= sla)
    due = sum(1 for p, d in win if d is not None or (t_data - p["t"]).total_seconds() / 3600 >= sla)
    return {"inbound": len(win), "answered": sum(d is not None for _, d in win), "median": pct(0.5),
            "p90": pct(0.9), "met": met, "due": due,
            "all": {p["key"]: d for p, d in rows}}


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_response_times_match_reference(seed):
    rng = random.Random(seed)
    owners = {"o1", "o2"}
    people = [f"u{i}" for i in range(15)]
    posts, mentions = [], {}
    s = open_store(None)
    con = s.con
    n = 0

    def new(author, t, kind="original", reply_to=None, quote_of=None, ment=()):
        nonlocal n
        n += 1
        key = f"p{n}"
        posts.append({"key": key, "author": author, "t": t, "kind": kind, "reply_to": reply_to,
                      "quote_of": quote_of})
        if ment:
            mentions[key] = set(ment)
        add_post(con, key, author, t, "hi", kind, reply_to=reply_to, quote_of=quote_of, mentions=ment)
        return key

    for _ in range(60):
        t = h(rng.uniform(0, 500))
        r = rng.random()
        author = rng.choice(sorted(owners)) if r < 0.3 else rng.choice(people)
        targets = [p["key"] for p in posts if p["kind"] != "repost"]
        if r < 0.3 or not targets:
            new(author, t)
        elif r < 0.6:
            new(author, t, "reply", reply_to=rng.choice(targets))
        elif r < 0.75:
            new(author, t, "quote", quote_of=rng.choice(targets))
        elif r < 0.9:
            new(author, t, ment=(rng.choice(sorted(owners) + people[:3]),))
        else:
            new(author, t, "repost")
    # owner replies at random delays (some before the item: clock skew, clamped at 0; some twice)
    for p in list(posts):
        if p["author"] not in owners and rng.random() < 0.5:
            for _ in range(rng.choice([1, 1, 2])):
                new(rng.choice(sorted(owners)), p["t"] + dt.timedelta(hours=rng.uniform(-1, 80)), "reply",
                    reply_to=p["key"])
    t_data = max(p["t"] for p in posts)
    start, end, sla = h(50), h(400), 12.0
    ref = reference(posts, mentions, owners, start, end, sla, t_data)
    st = response_stats(s, sorted(owners), start=start, end=end, sla_hours=sla)
    assert st["inbound"] == ref["inbound"] and st["answered"] == ref["answered"]
    for got, want in ((st["median_response_hours"], ref["median"]), (st["p90_response_hours"], ref["p90"])):
        assert (got is None) == (want is None)
        if want is not None:
            assert abs(got - want) <= 1e-9
    assert st["within_sla"] == ref["met"]
    assert st["within_sla_share"] == (ref["met"] / ref["due"] if ref["due"] else None)
    items = inbox(s, sorted(owners), only_unanswered=False, limit=10_000)
    got = {i["post_key"]: i["response_hours"] for i in items}
    assert set(got) == set(ref["all"])
    for k, d in ref["all"].items():
        assert (got[k] is None) == (d is None), k
        if d is not None:
            assert abs(got[k] - d) <= 1e-9
    s.close()


# ------------------------------------------------------------------------------------------ simulated world

@pytest.fixture(scope="module")
def sim_store(tmp_path_factory):
    from socialleads.simulate import simulate
    from socialleads.sources.importer import import_path

    out = tmp_path_factory.mktemp("inbox_world")
    truth = simulate(out, posts=20_000, seed=1)
    s = open_store(None)
    import_path(s, out)
    yield s, truth
    s.close()


def test_simulated_inbox(sim_store):
    """The simulator's owner answers recent inbound replies, mentions and quotes (simulate/owner_emit.py):
    the inbox must hold unanswered items only, sorted by priority, and leave out every answered one."""
    s, truth = sim_store
    owners = truth["owner_keys"]
    items = inbox(s, owners, limit=500)
    assert items
    pr = [i["priority"] for i in items]
    assert pr == sorted(pr, reverse=True)
    keys = [i["post_key"] for i in items]
    answered = {r[0] for r in s.con.execute(
        "SELECT DISTINCT reply_to_key FROM posts WHERE author_key IN (SELECT unnest(?)) "
        "AND reply_to_key IS NOT NULL", [owners]).fetchall()}
    assert answered, "the simulated owner replies to inbound posts"
    assert not set(keys) & answered
    assert not {i["author"] for i in items} & set(owners)
    # the owner's replies answered inbound items: those show up as answered with a delay ≥ 0
    everything = inbox(s, owners, limit=1_000_000, only_unanswered=False)
    done = [i for i in everything if i["answered"]]
    assert done and all(i["post_key"] in answered and i["response_hours"] >= 0 for i in done)
    assert len(everything) > len(done)
    end = max(i["created_at"] for i in everything)
    st = response_stats(s, owners, start=end - dt.timedelta(days=truth["window_days"]), end=end)
    assert 0 < st["response_rate"] < 1 and st["median_response_hours"] >= 0
    assert st["p90_response_hours"] >= st["median_response_hours"]
    assert st["conversation_ratio"] is not None and 0 < st["reciprocity"] <= 1
