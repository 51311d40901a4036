"""The owner's posting schedule, planned up front (it is small: at most a few thousand posts a year).

Classes: promotional, how-to, thought leadership, conversational (replies), curation (reposts and
quotes), personal. Originals are cross-posted to the owner's other platforms within 24 h with small
edits; thought leadership (and some how-to / promotional posts) use the words of a declared principle;
links to the owner's domains carry UTM tags whose ``utm_content`` names the owner post.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from socialleads.simulate import text as tx
from socialleads.simulate.world import BRAND, DAY, END, PLATFORMS

CLASSES = ("promotional", "how-to", "thought-leadership", "conversational", "curation", "personal")
PROMO, HOWTO, THOUGHT, CONV, CURATION, PERSONAL = range(6)
CLASS_P = (0.14, 0.16, 0.16, 0.30, 0.12, 0.12)
OWNER_SEQ_BASE = 1 << 40
CAMPAIGNS = ("winter-savings", "spring-launch", "summer-solar", "autumn-pro")
PRODUCT_SLUGS = {"Voltwise Hub": "hub", "Voltwise Meter": "meter", "Voltwise Cloud": "cloud", "Voltwise Pro": "pro"}


@dataclass
class OwnerPlan:
    t: np.ndarray          # int64, sorted
    platform: np.ndarray   # int8 (0..2; the owner account index equals the platform)
    cls: np.ndarray        # int8 class
    kind: np.ndarray       # int8: 0 original, 1 reply, 2 repost, 3 quote
    topic: np.ndarray      # int8
    group: np.ndarray      # int64 cross-post group id, -1 = none
    aligned: np.ndarray    # bool (uses a principle's words)
    principle: np.ndarray  # int8 principle index, -1 = none
    body: list[str]        # text without the reply mention ("" for reposts)
    tags: list[tuple[str, ...]]
    link: list[str | None]  # full URL with UTM tags
    campaign: list[str | None]
    token: list[str]

    @property
    def seq(self) -> np.ndarray:
        return OWNER_SEQ_BASE + np.arange(len(self.t), dtype=np.int64)


def _time(rng: np.random.Generator, start: int, n: int) -> np.ndarray:
    """Owner posting times: any day, mostly during European/American working hours."""
    days = (rng.random(n) * ((END + 1 - start) // DAY)).astype(np.int64)
    hour = rng.choice(24, size=n, p=_OWNER_HOURS)
    return start + days * DAY + hour * 3600 + rng.integers(0, 3600, n)


_h = np.array([1, 1, 1, 1, 1, 2, 3, 5, 8, 9, 9, 9, 9, 9, 9, 9, 9, 8, 7, 5, 4, 3, 2, 1], float)
_OWNER_HOURS = _h / _h.sum()


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    """``rng.choice(options)`` (the same draw), without its per-call array conversion."""
    return options[int(rng.integers(0, len(options)))]


def owner_post_count(posts: int, cap: int = 6000) -> int:
    return int(min(max(round(0.03 * posts), min(40, posts // 5)), cap))


def plan_owner(rng: np.random.Generator, posts: int, days: int, crisis: tuple[int, int],
               cap: int = 6000) -> OwnerPlan:
    start = END + 1 - days * DAY
    n_base = owner_post_count(posts, cap)
    cls = rng.choice(6, size=n_base, p=CLASS_P).astype(np.int8)
    plat = rng.choice(3, size=n_base, p=(0.5, 0.3, 0.2)).astype(np.int8)
    t = _time(rng, start, n_base)
    # the brand answers during the crisis (a handful of conversational replies inside the window)
    conv = np.flatnonzero(cls == CONV)
    n_cr = min(len(conv) // 4, 12)
    if n_cr:
        c0, c1 = crisis
        t[conv[:n_cr]] = c0 + 1800 + (rng.random(n_cr) * max(c1 - c0 - 1800, 1)).astype(np.int64)
    # the newest owner post is at END, so the data ends at a known instant
    t[-1], cls[-1], plat[-1] = END, THOUGHT, 0
    topic = rng.choice(len(tx.TOPICS), size=n_base, p=_TOPIC_P).astype(np.int8)
    kind = np.zeros(n_base, np.int8)
    kind[cls == CONV] = 1
    cur = cls == CURATION
    kind[cur] = np.where(rng.random(int(cur.sum())) < 0.5, 2, 3)

    # cross-posting of originals within 24 h -----------------------------------------------------------
    orig = np.flatnonzero((kind == 0) & (np.arange(n_base) < n_base - 1))
    crossed = orig[rng.random(len(orig)) < 0.35]
    src, cp_plat, cp_t = [], [], []
    for i in crossed.tolist():
        others = [p for p in range(3) if p != plat[i]]
        k = 1 if rng.random() < 0.6 else 2
        for p in rng.permutation(others)[:k].tolist():
            tc = int(t[i]) + int(rng.integers(300, 20 * 3600))
            if tc < END:
                src.append(i)
                cp_plat.append(p)
                cp_t.append(tc)
    src_a = np.array(src, np.int64)
    group = np.full(n_base, -1, np.int64)
    group[np.unique(src_a)] = np.unique(src_a)
    all_t = np.concatenate([t, np.array(cp_t, np.int64)])
    all_p = np.concatenate([plat, np.array(cp_plat, np.int8)])
    origin = np.concatenate([np.arange(n_base), src_a])          # which base item a row copies
    is_copy = np.concatenate([np.zeros(n_base, bool), np.ones(len(src_a), bool)])
    order = np.lexsort((np.arange(len(all_t)), all_t))
    all_t, all_p, origin, is_copy = all_t[order], all_p[order], origin[order], is_copy[order]

    # texts of the base items --------------------------------------------------------------------------
    principles = BRAND["principles"]
    products = BRAND["product_terms"]
    b_body, b_tags, b_path, b_camp, b_aligned, b_pr = [], [], [], [], [], []
    for i in range(n_base):
        c, tp = int(cls[i]), int(topic[i])
        term = tx.TOPICS[tp][2][int(rng.integers(len(tx.TOPICS[tp][2])))]
        prod = products[int(rng.integers(len(products)))]
        pr = int(rng.integers(len(principles)))
        fill = {"t": term, "p": prod, "pr": principles[pr], "prl": principles[pr][0].lower() + principles[pr][1:]}
        aligned, path, camp = False, None, None
        month = (int(t[i]) // DAY // 91) % 4
        if c == PROMO:
            body = _pick(rng, tx.PROMO).format(**fill)
            path, camp = f"https://shop.voltwise.example/products/{PRODUCT_SLUGS[prod]}", CAMPAIGNS[month]
            aligned = rng.random() < 0.2
        elif c == HOWTO:
            body = _pick(rng, tx.HOWTO).format(**fill)
            if rng.random() < 0.8:
                path, camp = f"https://voltwise.example/guides/{term.lower().replace(' ', '-')}", "guides"
            aligned = rng.random() < 0.3
        elif c == THOUGHT:
            body = _pick(rng, tx.THOUGHT).format(**fill)
            if rng.random() < 0.4:
                path, camp = f"https://voltwise.example/blog/{term.lower().replace(' ', '-')}", "blog"
            aligned = True
        elif c == CONV:
            in_crisis = crisis[0] <= t[i] <= crisis[1]
            body = str(_pick(rng, tx.CRISIS_REPLY if in_crisis else tx.REPLY))
        elif c == CURATION:
            body = _pick(rng, tx.CURATE).format(**fill) if kind[i] == 3 else ""
        else:
            body = str(_pick(rng, tx.PERSONAL))
        if aligned and c != THOUGHT:
            body = f"{body}. {principles[pr]}"
        tags: tuple[str, ...] = ()
        if c in (PROMO, HOWTO, THOUGHT, PERSONAL):
            tags = (BRAND["tag"],) if rng.random() < 0.6 else ()
            if rng.random() < 0.5:
                tags = tags + (tx.TOPICS[tp][1][int(rng.integers(3))],)
        b_body.append(body)
        b_tags.append(tags)
        b_path.append(path)
        b_camp.append(camp)
        b_aligned.append(aligned)
        b_pr.append(pr if aligned else -1)

    body, tags, link, campaign, token = [], [], [], [], []
    for j in range(len(all_t)):
        i, p = int(origin[j]), int(all_p[j])
        tk = f"vw{j:06d}"
        tg = b_tags[i][:1] if is_copy[j] else b_tags[i]  # a copy keeps only the first hashtag
        body.append(b_body[i])
        tags.append(tg)
        token.append(tk)
        campaign.append(b_camp[i])
        link.append(None if b_path[i] is None else
                    f"{b_path[i]}?utm_source={PLATFORMS[p]}&utm_medium=social&utm_campaign={b_camp[i]}&utm_content={tk}")
    return OwnerPlan(t=all_t, platform=all_p, cls=cls[origin], kind=kind[origin], topic=topic[origin],
                     group=group[origin], aligned=np.array(b_aligned, bool)[origin],
                     principle=np.array(b_pr, np.int8)[origin], body=body, tags=tags, link=link,
                     campaign=campaign, token=token)


_tw = np.array([1.3, 1.0, 0.8, 0.8, 1.5, 1.3, 1.1, 0.7])
_TOPIC_P = _tw / _tw.sum()
