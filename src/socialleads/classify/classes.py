"""Content classes per post (METRICS.md §5 "content classes"), rule based and vectorized.

Six classes: thought-leadership, how-to, promotional, curation, conversational, personal (the
definitions and the decision rules are those of docs/content-classes-labelling.md). Each post gets
exactly one class, the first rule that fires in this order:

 1. a repost (no own text)                                          → curation      (0.95)
 2. a reply to someone else (not a self-thread), or opens with @name → conversational (0.80),
    unless it holds numbered steps                                    → how-to        (0.60)
 3. a link to one of the brand's domains, or a product term (config brand) → promotional (0.85),
    unless it reads as a how-to (→ how-to, 0.75) or carries an opinion marker and no offer
    language (→ thought-leadership, 0.70): a guide that uses the product is not an advert
 4. offer language ("sign up", "% off", "now available", "apply for", "my new …")
                                                                     → promotional   (0.70)
 5. how-to language ("how to", "tip:", "step by step", numbered steps, an opening imperative)
                                                                     → how-to        (0.70)
 6. a quote, or a link, with few own words and no opinion marker    → curation      (0.75)
 7. a question put to the audience ("anyone …?", "what do you …?")  → conversational (0.60)
 8. opinion / insight markers ("I think", "should", "the problem is", "lesson", "because")
                                                                     → thought-leadership (0.65)
 9. personal-life markers (family, today/tonight, feelings, lol, emoji of feeling)
                                                                     → personal      (0.60)
10. fallbacks: a link → curation (0.50); 140+ own characters → thought-leadership (0.45);
    else personal (0.40).

Every test is an RE2 regular expression run by ``pyarrow.compute`` over a whole batch, and the
rule order is one ``numpy.select``: there is no Python loop per post. ``classify_posts`` reads the
posts that have no row yet in ``post_classes`` (migration 008) in batches and inserts one row per post.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from socialleads.errors import LeadsError
from socialleads.store.db import has_table

CLASSES = ("thought-leadership", "how-to", "promotional", "curation", "conversational", "personal")
MODEL = "rules-v1"
DEFAULT_BATCH = 250_000
PARALLEL_MIN = 20_000  # from this many posts a batch is classified as two halves on two threads

URL = r"https?://\S+|www\.\S+|\{\{URL\}\}"
MENTION = r"(^|\s)[@＠][\w.\-@]+"
HASHTAG = r"(^|\s)#\S+"
QUOTE_LINK = r"(twitter\.com|x\.com)/\w+/status/|bsky\.app/profile/[^/]+/post/|/@\w+/\d{6,}"
OFFER = (r"(\b(buy|order now|shop now|on sale|sale ends|discount|coupon|promo code|pre-?order|sign up|signup|"
         r"register( now| here| today|ation)|apply (now|for|by|here|today)|join us|join our|rsvp|get your tickets?|"
         r"free trial|try it free|limited time|deadline|back in stock|ships within|now available|available now|"
         r"out now|just released|new release|(we|i) (just )?launched|launching|introducing|subscribe|webinar|"
         r"giveaway|learn more|check out (our|my)|come see|see my|my new|our new|our latest|my latest|"
         r"new (post|video|episode|album|record|book|article|blog post)|now open|spots? (left|still open)|"
         r"good news|new addition|(i'?m|we'?re) adding|is now (on|available|compatible|live|open|out))\b|"
         r"\d+ ?% off)")
HOWTO = (r"(\bhow[- ]to\b|^\s*(pro ?tip|tips?|guide|tutorial|psa|reminder)\b|"
         r"\b(tips? (for|on|to)|step[- ]by[- ]step|checklist|tutorial|walkthrough|cheat ?sheet|here'?s how|"
         r"quick ways?|ways to|in \w+ (easy |simple |quick )?steps)\b|"
         r"^\s*(#\S+\s+)*(use|try|make sure|don'?t forget|do not|remember to|avoid|pick|set up|install|consider|"
         r"everyone (who|should)|you (can|should))\b)")
CURATE = (r"\b(worth a (read|look|listen|watch)|must[- ]read|good read|great read|check (this|it) out|via @?\w+|"
          r"h/t|hat tip|recommended|good thread|great thread|great video|really worth)\b")
STEPS = r"(^|\s)1[.)]\s.+\s2[.)]\s|(^|\n)\s*[-•*]\s.+\n\s*[-•*]\s"
OPINION = (r"\b(i think|i believe|i suspect|i'?d argue|in my (view|opinion|experience)|imo|imho|my take|hot take|"
           r"unpopular opinion|our view|we think|we believe|the (problem|truth|key|lesson|point|issue|reason|"
           r"question) (is|with)|should(n'?t)?|must|needs? to|matters?|because|taught (me|us)|lessons?|"
           r"the industry|the future of|is why|it'?s (time|not about)|we need|nobody|no one|the real|"
           r"(is|are) (a|the) (joke|disgrace|gift|problem)|fun fact|interestingly|in fact|actually|"
           r"history|was (first )?(called|written|introduced|formed)|data shows)\b")
PERSONAL = (r"(\b(my (wife|husband|partner|son|daughter|kids?|children|family|mom|mum|dad|mother|father|"
            r"friends?|dog|cat|birthday|weekend|bike|house|home|life)|i'?m (so |really )?(tired|sad|happy|"
            r"excited|hungry|sick|bored|overwhelmed)|today|tonight|this morning|last night|yesterday|weekend|"
            r"lunch|dinner|breakfast|coffee|vacation|holiday|good (morning|night)|happy (birthday|friday|monday|"
            r"new year)|lol|lmao|haha+|omg|can'?t wait|i love|i hate|i miss|i want|i just|went to|feel(ing)?|"
            r"year[- ]old)\b|[😂😭🥺❤💕😍🤣😊🫶🥰🙏😅😩😑💅])")
AUDIENCE_Q = (r"\b(anyone|anybody|any of you|do you|would you|have you|what do you|what'?s your|what'?s the|"
              r"which|recommend|thoughts|of reddit|is there)\b")
MARKERS = r"(?i:http|www\.)|\{\{URL\}\}|[@＠#]"  # a superset of where URL, MENTION or HASHTAG can match
SHORT_OWN = 80        # own characters (without links, mentions, hashtags) below which a link/quote is curation
LONG_OWN = 140        # own characters above which an unmarked original counts as thought leadership


class ClassifyError(LeadsError):
    """Bad arguments to the classifier, or a store without the post_classes table."""


@dataclass(frozen=True)
class BrandCues:
    """What marks the brand's own promotion: product terms, own domains (from the config's brand)."""

    product_terms: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: Any) -> BrandCues:
        brand = getattr(config, "brand", None)
        if brand is None:
            return cls()
        return cls(tuple(getattr(brand, "product_terms", ()) or ()), tuple(getattr(brand, "domains", ()) or ()))

    def product_regex(self) -> str | None:
        terms = [t.strip() for t in self.product_terms if t and t.strip()]
        if not terms:
            return None
        return r"(^|\W)(" + "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)) + r")(\W|$)"

    def domain_regex(self) -> str | None:
        doms = [d.strip().lower().removeprefix("www.") for d in self.domains if d and d.strip()]
        if not doms:
            return None
        return r"(^|[/.@\s])(" + "|".join(re.escape(d) for d in sorted(doms, key=len, reverse=True)) + r")(\W|$)"


def _arr(x: Any, typ: pa.DataType, n: int, default: Any) -> pa.Array:
    if x is None:
        return pa.array(np.full(n, default), typ) if default is not None else pa.nulls(n, typ)
    a = x.combine_chunks() if isinstance(x, pa.ChunkedArray) else x if isinstance(x, pa.Array) else pa.array(x, typ)
    return pc.fill_null(pc.cast(a, typ), default) if default is not None else pc.cast(a, typ)


def _m(arr: pa.Array, pattern: str | None, ignore_case: bool = True) -> np.ndarray:
    if pattern is None:
        return np.zeros(len(arr), bool)
    return pc.fill_null(pc.match_substring_regex(arr, pattern, ignore_case=ignore_case), False).to_numpy(
        zero_copy_only=False)


def _count(arr: pa.Array, pattern: str) -> np.ndarray:
    return pc.fill_null(pc.count_substring_regex(arr, pattern, ignore_case=True), 0).to_numpy(
        zero_copy_only=False)


def _own_len(t: pa.Array) -> np.ndarray:
    """Characters of own text: URLs, mentions and hashtags replaced by a space, then trimmed.

    The three replacements run only on the posts that hold one of their markers ("http", "www.",
    "{{URL}}", "@", "＠", "#"); the others' own text is the trimmed text itself."""
    out = pc.fill_null(pc.utf8_length(pc.utf8_trim_whitespace(t)), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    idx = np.flatnonzero(_m(t, MARKERS, ignore_case=False))
    if len(idx):
        sub = t.take(pa.array(idx))
        own = pc.utf8_trim_whitespace(pc.replace_substring_regex(
            pc.replace_substring_regex(pc.replace_substring_regex(sub, URL, " "), MENTION, " "), HASHTAG, " "))
        out[idx] = pc.fill_null(pc.utf8_length(own), 0).to_numpy(zero_copy_only=False)
    return out


def _lit(arr: pa.Array, literal: str, ignore_case: bool = False) -> np.ndarray:
    return pc.fill_null(pc.match_substring(arr, literal, ignore_case=ignore_case), False).to_numpy(
        zero_copy_only=False)


def features(text: Any, kind: Any = None, links: Any = None, self_reply: Any = None,
             cues: BrandCues | None = None, *, skip_decided: bool = False) -> dict[str, np.ndarray]:
    """Boolean / numeric features of each post (arrays of the same length as ``text``).

    ``skip_decided``: the text features of the posts that rules 1–3 already decide (reposts, replies to
    others) are not computed — left False / 0, except ``steps`` — which does not change any class but
    saves the regular expressions on them (``classify_table`` uses it)."""
    t = _arr(text, pa.string(), len(text), None)  # nulls stay null: every test below reads null as no match
    n = len(t)
    k = _arr(kind, pa.string(), n, "original")
    lk = _arr(links, pa.string(), n, "")
    sr = _arr(self_reply, pa.bool_(), n, False).to_numpy(zero_copy_only=False)
    cues = cues or BrandCues()
    kind_np = k.to_numpy(zero_copy_only=False)
    f: dict[str, np.ndarray] = {
        "n": np.int64(n),
        "repost": (kind_np == "repost") | pc.fill_null(pc.starts_with(t, "RT @"), False).to_numpy(
            zero_copy_only=False),
        "reply": kind_np == "reply",
        "quote": (kind_np == "quote") | _m(lk, QUOTE_LINK),
        "self_reply": sr,
        "starts_at": _m(t, r"^\s*[@＠]\w"),
    }
    reply_other = (f["reply"] & ~sr) | f["starts_at"]
    # one pass per feature, each only over the posts whose class can still depend on it
    need = ~(f["repost"] | reply_other) if skip_decided else np.ones(n, bool)
    idx = np.flatnonzero(need)
    ts, ls = (t, lk) if len(idx) == n else (t.take(pa.array(idx)), lk.take(pa.array(idx)))
    steps_rows = np.flatnonzero(need | (reply_other & ~f["repost"])) if skip_decided else idx
    f["steps"] = _scatter(n, steps_rows, _m(t if len(steps_rows) == n else t.take(pa.array(steps_rows)), STEPS))
    dom = cues.domain_regex()
    n_opinion, n_personal = _count(ts, OPINION), _count(ts, PERSONAL)
    own_len = _own_len(ts)
    has_q = _lit(ts, "?") & (own_len < 200)
    q_rows = np.flatnonzero(has_q)
    question = np.zeros(len(idx), bool)
    if len(q_rows):
        question[q_rows] = _m(ts.take(pa.array(q_rows)), AUDIENCE_Q)
    sub = {
        "has_link": _m(ls, r"\S") | _m(ts, URL),
        "own_domain": _m(ls, dom) | _m(ts, dom),
        "product": _m(ts, cues.product_regex()),
        "offer": _m(ts, OFFER),
        "howto": _m(ts, HOWTO),
        "opinion": n_opinion > 0,
        "personal": n_personal > 0,
        "n_opinion": n_opinion,
        "n_personal": n_personal,
        "curate": _m(ts, CURATE),
        "question": question,
        "own_len": own_len,
    }
    for key, v in sub.items():
        f[key] = _scatter(n, idx, v)
    return f


def _scatter(n: int, idx: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Values of a subset (rows `idx`) placed into an array of length n (False / 0 elsewhere)."""
    if len(idx) == n:
        return values
    out = np.zeros(n, values.dtype)
    out[idx] = values
    return out


def classify_features(f: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(class, confidence, rule number) per post from :func:`features` — the rule order of the module doc."""
    n = int(f["n"])
    reply_other = (f["reply"] & ~f["self_reply"]) | f["starts_at"]
    short = f["own_len"] < SHORT_OWN
    brand = f["own_domain"] | f["product"]
    rules = [
        (f["repost"], "curation", 0.95),
        (reply_other & f["steps"], "how-to", 0.60),
        (reply_other, "conversational", 0.80),
        (brand & (f["howto"] | f["steps"]), "how-to", 0.75),
        (brand & f["opinion"] & ~f["offer"], "thought-leadership", 0.70),
        (brand, "promotional", 0.85),
        (f["offer"], "promotional", 0.70),
        (f["howto"] | f["steps"], "how-to", 0.70),
        ((f["quote"] | f["has_link"]) & short & ~f["opinion"], "curation", 0.75),
        (f["curate"], "curation", 0.70),
        (f["question"], "conversational", 0.60),
        (f["personal"] & (f["n_personal"] >= f["n_opinion"]), "personal", 0.60),
        (f["opinion"], "thought-leadership", 0.65),
        (f["has_link"], "curation", 0.50),
        (f["own_len"] >= LONG_OWN, "thought-leadership", 0.45),
    ]
    conds = [c for c, _, _ in rules]
    cls = np.select(conds, [c for _, c, _ in rules], default="personal").astype(object)
    conf = np.select(conds, [p for _, _, p in rules], default=0.40)
    rule = np.select(conds, np.arange(1, len(rules) + 1), default=len(rules) + 1)
    if n != len(cls):  # pragma: no cover - guards a shape mistake
        raise ClassifyError("feature arrays of different lengths")
    return cls, conf, rule


def classify_table(tbl: pa.Table, cues: BrandCues | None = None) -> pa.Table:
    """Classes of a table of posts: columns text, and optionally kind, links, self_reply.

    Returns a table with ``class`` (string), ``confidence`` (double) and ``rule`` (int8) in the input order.
    """
    names = set(tbl.column_names)
    if "text" not in names:
        raise ClassifyError("classify_table needs a 'text' column")
    col = {c: (tbl.column(c) if c in names else None) for c in ("text", "kind", "links", "self_reply")}
    n = tbl.num_rows
    parts = [(0, n)] if n < PARALLEL_MIN else [(0, n // 2), (n // 2, n)]

    def run(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        sl = {c: (None if v is None else v.slice(lo, hi - lo)) for c, v in col.items()}
        return classify_features(features(sl["text"], sl["kind"], sl["links"], sl["self_reply"], cues,
                                          skip_decided=True))

    if len(parts) == 1:
        cls, conf, rule = run(0, n)
    else:  # pyarrow's regular expressions release the GIL: the two halves run on two cores
        with ThreadPoolExecutor(len(parts)) as ex:
            res = list(ex.map(lambda p: run(*p), parts))
        cls, conf, rule = (np.concatenate([r[i] for r in res]) for i in range(3))
    return pa.table({"class": pa.array(cls, pa.string()), "confidence": pa.array(conf, pa.float64()),
                     "rule": pa.array(rule.astype(np.int8), pa.int8())})


def classify_texts(texts: Iterable[str | None], kinds: Iterable[str | None] | None = None,
                   cues: BrandCues | None = None) -> list[str]:
    """Convenience: classes of a list of texts (and kinds)."""
    t = pa.array(list(texts), pa.string())
    cols: dict[str, pa.Array] = {"text": t}
    if kinds is not None:
        cols["kind"] = pa.array(list(kinds), pa.string())
    return classify_table(pa.table(cols), cues).column("class").to_pylist()


# -- the store -------------------------------------------------------------------------------------------

def has_classes_table(store: Any) -> bool:
    return has_table(store.con, "post_classes")


def _todo_statements(account_keys: list[str] | None, names: dict[str, str]) -> list[tuple[str, list]]:
    """The temp tables behind a run, in three steps (one query joining them all ran out of memory on
    10 M posts; each step alone spills): `sr` the keys of self-replies (a reply to a post of the same
    author), `lk` the links of each post, `todo` the posts without a class yet with their links and the
    self-reply flag."""
    where, params = "", []
    if account_keys is not None:
        where = "WHERE author_key IN (SELECT unnest(?::VARCHAR[]))"
        params = [list(account_keys)]
    mine = f"(SELECT post_key, author_key, reply_to_key, text, kind FROM posts {where})"
    sr, lk, todo = names["sr"], names["lk"], names["todo"]
    return [
        (f"""CREATE TEMP TABLE "{sr}" AS SELECT DISTINCT p.post_key FROM {mine} p
             JOIN posts par ON par.post_key = p.reply_to_key WHERE par.author_key = p.author_key""", params),
        (f"""CREATE TEMP TABLE "{lk}" AS SELECT post_key, string_agg(value, ' ') AS links FROM post_entities
             WHERE etype = 'link' {"AND post_key IN (SELECT post_key FROM " + mine + ")" if where else ""}
             GROUP BY post_key""", params),
        (f"""CREATE TEMP TABLE "{todo}" AS
             SELECT p.post_key, p.text, p.kind, l.links, (s.post_key IS NOT NULL) AS self_reply
             FROM {mine} p ANTI JOIN post_classes c ON c.post_key = p.post_key
             LEFT JOIN "{lk}" l ON l.post_key = p.post_key LEFT JOIN "{sr}" s ON s.post_key = p.post_key""",
         params),
    ]


def classify_posts(store: Any, config: Any = None, *, account_keys: list[str] | None = None,
                   batch: int = DEFAULT_BATCH, force: bool = False,
                   progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Classify and store every post with no row yet in ``post_classes`` (only ``account_keys``' posts
    when given; all of them again with ``force``). Idempotent: a second run adds nothing.

    Returns ``{posts, computed, by_class, batches, seconds, posts_per_s, model}``.
    """
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise ClassifyError(f"batch must be a whole number >= 1 (got {batch!r})")
    if not has_classes_table(store):
        raise ClassifyError("this workspace has no post_classes table: open it read-write once to migrate it")
    con = store.con
    cues = BrandCues.from_config(config)
    t0 = time.perf_counter()
    if force:
        if account_keys is None:
            con.execute("DELETE FROM post_classes").fetchall()
        else:
            con.execute("DELETE FROM post_classes WHERE post_key IN (SELECT post_key FROM posts "
                        "WHERE author_key IN (SELECT unnest(?::VARCHAR[])))", [list(account_keys)]).fetchall()
    # The posts to classify are materialized once (temp tables, which DuckDB spills to disk beyond its
    # memory limit), then read back in ranges of the rowid (dense 0..n-1, pushed down into the scan).
    uid = uuid.uuid4().hex
    names = {k: f"leads_classes_{k}_{uid}" for k in ("sr", "lk", "todo")}
    tmp = names["todo"]
    view = f"leads_classes_{uuid.uuid4().hex}"
    by_class = dict.fromkeys(CLASSES, 0)
    done = batches = 0
    try:
        for stmt, params in _todo_statements(account_keys, names):
            con.execute(stmt, params).fetchall()
        todo = int(con.execute(f'SELECT count(*) FROM "{tmp}"').fetchall()[0][0])
        if progress:
            progress(0, todo)
        for lo in range(0, todo, batch):
            tbl = con.sql(f'SELECT post_key, text, kind, links, self_reply FROM "{tmp}" '
                          'WHERE rowid >= ? AND rowid < ?', params=[lo, lo + batch]).to_arrow_table()
            if not tbl.num_rows:
                continue
            out = classify_table(tbl, cues)
            rows = pa.table({"post_key": tbl.column("post_key"), "class": out.column("class"),
                             "confidence": out.column("confidence")})
            con.register(view, rows)
            try:
                con.execute(f'INSERT INTO post_classes (post_key, class, confidence, model, computed_at) '
                            f'SELECT post_key, class, confidence, ?, now()::TIMESTAMP FROM "{view}"',
                            [MODEL]).fetchall()
            finally:
                con.unregister(view)
            for item in pc.value_counts(out.column("class")).to_pylist():
                by_class[item["values"]] += int(item["counts"])
            done += rows.num_rows
            batches += 1
            if progress:
                progress(done, todo)
    finally:
        for name in names.values():
            con.execute(f'DROP TABLE IF EXISTS "{name}"').fetchall()
    secs = time.perf_counter() - t0
    total = int(con.execute("SELECT count(*) FROM posts").fetchall()[0][0])
    return {"posts": total, "computed": done, "by_class": by_class, "batches": batches,
            "seconds": round(secs, 3), "posts_per_s": round(done / secs, 1) if secs > 0 and done else None,
            "model": MODEL}


def class_mix(store: Any, account_keys: list[str] | None = None) -> list[dict[str, Any]]:
    """Per account (the given ones, else every account with classified posts): posts classified,
    the count and share of each class. Sorted by posts, most first."""
    where, params = "", []
    if account_keys is not None:
        where = "WHERE p.author_key IN (SELECT unnest(?::VARCHAR[]))"
        params = [list(account_keys)]
    rows = con_rows(store, f"""
        SELECT p.author_key, any_value(a.handle) AS handle, c.class, count(*) AS n
        FROM post_classes c JOIN posts p USING (post_key)
        LEFT JOIN (SELECT account_key, any_value(handle) AS handle FROM accounts GROUP BY 1) a
               ON a.account_key = p.author_key
        {where} GROUP BY p.author_key, c.class""", params)
    acc: dict[str, dict[str, Any]] = {}
    for key, handle, cls, n in rows:
        d = acc.setdefault(key, {"account_key": key, "handle": handle, "posts": 0,
                                 "counts": dict.fromkeys(CLASSES, 0)})
        d["counts"][cls] = d["counts"].get(cls, 0) + int(n)
        d["posts"] += int(n)
    out = []
    for d in acc.values():
        d["shares"] = {c: round(v / d["posts"], 4) if d["posts"] else 0.0 for c, v in d["counts"].items()}
        out.append(d)
    out.sort(key=lambda d: (-d["posts"], d["account_key"]))
    return out


def con_rows(store: Any, sql: str, params: list | None = None) -> list[tuple]:
    return store.con.execute(sql, params or []).fetchall()
