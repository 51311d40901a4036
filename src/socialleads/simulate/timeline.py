"""When things happen: posts per day (weekly rhythm, slow growth), time of day, the crisis, and chunks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from socialleads.simulate.world import DAY, END

_h = np.array([2, 1.5, 1, 1, 1, 1.5, 2.5, 4, 5, 6, 6.5, 7, 7.5, 8, 8.5, 9, 9, 9, 8.5, 8, 7, 5.5, 4, 3], float)
HOURS_P = _h / _h.sum()


@dataclass(frozen=True)
class Crisis:
    start: int
    end: int
    n: int
    times: np.ndarray  # sorted crisis post times


@dataclass(frozen=True)
class Timeline:
    start: int
    days: int
    per_day: np.ndarray          # world (non-owner, non-crisis) posts per day
    chunks: tuple[tuple[int, int], ...]  # [day0, day1)
    crisis: Crisis


def plan_crisis_window(rng: np.random.Generator, days: int) -> tuple[int, int]:
    """The crisis: inside the last 90 days, 20-75 days before the end; 6 to 40 hours long."""
    back = max(min(days - 3, 20 + int(rng.integers(0, 55))), 1)
    c0 = (END + 1 - back * DAY) + int(rng.integers(6, 18)) * 3600
    c1 = min(c0 + int(6 * 3600 + rng.random() * 34 * 3600), END - 3600)
    return c0, c1


def plan_timeline(rng: np.random.Generator, world_posts: int, days: int, chunk_posts: int,
                  window: tuple[int, int], max_chunk_days: int = 7) -> Timeline:
    start = END + 1 - days * DAY
    n_crisis = int(max(min(40, world_posts // 20), round(0.004 * world_posts)))
    c0, c1 = window
    d = np.arange(days)
    weekday = ((start // DAY + d) + 3) % 7  # 0 = Monday
    intensity = (1.0 + 0.6 * d / max(days - 1, 1)) * np.where(weekday >= 5, 0.8, 1.0)
    ct = np.sort(rng.triangular(c0, c0 + 0.25 * (c1 - c0), c1, n_crisis).astype(np.int64))
    per_day = rng.multinomial(world_posts - n_crisis, intensity / intensity.sum())
    chunks: list[tuple[int, int]] = []
    d0, acc = 0, 0
    for i in range(days):
        acc += int(per_day[i])
        if acc >= chunk_posts or i + 1 - d0 >= max_chunk_days or i == days - 1:
            chunks.append((d0, i + 1))
            d0, acc = i + 1, 0
    return Timeline(start=start, days=days, per_day=per_day, chunks=tuple(chunks),
                    crisis=Crisis(start=c0, end=c1, n=n_crisis, times=ct))


def chunk_times(rng: np.random.Generator, tl: Timeline, d0: int, d1: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted post times of a chunk and a flag for the crisis posts among them."""
    counts = tl.per_day[d0:d1]
    day = np.repeat(np.arange(d0, d1, dtype=np.int64), counts)
    n = len(day)
    t = tl.start + day * DAY + rng.choice(24, size=n, p=HOURS_P) * 3600 + rng.integers(0, 3600, n)
    c = tl.crisis
    lo, hi = tl.start + d0 * DAY, tl.start + d1 * DAY
    ct = c.times[(c.times >= lo) & (c.times < hi)]
    all_t = np.concatenate([t, ct])
    flag = np.concatenate([np.zeros(n, bool), np.ones(len(ct), bool)])
    order = np.lexsort((flag, all_t))
    return all_t[order], flag[order]
