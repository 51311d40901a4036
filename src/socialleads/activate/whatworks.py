"""What works (METRICS.md §3): the engagement rate of O's posts by hour, weekday, length, media, link,
hashtags, question form and content class, each with a 95% interval and its sample size.

Engagement rate of a bucket = Σ engagers ÷ Σ followers at post time over its posts (originals and
quotes of O; posts with unknown followers left out). Interval: that pooled rate ± t_(m−1) · the
post-level ratio-estimator SE (stats.ratio_interval) — posts, not follower-impressions, are the
independent units. A best bucket is named only when its interval lies entirely above every other
bucket's interval (each with ≥ MIN_POSTS posts); otherwise "no clear best".
Content class comes from `post_classes` (migration 008, `leads classes`); hour and weekday are UTC.
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from socialleads.activate import stats as S
from socialleads.activate.posts import _has_table, owner_posts
from socialleads.store.db import run_sql

MIN_POSTS = 5
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
LENGTHS = ((0, 79, "<80 chars"), (80, 159, "80-159"), (160, 279, "160-279"), (280, 10**9, "280+"))


def _buckets(p: pa.Table, con: Any) -> dict[str, np.ndarray | str]:
    t = p["created_at"].to_numpy(zero_copy_only=False).astype("datetime64[s]")
    hour = (t.astype(np.int64) // 3600) % 24
    wd = (t.astype("datetime64[D]").astype(np.int64) + 3) % 7   # 1970-01-01 was a Thursday
    ln = p["text_len"].to_numpy()
    lb = np.select([ln <= hi for _, hi, _ in LENGTHS], [lab for _, _, lab in LENGTHS], "280+")
    nh = p["n_hashtags"].to_numpy()
    out: dict[str, np.ndarray | str] = {
        "hour": np.array([f"{h:02d}h" for h in range(24)], dtype=object)[hour],
        "weekday": np.array(WEEKDAYS, dtype=object)[wd],
        "length": lb.astype(object),
        "media": np.where(p["has_media"].to_numpy(zero_copy_only=False), "media", "no media").astype(object),
        "link": np.where(p["has_link"].to_numpy(zero_copy_only=False), "link", "no link").astype(object),
        "hashtags": np.select([nh == 0, nh == 1], ["0", "1"], "2+").astype(object),
        "question": np.where(np.asarray(p["is_question"].to_numpy(zero_copy_only=False), bool), "question",
                             "statement").astype(object),
    }
    if _has_table(con, "post_classes") and run_sql(con, "SELECT count(*) FROM post_classes")[0][0]:
        # only the classes of these posts: a semi join on their keys, not every classified post of the store
        name = f"leads_ww_keys_{uuid.uuid4().hex}"
        con.register(name, pa.table({"post_key": p["post_key"]}))
        try:
            got = con.sql(f"""SELECT post_key, any_value(class) AS class FROM post_classes
                              WHERE post_key IN (SELECT post_key FROM "{name}") GROUP BY 1""").to_arrow_table()
        finally:
            con.unregister(name)
        pos = pc.index_in(p["post_key"], value_set=got["post_key"]).to_numpy(zero_copy_only=False)
        labels = np.asarray(got["class"].to_numpy(zero_copy_only=False), dtype=object)
        known = ~np.isnan(pos.astype(float))
        out["content class"] = np.where(known, labels[np.where(known, pos, 0).astype(np.int64)] if len(labels)
                                        else "unclassified", "unclassified").astype(object)
    else:
        out["content class"] = "not available: run `leads classes`"
    return out


def dimension(labels: np.ndarray, y: np.ndarray, n: np.ndarray) -> dict[str, Any]:
    """Per bucket: posts, engagers, followers, rate and its interval; `best` only when it is clear."""
    rows = []
    for lab in sorted(set(labels.tolist())):
        m = labels == lab
        r, lo, hi = S.ratio_interval(y[m], n[m])
        rows.append({"bucket": lab, "posts": int(m.sum()), "engagers": int(y[m].sum()),
                     "followers": int(n[m].sum()), "rate": r, "low": lo, "high": hi})
    ok = [r for r in rows if r["posts"] >= MIN_POSTS and r["low"] is not None]
    best = None
    if len(ok) >= 2:
        top = max(ok, key=lambda r: r["rate"])
        if all(top["low"] > r["high"] for r in ok if r is not top):
            best = top["bucket"]
    verdict = (f"{best} is best (its interval is above all others)" if best else
               "no clear best: the intervals overlap" if len(ok) >= 2 else
               f"nothing to compare: fewer than two buckets with {MIN_POSTS}+ posts")
    return {"buckets": rows, "best": best, "verdict": verdict}


def what_works(con: Any, owner_keys: list[str], posts: pa.Table | None = None) -> dict[str, Any]:
    p = posts if posts is not None else owner_posts(con, owner_keys)
    fol = p["followers"].to_numpy(zero_copy_only=False).astype(float) if p.num_rows else np.zeros(0)
    keep = ~np.isnan(fol) & (fol > 0)
    if not keep.any():
        return {"available": False, "reason": "no posts of the owner with followers at post time "
                "(import follow events or account metrics snapshots)"}
    p = p.filter(pa.array(keep))
    y = p["engagers"].to_numpy().astype(float)
    n = fol[keep]
    dims: dict[str, Any] = {}
    for name, labels in _buckets(p, con).items():
        dims[name] = {"available": False, "reason": labels} if isinstance(labels, str) else \
            {"available": True, **dimension(labels, y, n)}
    return {"available": True, "posts": int(keep.sum()), "posts_left_out": int((~keep).sum()),
            "rate": "engagers ÷ followers at post time (pooled); 95% interval from post-level variation",
            "dimensions": dims}
