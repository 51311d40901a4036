"""Spike and crisis alerts on an hourly count series (METRICS.md §1 "spike / crisis alert").

Hour ``h`` is a spike when both

* ``x_h > mean_7d + k · sd_7d`` (k = 2 by default), where mean and sd are over the 168 hours before
  ``h`` (``h`` itself excluded; sd is the population standard deviation, ddof = 0), and
* a one-sided Poisson test against the 7-day hourly mean gives ``P(X ≥ x_h | mean_7d) < alpha``
  (alpha = 0.01), i.e. ``scipy.stats.poisson.sf(x_h - 1, mean_7d) < alpha``.

The Poisson test guards low counts: over a quiet baseline the sd is small and one extra post clears
the sd rule, but not the test. Note what it does not do: it is a per-hour test at level alpha, so a
series that is pure Poisson noise still alerts on about ``alpha × hours`` hours at worst (fewer, since
counts are discrete) — e.g. a Poisson(0.3) series trips on a 3-post hour (p ≈ 0.0036) about once in
280 hours. ``min_count`` (off by default) is the knob for users who want fewer alerts on tiny volumes.

The first 168 hours of a series have no baseline and never alert. Spike hours less than ``cooldown``
hours apart (default 6) form one alert, so one crisis is one alert. Everything per hour is computed
with numpy prefix sums; Python loops only run over the (few) alerts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

import duckdb
import numpy as np
from scipy.stats import poisson

from socialleads.errors import LeadsError

BASELINE_HOURS = 168
HOUR = np.timedelta64(1, "h")


class SpikeError(LeadsError):
    """Bad input to the spike detector (mismatched arrays, a bad parameter, a bad filter)."""


@dataclass(frozen=True)
class SpikeAlert:
    """One alert: the window [start, end) of its spike hours (end exclusive), its peak and its baseline.

    ``baseline_mean`` and ``baseline_sd`` are those of the window's first spike hour (the 168 hours
    before the crisis began); ``p_value`` is the smallest Poisson p-value among the window's spike hours.
    """

    start: dt.datetime
    end: dt.datetime
    peak_hour: dt.datetime
    peak_count: int
    baseline_mean: float
    baseline_sd: float
    p_value: float
    spike_hours: int
    total_count: int

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("start", "end", "peak_hour"):
            d[key] = d[key].strftime("%Y-%m-%dT%H:%M:%SZ")
        return d


@dataclass(frozen=True)
class SpikeScan:
    """Per-hour detail of a scan (for charts and for checking): baseline, threshold, p-value, flag."""

    hours: np.ndarray
    counts: np.ndarray
    mean: np.ndarray      # NaN where there is no 7-day baseline
    sd: np.ndarray
    p_value: np.ndarray   # NaN where there is no baseline
    spike: np.ndarray     # bool


# ------------------------------------------------------------------------------------ hourly series
def hourly_series(times: np.ndarray, start: Any = None, end: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """(hour starts as datetime64[h], counts) from event times; hours with no event are 0.

    ``start`` / ``end`` (inclusive hours) widen or cut the range; by default it spans the events.
    """
    t = np.asarray(times).astype("datetime64[h]")
    if np.isnat(t).any():
        t = t[~np.isnat(t)]
    lo = np.datetime64(start, "h") if start is not None else (t.min() if len(t) else None)
    hi = np.datetime64(end, "h") if end is not None else (t.max() if len(t) else None)
    if lo is None or hi is None:
        return np.zeros(0, "datetime64[h]"), np.zeros(0, np.int64)
    if hi < lo:
        raise SpikeError(f"hourly series: end {hi} is before start {lo}")
    n = int((hi - lo) // HOUR) + 1
    idx = ((t - lo) // HOUR).astype(np.int64)
    idx = idx[(idx >= 0) & (idx < n)]
    return lo + np.arange(n) * HOUR, np.bincount(idx, minlength=n).astype(np.int64)


def store_hourly_series(con: duckdb.DuckDBPyConnection, where: str | None = None,
                        params: list[Any] | None = None, *, negative_column: str | None = None,
                        start: Any = None, end: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Hourly post counts from the store's ``posts`` (time: ``coalesce(created_at, sort_at)``).

    ``where`` is an SQL filter over ``posts`` (with ``?`` placeholders filled from ``params``), e.g.
    ``"post_key IN (SELECT post_key FROM post_entities WHERE etype = 'mention' AND target_account_key = ?)"``.
    ``negative_column`` names a column (of posts, or reachable in ``where``'s scope) holding the
    sentiment label: only posts labelled ``'negative'`` are counted. The range spans all posts'
    times (not only the matching ones), so a filtered series lines up with the full one.
    """
    conds = ["coalesce(created_at, sort_at) IS NOT NULL"]
    if where:
        conds.append(f"({where})")
    if negative_column:
        if not negative_column.replace("_", "").replace(".", "").isalnum():
            raise SpikeError(f"negative_column must be a column name, not {negative_column!r}")
        conds.append(f"{negative_column} = 'negative'")
    sql = (f"SELECT date_trunc('hour', coalesce(created_at, sort_at)) AS h, count(*) AS n FROM posts "
           f"WHERE {' AND '.join(conds)} GROUP BY 1 ORDER BY 1")
    try:
        rows = con.execute(sql, params or []).fetchall()
        lo_hi = con.execute("SELECT min(coalesce(created_at, sort_at)), max(coalesce(created_at, sort_at)) "
                            "FROM posts").fetchall()[0]
    except duckdb.Error as e:
        raise SpikeError(f"hourly series: the filter failed: {str(e).splitlines()[0]}") from None
    lo = start if start is not None else lo_hi[0]
    hi = end if end is not None else lo_hi[1]
    if lo is None or hi is None:
        return np.zeros(0, "datetime64[h]"), np.zeros(0, np.int64)
    hours, counts = hourly_series(np.zeros(0, "datetime64[h]"), lo, hi)
    if rows:
        h = np.array([r[0] for r in rows], dtype="datetime64[h]")
        n = np.array([r[1] for r in rows], dtype=np.int64)
        i = ((h - hours[0]) // HOUR).astype(np.int64)
        ok = (i >= 0) & (i < len(hours))
        counts[i[ok]] = n[ok]
    return hours, counts


# -------------------------------------------------------------------------------------- detection
def rolling_baseline(counts: np.ndarray, window: int = BASELINE_HOURS) -> tuple[np.ndarray, np.ndarray]:
    """Mean and population sd of the ``window`` values before each hour (NaN for the first ``window``).

    Exact: prefix sums of the integer counts and their squares are integers.
    """
    x = np.asarray(counts, np.int64)
    n = len(x)
    mean = np.full(n, np.nan)
    sd = np.full(n, np.nan)
    if n <= window:
        return mean, sd
    c1 = np.concatenate([[0], np.cumsum(x)])
    c2 = np.concatenate([[0], np.cumsum(x * x)])
    s1 = c1[window:n] - c1[: n - window]  # sum over [h - window, h) for h = window .. n-1
    s2 = c2[window:n] - c2[: n - window]
    mean[window:] = s1 / window
    var = (window * s2 - s1 * s1) / (window * window)  # integer numerator: no cancellation error
    sd[window:] = np.sqrt(np.maximum(var, 0))
    return mean, sd


def scan(hours: np.ndarray, counts: np.ndarray, k: float = 2.0, alpha: float = 0.01,
         min_count: int = 0, window: int = BASELINE_HOURS) -> SpikeScan:
    """Baseline, p-value and spike flag of every hour (METRICS.md §1)."""
    h = np.asarray(hours)
    x = np.asarray(counts)
    if h.shape != x.shape or h.ndim != 1:
        raise SpikeError(f"hours and counts must be 1-d arrays of one length (got {h.shape} and {x.shape})")
    if len(x) and (not np.issubdtype(x.dtype, np.number) or (x < 0).any() or (x != np.round(x)).any()):
        raise SpikeError("counts must be non-negative whole numbers")
    if not (k >= 0 and 0 < alpha < 1 and window >= 1):
        raise SpikeError(f"bad spike parameters: k={k} (>= 0), alpha={alpha} (0..1), window={window} (>= 1)")
    h = h.astype("datetime64[h]")
    if len(h) > 1 and (np.diff(h) != HOUR).any():
        raise SpikeError("hours must be consecutive hour starts (fill missing hours with 0)")
    x = x.astype(np.int64)
    mean, sd = rolling_baseline(x, window)
    has = ~np.isnan(mean)
    p = np.full(len(x), np.nan)
    p[has] = poisson.sf(x[has] - 1, mean[has])
    with np.errstate(invalid="ignore"):
        spike = has & (x > mean + k * sd) & (p < alpha) & (x >= min_count)
    return SpikeScan(hours=h, counts=x, mean=mean, sd=sd, p_value=p, spike=spike)


def group_alerts(s: SpikeScan, cooldown: int = 6) -> list[SpikeAlert]:
    """Merge spike hours into alerts: consecutive hours, and hours within ``cooldown`` of the last."""
    if cooldown < 0:
        raise SpikeError(f"cooldown must be >= 0 hours (got {cooldown})")
    idx = np.flatnonzero(s.spike)
    if not len(idx):
        return []
    new = np.concatenate([[True], np.diff(idx) - 1 > cooldown])
    first = np.flatnonzero(new)
    last = np.concatenate([first[1:], [len(idx)]]) - 1
    alerts = []
    for a, b in zip(first.tolist(), last.tolist(), strict=True):  # one iteration per alert
        hrs = idx[a: b + 1]
        i0, i1 = int(hrs[0]), int(hrs[-1])
        peak = i0 + int(np.argmax(s.counts[i0: i1 + 1]))
        alerts.append(SpikeAlert(
            start=_py(s.hours[i0]), end=_py(s.hours[i1] + HOUR), peak_hour=_py(s.hours[peak]),
            peak_count=int(s.counts[peak]), baseline_mean=float(s.mean[i0]), baseline_sd=float(s.sd[i0]),
            p_value=float(s.p_value[hrs].min()), spike_hours=len(hrs),
            total_count=int(s.counts[i0: i1 + 1].sum())))
    return alerts


def detect_spikes(hours: np.ndarray, counts: np.ndarray, k: float = 2.0, alpha: float = 0.01,
                  cooldown: int = 6, min_count: int = 0) -> list[SpikeAlert]:
    """Spike / crisis alerts of an hourly count series (METRICS.md §1); see the module docstring."""
    return group_alerts(scan(hours, counts, k=k, alpha=alpha, min_count=min_count), cooldown)


def _py(h: np.datetime64) -> dt.datetime:
    return dt.datetime(1970, 1, 1) + dt.timedelta(hours=int(h.astype("datetime64[h]").astype(np.int64)))
