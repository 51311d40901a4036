"""Emitting the owner's planned posts of one chunk on one platform (a handful of rows: plain Python).

Conversational replies answer inbound posts (replies, mentions, quotes to the owner) with a designed,
heavy-tailed delay, each post at most once (``_answer``; the inbox truth is kept in ``Engine.inbox``); curation
reposts and quotes influential recent world posts. Where a plan row finds nothing to answer or share
(the very start of a tiny world) it becomes a personal original, and the truth counts it as such.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from socialleads.simulate import owner as ow
from socialleads.simulate.text import PERSONAL, TOPICS
from socialleads.simulate.truth import W_MENTION, W_QUOTE, W_REPLY, W_REPOST
from socialleads.simulate.world import BRAND, NONE, post_keys
from socialleads.simulate.writer import ts

if TYPE_CHECKING:
    from socialleads.simulate.engine import Engine, Platform

KINDS = ("original", "reply", "repost", "quote")


def _answer(E: Engine, S: Platform, t: np.ndarray, k_last: np.ndarray, delay: np.ndarray) -> np.ndarray:
    """The inbound-ring rows the owner's replies at times ``t`` (ascending) answer, and the truth of it.

    A reply with designed delay d answers the newest item not yet answered that is at least d old (the
    owner works through its inbox with a heavy-tailed lag); when every open item is younger than d, the
    oldest open one; when none is open, it follows up in the newest thread (a second reply, which leaves
    the first reply's time as it was). ``k_last``: the newest ring row before each reply. An item is
    answered once: its first reply's time goes to the ring (``answered_at``) and to ``E.inbox``."""
    I = S.inbound
    it, ans = I["t"], I["answered_at"]  # views: the writes below land in the ring
    out = np.empty(len(t), np.int64)
    for j in range(len(t)):
        kl = int(k_last[j])
        open_ = np.flatnonzero(ans[:kl + 1] == NONE)
        if len(open_):
            old = open_[it[open_] <= t[j] - delay[j]]
            k = int(old[-1]) if len(old) else int(open_[0])
            ans[k] = t[j]
            E.inbox.answered(S.p, int(I["author"][k]), int(I["seq"][k]), int(it[k]), int(t[j]), bool(I["asks"][k]))
        else:
            k = kl
        out[j] = k
    return out


def emit_owner_posts(E: Engine, S: Platform, c0: int, c1: int) -> tuple[pa.Array, pa.Array]:
    from socialleads.simulate.engine import pick_targets

    plan, rng, w, book = E.plan, E.rng, E.w, E.book
    rows = np.flatnonzero((plan.platform == S.p) & (plan.t >= c0) & (plan.t < c1))
    empty = pa.array([], pa.string())
    if not len(rows):
        return empty, empty
    m = len(rows)
    t, seq = plan.t[rows], plan.seq[rows]
    kind, cls = plan.kind[rows].astype(np.int64), plan.cls[rows].astype(np.int64)
    author = np.full(m, S.p, np.int64)
    ta, tseq, tt = np.full(m, -1, np.int64), np.zeros(m, np.int64), np.zeros(m, np.int64)
    ra, rseq, rt = np.full(m, -1, np.int64), np.zeros(m, np.int64), np.zeros(m, np.int64)
    # conversational replies to inbound posts (see _answer)
    conv = np.flatnonzero(kind == 1)
    if len(conv):
        I = S.inbound
        k_last = np.searchsorted(I["t"], t[conv], side="left") - 1
        rng.geometric(0.3, len(conv))  # the main stream's former target draw, kept so no other record moves
        ok = k_last >= 0
        c = conv[ok]
        kk = _answer(E, S, t[c], k_last[ok], E.reply_delays(len(c)))
        ta[c], tseq[c], tt[c] = I["author"][kk], I["seq"][kk], I["t"][kk]
        ra[c], rseq[c], rt[c] = I["rauthor"][kk], I["rseq"][kk], I["rt"][kk]
    # curation: repost or quote an influential recent world post
    cur = np.flatnonzero((kind == 2) | (kind == 3))
    if len(cur):
        P = S.pool
        upper = np.searchsorted(P["t"], t[cur], side="left") - 1
        tp = pick_targets(rng, P["t"], P["author"], P["kind"], w.influence, t[cur], upper, author[cur],
                          6 * 3600.0, 20) if len(P) else np.full(len(cur), -1)
        ok = tp >= 0
        c, kk = cur[ok], tp[ok]
        ta[c], tseq[c], tt[c] = P["author"][kk], P["seq"][kk], P["t"][kk]
    fallback = (kind != 0) & (ta < 0)
    kind[fallback], cls[fallback] = 0, ow.PERSONAL
    E.owner_kind[rows] = kind
    has = ta >= 0
    for k, wt in ((1, W_REPLY + W_MENTION), (2, W_REPOST), (3, W_QUOTE)):  # a reply also mentions its target
        sel = has & (kind == k)
        book.engaged(S.p, ta[sel], t[sel], wt)
    # one vectorized call for the keys of the posts, of their targets and of their thread roots
    all_keys = post_keys(w, S.p, np.concatenate([author, np.maximum(ta, 0), np.maximum(ra, 0)]),
                         np.concatenate([seq, tseq, rseq]), np.concatenate([t, tt, rt])).to_pylist()
    keys, ref, root = all_keys[:m], all_keys[m:2 * m], all_keys[2 * m:]
    stamps = ts(t).to_pylist()
    tgt = pa.array(np.maximum(ta, 0))
    t_handle, t_key = w.handle.take(tgt).to_pylist(), w.key.take(tgt).to_pylist()
    own_key = E.owner_keys[S.p]
    lines = []
    for j in range(m):
        i = int(rows[j])
        rec: dict[str, object] = {"record_type": "post", "platform": S.name, "post_key": keys[j],
                                  "author_key": own_key, "created_at": stamps[j], "kind": KINDS[kind[j]]}
        ents: list[dict[str, object]] = []
        body = PERSONAL[0] if fallback[j] else plan.body[i]
        if kind[j] == 1:
            rec["reply_to_key"] = ref[j]
            rec["thread_root_key"] = root[j] if ra[j] >= 0 else ref[j]
            h = t_handle[j]
            body = f"@{h} {body}"
            ents.append({"etype": "mention", "value": h, "target_account_key": t_key[j]})
        elif kind[j] == 2:
            rec["repost_of_key"] = ref[j]
        elif kind[j] == 3:
            rec["quote_of_key"] = ref[j]
        if kind[j] != 2:
            tags = () if fallback[j] else plan.tags[i]
            link = None if fallback[j] else plan.link[i]
            text = body + "".join(f" #{g}" for g in tags) + (f" {link}" if link else "")
            ents.extend({"etype": "hashtag", "value": g} for g in tags)
            if link:
                ents.append({"etype": "link", "value": link})
            rec["text"] = text
            rec["lang"] = "en"
            if ents:
                rec["entities"] = ents
        lines.append(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
        E.owner_truth.append({
            "post_key": keys[j], "platform": S.name, "created_at": stamps[j], "kind": KINDS[kind[j]],
            "class": ow.CLASSES[cls[j]], "topic": None if fallback[j] else TOPICS[plan.topic[i]][0],
            "aligned": bool(plan.aligned[i]) and not fallback[j],
            "principle": (BRAND["principles"][plan.principle[i]] if plan.aligned[i] and not fallback[j]
                          else None),
            "cross_post_group": int(plan.group[i]) if plan.group[i] >= 0 and not fallback[j] else None,
            "campaign": None if fallback[j] else plan.campaign[i],
            "utm_content": plan.token[i] if plan.link[i] and not fallback[j] else None})
        E.owner_by_class[ow.CLASSES[cls[j]]] += 1
        E.counts[KINDS[kind[j]]] += 1
        if plan.link[i] and not fallback[j]:
            E.counts["links"] += 1
    book.seen(t)
    book.owner_acted_on(ta[has], t[has])
    return pa.array(lines, pa.string()), empty
