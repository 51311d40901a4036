"""Lexical text vectors for the Social mandate (METRICS.md §5): normalization, tokens, a light stemmer and
TF-IDF, all vectorized with pyarrow.compute and scipy.sparse (no Python loop per post).

Why lexical by default: it needs no download, runs at hundreds of thousands of texts per second, and a
principle is usually *said* in its own words ("Build hardware people can repair"). The stemmer only
runs over the distinct words of a corpus (its vocabulary), never per post.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from socialleads.graph.communities import STOP_WORDS

URL_RE = r"(?i)(https?://|www\.)\S+"
MENTION_RE = r"(^|[^\p{L}\p{N}_])@[\p{L}\p{N}_.@-]+"
HASHTAG_RE = r"(^|[^\p{L}\p{N}_])#[\p{L}\p{N}_]+"
_SPLIT_RE = r"[^\p{L}\p{N}']+"
_SUFFIXES = ("ational", "ization", "fulness", "iveness", "ations", "ation", "ments", "ment", "ness", "ings",
             "ing", "edly", "ies", "ied", "ers", "er", "ed", "ly", "es", "s")


def _arr(texts: Sequence[str | None] | pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(texts, pa.ChunkedArray):
        return texts.combine_chunks() if texts.num_chunks else pa.array([], pa.string())
    if isinstance(texts, pa.Array):
        return texts
    return pa.array(list(texts), pa.string())


def normalize_for_duplicates(texts: Sequence[str | None] | pa.Array | pa.ChunkedArray) -> pa.Array:
    """The cross-posting normal form (METRICS.md §5): URLs, @mentions and #hashtags removed, lower case,
    runs of whitespace collapsed, trimmed. Null stays null."""
    t = _arr(texts)
    t = pc.replace_substring_regex(t, URL_RE, " ")
    t = pc.replace_substring_regex(t, MENTION_RE, "\\1 ")
    t = pc.replace_substring_regex(t, HASHTAG_RE, "\\1 ")
    t = pc.utf8_lower(t)
    t = pc.replace_substring_regex(t, r"\s+", " ")
    return pc.utf8_trim_whitespace(t)


def stem(word: str) -> str:
    """A light English suffix stripper (plural, -ing, -ed, -ly, -ation, -ment, …): 'repairs',
    'repairing', 'repaired' → 'repair'. Leaves words of 4 letters or fewer alone."""
    if len(word) <= 4 or not word.isalpha():
        return word
    for suf in _SUFFIXES:
        if word.endswith(suf) and len(word) - len(suf) >= 3:
            base = word[: -len(suf)]
            if suf in ("ies", "ied"):
                return base + "y"
            if suf in ("ing", "ed", "edly", "er", "ers", "ings") and len(base) > 3 and base[-1] == base[-2] \
                    and base[-1] not in "lsz":
                base = base[:-1]  # running -> run
            return base
    return word


def tokenize(texts: Sequence[str | None] | pa.Array | pa.ChunkedArray, *, stop_words: frozenset[str] = STOP_WORDS,
             strip_hashtag_sign: bool = True) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(doc index, term id, vocabulary) of every kept token: URLs and @mentions dropped, '#' dropped from
    hashtags (their word kept), lower-cased, split on non-letters/digits, stop words and 1-letter tokens
    dropped, stemmed. Term ids index the returned (sorted) vocabulary of stems."""
    t = _arr(texts)
    t = pc.fill_null(t, "")
    t = pc.replace_substring_regex(t, URL_RE, " ")
    t = pc.replace_substring_regex(t, MENTION_RE, "\\1 ")
    if strip_hashtag_sign:
        t = pc.replace_substring(t, "#", " ")
    t = pc.utf8_lower(t)
    parts = pc.split_pattern_regex(t, _SPLIT_RE)
    flat = pc.list_flatten(parts)
    doc = pc.list_parent_indices(parts).to_numpy().astype(np.int64)
    flat = pc.utf8_trim(flat, "'")
    keep = pc.and_(pc.greater_equal(pc.utf8_length(flat), 2),
                   pc.invert(pc.is_in(flat, value_set=pa.array(sorted(stop_words), pa.string()))))
    keep_np = keep.to_numpy(zero_copy_only=False)
    flat, doc = pc.filter(flat, keep), doc[keep_np]
    if not len(flat):
        return doc, np.zeros(0, np.int64), []
    enc = pc.dictionary_encode(flat)
    words = enc.dictionary.to_pylist()
    stems = [stem(w) for w in words]                       # one call per distinct word
    vocab = sorted(set(stems))
    pos = {s: i for i, s in enumerate(vocab)}
    word_to_term = np.array([pos[s] for s in stems], np.int64)
    return doc, word_to_term[enc.indices.to_numpy()], vocab


@dataclass(frozen=True)
class TfIdf:
    """L2-normalized TF-IDF rows (sublinear tf 1 + ln n, smooth idf ln((1 + N)/(1 + df)) + 1)."""

    matrix: sp.csr_matrix
    vocab: list[str]
    idf: np.ndarray


def tfidf(texts: Sequence[str | None] | pa.Array | pa.ChunkedArray, *, fit_rows: np.ndarray | None = None) -> TfIdf:
    """TF-IDF of `texts`; the idf is fitted on `fit_rows` (default: all rows)."""
    arr = _arr(texts)
    n = len(arr)
    doc, term, vocab = tokenize(arr)
    m = sp.csr_matrix((np.ones(len(doc)), (doc, term)), shape=(n, len(vocab)))
    m.sum_duplicates()
    m.data = 1.0 + np.log(m.data)
    fit = m if fit_rows is None else m[fit_rows]
    df = np.asarray((fit > 0).sum(axis=0)).ravel()
    idf = np.log((1.0 + fit.shape[0]) / (1.0 + df)) + 1.0
    m = sp.csr_matrix(m.multiply(idf[None, :]))
    return TfIdf(l2_rows(m), vocab, idf)


def l2_rows(m: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.csr_matrix(sp.diags(inv) @ m)


def cosine(a: sp.csr_matrix, b: sp.csr_matrix) -> np.ndarray:
    """Dense cosine similarities of L2-normalized rows of a against rows of b (b is small)."""
    return np.asarray((a @ b.T).toarray())


__all__ = ["HASHTAG_RE", "MENTION_RE", "URL_RE", "TfIdf", "cosine", "l2_rows", "normalize_for_duplicates", "stem",
           "tfidf", "tokenize"]
