"""Chunk-by-chunk generation of posts and likes, per platform, vectorized with numpy and pyarrow.

Each platform keeps a bounded ring of its recent world posts (targets of replies, reposts, quotes and
likes are picked by time lag and author influence) and a ring of recent inbound posts to the owner
(targets of the owner's replies and likes). Engagement with the owner flows through one channel:
designed-active followers (weighted, heavy-tailed) and non-followers; passive followers never act on O.
A like is emitted at most once per (actor, post), the earliest (see Engine._first_likes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from socialleads.simulate import owner as ow
from socialleads.simulate.experiments import ExperimentPlan
from socialleads.simulate.text import LANGS, ST_COMPLAINT, ST_NEGATIVE, ST_POSITIVE, ST_QUESTION, TOPICS, Vocab
from socialleads.simulate.timeline import Timeline
from socialleads.simulate.truth import W_LIKE, W_MENTION, W_QUOTE, W_REPLY, W_REPOST, Book, InboxBook
from socialleads.simulate.world import DAY, END, N_OWNER, NONE, PLATFORMS, World, post_key_parts
from socialleads.simulate.writer import cat, nulls, scatter, ts

ORIG, REPLY, REPOST, QUOTE = 0, 1, 2, 3
KIND_NAMES = pa.array(["original", "reply", "repost", "quote"])
KIND_REF = pa.array(['original"', 'reply","reply_to_key":"', 'repost","repost_of_key":"', 'quote","quote_of_key":"'])
AFTER_REF = pa.array([None, '","thread_root_key":"', '"', '"'])
LANG_FIELD = pa.array([f'","lang":"{lang}"' for lang in LANGS])  # closes the text
LINK_ENT = pa.array(['{"etype":"link","value":"', ',{"etype":"link","value":"'])
DQUOTE, TEXT_OPEN, ENT_OPEN, ENT_CLOSE = (pa.array([s]) for s in ('"', ',"text":"', ',"entities":[', "]"))
Q_OWNER = 0.05          # share of world posts that act on the owner (outside the crisis)
CRISIS_TOPIC = 4        # smart home and privacy
_tp = np.array([1.2, 1.0, 1.0, 0.9, 1.1, 1.0, 0.8, 0.9])
TOPIC_P = _tp / _tp.sum()
MAX_LAG = 6 * DAY       # the longest lag from a post or like back to its target
REACH_WIDTH = 8         # the widest look-back (in rows) of pick_targets on the windowed pool
OWNER_LAG_CAP = 64      # owner posts further back than this are never targeted (P < 1e-12 before the cap)
PAIR_SHIFT = 41         # like pair key = actor << 41 | target seq (world seq < 2**40, owner seq < 2**41)
OWNER_SEQ_END = 1 << PAIR_SHIFT
REPLY_STREAM = 0x1B0C5  # the owner's response delays: np.random.default_rng([seed, REPLY_STREAM])
REPLY_MEDIAN_S, REPLY_SIGMA = 3 * 3600, 1.5
LIKE_FIELDS = ("actor", "t", "ta", "tseq", "tt", "oi")  # oi: owner plan row of the liked post, -1 = world post


@dataclass(frozen=True)
class Limits:
    max_world: int = 200_000
    chunk_posts: int = 50_000
    ring: int = 131_072
    inbound_ring: int = 16_384
    part_lines: int = 1_000_000
    max_owner_posts: int = 6_000


class Ring:
    """The last ``cap`` rows of a few parallel int64 columns.

    Rows live in buffers of 1.25 times the capacity and are appended in place; the last rows move to the
    front only when a buffer is full, so an append costs about the size of the rows appended."""

    FIELDS = ("seq", "author", "t", "topic", "kind", "rseq", "rauthor", "rt")
    #: The inbound ring's extra columns: the item asks a question (0/1), the time of the owner's first
    #: reply to it (NONE = unanswered so far).
    INBOUND_FIELDS = FIELDS + ("asks", "answered_at")

    def __init__(self, cap: int, fields: tuple[str, ...] = FIELDS) -> None:
        self.cap = cap
        self.FIELDS = fields
        self.buf = {f: np.zeros(cap + max(cap // 4, 1), np.int64) for f in self.FIELDS}
        self.lo = self.hi = 0   # the rows are buf[lo:hi]

    def __len__(self) -> int:
        return self.hi - self.lo

    def __getitem__(self, f: str) -> np.ndarray:
        return self.buf[f][self.lo:self.hi]

    def extend(self, rows: dict[str, np.ndarray]) -> None:
        m = len(rows["t"])
        if m >= self.cap:
            for f in self.FIELDS:
                self.buf[f][:self.cap] = rows[f][m - self.cap:]
            self.lo, self.hi = 0, self.cap
            return
        if self.hi + m > len(self.buf["t"]):
            keep = min(self.hi - self.lo, self.cap - m)
            for f in self.FIELDS:
                self.buf[f][:keep] = self.buf[f][self.hi - keep:self.hi]
            self.lo, self.hi = 0, keep
        for f in self.FIELDS:
            self.buf[f][self.hi:self.hi + m] = rows[f]
        self.hi += m
        self.lo = max(self.lo, self.hi - self.cap)


def _spread(values: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """A length-``n`` int64 array holding ``values`` at ``rows`` and -1 elsewhere."""
    out = np.full(n, -1, np.int64)
    out[rows] = values
    return out


def _take(table: pa.Array, idx: np.ndarray) -> pa.Array:
    """``table[idx]`` per row, null where idx < 0."""
    return table.take(pa.array(idx, mask=idx < 0))


def _masked(one: pa.Array, where: np.ndarray) -> pa.Array:
    """The single string of ``one`` where ``where``, else null."""
    return one.take(pa.array(np.zeros(len(where), np.int64), mask=~where))


def _cum(w: np.ndarray) -> np.ndarray:
    c = np.cumsum(w, dtype=np.float64)
    return c if len(c) and c[-1] > 0 else np.ones(max(len(w), 1))


def _sample(rng: np.random.Generator, cum: np.ndarray, idx: np.ndarray, n: int) -> np.ndarray:
    pos = np.searchsorted(cum, rng.random(n) * cum[-1], side="right")
    return idx[np.minimum(pos, len(idx) - 1)]


class Platform:
    def __init__(self, world: World, plan: ow.OwnerPlan, p: int, limits: Limits) -> None:
        self.p, self.name = p, PLATFORMS[p]
        on = np.flatnonzero(world.platform == p)
        self.acc = on[on >= N_OWNER]
        self.cum_act = _cum(world.activity[self.acc])
        self.cum_inf = _cum(world.influence[self.acc])
        self.non = self.acc[world.f_created[self.acc] == NONE]
        self.cum_non = _cum(world.activity[self.non])
        act = self.acc[world.active[self.acc]]
        self.fol, self.fol_c, self.fol_e, self.fol_w = act, world.f_created[act], world.f_ended[act], world.eng_weight[act]
        tgt = np.flatnonzero((plan.platform == p) & ((plan.kind == ORIG) | (plan.kind == QUOTE)))
        self.own_i, self.own_t = tgt, plan.t[tgt]
        self.pool = Ring(limits.ring)
        self.inbound = Ring(limits.inbound_ring, Ring.INBOUND_FIELDS)
        self.seq = 0
        # one like per (actor, post): the sorted keys of the likes emitted on still-likeable posts, and the
        # likes generated in a chunk but timed after its end (held back, so the earliest like of a pair wins)
        self.liked = np.zeros(0, np.int64)
        self.held = {f: np.zeros(0, np.int64) for f in LIKE_FIELDS}

    def reach(self, c0: int) -> int:
        """Index of the oldest pool row a world post or like of a chunk starting at ``c0`` can target:
        pick_targets looks back at most MAX_LAG from a time >= c0, then fewer than REACH_WIDTH rows
        further. Targets picked from this tail are exactly those picked from the whole pool."""
        first = int(np.searchsorted(self.pool["t"], c0 - MAX_LAG, side="left"))
        return max(first - REACH_WIDTH, 0)

    def engagers(self, rng: np.random.Generator, n: int, c0: int, c1: int, p_active: np.ndarray) -> np.ndarray:
        elig = (self.fol_c <= c1) & ((self.fol_e == NONE) | (self.fol_e > c0))
        non = _sample(rng, self.cum_non, self.non, n) if len(self.non) else _sample(rng, self.cum_act, self.acc, n)
        if not elig.any():
            return non
        act = _sample(rng, _cum(self.fol_w[elig]), self.fol[elig], n)
        return np.where(rng.random(n) < p_active, act, non)

    def owner_target(self, rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
        """Index into the owner plan of a recent targetable owner post before t (-1 when none)."""
        k_last = np.searchsorted(self.own_t, t, side="left") - 1
        k = np.maximum(k_last - np.minimum(rng.geometric(0.35, len(t)) - 1, OWNER_LAG_CAP), 0)
        return np.where(k_last >= 0, self.own_i[np.minimum(k, max(len(self.own_i) - 1, 0))] if len(self.own_i)
                        else -1, -1)


def pick_targets(rng: np.random.Generator, pt: np.ndarray, pauthor: np.ndarray, pkind: np.ndarray,
                 influence: np.ndarray, t: np.ndarray, upper: np.ndarray, me: np.ndarray,
                 median_lag: float, width: int = 6) -> np.ndarray:
    """Position in the pool of a target before ``upper`` near ``t - lag``, favouring influential authors
    and avoiding reposts and the actor's own posts; -1 where the pool has nothing earlier."""
    m = len(t)
    if m == 0:
        return np.zeros(0, np.int64)
    lag = np.clip(np.exp(rng.normal(np.log(median_lag), 1.5, m)), 30, MAX_LAG)
    pos = np.searchsorted(pt, t - lag, side="right") - 1
    cand = np.clip(pos[:, None] - rng.integers(0, width, (m, 4)), 0, np.maximum(upper, 0)[:, None])
    score = influence[pauthor[cand]] * rng.exponential(1.0, (m, 4))
    score[pkind[cand] == REPOST] = -1.0
    score[pauthor[cand] == me[:, None]] = -0.5
    choice = cand[np.arange(m), np.argmax(score, axis=1)]
    return np.where(upper >= 0, choice, -1)


class Engine:
    def __init__(self, rng: np.random.Generator, world: World, plan: ow.OwnerPlan, tl: Timeline,
                 book: Book, limits: Limits, seed: int = 0) -> None:
        self.rng, self.w, self.plan, self.tl, self.book = rng, world, plan, tl, book
        if world.n >= 1 << (63 - PAIR_SHIFT):
            raise ValueError(f"max_world: at most {(1 << (63 - PAIR_SHIFT)) - 7} accounts")
        self.vocab = Vocab()
        self.plats = [Platform(world, plan, p, limits) for p in range(3)]
        share = np.array([world.activity[pl.acc].sum() for pl in self.plats])
        self.share = share / share.sum()
        self.counts = {"original": 0, "reply": 0, "repost": 0, "quote": 0, "questions": 0, "likes": 0,
                       "owner_likes": 0, "crisis_negative_posts": 0, "mentions": 0, "links": 0, "hashtags": 0,
                       "actions_on_owner": 0}
        self.owner_by_class = dict.fromkeys(ow.CLASSES, 0)
        self.owner_truth: list[dict[str, object]] = []  # one row per emitted owner post (truth_owner_posts.jsonl)
        self.posts_by_lang = dict.fromkeys(LANGS, 0)
        self.owner_keys = world.key.to_pylist()[:3]
        self.exp: ExperimentPlan | None = None  # planted experiments (simulate/experiments.py)
        # the engagement inbox: its truth, the owner posts that got a reply from a non-owner, the kind each
        # owner plan row was emitted as, and a separate random stream for the owner's response delays (so
        # the main stream, and with it every other record, is what it was before the inbox truth existed)
        self.inbox = InboxBook(book.t_start, book.t_end)
        self.owner_replied = np.zeros(len(plan.t), bool)
        self.owner_kind = plan.kind.astype(np.int64)
        self.reply_rng = np.random.default_rng([seed, REPLY_STREAM])

    def reply_delays(self, m: int) -> np.ndarray:
        """Designed delays (seconds) of the owner's next ``m`` replies: lognormal, median 3 h, sigma 1.5 —
        heavy-tailed, about 8% beyond a day (the simulated SLA is 24 h)."""
        return np.exp(self.reply_rng.normal(np.log(REPLY_MEDIAN_S), REPLY_SIGMA, m)).astype(np.int64)

    # -------------------------------------------------------------------------------------------- chunk
    def chunk(self, t_all: np.ndarray, cr_all: np.ndarray, c0: int, c1: int) -> tuple[list[pa.Array], list[pa.Array]]:
        plat = self.rng.choice(3, size=len(t_all), p=self.share)
        posts, likes = [], []
        for p in range(3):
            m = plat == p
            pl, ll = self.world_posts(self.plats[p], t_all[m], cr_all[m], c0, c1)
            posts.append(pl)
            likes.append(ll)
            pl, ll = self.owner_posts(self.plats[p], c0, c1)
            posts.append(pl)
            likes.append(ll)
        return posts, likes

    def world_posts(self, S: Platform, t: np.ndarray, cr: np.ndarray, c0: int, c1: int) -> tuple[pa.Array, pa.Array]:
        rng, w, book, V = self.rng, self.w, self.book, self.vocab
        n = len(t)
        seq = S.seq + np.arange(n, dtype=np.int64)
        S.seq += n
        owc = ~cr & (rng.random(n) < Q_OWNER)
        eng = owc | cr
        gen = ~eng
        author = np.where(eng, S.engagers(rng, n, c0, c1, np.where(cr, 0.3, 0.75)),
                          _sample(rng, S.cum_act, S.acc, n))
        ku = rng.random(n)
        kind = np.where(gen, np.select([ku < 0.55, ku < 0.85, ku < 0.95], [ORIG, REPLY, REPOST], QUOTE),
                        np.where(owc, np.select([ku < 0.40, ku < 0.70, ku < 0.88], [REPLY, ORIG, REPOST], QUOTE),
                                 np.where(ku < 0.7, ORIG, REPLY)))
        # targets on the owner ---------------------------------------------------------------------------
        otgt = np.where(eng & (kind != ORIG), S.owner_target(rng, t), -1)
        kind = np.where(eng & (kind != ORIG) & (otgt < 0), ORIG, kind)
        if self.exp is not None:
            on_post = eng & (kind != ORIG)
            self.exp.acted(otgt[on_post], author[on_post])
        # generic targets in the pool of recent world posts -----------------------------------------------
        # only the tail of the pool that a target of this chunk can reach (see Platform.reach)
        P, lo = S.pool, S.reach(c0)
        base = len(P) - lo
        pt, pa_, pk = (np.concatenate([P[f][lo:], x]) for f, x in (("t", t), ("author", author), ("kind", kind)))
        own_pos = base + np.arange(n)
        need = np.flatnonzero(gen & (kind != ORIG))
        tpos = np.full(n, -1, np.int64)
        tpos[need] = pick_targets(rng, pt, pa_, pk, w.influence, t[need], own_pos[need] - 1, author[need], 7200.0)
        kind[need[tpos[need] < 0]] = ORIG
        pk[base:] = kind
        is_gen_ref = gen & (kind != ORIG)
        # reference (parent / reposted / quoted) and thread root --------------------------------------------
        plan = self.plan
        oi = np.maximum(otgt, 0)
        ref_author = np.where(is_gen_ref, pa_[np.maximum(tpos, 0)], S.p)
        pseq = np.concatenate([P["seq"][lo:], seq])
        ref_seq = np.where(is_gen_ref, pseq[np.maximum(tpos, 0)], plan.seq[oi])
        ref_t = np.where(is_gen_ref, pt[np.maximum(tpos, 0)], plan.t[oi])
        ptr = np.arange(base + n)
        reply_gen = is_gen_ref & (kind == REPLY)
        ptr[base:][reply_gen] = tpos[reply_gen]
        while True:
            nxt = ptr[ptr]
            if np.array_equal(nxt, ptr):
                break
            ptr = nxt
        r_seq = np.concatenate([P["rseq"][lo:], seq])[ptr[base:]]
        r_author = np.concatenate([P["rauthor"][lo:], author])[ptr[base:]]
        r_t = np.concatenate([P["rt"][lo:], t])[ptr[base:]]
        reply_own = eng & (kind == REPLY)
        r_seq, r_author, r_t = (np.where(reply_own, a, b) for a, b in ((ref_seq, r_seq), (ref_author, r_author), (ref_t, r_t)))
        # topic, language, style ------------------------------------------------------------------------------
        topic = rng.choice(len(TOPICS), size=n, p=TOPIC_P)
        ptopic = np.concatenate([P["topic"][lo:], topic])
        inherit = is_gen_ref & (rng.random(n) < 0.8)
        topic = np.where(inherit, ptopic[np.maximum(tpos, 0)], topic)
        topic = np.where(eng & (kind != ORIG), plan.topic[oi], topic)
        topic = np.where(cr, CRISIS_TOPIC, topic)
        lang = np.where(cr, 0, w.lang[author])
        su = rng.random(n)
        style = np.where(owc, np.select([su < 0.25, su < 0.60, su < 0.64], [ST_QUESTION, ST_POSITIVE, ST_COMPLAINT], 0),
                         np.select([su < 0.14, su < 0.28, su < 0.33], [ST_QUESTION, ST_POSITIVE, ST_NEGATIVE], 0))
        style = np.where(cr, ST_COMPLAINT, style)
        style = np.where((lang != 0) & (style != ST_QUESTION), 0, style)
        # entities ----------------------------------------------------------------------------------------------
        mention = np.full(n, -1, np.int64)
        mention[eng & (kind == ORIG)] = S.p
        gm = gen & (kind == ORIG) & (rng.random(n) < 0.10)
        cand = _sample(rng, S.cum_inf, S.acc, n)
        mention = np.where(gm & (cand != author), cand, mention)
        tu = rng.random(n)
        n_tags = np.where(kind == ORIG, np.select([tu < 0.10, tu < 0.35], [2, 1], 0),
                          np.where((kind == REPLY) | (kind == QUOTE), (tu < 0.08).astype(np.int64), 0))
        tag1, tag2 = V.tag_index(rng, topic), V.tag_index(rng, topic)
        tag2 = np.where(tag2 == tag1, -1, tag2)
        has_link = gen & (kind == ORIG) & (rng.random(n) < 0.08)
        # text for everything but reposts; a line is one concatenation of full-length pieces, where a null
        # piece is left out (masked takes from small dictionaries, no intermediate strings per post)
        tx = kind != REPOST
        txi = np.flatnonzero(tx)
        tpl, w1, w2 = (_spread(x, txi, n) for x in V.sentence_parts(rng, lang[tx], style[tx], topic[tx], cr[tx]))
        isq = V.is_question[tpl[txi]]
        t1 = np.where(tx & (n_tags >= 1), tag1, -1)
        t2 = np.where(tx & (n_tags >= 2), tag2, -1)
        li = np.flatnonzero(has_link)
        mi = np.flatnonzero(mention >= 0)
        has_m = mention >= 0
        link_text = link_ent = nulls(n)
        if len(li):
            url = cat("https://", V.news.take(pa.array(seq[li] % len(V.news))), "/2026/",
                      V.slugs.take(pa.array(V.term_index(rng, topic[li]))))
            link_text = scatter(cat(" ", url), has_link)
            prev = (has_m | (t1 >= 0) | (t2 >= 0))[li]
            link_ent = scatter(cat(LINK_ENT.take(pa.array(prev.astype(np.int64))), url, '"}'), has_link)
        at_handle = mention_ent = nulls(n)
        if len(mi):
            mh = w.handle.take(pa.array(mention[mi]))
            at_handle = scatter(cat("@", mh, " "), has_m)
            mention_ent = scatter(cat('{"etype":"mention","value":"', mh, '","target_account_key":"',
                                      w.key.take(pa.array(mention[mi])), '"}'), has_m)
        has_ent = has_m | (t1 >= 0) | (t2 >= 0) | has_link
        nt = len(V.tags)
        he1 = np.where(t1 >= 0, t1 + nt * has_m, -1)
        he2 = np.where(t2 >= 0, t2 + nt * (has_m | (t1 >= 0)), -1)
        # keys and lines -------------------------------------------------------------------------------------------
        has_ref = kind != ORIG
        rep = kind == REPLY
        lines = cat(f'{{"record_type":"post","platform":"{S.name}","post_key":"', *post_key_parts(w, S.p, author, seq, t),
                    '","author_key":"', w.key.take(pa.array(author)), '","created_at":"', ts(t), '","kind":"',
                    KIND_REF.take(pa.array(kind)), *post_key_parts(w, S.p, ref_author, ref_seq, ref_t, ~has_ref),
                    AFTER_REF.take(pa.array(kind)), *post_key_parts(w, S.p, r_author, r_seq, r_t, ~rep),
                    _masked(DQUOTE, rep), _masked(TEXT_OPEN, tx), at_handle,
                    _take(V.opens, tpl), _take(V.terms, w1), _take(V.mids, tpl), _take(V.terms, w2), _take(V.closes, tpl),
                    _take(V.tag_text, t1), _take(V.tag_text, t2), link_text, _take(LANG_FIELD, np.where(tx, lang, -1)),
                    _masked(ENT_OPEN, has_ent), mention_ent, _take(V.hashtag_entity2, he1), _take(V.hashtag_entity2, he2),
                    link_ent, _masked(ENT_CLOSE, has_ent), "}\n")
        # bookkeeping ---------------------------------------------------------------------------------------------
        book.seen(t)
        book.actions(author[eng], t[eng])
        for k, name in enumerate(KIND_NAMES.to_pylist()):
            self.counts[name] += int((kind == k).sum())
        self.counts["questions"] += int(isq.sum())
        self.counts["crisis_negative_posts"] += int(cr.sum())
        self.counts["mentions"] += int((mention >= 0).sum())
        self.counts["links"] += int(has_link.sum())
        self.counts["hashtags"] += int(n_tags[tx].sum() - (tx & (n_tags >= 2) & (t2 < 0)).sum())
        self.counts["actions_on_owner"] += int(eng.sum())
        for li_, c in zip(*np.unique(lang, return_counts=True)):
            self.posts_by_lang[LANGS[li_]] += int(c)
        gi = gen & (kind == REPLY)
        book.receive(ref_author[gi], 0)
        book.receive(mention[gm & (mention >= 0)], 1)
        book.receive(ref_author[gen & (kind == REPOST)], 2)
        book.receive(ref_author[gen & (kind == QUOTE)], 3)
        gmm = gm & (mention >= 0)
        book.engaged(author[gmm], mention[gmm], t[gmm], W_MENTION)
        for k, wt in ((REPLY, W_REPLY), (REPOST, W_REPOST), (QUOTE, W_QUOTE)):
            g = gen & (kind == k)
            book.engaged(author[g], ref_author[g], t[g], wt)
        self.owner_replied[otgt[eng & (kind == REPLY)]] = True
        rows = {"seq": seq, "author": author, "t": t, "topic": topic, "kind": kind,
                "rseq": np.where(rep, r_seq, seq), "rauthor": np.where(rep, r_author, author), "rt": np.where(rep, r_t, t)}
        S.pool.extend(rows)
        inb = eng & (kind != REPOST)
        asks = np.zeros(n, np.int64)
        asks[txi] = V.asks[tpl[txi]]
        S.inbound.extend({**{f: v[inb] for f, v in rows.items()}, "asks": asks[inb],
                          "answered_at": np.full(int(inb.sum()), NONE, np.int64)})
        self.inbox.add(S.p, author[inb], seq[inb], t[inb], asks[inb].astype(bool))
        likes = self.likes(S, t, owc, inb, author, seq, pt, pa_, pk, pseq, base, c0, c1)
        return lines, likes

    # -------------------------------------------------------------------------------------------- likes
    def likes(self, S: Platform, t: np.ndarray, owc: np.ndarray, inb: np.ndarray, author: np.ndarray,
              seq: np.ndarray, pt: np.ndarray, pa_: np.ndarray, pk: np.ndarray, pseq: np.ndarray, base: int,
              c0: int, c1: int) -> pa.Array:
        rng, w, book, plan = self.rng, self.w, self.book, self.plan
        n = len(t)
        if n:
            # generic likes: about one per world post
            b = rng.integers(0, n, n)
            actor = _sample(rng, S.cum_act, S.acc, n)
            tp = pick_targets(rng, pt, pa_, pk, w.influence, t[b], base + b, actor, 3 * 3600.0, REACH_WIDTH)
            lt = t[b] + rng.integers(0, 900, n)
            ok = (tp >= 0) & (lt <= END)
            g = {"actor": actor[ok], "t": lt[ok], "ta": pa_[tp[ok]], "tseq": pseq[tp[ok]], "tt": pt[tp[ok]],
                 "oi": np.full(int(ok.sum()), -1, np.int64)}
            # likes of owner posts by engagers: two per owner-channel post
            no = int(owc.sum()) * 2
            bo = rng.integers(0, max(n, 1), no)
            ot = t[bo] + rng.integers(0, 900, no)
            oa = S.engagers(rng, no, c0, c1, np.full(no, 0.75))
            oi = S.owner_target(rng, ot)
            ok = (oi >= 0) & (ot <= END)
            o_i = oi[ok]
            o = {"actor": oa[ok], "t": ot[ok], "ta": np.full(len(o_i), S.p, np.int64), "tseq": plan.seq[o_i],
                 "tt": plan.t[o_i], "oi": o_i}
            # the owner likes some inbound posts (replies, mentions, quotes to it): each post at most once
            ii = np.flatnonzero(inb & (rng.random(n) < 0.3))
            ht = t[ii] + np.exp(rng.normal(np.log(3600), 1.0, len(ii))).astype(np.int64)
            ok = ht <= END
            h_t, h_ta, h_tseq, h_tt = ht[ok], author[ii][ok], seq[ii][ok], t[ii][ok]
            cand = {f: np.concatenate([S.held[f], g[f], o[f]]).astype(np.int64) for f in LIKE_FIELDS}
        else:
            h_t = h_ta = h_tseq = h_tt = np.zeros(0, np.int64)
            cand = S.held
        kept = self._first_likes(S, cand, c1)
        if self.exp is not None:
            kept = self.exp.thin(kept)
        o_own = kept["oi"] >= 0
        actors = np.concatenate([kept["actor"], np.full(len(h_t), S.p)])
        times = np.concatenate([kept["t"], h_t])
        t_author = np.concatenate([kept["ta"], h_ta])
        t_seq = np.concatenate([kept["tseq"], h_tseq])
        t_t = np.concatenate([kept["tt"], h_tt])
        book.seen(times)
        book.actions(kept["actor"][o_own], kept["t"][o_own])
        book.owner_acted_on(h_ta, h_t)
        w_own = ~o_own
        book.engaged(kept["actor"][w_own], kept["ta"][w_own], kept["t"][w_own], W_LIKE)
        book.engaged(S.p, h_ta, h_t, W_LIKE)
        self.counts["likes"] += len(times)
        self.counts["owner_likes"] += len(h_t)
        self.counts["actions_on_owner"] += int(o_own.sum())
        if not len(times):
            return nulls(0)
        return cat('{"record_type":"interaction","platform":"', S.name, '","type":"like","actor_key":"',
                   w.key.take(pa.array(actors)), '","target_post_key":"', *post_key_parts(w, S.p, t_author, t_seq, t_t),
                   '","target_account_key":"', w.key.take(pa.array(t_author)), '","created_at":"', ts(times), '"}\n')

    def _first_likes(self, S: Platform, cand: dict[str, np.ndarray], c1: int) -> dict[str, np.ndarray]:
        """The likes of ``cand`` to emit now: one per (actor, post), the earliest, and none on a pair liked
        before. A platform refuses a second like, and the importer keys a like by (actor, post) without its
        time. Likes timed at or after the chunk end ``c1`` are held back to compete with the next chunk's
        (whose times are all >= c1), so the like kept for a pair is always its earliest."""
        key = (cand["actor"] << PAIR_SHIFT) | cand["tseq"]
        by_key = np.lexsort((cand["t"], key))   # per pair: earliest, then generated first (lexsort is stable)
        ks = key[by_key]
        first = np.ones(len(ks), bool)
        first[1:] = ks[1:] != ks[:-1]
        if len(S.liked):
            pos = np.minimum(np.searchsorted(S.liked, ks), len(S.liked) - 1)
            first &= S.liked[pos] != ks
        sel = by_key[first]
        keep = np.zeros(len(key), bool)
        keep[sel] = True
        now = keep & (cand["t"] < c1)
        held = keep & ~now
        S.held = {f: v[held] for f, v in cand.items()}
        S.liked = np.concatenate([S.liked, np.sort(key[now])])
        S.liked.sort(kind="stable")  # two sorted runs: a merge
        # forget pairs whose post can no longer be liked: world posts before the reach of the next chunk
        # (which starts at c1), owner posts more than OWNER_LAG_CAP targetable posts before it
        # (owner_target never reaches back further)
        w_min = int(S.pool["seq"][S.reach(c1)]) if len(S.pool) else 0
        hw = S.held["oi"] < 0
        if hw.any():
            w_min = min(w_min, int(S.held["tseq"][hw].min()))
        k_last = int(np.searchsorted(S.own_t, c1, side="left")) - 1
        o_min = self.plan.seq[S.own_i[max(k_last - OWNER_LAG_CAP, 0)]] if len(S.own_i) else OWNER_SEQ_END
        if (~hw).any():
            o_min = min(o_min, int(S.held["tseq"][~hw].min()))
        lseq = S.liked & ((1 << PAIR_SHIFT) - 1)
        S.liked = S.liked[np.where(lseq >= ow.OWNER_SEQ_BASE, lseq >= o_min, lseq >= w_min)]
        order = np.flatnonzero(now)
        order = order[np.argsort(cand["t"][order], kind="stable")]  # emitted in time order
        return {f: v[order] for f, v in cand.items()}

    # -------------------------------------------------------------------------------------------- owner posts
    def owner_posts(self, S: Platform, c0: int, c1: int) -> tuple[pa.Array, pa.Array]:
        from socialleads.simulate.owner_emit import emit_owner_posts
        return emit_owner_posts(self, S, c0, c1)
