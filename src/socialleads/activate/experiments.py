"""Experiments (METRICS.md §3): posts tagged with an experiment and a variant, compared on a rate.

How a post is tagged (docs/generic-format.md "Experiments"):
* an `experiment_assignment` record (post_key, experiment, variant) → table experiment_assignments;
* a hashtag `#exp_<experiment>_<variant>` on the post (post_entities), e.g. `#exp_cta_B`; the variant
  is what follows the last underscore. A record wins over a hashtag for the same (post, experiment).

Rates (per post, pooled per variant as Σ numerator ÷ Σ followers at post time; posts whose followers
at post time are unknown are left out and counted):
* `engagement_rate`: distinct engagers (reply, repost, quote, like) ÷ followers at post time;
* `reply_rate`: distinct repliers ÷ followers at post time;
* `ctr`: attributed clicks ÷ followers at post time (activate/attribution.py).
The control is the first variant in sort order (A); every other variant is compared with it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from socialleads.activate import stats as S
from socialleads.activate.posts import owner_posts
from socialleads.errors import LeadsError
from socialleads.store.db import run_sql

METRICS = {"engagement_rate": "engagers", "reply_rate": "repliers", "ctr": "clicks"}
HASHTAG_RE = r"^exp_(.+)_([^_]+)$"


class ExperimentError(LeadsError):
    """An unknown experiment or metric."""


def assignments(con: Any) -> pa.Table:
    """post_key, experiment, variant, how ('record' | 'hashtag'): every tagged post."""
    return con.sql(f"""
        WITH rec AS (SELECT post_key, experiment, variant, 'record' AS how FROM experiment_assignments
                     QUALIFY row_number() OVER (PARTITION BY post_key, experiment ORDER BY variant) = 1),
        tag AS (SELECT post_key, regexp_extract(lower(value), '{HASHTAG_RE}', 1) AS experiment,
                       upper(regexp_extract(lower(value), '{HASHTAG_RE}', 2)) AS variant, 'hashtag' AS how
                FROM post_entities WHERE etype = 'hashtag' AND regexp_matches(lower(value), '{HASHTAG_RE}')
                QUALIFY row_number() OVER (PARTITION BY post_key, experiment ORDER BY variant) = 1)
        SELECT * FROM rec UNION ALL
        SELECT * FROM tag WHERE NOT EXISTS (SELECT 1 FROM rec WHERE rec.post_key = tag.post_key
                                            AND rec.experiment = tag.experiment)
        ORDER BY experiment, variant, post_key""").to_arrow_table()


def experiment_list(con: Any, owner_keys: list[str]) -> list[dict[str, Any]]:
    """Each experiment: its variants with their post counts (O's posts only), and how posts were tagged."""
    rows = run_sql(con, f"""SELECT a.experiment, a.variant, count(*), string_agg(DISTINCT a.how, ', '),
                              min(p.created_at), max(p.created_at)
                            FROM ({assignments_sql()}) a JOIN posts p USING (post_key)
                            WHERE p.author_key IN ({_owner(owner_keys)})
                            GROUP BY ALL ORDER BY 1, 2""")
    out: dict[str, dict[str, Any]] = {}
    for exp, var, n, how, t0, t1 in rows:
        e = out.setdefault(exp, {"experiment": exp, "variants": {}, "posts": 0, "tagged_by": set(),
                                 "first": t0, "last": t1})
        e["variants"][var] = int(n)
        e["posts"] += int(n)
        e["tagged_by"].update(how.split(", "))
        e["first"], e["last"] = min(e["first"], t0), max(e["last"], t1)
    for e in out.values():
        e["tagged_by"] = sorted(e["tagged_by"])
        e["first"], e["last"] = e["first"].isoformat(), e["last"].isoformat()
    return list(out.values())


def assignments_sql() -> str:
    return ("SELECT post_key, experiment, variant, 'record' AS how FROM experiment_assignments UNION ALL "
            f"SELECT post_key, regexp_extract(lower(value), '{HASHTAG_RE}', 1), "
            f"upper(regexp_extract(lower(value), '{HASHTAG_RE}', 2)), 'hashtag' FROM post_entities "
            f"WHERE etype = 'hashtag' AND regexp_matches(lower(value), '{HASHTAG_RE}')")


def _owner(keys: list[str]) -> str:
    from socialleads.activate.links import owner_sql
    return owner_sql(keys)


def compare_arms(arms: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, Any]:
    """Variant name → (numerators per post, denominators per post). The statistics of stats.py."""
    names = sorted(arms)
    xs = [float(arms[v][0].sum()) for v in names]
    ns = [float(arms[v][1].sum()) for v in names]
    variants = []
    for v, x, n in zip(names, xs, ns):
        r, lo, hi = S.ratio_interval(arms[v][0].astype(float), arms[v][1].astype(float))
        variants.append({"variant": v, "posts": len(arms[v][0]), "numerator": int(x), "denominator": int(n),
                         "rate": r, "interval_by_post": [lo, hi]})
    pb = S.p_best(xs, ns) if all(n > 0 for n in ns) else [None] * len(names)
    for row, p in zip(variants, pb):
        row["p_best"] = p
    comparisons = []
    a = names[0]
    for b, xb, nb in zip(names[1:], xs[1:], ns[1:]):
        if ns[0] <= 0 or nb <= 0:
            continue
        tp = S.two_proportions(xs[0], ns[0], xb, nb)
        se_post = float(np.hypot(S.ratio_se(arms[a][0].astype(float), arms[a][1].astype(float)),
                                 S.ratio_se(arms[b][0].astype(float), arms[b][1].astype(float))))
        se_used = max(tp["se"], se_post)
        d = S.decide(tp["difference"], se_used, len(arms[a][0]), len(arms[b][0]))
        verdict = {"A higher": f"{a} higher", "B higher": f"{b} higher"}.get(d["verdict"], d["verdict"])
        comparisons.append({
            "control": a, "variant": b, "difference": tp["difference"], "interval": tp["interval"],
            "z": tp["z"], "p_value": tp["p_value"], "se_binomial": tp["se"], "se_by_post": se_post,
            "interval_by_post": [tp["difference"] - S.Z95 * se_post, tp["difference"] + S.Z95 * se_post],
            **d, "verdict": verdict})
    return {"variants": variants, "comparisons": comparisons}


def experiment_report(con: Any, owner_keys: list[str], name: str, metric: str = "engagement_rate",
                      posts: pa.Table | None = None) -> dict[str, Any]:
    """The comparison of experiment `name`'s variants on `metric` (one of METRICS)."""
    if metric not in METRICS:
        raise ExperimentError(f"--metric {metric}: expected one of {', '.join(METRICS)}")
    a = assignments(con)
    a = a.filter(pc.equal(a["experiment"], name))
    if a.num_rows == 0:
        known = sorted(set(assignments(con)["experiment"].to_pylist()))
        raise ExperimentError(f"experiment {name!r}: no posts are tagged with it"
                              + (f" (known: {', '.join(known)})" if known else " (no experiments are tagged)"))
    p = posts if posts is not None else owner_posts(con, owner_keys, kinds=("original", "quote", "reply"))
    if metric == "ctr":
        from socialleads.activate.attribution import clicks_per_post
        cp = clicks_per_post(con, owner_keys)
        p = p.append_column("clicks", pa.array([cp.get(k, 0) for k in p["post_key"].to_pylist()], pa.int64()))
    j = p.join(a.select(["post_key", "variant"]), "post_key", join_type="inner")
    col = METRICS[metric]
    fol = j["followers"].to_numpy(zero_copy_only=False).astype(float)
    y = j[col].to_numpy(zero_copy_only=False).astype(float)
    var = np.array(j["variant"].to_pylist(), dtype=object)
    known = ~np.isnan(fol) & (fol > 0)
    arms = {str(v): (y[known & (var == v)], fol[known & (var == v)]) for v in sorted(set(var.tolist()))}
    res = compare_arms(arms) if len(arms) >= 2 else {"variants": [], "comparisons": []}
    basis = [b for b in set(j["followers_basis"].to_pylist()) if b]
    return {"experiment": name, "metric": metric,
            "definition": f"{col} ÷ followers at post time, pooled per variant",
            "followers_basis": ", ".join(sorted(basis)) or None,
            "tagged_posts": a.num_rows, "posts_of_owner": j.num_rows,
            "posts_left_out": int((~known).sum()), **res,
            "warning": None if len(arms) >= 2 else "fewer than two variants have posts of the owner"}
