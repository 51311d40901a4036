"""Planted experiments: one with a known effect and one A/A test with none (ground truth for Activate).

Design (METRICS.md §3 "experiments"; docs/activate.md):

* Eligible posts are the owner's originals in the second half of the timeline. Each is put in
  ``EFFECT`` or ``AA`` (probability 1/2 each) and in variant A or B (1/2 each). The draws use their
  own generator (seeded from the world's seed), so the rest of the world is the same draw for draw.
* The effect: variant B's like probability is ``FACTOR`` times variant A's. Implemented by thinning:
  every like the engine emits on an A post of ``EFFECT`` is kept with probability 1/FACTOR (a removed
  like is never written nor booked, so every audience truth stays exact). The A/A test is untouched.
* The true difference (B − A) of the pooled engagement rate (distinct engagers ÷ followers at post
  time) is the sample average effect over the experiment's posts, from the potential outcomes the
  engine knows: for each post, its engagers before thinning (the B outcome) and, in expectation, its
  non-like engagers plus its like-only engagers × 1/FACTOR (the A outcome). So
  ``true_difference = Σ like_only × (1 − 1/FACTOR) / Σ followers_at_post_time``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from socialleads.simulate import owner as ow
from socialleads.simulate.world import NONE, World, post_keys

EFFECT, AA = "cta-wording", "aa-check"
NAMES = (EFFECT, AA)
FACTOR = 2.0
FILE = "experiment_assignments.jsonl"


class ExperimentPlan:
    def __init__(self, seed: int, plan: ow.OwnerPlan, t_first: int, t_end: int) -> None:
        self.rng = np.random.Generator(np.random.PCG64([seed, 0xE4]))
        n = len(plan.t)
        mid = t_first + (t_end - t_first) // 2
        elig = (plan.kind == 0) & (plan.t >= mid)
        self.exp = np.where(elig, (self.rng.random(n) < 0.5).astype(np.int8), -1).astype(np.int8)
        self.variant = (self.rng.random(n) < 0.5).astype(np.int8)   # 0 = A, 1 = B
        self.like_rows: list[np.ndarray] = []     # per emitted-or-thinned like on an experiment post: plan row
        self.like_actor: list[np.ndarray] = []
        self.like_kept: list[np.ndarray] = []
        self.act_rows: list[np.ndarray] = []      # replies / reposts / quotes of experiment posts
        self.act_actor: list[np.ndarray] = []

    def thin(self, kept: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Remove the likes that variant A of EFFECT loses; book the potential outcomes."""
        oi = kept["oi"]
        own = np.flatnonzero(oi >= 0)
        rows = oi[own]
        inexp = self.exp[rows] >= 0
        if not inexp.any():
            return kept
        sel, r = own[inexp], rows[inexp]
        lose = (self.exp[r] == 0) & (self.variant[r] == 0)
        drop = lose & (self.rng.random(len(r)) >= 1.0 / FACTOR)
        self.like_rows.append(r)
        self.like_actor.append(kept["actor"][sel])
        self.like_kept.append(~drop)
        keep = np.ones(len(oi), bool)
        keep[sel[drop]] = False
        return {f: v[keep] for f, v in kept.items()}

    def acted(self, rows: np.ndarray, actors: np.ndarray) -> None:
        m = self.exp[rows] >= 0
        if m.any():
            self.act_rows.append(rows[m])
            self.act_actor.append(actors[m])

    # ------------------------------------------------------------------------------------------ output
    def write(self, out: Path, w: World, plan: ow.OwnerPlan) -> int:
        rows = np.flatnonzero(self.exp >= 0)
        lines = []
        for p in range(3):
            m = rows[plan.platform[rows] == p]
            if not len(m):
                continue
            keys = post_keys(w, p, np.full(len(m), p), plan.seq[m], plan.t[m]).to_pylist()
            for i, k in zip(m.tolist(), keys):
                lines.append((int(plan.t[i]), k, json.dumps({
                    "record_type": "experiment_assignment", "post_key": k, "experiment": NAMES[self.exp[i]],
                    "variant": "AB"[self.variant[i]]}, separators=(",", ":")) + "\n"))
        lines.sort()
        with open(out / FILE, "w", encoding="utf-8") as fh:
            fh.writelines(x[2] for x in lines)
        return len(lines)

    def truth(self, w: World, plan: ow.OwnerPlan) -> dict[str, Any]:
        """Per experiment: posts and follower-impressions per variant, observed engagers, true rates."""
        n_plan = len(plan.t)
        fol = _followers_at(w, plan)
        cat = np.concatenate
        lr = cat(self.like_rows) if self.like_rows else np.zeros(0, np.int64)
        la = cat(self.like_actor) if self.like_actor else np.zeros(0, np.int64)
        lk = cat(self.like_kept) if self.like_kept else np.zeros(0, bool)
        ar = cat(self.act_rows) if self.act_rows else np.zeros(0, np.int64)
        aa = cat(self.act_actor) if self.act_actor else np.zeros(0, np.int64)
        # distinct (post, actor) pairs: engaged by a non-like action; liked (before thinning); like kept
        shift = np.int64(1 << 40)
        act_pairs = np.unique(ar * shift + aa)
        like_pairs = np.unique(lr * shift + la)
        kept_pairs = np.unique(lr[lk] * shift + la[lk])
        like_only = np.setdiff1d(like_pairs, act_pairs)
        pre = np.union1d(act_pairs, like_pairs)
        post = np.union1d(act_pairs, kept_pairs)
        count = lambda pairs: np.bincount((pairs // shift).astype(np.int64), minlength=n_plan)  # noqa: E731
        n_pre, n_post, n_lo = count(pre), count(post), count(like_only)
        out: dict[str, Any] = {}
        for e, name in enumerate(NAMES):
            m = self.exp == e
            f_all = int(fol[m].sum())
            arms = {}
            for v in (0, 1):
                mv = m & (self.variant == v)
                arms["AB"[v]] = {"posts": int(mv.sum()), "followers_at_post_time": int(fol[mv].sum()),
                                 "engagers": int(n_post[mv].sum())}
            factor = FACTOR if e == 0 else 1.0
            rate_b = n_pre[m].sum() / f_all if f_all else None
            diff = float(n_lo[m].sum() * (1 - 1 / factor) / f_all) if f_all else None
            out[name] = {
                "metric": "engagement_rate", "factor": factor,
                "effect": ("variant B's like probability is 2x variant A's (A's likes thinned to 1/2)" if e == 0
                           else "none: an A/A test"),
                "variants": arms,
                "true_rate_B": float(rate_b) if rate_b is not None else None,
                "true_rate_A": float(rate_b - diff) if rate_b is not None and diff is not None else None,
                "true_difference": diff,
            }
        return out


def _followers_at(w: World, plan: ow.OwnerPlan) -> np.ndarray:
    """Followers of the posting owner account at each plan row's time (Book.followers, per platform)."""
    out = np.zeros(len(plan.t), np.int64)
    for p in range(3):
        m = plan.platform == p
        acc = (w.platform == p) & (w.f_created != NONE)
        c = np.sort(w.f_created[acc])
        e = w.f_ended[acc]
        e = np.sort(e[e != NONE])
        t = plan.t[m]
        out[m] = np.searchsorted(c, t, side="right") - np.searchsorted(e, t, side="right")
    return out
