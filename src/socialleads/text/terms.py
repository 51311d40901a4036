"""Distinctive terms: the stop-word list and class-based TF-IDF (c-TF-IDF), shared by topics
(``socialleads.listen.topics``) and communities (``socialleads.graph.communities``).

c-TF-IDF is BERTopic's class-based TF-IDF (Grootendorst 2022): the documents of a class are treated as
one document, so a term scores high when it is frequent in the class and rare overall:

    score(t, c) = n_tc / N_c · ln(1 + A / f_t)

n_tc = occurrences of t in class c, N_c = Σ_t n_tc, f_t = occurrences of t in all classes given,
A = mean N_c over the classes. communities.py computes the same formula in SQL over a store;
`c_tf_idf` is its array form over a (classes × terms) count matrix.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

#: A small English stop-word list for top terms (function words, pronouns, auxiliaries, and the web
#: noise left after removing URLs and @handles).
STOP_WORDS = frozenset("""
a about above after again against all also am an and any are aren't as at be because been before being
below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down
during each few for from further get got had hadn't has hasn't have haven't having he he'd he'll he's her
here here's hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't it it's its
itself just let's like me more most much mustn't my myself no nor not now of off on once one only or other
ought our ours ourselves out over own rt same shan't she she'd she'll she's should shouldn't so some such
than that that's the their theirs them themselves then there there's these they they'd they'll they're
they've this those through to too under until up us very via was wasn't we we'd we'll we're we've were
weren't what what's when when's where where's which while who who's whom why why's will with won't would
wouldn't you you'd you'll you're you've your yours yourself yourselves amp http https www com
""".split())


def c_tf_idf(counts: Any) -> np.ndarray:
    """c-TF-IDF scores (classes × terms, dense float64) of a (classes × terms) count matrix.

    Classes with no term get a row of zeros; terms that occur nowhere score 0.
    """
    m = sp.csr_matrix(counts, dtype=np.float64)
    n_c = np.asarray(m.sum(axis=1)).ravel()
    f_t = np.asarray(m.sum(axis=0)).ravel()
    nonempty = n_c > 0
    a = float(n_c[nonempty].mean()) if nonempty.any() else 0.0
    idf = np.where(f_t > 0, np.log1p(a / np.maximum(f_t, 1e-300)), 0.0)
    tf = m.multiply(1.0 / np.where(nonempty, n_c, 1.0)[:, None]).toarray()
    return tf * idf[None, :]


def top_terms(counts: Any, vocabulary: np.ndarray | list[str], top: int = 5) -> list[list[dict[str, Any]]]:
    """Per class, up to `top` terms by c-TF-IDF (ties by term): ``{term, count, score}``; terms with a
    zero count in the class are never listed."""
    m = sp.csr_matrix(counts, dtype=np.float64)
    voc = np.asarray(vocabulary, dtype=object)
    score = c_tf_idf(m)
    dense = m.toarray()
    out: list[list[dict[str, Any]]] = []
    for c in range(score.shape[0]):  # one iteration per class (few)
        cand = np.flatnonzero(dense[c] > 0)
        order = cand[np.lexsort((voc[cand].astype(str), -score[c, cand]))][:top]
        out.append([{"term": str(voc[i]), "count": int(dense[c, i]), "score": float(score[c, i])} for i in order])
    return out


__all__ = ["STOP_WORDS", "c_tf_idf", "top_terms"]
