"""Text signals per post (socialleads.enrich) and the scorecard's listen section (metrics/listen.py)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from socialleads.enrich import EnrichError, enrich, question_flags
from socialleads.metrics.listen import listen_summary
from socialleads.metrics.window import UTC, Window
from socialleads.store.db import run_sql

T0 = dt.datetime(2026, 3, 1, 12, 0)

# (post_key, author, kind, text, lang, reply_to, quote_of, hours after T0, expected label, expected question)
# labels: texts whose sentiment no reader would dispute; None = no text
POSTS = [
    ("p1", "u1", "original", "I love this, it is wonderful and amazing!", "en", None, None, 1, "positive", False),
    ("p2", "u2", "original", "This is terrible, I hate it. Worst service ever.", "en", None, None, 2, "negative", False),
    ("p3", "u3", "original", "How do I reset my password?", "en", None, None, 3, None, True),
    ("p4", "u1", "original", "What time does the store open", "en", None, None, 4, None, True),
    ("p5", "u2", "original", "¿Dónde está la estación", "es", None, None, 5, None, True),
    ("p6", "u3", "original", "Read the notes at https://example.com/page?id=3 today", "en", None, None, 6, None, False),
    ("p7", "u1", "repost", None, None, None, None, 7, None, None),
    ("p8", "u2", "original", "   ", "en", None, None, 8, None, None),
    ("p9", "u3", "original", "@brand why is my order late", "en", None, None, 9, None, True),
    ("p10", "u1", "original", "Will schon los", "de", None, None, 10, None, False),
    ("o1", "own", "original", "We launched a new product today.", "en", None, None, 11, None, False),
    ("r1", "u2", "reply", "Awful. Broken again, terrible.", "en", "o1", None, 12, "negative", False),
    ("q1", "u3", "quote", "Great job, I love it!", "en", None, "o1", 13, "positive", False),
    ("o2", "own", "reply", "Thanks, we love you too! @brand", "en", "q1", None, 14, None, False),
    ("m_old", "u1", "original", "@brand terrible, awful, hate it", "en", None, None, -500, "negative", False),
]
MENTIONS = [("p2", "own"), ("p9", "own"), ("m_old", "own"), ("o2", "own"), ("p1", "someone")]


def _fill(store) -> None:
    for key, author, kind, text, lang, rto, qof, h, *_ in POSTS:
        run_sql(store.con, "INSERT INTO posts (post_key, platform, author_key, kind, created_at, text, lang, "
                "reply_to_key, quote_of_key, source) VALUES (?, 'x', ?, ?, ?, ?, ?, ?, ?, 'test')",
                [key, author, kind, T0 + dt.timedelta(hours=h), text, lang, rto, qof])
    for key, target in MENTIONS:
        run_sql(store.con, "INSERT INTO post_entities (post_key, etype, value, target_account_key) "
                "VALUES (?, 'mention', 'brand', ?)", [key, target])


def _signals(store) -> dict:
    rows = store.con.execute("SELECT post_key, sentiment_label, sentiment_score, is_question, lang, model "
                             "FROM post_signals ORDER BY post_key").fetchall()
    return {r[0]: r[1:] for r in rows}


def test_question_flags_by_hand():
    texts = [p[3] for p in POSTS]
    langs = [p[4] for p in POSTS]
    assert question_flags(texts, langs).to_pylist() == [p[9] for p in POSTS]
    # no language: the English openings apply; a '?' ending a sentence counts in any language
    assert question_flags(["why not", "Is it?", "Ist das gut?", "see ?utm_source=x", "¿Qué?"]).to_pylist() \
        == [True, True, True, False, True]
    assert question_flags(["Wie ist das"], ["de"]).to_pylist() == [False]
    # full-width (Chinese, Japanese) and Arabic question marks
    assert question_flags(["これは何ですか？", "你好吗？", "كيف حالك؟", "これはペンです。"], ["ja", "zh", "ar", "ja"]
                          ).to_pylist() == [True, True, True, False]
    with pytest.raises(EnrichError, match="2 texts but 1 languages"):
        question_flags(["a", "b"], ["en"])


def test_enrich_hand_made_store(store):
    _fill(store)
    r = enrich(store)
    assert (r["posts"], r["computed"], r["with_text"], r["batches"]) == (15, 15, 13, 1)
    sig = _signals(store)
    assert len(sig) == 15
    for key, _, _, text, lang, *_, label, question in POSTS:
        got_label, score, isq, got_lang, model = sig[key]
        assert got_lang == lang and model == "socialleads-linear"
        assert isq is question, key
        if label is not None:
            assert got_label == label, (key, got_label, score)
        if text is None or not text.strip():
            assert got_label is None and score is None and isq is None
        else:
            assert got_label in ("negative", "neutral", "positive") and -1 <= score <= 1
            assert (score > 0) == (got_label == "positive") or got_label == "neutral"
    assert r["questions"] == sum(p[9] is True for p in POSTS) == 4
    assert r["negative"] + r["neutral"] + r["positive"] == 13


def test_enrich_idempotent_and_force(store):
    _fill(store)
    first = enrich(store)
    before = _signals(store)
    again = enrich(store)
    assert again["computed"] == 0 and again["batches"] == 0 and store.count("post_signals") == 15
    assert _signals(store) == before
    # a new post: only it is computed
    run_sql(store.con, "INSERT INTO posts (post_key, platform, kind, text, source) "
            "VALUES ('new', 'x', 'original', 'Who won?', 'test')", [])
    assert enrich(store)["computed"] == 1 and _signals(store)["new"][2] is True
    forced = enrich(store, force=True)
    assert forced["computed"] == 16 and store.count("post_signals") == 16
    assert first["computed"] == 15


def test_small_batches_equal_one_batch(store):
    from socialleads.store import open_store

    _fill(store)
    seen = []
    r = enrich(store, batch=4, progress=lambda d, t: seen.append((d, t)))
    assert r["batches"] == 4 and r["computed"] == 15
    assert seen[0] == (0, 15) and seen[-1] == (15, 15) and [d for d, _ in seen] == [0, 4, 8, 12, 15]
    one = open_store(None)
    try:
        _fill(one)
        enrich(one, batch=1_000)
        a, b = _signals(store), _signals(one)
        assert a.keys() == b.keys()
        for k in a:
            assert a[k][0] == b[k][0] and a[k][2:] == b[k][2:]
            assert (a[k][1] is None and b[k][1] is None) or a[k][1] == pytest.approx(b[k][1], abs=1e-6)
    finally:
        one.close()


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_enrich_bad_batch(store, bad):
    with pytest.raises(EnrichError, match="batch must be"):
        enrich(store, batch=bad)


def _window(h0: float, h1: float) -> Window:
    s = (T0 + dt.timedelta(hours=h0)).replace(tzinfo=UTC)
    e = (T0 + dt.timedelta(hours=h1)).replace(tzinfo=UTC)
    return Window(start=s, end=e, days=max(1, (e - s).days))


def test_listen_summary_hand_made(store):
    _fill(store)
    w = _window(0, 20)
    # mentions of O = {own} in W, by hand: p2, p9 (mention entity), r1 (reply to o1), q1 (quote of o1);
    # not o2 (O's own post), not m_old (before W), not p1 (mentions someone else)
    before = listen_summary(store, ["own"], w)
    assert before["available"] and before["mentions"] == 4 and before["mentions_by_platform"] == {"x": 4}
    for key in ("negative_share", "net_sentiment", "sentiment_counts", "questions", "spike_alerts"):
        assert before[key] is None
        assert "leads enrich" in before["unavailable"][key]
    enrich(store)
    lab = {k: v[0] for k, v in _signals(store).items()}
    s = listen_summary(store, ["own"], w)
    assert s["mentions"] == 4 and s["scored_mentions"] == 4 and s["unscored_mentions"] == 0
    expect = {x: sum(lab[k] == x for k in ("p2", "p9", "r1", "q1")) for x in ("negative", "neutral", "positive")}
    assert s["sentiment_counts"] == expect
    assert expect["negative"] >= 2 and expect["positive"] >= 1  # p2, r1 negative; q1 positive (test above)
    assert s["negative_share"] == pytest.approx(expect["negative"] / 4)
    pos, neg = expect["positive"], expect["negative"]
    assert s["net_sentiment"] == pytest.approx((pos - neg) / (pos + neg))
    assert s["questions"] == 1 and s["question_share"] == pytest.approx(1 / 4)  # p9
    # negative mentions: p2 at T0+2h and r1 at T0+12h (p9 is a neutral question). Before p2 the 168-hour
    # baseline is all zeros: mean 0, sd 0, P(X >= 1 | 0) = 0 -> a spike. At r1 the baseline holds one post:
    # mean 1/168, sd = sqrt(167)/168 = 0.077, 1 > mean + 2 sd and P(X >= 1) = 1 - e^(-1/168) = 0.006.
    # The window [T0, T0+20h] tests 21 hours, so the per-hour level is 0.01 / 21 = 0.00048 (Bonferroni,
    # metrics/listen.py): p2 is an alert, r1 (p = 0.006) is not.
    assert [(a["start"], a["end"], a["peak_count"]) for a in s["spike_alerts"]] == [
        ("2026-03-01T14:00:00Z", "2026-03-01T15:00:00Z", 1)]
    assert [p["post_key"] for a in s["spike_alerts"] for p in a["top_posts"]] == ["p2"]
    # at the per-hour level of METRICS.md §1 (alpha 0.01 for each hour) r1 alerts too, 10 hours after p2
    # (> the 6-hour cooldown): two alerts
    per_hour = listen_summary(store, ["own"], w, alpha=0.01 * 21)
    assert [(a["start"], a["peak_count"]) for a in per_hour["spike_alerts"]] == [
        ("2026-03-01T14:00:00Z", 1), ("2026-03-02T00:00:00Z", 1)]
    assert per_hour["spike_alerts"][1]["baseline_mean"] == pytest.approx(1 / 168)
    assert listen_summary(store, [], w)["reason"].startswith("not available: no owner")
    assert listen_summary(store, ["own"], None)["available"] is False


def test_listen_summary_missing_table(store):
    _fill(store)
    run_sql(store.con, "DROP TABLE post_signals", [])
    s = listen_summary(store, ["own"], _window(0, 20))
    assert s["mentions"] == 4 and s["net_sentiment"] is None and "leads enrich" in s["unavailable"]["net_sentiment"]
    with pytest.raises(EnrichError, match="no post_signals table"):
        enrich(store)


def test_no_mentions_are_no_evidence_of_calm(store):
    """An owner nobody mentions in W: the spike check is not counted (the review saw grade A from '0 spikes'
    on 0 mentions), and the sentiment shares say there is no mention — not 'run leads enrich'."""
    _fill(store)
    enrich(store)
    s = listen_summary(store, ["nobody-mentions-me"], _window(0, 20))
    assert s["mentions"] == 0
    spikes = [e for e in s["evidence"] if e["metric"] == "negative-mention spikes in W"][0]
    assert spikes["value"] is None and spikes["met"] is None
    assert s["unavailable"]["negative_share"] == "not available: no mention of O in W"


def _iso(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def test_simulated_crisis(tmp_path, store):
    from socialleads.simulate import simulate
    from socialleads.sources.importer import import_path

    truth = simulate(tmp_path / "w", posts=20_000, seed=1)
    import_path(store, tmp_path / "w")
    r = enrich(store, batch=7_000)
    assert r["computed"] == store.count("posts") and r["batches"] == 3
    owners = truth["owner_keys"]
    c0, c1 = _iso(truth["crisis"]["start"]), _iso(truth["crisis"]["end"])
    end = _iso(truth["t_end"])
    full = listen_summary(store, owners, Window(start=end - dt.timedelta(days=90), end=end, days=90))
    inside = listen_summary(store, owners, Window(start=c0, end=c1, days=1))
    assert inside["mentions"] >= 30
    neg_in = inside["sentiment_counts"]["negative"]
    lab_in = sum(inside["sentiment_counts"].values())
    neg_out = full["sentiment_counts"]["negative"] - neg_in
    lab_out = sum(full["sentiment_counts"].values()) - lab_in
    share_in, share_out = neg_in / lab_in, neg_out / lab_out
    assert share_in > 0.7 and share_in > 2 * share_out, (share_in, share_out)
    assert inside["net_sentiment"] < -0.5 < full["net_sentiment"]
    alerts = full["spike_alerts"]
    hit = [a for a in alerts if _iso(a["start"]) < c1 and _iso(a["end"]) > c0]
    assert len(hit) == 1, alerts
    assert hit[0]["top_posts"] and all(re.match(r"^-?\d", str(p["score"])) for p in hit[0]["top_posts"])
    assert all(p["score"] < 0 for p in hit[0]["top_posts"])
