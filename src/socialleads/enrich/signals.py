"""Text signals per post, computed in batches and stored in ``post_signals`` (migration 003).

Per post: sentiment label and score (``socialleads.listen.sentiment.score_texts``; METRICS.md §1
"sentiment"), question form (METRICS.md §1 "hot questions") and the post's language. ``enrich`` reads
the posts that have no row yet in batches as Arrow tables, scores each batch with array operations
(the sentiment scorer is vectorized, the question test is one RE2 regular expression through
``pyarrow.compute``) and writes each batch with one ``INSERT … SELECT`` from the Arrow table — there is
no Python loop per post. Re-running adds nothing: only posts absent from ``post_signals`` are read.

Posts with no text (reposts, NULL or blank bodies) get a row whose signals are NULL, so they count as
done and are never "negative" or "not a question" by accident.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from socialleads.errors import LeadsError
from socialleads.listen.emotion import EMOTIONS, EmotionModel, default_emotion_model
from socialleads.listen.language import detect
from socialleads.listen.sentiment import (
    LABELS,
    LinearModel,
    _parts,
    _row_sums,
    _stacked,
    default_model,
    proba_from_parts,
)
from socialleads.store.db import has_table

DEFAULT_BATCH = 200_000
DEFAULT_MODEL_NAME = "socialleads-linear"

# A question: '¿', the full-width '？' (Chinese, Japanese) or the Arabic '؟' anywhere, or a '?' that does not
# open a URL query string ("?q=…", "?utm_…"), …
QMARK = r"¿|？|؟|\?(?:[^\w=&]|$)"
# … or, in English (or untagged) text, an interrogative first word (after any leading @handles / #tags).
INTERROGATIVES = ("who", "what", "when", "where", "why", "how", "which", "can", "could", "should", "would",
                  "is", "are", "do", "does", "did", "will")
OPENING = r"^\s*(?:[@#]\S+\s+)*(?:" + "|".join(INTERROGATIVES) + r")\b"


class EnrichError(LeadsError):
    """Bad arguments to enrich, or a store without the post_signals table."""


def question_flags(texts: pa.Array | list[str | None], langs: pa.Array | list[str | None] | None = None
                   ) -> pa.Array:
    """Question form of each text (boolean array; NULL where the text is NULL or blank).

    True when the text holds '¿', '？' or '؟', or a '?' not followed by a word character, '=' or '&' (so URL query
    strings do not count), or — when its language is English or unknown — opens with an interrogative
    word (who, what, … will), after any leading @mentions and #hashtags.
    """
    t = texts if isinstance(texts, pa.Array | pa.ChunkedArray) else pa.array(texts, pa.string())
    n = len(t)
    if langs is None:
        lg = pa.nulls(n, pa.string())
    else:
        lg = langs if isinstance(langs, pa.Array | pa.ChunkedArray) else pa.array(langs, pa.string())
        if len(lg) != n:
            raise EnrichError(f"question_flags: {n} texts but {len(lg)} languages")
    english = pc.fill_null(pc.starts_with(pc.utf8_lower(pc.cast(lg, pa.string())), "en"), True)
    qmark = pc.match_substring_regex(t, QMARK)
    opening = pc.and_(english, pc.match_substring_regex(t, OPENING, ignore_case=True))
    flag = pc.or_(qmark, opening)
    blank = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(t), ""), True)
    return pc.if_else(blank, pa.scalar(None, pa.bool_()), flag)


def _detected(text: pa.Array, lang: pa.Array, has: np.ndarray, detect_language: str) -> pa.Array:
    """lang_detected: the detector's language where it ran ("missing": posts whose source gave no lang)."""
    n = len(text)
    out = np.full(n, None, dtype=object)
    if detect_language == "none":
        return pa.array(out, pa.string())
    run = has if detect_language == "all" else has & ~lang.is_valid().to_numpy(zero_copy_only=False)
    idx = np.flatnonzero(run)
    if len(idx):
        out[idx] = detect(text.take(pa.array(idx)))[0]
    return pa.array(out, pa.string())


def _scores(texts: list[str], model: LinearModel | None, emo: EmotionModel | None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(sentiment label, sentiment score, emotion probabilities or None) from ONE tokenization.

    The same computation as ``sentiment.predict_proba`` / ``emotion.emotion_proba``: the hashed
    features are summed against both models' weights side by side in one sparse product."""
    mdl = model or default_model()
    n = len(texts)
    rows, keys, scale, dense = _parts(texts, mdl.bits, mdl.lex)
    both = emo is not None and emo.bits == mdl.bits
    lin = _row_sums(rows, keys, _stacked(mdl, emo) if both else _stacked(mdl), n)
    p = proba_from_parts(mdl, rows, keys, scale, dense, lin[:, :3])
    pe = emo.proba_from_sums(lin[:, 3:], scale) if both else None  # type: ignore[union-attr]
    return LABELS[p.argmax(axis=1)], (p[:, 2] - p[:, 0]).astype(np.float64), pe


def _signals(tbl: pa.Table, model: LinearModel | None, model_name: str, detect_language: str = "missing",
             emotion: bool = True) -> pa.Table:
    """The post_signals columns of one batch (post_key, text, lang) — all array operations."""
    text = tbl.column("text").combine_chunks()
    n = len(text)
    has = pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(text), ""), False).to_numpy(zero_copy_only=False)
    idx = np.flatnonzero(has)
    label = np.full(n, None, dtype=object)
    score = np.full(n, np.nan)
    emo_label = np.full(n, None, dtype=object)
    emo_score = np.full(n, np.nan)
    if len(idx):
        lab, sc, pe = _scores(text.take(pa.array(idx)).to_pylist(), model,
                              default_emotion_model() if emotion else None)
        label[idx] = lab
        score[idx] = sc
        if pe is not None:  # emotion: English (or untagged) posts only — the model learnt English tweets
            lg = tbl.column("lang").combine_chunks().take(pa.array(idx))
            en = pc.fill_null(pc.starts_with(pc.utf8_lower(pc.cast(lg, pa.string())), "en"), True)
            en = en.to_numpy(zero_copy_only=False)
            best = pe.argmax(axis=1)
            emo_label[idx[en]] = EMOTIONS[best[en]]
            emo_score[idx[en]] = pe[np.arange(len(best)), best][en]
    return pa.table({
        "post_key": tbl.column("post_key"),
        "sentiment_label": pa.array(label, pa.string()),
        "sentiment_score": pa.array(score, pa.float64(), mask=~has),
        "is_question": question_flags(text, tbl.column("lang").combine_chunks()),
        "lang": tbl.column("lang"),
        "lang_detected": _detected(text, tbl.column("lang").combine_chunks(), has, detect_language),
        "emotion": pa.array(emo_label, pa.string()),
        "emotion_score": pa.array(emo_score, pa.float64(), mask=np.isnan(emo_score)),
        "model": pa.array(np.full(n, model_name, dtype=object), pa.string()),
    })


def _has_table(store: Any) -> bool:
    return has_table(store.con, "post_signals")


def enrich(store: Any, *, batch: int = DEFAULT_BATCH, force: bool = False,
           progress: Callable[[int, int], None] | None = None, model: LinearModel | None = None,
           model_name: str | None = None, detect_language: str = "missing", emotion: bool = True,
           topics: bool = True) -> dict[str, Any]:
    """Compute and store the text signals of every post that has none yet (all posts with ``force``).

    Batches of ``batch`` posts are read, scored and inserted one after the other, so memory stays
    bounded whatever the store's size. ``progress(done, total)`` is called after each batch.
    ``detect_language``: "missing" (default) detects the language of the posts whose source gave none
    (``lang_detected``; the detector runs at ~13 k texts/s, too slow to re-check every post within the
    100 k posts/s budget), "all" every post with text, "none" never. ``emotion``: anger / joy / optimism /
    sadness and its probability for English (or untagged) posts (``socialleads.listen.emotion``).
    ``topics``: when a topic model is stored (``leads topics``), posts without a topic get one
    (``socialleads.listen.topics.assign_new``, no refit); its result is under ``"topics"``.
    Returns ``{posts, computed, with_text, negative, neutral, positive, questions, batches,
    seconds, posts_per_s, model}`` (``posts`` = rows in posts; the other counts are of this run).
    """
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise EnrichError(f"batch must be a whole number >= 1 (got {batch!r})")
    if detect_language not in ("missing", "all", "none"):
        raise EnrichError(f"detect_language must be 'missing', 'all' or 'none' (got {detect_language!r})")
    if not _has_table(store):
        raise EnrichError("this workspace has no post_signals table: open it read-write once to migrate it")
    con = store.con
    name = model_name or (DEFAULT_MODEL_NAME if model is None else "custom")
    t0 = time.perf_counter()
    if force:
        con.execute("DELETE FROM post_signals").fetchall()
    total_posts = int(con.execute("SELECT count(*) FROM posts").fetchall()[0][0])
    todo = int(con.execute("SELECT count(*) FROM posts p ANTI JOIN post_signals s USING (post_key)")
               .fetchall()[0][0])
    counts = {"computed": 0, "with_text": 0, "negative": 0, "neutral": 0, "positive": 0, "questions": 0}
    view = f"leads_signals_{uuid.uuid4().hex}"
    batches = 0
    if progress:
        progress(0, todo)
    # The posts to score are read once, as one streamed query on a second connection (its snapshot is
    # taken before the first insert), so each batch costs its own size — not a new anti-join over a
    # growing post_signals table, which made the whole run quadratic in the number of posts.
    reader = con.cursor()
    stream = reader.sql("SELECT p.post_key, p.text, p.lang FROM posts p ANTI JOIN post_signals s USING (post_key)"
                        ).to_arrow_reader(batch)
    for rb in stream:
        tbl = pa.Table.from_batches([rb])
        if tbl.num_rows == 0:
            continue
        sig = _signals(tbl, model, name, detect_language, emotion)
        con.register(view, sig)
        try:
            con.execute(f'INSERT INTO post_signals (post_key, sentiment_label, sentiment_score, is_question, lang, '
                        f'lang_detected, emotion, emotion_score, model, computed_at) SELECT post_key, sentiment_label, '
                        f'sentiment_score, is_question, lang, lang_detected, emotion, emotion_score, model, '
                        f'now()::TIMESTAMP FROM "{view}"').fetchall()
        finally:
            con.unregister(view)
        batches += 1
        counts["computed"] += sig.num_rows
        lab = sig.column("sentiment_label")
        counts["with_text"] += sig.num_rows - lab.null_count
        vc = pc.value_counts(lab.drop_null()).to_pylist() if lab.null_count < len(lab) else []
        for item in vc:
            counts[item["values"]] += int(item["counts"])
        counts["questions"] += int(pc.sum(pc.cast(sig.column("is_question"), pa.int64())).as_py() or 0)
        if progress:
            progress(counts["computed"], todo)
    reader.close()
    secs = time.perf_counter() - t0
    out = {"posts": total_posts, **counts, "batches": batches, "seconds": round(secs, 3),
           "posts_per_s": round(counts["computed"] / secs, 1) if secs > 0 and counts["computed"] else None,
           "model": name}
    if topics:
        from socialleads.listen.topics import assign_new

        out["topics"] = assign_new(store)
    return out
