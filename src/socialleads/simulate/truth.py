"""Ground truth kept by the simulator's own bookkeeping (bounded per-account arrays), following
docs/audience-definitions.md — an implementation independent of socialleads.metrics.

* Actions on O: replies / reposts / quotes of owner posts, mentions of an owner account and likes of
  owner posts by non-owners (each such post yields exactly one derived interaction; a post mentions an
  account at most once). The engine emits at most one like per (actor, post), the earliest, and books
  only the likes it emits, so these figures count exactly the records the importer keeps (it keys a
  like by platform, actor and post, without its time).
* Weeks start on Monday 00:00 UTC; a week [s, s + 7 d) has ended by T_end when s + 7 d <= T_end.
* Realised influence (``top_influencers``): the engagement an account *received* in the analysis window
  W = [T_end - window_days, T_end], weighted as METRICS.md §2 weighs the interaction graph (repost 3,
  quote 3, reply 2, mention 2, like 1), from every reply, mention, repost, quote and like the world and
  the owner emitted (self-interactions left out). The designed influence (world.influence) only biases
  which posts get picked; an account that posts little receives little whatever its design, so the
  designed top 20 is not what any measurement of the emitted data can recover (``top_designed_influence``
  keeps it for reference).
* The engagement inbox (``InboxBook``): inbound items, the owner's first replies, and the response
  figures of METRICS.md §2 as engage/inbox.py defines them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from socialleads.simulate.world import DAY, N_OWNER, NONE, World, post_keys

WEEK = 7 * DAY
WELCOME_DAYS = 7  # engage/behaviours.py WELCOME_DAYS
#: The response SLA declared in the simulated leads.toml ([goals] response_sla_hours).
SLA_HOURS = 24
#: Interaction weights of the who-matters PageRank (METRICS.md §2), for the realised-influence truth.
W_REPLY, W_MENTION, W_REPOST, W_QUOTE, W_LIKE = 2, 2, 3, 3, 1
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
        self.engagement_w = np.zeros(n, np.int64)   # weighted engagement received in the window
        # welcomes (METRICS.md §2): the follow of the owner (set by the caller) and the owner's first action
        # on the follower within WELCOME_DAYS of it (NONE = none)
        self.f_created = np.full(n, NONE, np.int64)
        self.welcomed_at = np.full(n, NONE, np.int64)
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
            f = self.f_created[target]
            m = (f != NONE) & (t >= f) & (t <= f + WELCOME_DAYS * DAY)
            if m.any():
                first = np.where(self.welcomed_at == NONE, np.iinfo(np.int64).max, self.welcomed_at)
                np.minimum.at(first, target[m], t[m])
                self.welcomed_at = np.where(first == np.iinfo(np.int64).max, NONE, first)

    def welcomes(self) -> dict[str, Any]:
        """Welcomes over the window as engage/behaviours.py defines them: new followers (a follow of the
        owner created in W), welcomed (the owner acted on them within WELCOME_DAYS of the follow), due
        (welcomed, or followed at least WELCOME_DAYS before t_end), the rate and the median hours."""
        f = self.f_created
        new = (f != NONE) & (f >= self.t_start) & (f <= self.t_end)
        wel = new & (self.welcomed_at != NONE)
        due = wel | (new & (f <= self.t_end - WELCOME_DAYS * DAY))
        hours = (self.welcomed_at[wel] - f[wel]) / 3600.0
        return {"new_followers": int(new.sum()), "count": int(wel.sum()), "due": int(due.sum()),
                "rate": int(wel.sum()) / int(due.sum()) if due.any() else None,
                "median_hours": float(np.median(hours)) if len(hours) else None}

    def receive(self, target: np.ndarray, what: int) -> None:
        if len(target):
            self.received[:, what] += np.bincount(target, minlength=self.n)

    def engaged(self, actor: np.ndarray | int, target: np.ndarray, t: np.ndarray, weight: int) -> None:
        """``actor`` replied to / mentioned / reposted / quoted / liked ``target`` at ``t`` (one derived
        interaction each, of the given weight): the realised engagement received in the window."""
        if len(target):
            m = (t >= self.t_start) & (t <= self.t_end) & (actor != target)
            self.engagement_w += np.bincount(target[m], minlength=self.n) * weight

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


class InboxBook:
    """Ground truth of the engagement inbox (engage/inbox.py, METRICS.md §2), kept while the world streams.

    An *inbound item* is a non-repost post by a non-owner that replies to or quotes an owner post or
    mentions an owner account (the engine's ``eng & kind != repost`` posts: exactly the inbox's items).
    It *asks* when its text carries a question mark (text.Vocab.asks: the inbox's question test without
    ``leads enrich``). The owner answers some items once each (owner_emit.py: a designed heavy-tailed
    delay picks which); the first reply's time is kept. Memory: counters, the answered items (at most one
    per owner post) and four int64 per question item (the unanswered-question keys are built at the end).
    """

    def __init__(self, t_start: int, t_end: int, sla_hours: int = SLA_HOURS) -> None:
        self.t_start, self.t_end, self.sla_s = t_start, t_end, sla_hours * 3600
        self.n_all = self.n_w = self.q_w = self.recent_w = self.recent_q_w = 0
        self.q_parts: list[np.ndarray] = []   # (platform, author, seq, t) rows of the items that ask
        self.ans: list[tuple[int, int, int, int, int, bool]] = []  # platform, author, seq, t, first reply, asks

    def add(self, platform: int, author: np.ndarray, seq: np.ndarray, t: np.ndarray, asks: np.ndarray) -> None:
        if not len(t):
            return
        inw = (t >= self.t_start) & (t <= self.t_end)
        recent = inw & (self.t_end - t < self.sla_s)  # the SLA has not run out by the end of the data
        self.n_all += len(t)
        self.n_w += int(inw.sum())
        self.q_w += int((inw & asks).sum())
        self.recent_w += int(recent.sum())
        self.recent_q_w += int((recent & asks).sum())
        if asks.any():
            self.q_parts.append(np.stack([np.full(int(asks.sum()), platform), author[asks], seq[asks], t[asks]]))

    def answered(self, platform: int, author: int, seq: int, t: int, reply_t: int, asks: bool) -> None:
        self.ans.append((platform, author, seq, t, reply_t, asks))

    def figures(self, world: World) -> tuple[dict[str, Any], list[str]]:
        """(the response figures over the window, the sorted keys of the unanswered questions)."""
        a = np.array(self.ans, np.int64).reshape(-1, 6)
        a_t, a_reply, a_q = a[:, 3], a[:, 4], a[:, 5].astype(bool)
        inw = (a_t >= self.t_start) & (a_t <= self.t_end)
        delay_s = a_reply[inw] - a_t[inw]
        hours = delay_s / 3600.0
        met = delay_s <= self.sla_s
        recent = self.t_end - a_t[inw] < self.sla_s
        n_ans = int(inw.sum())
        due = self.n_w - (self.recent_w - int(recent.sum()))         # all but the unanswered, SLA not run out
        due_q = self.q_w - (self.recent_q_w - int((recent & a_q[inw]).sum()))
        met_q = int((met & a_q[inw]).sum())
        fig: dict[str, Any] = {
            "sla_hours": self.sla_s / 3600, "start": iso(self.t_start), "end": iso(self.t_end),
            "inbound": self.n_w, "answered": n_ans, "questions": self.q_w, "pending": self.n_w - due,
            "response_rate": n_ans / self.n_w if self.n_w else None,
            "median_response_hours": float(np.percentile(hours, 50)) if n_ans else None,
            "p90_response_hours": float(np.percentile(hours, 90)) if n_ans else None,
            "within_sla": int(met.sum()), "beyond_sla": int((~met).sum()),
            "within_sla_share": int(met.sum()) / due if due else None,
            "listened_and_acted_rate": met_q / due_q if due_q else None,
            "inbound_all_time": self.n_all, "answered_all_time": len(a),
            "unanswered_all_time": self.n_all - len(a),
        }
        # the unanswered questions: items that ask, minus those answered (by (platform, seq))
        q = np.concatenate(self.q_parts, axis=1) if self.q_parts else np.zeros((4, 0), np.int64)
        done = set(zip(a[:, 0].tolist(), a[:, 2].tolist(), strict=True))
        left = np.array([(p, s) not in done for p, s in zip(q[0].tolist(), q[2].tolist(), strict=True)], bool)
        q = q[:, left] if len(left) else q
        keys: list[str] = []
        for p in range(N_OWNER):
            m = q[0] == p
            if m.any():
                keys += post_keys(world, p, q[1][m], q[2][m], q[3][m]).to_pylist()
        fig["unanswered_questions"] = len(keys)
        fig["questions_all_time"] = int(q.shape[1]) + int(a_q.sum())
        return fig, sorted(keys)
