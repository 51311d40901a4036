"""The statistics of experiments and what works (docs/activate.md "Statistics").

* `two_proportions`: difference p_B − p_A with a 95% Wald interval (unpooled SE), and the two-proportion
  z test (pooled SE under H0, two-sided p) — the textbook formulas, checked against scipy in the tests.
* `ratio_se`: the standard error of a pooled rate Σy/Σn when the unit of randomization is the post:
  the jackknife over posts, sqrt((m−1)/m · Σ(R_(−i) − mean R_(−i))²), R_(−i) = the rate without post i
  (with 40 strongly over-dispersed posts an arm, seeded A/A runs claimed 7.0% with it, 7.5% with the
  delta-method SE; the binomial SE alone claims far more). Engagements of one post
  are not independent trials, so this is the honest SE when posts vary; the decision uses the wider
  of the two intervals.
* `p_best`: Bayesian beta-binomial, Beta(1 + x, 1 + n − x) per arm (x capped at n), P(each arm has the
  highest rate) by Monte Carlo with a fixed seed (200,000 draws).
* `decide`: the verdict. The decision interval is difference ± t_(0.975, posts−2) · SE, SE = the wider of
  the binomial and the post-level SE. A difference is claimed only when that interval excludes 0. When it
  does not, and the minimum detectable effect (80% power, α = 0.05: MDE = (z_0.975 + z_0.8) · SE) is
  larger than the observed |difference|, or an arm has fewer than MIN_POSTS posts, the verdict is
  "too small to decide" (with the warning saying how many more posts would be needed); otherwise
  "no difference detected".
* `wilson`: the Wilson score interval of a proportion; `ratio_interval`: pooled rate ± t_(m−1) · ratio_se.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

Z95 = float(stats.norm.ppf(0.975))
Z80 = float(stats.norm.ppf(0.80))
MIN_POSTS = 10
DRAWS = 200_000


def two_proportions(x_a: float, n_a: float, x_b: float, n_b: float) -> dict[str, Any]:
    p_a, p_b = x_a / n_a, x_b / n_b
    diff = p_b - p_a
    se = math.sqrt(max(p_a * (1 - p_a), 0.0) / n_a + max(p_b * (1 - p_b), 0.0) / n_b)
    pool = (x_a + x_b) / (n_a + n_b)
    se0 = math.sqrt(max(pool * (1 - pool), 0.0) * (1 / n_a + 1 / n_b))
    z = diff / se0 if se0 > 0 else 0.0
    p = float(2 * stats.norm.sf(abs(z)))
    return {"rate_a": p_a, "rate_b": p_b, "difference": diff, "se": se,
            "interval": [diff - Z95 * se, diff + Z95 * se], "z": z, "p_value": p}


def ratio_se(y: np.ndarray, n: np.ndarray) -> float:
    """Jackknife (leave one post out) standard error of Σy/Σn."""
    m = len(y)
    sy, sn = float(y.sum()), float(n.sum())
    if m < 2 or sn <= 0 or np.any(sn - n <= 0):
        return math.inf
    r_i = (sy - y) / (sn - n)
    return float(math.sqrt((m - 1) / m * float(((r_i - r_i.mean()) ** 2).sum())))


def ratio_interval(y: np.ndarray, n: np.ndarray) -> tuple[float | None, float | None, float | None]:
    """Pooled rate Σy/Σn with a t interval from `ratio_se` (None when fewer than 2 posts)."""
    if len(y) == 0 or n.sum() <= 0:
        return None, None, None
    r = float(y.sum() / n.sum())
    if len(y) < 2:
        return r, None, None
    h = float(stats.t.ppf(0.975, len(y) - 1)) * ratio_se(y, n)
    return r, r - h, r + h


def wilson(x: float, n: float, z: float = Z95) -> tuple[float, float]:
    if n <= 0:
        return (math.nan, math.nan)
    p = x / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return c - h, c + h


def p_best(xs: list[float], ns: list[float], seed: int = 20240607) -> list[float]:
    rng = np.random.Generator(np.random.PCG64(seed))
    draws = np.stack([rng.beta(1 + min(x, n), 1 + n - min(x, n), DRAWS) for x, n in zip(xs, ns)])
    best = np.argmax(draws, axis=0)
    return [float((best == i).mean()) for i in range(len(xs))]


def decide(diff: float, se_used: float, posts_a: int, posts_b: int) -> dict[str, Any]:
    q = float(stats.t.ppf(0.975, max(posts_a + posts_b - 2, 1)))  # t quantile: posts are the units
    lo, hi = diff - q * se_used, diff + q * se_used
    mde = (Z95 + Z80) * se_used
    warning = None
    if lo > 0 or hi < 0:
        verdict = "B higher" if lo > 0 else "A higher"
        if min(posts_a, posts_b) < MIN_POSTS:
            warning = f"few posts (fewer than {MIN_POSTS} in an arm): the difference is fragile"
    elif min(posts_a, posts_b) < MIN_POSTS or mde > abs(diff):
        verdict = "too small to decide"
        need = None
        if abs(diff) > 0 and math.isfinite(mde):
            need = int(math.ceil((posts_a + posts_b) * ((mde / abs(diff)) ** 2 - 1)))
        warning = ("the sample is too small to decide: the 95% interval spans 0 and the minimum detectable "
                   f"difference ({mde:.4g}) exceeds the observed one ({abs(diff):.4g})"
                   + (f"; about {need} more posts would be needed" if need and need > 0 else ""))
        if min(posts_a, posts_b) < MIN_POSTS:
            warning = f"fewer than {MIN_POSTS} posts in an arm: " + warning
    else:
        verdict = "no difference detected"
    return {"verdict": verdict, "claims_difference": verdict in ("A higher", "B higher"),
            "decision_interval": [lo, hi], "mde": mde, "warning": warning}
