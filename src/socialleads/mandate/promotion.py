"""Self-promotion ratio and cross-posting (METRICS.md §5), vectorized over the owner's posts.

Self-promotion: a post promotes O's own products or offers when it uses offer language (``OFFER_RE``:
"new", "offer", "20% off", "try it free", "back in stock", "meet the", "order", …) **and** names a
product (brand.product_terms) or links to one of O's domains (brand.domains), or when it links to a
shop/product page of O's domains. Offer language alone ("new prototypes in the lab") or a product
named in a how-to ("use the Hub to spot standby loads") is not promotion. Reposts are left out (no
text of O's own). The target ratio ≤ 0.2 is the "80/20 rule" of social media practice: a default, not
a law — set your own.

Cross-posting: a post is cross-posted when a near-duplicate appears on *another platform* of O within
24 h (either direction): the same text after `normalize_for_duplicates` (URLs, @mentions, #hashtags,
case and whitespace removed), or a TF-IDF cosine ≥ 0.9. Only originals and quotes count (a reply is
addressed to someone; a repost has no text of O's own), in the numerator and the denominator.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from socialleads.mandate.text import l2_rows, normalize_for_duplicates, tfidf

OFFER_RE = (r"(?i)(\bnew\b|\boffers?\b|\d+\s?% off|\bdiscount|\bsale\b|\bdeals?\b|\bbuy\b|\border\b|\bpre-?order|"
            r"\bin stock\b|\bships\b|\bfree trial\b|\btry it\b|\bfree for\b|\blaunch|\bintroducing\b|\bmeet the\b|"
            r"\bnow available\b|\bavailable now\b|\bcoupon|\bpromo code|\blimited time\b|\bonly\b.*\bweek\b|"
            r"\bthis week only\b|\bshop now\b|\bget yours\b)")
SHOP_PATH_RE = r"(?i)/(shop|store|products?|pricing|buy|checkout|cart)(/|\?|$)"
CROSS_POST_HOURS = 24.0
CROSS_POST_SIMILARITY = 0.9


def _contains_any(texts: pa.Array, terms: tuple[str, ...]) -> np.ndarray:
    if not terms:
        return np.zeros(len(texts), bool)
    low = pc.utf8_lower(pc.fill_null(texts, ""))
    hit = np.zeros(len(texts), bool)
    for t in terms:  # one vectorized pass per declared term (a handful)
        hit |= pc.match_substring(low, t.lower()).to_numpy(zero_copy_only=False)
    return hit


def _link_flags(links: pa.ChunkedArray | pa.Array, domains: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Per post: links to an own domain (host = domain or a sub-domain), and to a shop page of one."""
    arr = links.combine_chunks() if isinstance(links, pa.ChunkedArray) else links
    n = len(arr)
    own, shop = np.zeros(n, bool), np.zeros(n, bool)
    if not domains or not n:
        return own, shop
    flat = pc.list_flatten(arr)
    if not len(flat):
        return own, shop
    parent = pc.list_parent_indices(arr).to_numpy()
    host = pc.utf8_lower(pc.extract_regex(flat, r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*://)?(?P<h>[^/?#:]+)").field("h"))
    host = pc.replace_substring_regex(host, r"^www\.", "")
    is_own = np.zeros(len(flat), bool)
    for d in domains:
        d = d.lower()
        m = pc.or_(pc.equal(host, d), pc.ends_with(host, "." + d))
        is_own |= pc.fill_null(m, False).to_numpy(zero_copy_only=False)
    is_shop = is_own & pc.fill_null(pc.match_substring_regex(flat, SHOP_PATH_RE), False).to_numpy(
        zero_copy_only=False)
    np.logical_or.at(own, parent, is_own)
    np.logical_or.at(shop, parent, is_shop)
    return own, shop


def self_promotion(posts: pa.Table, brand: Any) -> dict[str, Any]:
    """The self-promotion ratio over O's non-repost posts (see the module docstring)."""
    kind = np.asarray(posts["kind"].to_pylist(), dtype=object)
    p = posts.take(pa.array(np.flatnonzero(kind != "repost"), pa.int64()))
    n = p.num_rows
    products = tuple(getattr(brand, "product_terms", ()) or ())
    domains = tuple(getattr(brand, "domains", ()) or ())
    texts = p["text"].combine_chunks().cast(pa.string()) if n else pa.array([], pa.string())
    offer = pc.fill_null(pc.match_substring_regex(pc.fill_null(texts, ""), OFFER_RE), False).to_numpy(
        zero_copy_only=False) if n else np.zeros(0, bool)
    product = _contains_any(texts, products)
    own, shop = _link_flags(p["links"], domains) if n else (np.zeros(0, bool), np.zeros(0, bool))
    promo = (offer & (product | own)) | shop
    reason = None if (products or domains) else "no brand.product_terms or brand.domains in leads.toml"
    keys = p["post_key"].to_pylist()
    return {"posts": n, "promotional": int(promo.sum()),
            "self_promotion_ratio": float(promo.mean()) if n and reason is None else None,
            "reason": reason, "flags": promo, "post_key": keys,
            "examples": [keys[i] for i in np.flatnonzero(promo)[:10].tolist()]}


def cross_posting(posts: pa.Table, *, hours: float = CROSS_POST_HOURS,
                  similarity: float = CROSS_POST_SIMILARITY) -> dict[str, Any]:
    """Share of O's originals and quotes with a near-duplicate on another of O's platforms within `hours`."""
    kind = np.asarray(posts["kind"].to_pylist(), dtype=object)
    p = posts.take(pa.array(np.flatnonzero((kind == "original") | (kind == "quote")), pa.int64()))
    n = p.num_rows
    if n == 0:
        return {"posts": 0, "cross_posted": 0, "cross_post_share": None, "groups": 0, "flags": np.zeros(0, bool),
                "post_key": [], "pairs": 0}
    t = p["created_at"].to_numpy().astype("datetime64[s]").astype(np.int64)
    order = np.argsort(t, kind="stable")
    p = p.take(pa.array(order, pa.int64()))
    t = t[order]
    plat = pc.dictionary_encode(pc.fill_null(p["platform"].combine_chunks(), "")).indices.to_numpy()
    texts = p["text"].combine_chunks().cast(pa.string())
    norm = pc.fill_null(normalize_for_duplicates(texts), "")
    code = pc.dictionary_encode(norm).indices.to_numpy()
    empty = pc.equal(norm, "").to_numpy(zero_copy_only=False)
    # candidate pairs (i < j) within the time window: every j in (i, hi_i)
    hi = np.searchsorted(t, t + int(hours * 3600), side="right")
    cnt = hi - np.arange(n) - 1
    a = np.repeat(np.arange(n), cnt)
    b = a + 1 + (np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt))
    ok = (plat[a] != plat[b]) & ~empty[a] & ~empty[b]
    a, b = a[ok], b[ok]
    same = code[a] == code[b]
    if (~same).any():
        x = l2_rows(tfidf(texts).matrix)
        rest = np.flatnonzero(~same)
        sims = np.asarray(x[a[rest]].multiply(x[b[rest]]).sum(axis=1)).ravel()
        same[rest] = sims >= similarity
    a, b = a[same], b[same]
    flags = np.zeros(n, bool)
    flags[a] = True
    flags[b] = True
    # groups: connected components of the duplicate pairs
    groups = 0
    if len(a):
        import scipy.sparse as sp
        from scipy.sparse.csgraph import connected_components

        g = sp.coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
        _, lab = connected_components(g, directed=False)
        groups = int(len(np.unique(lab[flags])))
    return {"posts": n, "cross_posted": int(flags.sum()), "cross_post_share": float(flags.mean()),
            "groups": groups, "pairs": int(len(a)), "flags": flags, "post_key": p["post_key"].to_pylist(),
            "hours": hours, "similarity": similarity}


__all__ = ["CROSS_POST_HOURS", "CROSS_POST_SIMILARITY", "OFFER_RE", "cross_posting", "self_promotion"]
