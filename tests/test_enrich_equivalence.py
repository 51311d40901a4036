"""The batched text signals equal a slow, obvious one-text-at-a-time reference (issue 4, listen in batch).

The reference scores each text alone: its hashed features (``_parts`` on a one-text list), the sum of
the model's float64 weights over them with ``math.fsum``, the lexicon features times ``lex_w`` by hand,
and a softmax with ``math.exp``. The batched path (``enrich``'s ``_scores``: one tokenization, both
models in one sparse product) must give the same probabilities to 1e-12 and the same labels, on the
TweetEval sentiment test texts and on a simulated world's posts. Monitor queries whose OR is compiled
to one merged regex must match exactly the posts their terms match one by one.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from socialleads.enrich.signals import _scores
from socialleads.listen.emotion import EMOTIONS, default_emotion_model, emotion_proba
from socialleads.listen.sentiment import LABELS, _parts, _read_split, default_model, predict_proba

SHARED = Path(__file__).parents[1] / ".." / "shared"
TWEETEVAL = SHARED / "data" / "sentiment" / "tweeteval" / "sentiment"


def _softmax(z: list[float]) -> list[float]:
    m = max(z)
    e = [math.exp(v - m) for v in z]
    s = sum(e)
    return [v / s for v in e]


def reference(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(sentiment probabilities, emotion probabilities), one text at a time, plain Python arithmetic."""
    mdl, emo = default_model(), default_emotion_model()
    ps, pe = [], []
    for t in texts:
        rows, keys, scale, dense = _parts([t], mdl.bits, mdl.lex)
        s = float(scale[0])
        ks = keys.tolist()
        z = []
        for c in range(3):
            lex = math.fsum(float(dense[0, j]) * float(mdl.lex_w[j, c]) for j in range(dense.shape[1]))
            z.append(float(mdl.b[c]) + lex + math.fsum(float(mdl.w[k, c]) for k in ks) * s)
        ps.append(_softmax(z))
        ze = [float(emo.b[c]) + math.fsum(float(emo.w[k, c]) for k in ks) * s for c in range(len(EMOTIONS))]
        pe.append(_softmax(ze))
    return np.array(ps), np.array(pe)


def _check(texts: list[str]) -> None:
    ps, pe = reference(texts)
    lab, score, got_e = _scores(texts, None, default_emotion_model())
    assert lab.tolist() == LABELS[ps.argmax(axis=1)].tolist()
    np.testing.assert_allclose(score, ps[:, 2] - ps[:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(got_e, pe, rtol=0, atol=1e-12)
    # the public batch scorers take the same path
    np.testing.assert_allclose(predict_proba(texts), ps, rtol=0, atol=1e-12)
    np.testing.assert_allclose(emotion_proba(texts), pe, rtol=0, atol=1e-12)


@pytest.mark.skipif(not (TWEETEVAL / "test_text.txt").exists(), reason="../shared TweetEval data not present")
def test_tweeteval_test_texts_equal_reference():
    texts, _ = _read_split(TWEETEVAL, "test")
    assert len(texts) == 12284  # the split's documented size
    _check(texts[::4])  # every 4th tweet: 3,071 texts keep the Python reference under a few seconds


def test_simulated_world_equals_reference(tmp_path):
    from socialleads.simulate import simulate
    from socialleads.sources.importer import import_path
    from socialleads.store import open_store

    simulate(tmp_path / "w", posts=3000, seed=3)
    store = open_store(None)
    import_path(store, tmp_path / "w")
    texts = [r[0] for r in store.con.execute(
        "SELECT text FROM posts WHERE text IS NOT NULL AND trim(text) <> '' ORDER BY post_key").fetchall()]
    assert len(texts) > 1000
    _check(texts)


def test_empty_and_edge_texts_equal_reference():
    texts = ["", "!", "not good", "NOT BAD at all", "Σ ΣΑΣ İstanbul", "😀👍", "a b", "x" * 500]
    _check(texts)


def test_merged_or_matches_terms_one_by_one(store):
    """OR of words, phrases, hashtags and a mention compiled into one regex + one subquery per entity
    type matches the union of what each term matches alone."""
    from socialleads.listen.monitors import count_matches, match_posts

    rows = [("p1", "Voltwise Hub is great #solar"), ("p2", "@voltwise help"), ("p3", "nothing here"),
            ("p4", "the meter, voltwise meter!"), ("p5", "#Solarpanel day"), ("p6", "solar #pv"),
            ("p7", "mail me@voltwise.example")]
    for k, t in rows:
        store.con.execute("INSERT INTO posts (post_key, platform, author_key, kind, text, source) "
                          "VALUES (?, 'x', 'u', 'original', ?, 'test')", [k, t]).fetchall()
    terms = ['"Voltwise Hub"', '"voltwise meter"', "#solar", "#pv", "@voltwise", "solar*"]
    union: set[str] = set()
    for t in terms:
        union |= {m["post_key"] for m in match_posts(store, t)}
    got = {m["post_key"] for m in match_posts(store, " OR ".join(terms))}
    assert got == union == {"p1", "p2", "p4", "p5", "p6"}
    assert count_matches(store, " OR ".join(terms)) == 5
