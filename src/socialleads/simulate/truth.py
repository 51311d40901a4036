"""Ground truth kept by the simulator's own bookkeeping (bounded per-account arrays), following
docs/audience-definitions.md — an implementation independent of socialleads.metrics.

* Actions on O: replies / reposts / quotes of owner posts, mentions of an owner account and likes of
  owner posts by non-owners (each such post yields exactly one derived interaction; a post mentions an
  account at most once). The engine emits at most one like per (actor, post), the earliest, and books
  only the likes it emits, so these figures count exactly the records the importer keeps (it keys a
  like by platform, actor and post, without its time).
* Weeks start on Monday 00:00 UTC; a week [s, s + 7 d) has ended by T_end when s + 7 d <= T_end.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from socialleads.simulate.world import DAY, N_OWNER, NONE, World

WEEK = 7 * DAY
MONDAY0 = 4 * DAY  # 1970-01-05, the first Monday of the epoch
BUCKETS = ((0, 0), (1, 1), (2, 2), (3, 5), (6, 10), (11, 20), (21, 50), (51, None))


def iso(t: int) -> str:
    return dt.datetime.fromtimestamp(int(t), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def week_of(t: np.ndarray | int) -> np.ndarray:
    return (np.asarray(t, np.int64) - MONDAY0) // WEEK


class Book:
    """Per-account bookkeeping of actions on the owner, and of the owner's actions on others."""

    def __init__(self, n: int, start: int, t_end: int, window_days: int) -> None:
        self.n, self.t_end, self.window_days = n, t_end, window_days
        self.t_start = t_end - window_days * DAY
        self.week0 = int(week_of(start))
        self.n_weeks = int(week_of(t_end)) - self.week0 + 1
        self.weeks = np.zeros((n, self.n_weeks), bool)
        self.last_act = np.full(n, NONE, np.int64)
        self.in_window = np.zeros(n, np.int64)
        self.last_recv = np.full(n, NONE, np.int64)
        self.received = np.zeros((n, 4), np.int64)  # replies, mentions, reposts, quotes received
        self.max_t = NONE

    def seen(self, t: np.ndarray) -> None:
        if len(t):
            self.max_t = max(self.max_t, int(t.max()))

    def actions(self, actor: np.ndarray, t: np.ndarray) -> None:
        """Non-owner ``actor`` took one action on O at ``t`` (one row per derived interaction)."""
        if not len(actor):
            return
        if (actor < N_OWNER).any():
            raise AssertionError("owner accounts cannot act on themselves")
        np.maximum.at(self.last_act, actor, t)
        inw = (t >= self.t_start) & (t <= self.t_end)
        self.in_window += np.bincount(actor[inw], minlength=self.n)
        self.weeks[actor, week_of(t) - self.week0] = True

    def owner_acted_on(self, target: np.ndarray, t: np.ndarray) -> None:
        if len(target):
            np.maximum.at(self.last_recv, target, t)

    def receive(self, target: np.ndarray, what: int) -> None:
        if len(target):
            self.received[:, what] += np.bincount(target, minlength=self.n)

    # ------------------------------------------------------------------------------------------ figures
    def followers(self, world: World, t: int) -> np.ndarray:
        c, e = world.f_created, world.f_ended
        return (c != NONE) & (c <= t) & ((e == NONE) | (e > t))

    def audience(self, world: World) -> dict[str, Any]:
        f_start, f_end = self.followers(world, self.t_start), self.followers(world, self.t_end)
        engaged = self.last_act >= self.t_start
        c, e = world.f_created, world.f_ended
        gained = int(((c != NONE) & (c > self.t_start) & (c <= self.t_end)).sum())
        lost = int(((e != NONE) & (e > self.t_start) & (e <= self.t_end)).sum())
        n_start, n_end = int(f_start.sum()), int(f_end.sum())
        active_end = int((engaged & f_end).sum())
        hidden = engaged & (self.last_recv >= self.t_start)
        hidden[:N_OWNER] = False
        counts = self.in_window[f_end]
        buckets = {}
        for lo, hi in BUCKETS:
            label = f"{lo}" if lo == hi else (f"{lo}+" if hi is None else f"{lo}-{hi}")
            m = counts >= lo if hi is None else (counts >= lo) & (counts <= hi)
            buckets[label] = int(m.sum())
        return {
            "followers_start": n_start, "followers_end": n_end, "followers": n_end,
            "gained": gained, "lost": lost, "net_growth": n_end - n_start,
            "growth_rate": (n_end - n_start) / n_start if n_start else None,
            "engagers_in_window": int(engaged.sum()),
            "active_followers": active_end,
            "passive_share": 1.0 - active_end / n_end if n_end else None,
            "passive_share_designed": 1.0 - int((world.active & f_end).sum()) / n_end if n_end else None,
            "active_share_parameter": world.active_share,
            "reactivity": int((engaged & f_start).sum()) / n_start if n_start else None,
            "action_count_buckets": buckets,
            "hidden_network": int(hidden.sum()),
            **self.retention(),
        }

    def retention(self) -> dict[str, Any]:
        has = self.weeks.any(axis=1)
        first = np.argmax(self.weeks, axis=1)
        cohorts = np.unique(first[has])
        week_start = (self.week0 + np.arange(self.n_weeks + 9)) * WEEK + MONDAY0
        by_j: dict[str, float | None] = {}
        week4 = None
        for j in range(1, 9):
            rates = []
            for k in cohorts.tolist():
                if k + j >= self.n_weeks or week_start[k + j] + WEEK > self.t_end:
                    continue
                members = has & (first == k)
                rates.append(float(self.weeks[members, k + j].mean()))
            by_j[str(j)] = float(np.mean(rates)) if rates else None
            if j == 4:
                week4 = by_j[str(j)]
                n4 = len(rates)
        return {"week4_retention": week4, "week4_cohorts": n4, "retention_by_offset": by_j,
                "engagers_all_time": int(has.sum())}
