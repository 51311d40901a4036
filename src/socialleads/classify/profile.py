"""Account profile: leader, manager or broadcaster (METRICS.md §5 "content classes").

From an account's class mix (post_classes, migration 008) and the discussion its posts draw:
``discussion_per_post`` = replies + quotes by *other* accounts on the account's posts ÷ its classified
posts (the replies/quotes stored as posts; when a post's latest metrics snapshot counts more replies +
quotes than the store holds, the snapshot's count is used for that post).

The rule, in order (S = the accounts profiled together; ``median`` = the median discussion per post
over the accounts of S with enough posts):

1. fewer than ``min_posts`` classified posts                     → ``undetermined``;
2. thought-leadership share ≥ 0.20 and discussion per post ≥ median(S) and > 0 → ``leader``;
3. how-to + promotional share ≥ 0.35, or conversational share ≥ 0.25 → ``manager``
   (the account instructs, sells, or answers: it manages a customer relationship);
4. otherwise                                                     → ``broadcaster`` (curation, personal
   or unanswered opinion, little conversation and little discussion drawn).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from socialleads.classify.classes import CLASSES, class_mix

LEADER_TL_SHARE = 0.20
MANAGER_SHARE = 0.35
MANAGER_CONV_SHARE = 0.25
MIN_POSTS = 10
PROFILE_RULE = ("leader: thought-leadership share ≥ 20% and replies + quotes received per post ≥ the median of "
                "the accounts profiled (and > 0); manager: how-to + promotional ≥ 35% or conversational ≥ 25%; "
                "broadcaster: the rest; undetermined: fewer than 10 classified posts")


_DISCUSSION_CTES = """
        WITH mine AS (
          SELECT p.post_key, p.author_key FROM posts p JOIN post_classes c USING (post_key)
          {where}
        ),
        got AS (
          SELECT m.post_key, count(DISTINCT q.key) AS n
          FROM mine m JOIN (SELECT reply_to_key AS target, post_key AS key, author_key FROM posts
                            WHERE reply_to_key IS NOT NULL
                            UNION ALL
                            SELECT quote_of_key, post_key, author_key FROM posts
                            WHERE quote_of_key IS NOT NULL) q ON q.target = m.post_key
          WHERE q.author_key IS DISTINCT FROM m.author_key
          GROUP BY m.post_key
        ),
        snap AS (
          SELECT subject_key AS post_key,
                 arg_max(coalesce(replies, 0) + coalesce(quotes, 0), observed_at) AS n
          FROM metrics_snapshots WHERE subject_type = 'post' AND subject_key IN (SELECT post_key FROM mine)
          GROUP BY subject_key
        ),
        per AS (
          SELECT m.author_key, count(*) AS posts,
                 sum(greatest(coalesce(g.n, 0), coalesce(s.n, 0))) AS discussion
          FROM mine m LEFT JOIN got g USING (post_key) LEFT JOIN snap s USING (post_key)
          GROUP BY m.author_key
        )"""


def discussion_per_post(store: Any, account_keys: list[str]) -> dict[str, dict[str, float]]:
    """{account: {"posts", "discussion", "per_post"}} — replies + quotes by others on its classified posts."""
    if not account_keys:
        return {}
    rows = store.con.execute(_DISCUSSION_CTES.format(where="WHERE p.author_key IN (SELECT unnest(?::VARCHAR[]))")
                             + " SELECT author_key, posts, discussion FROM per", [list(account_keys)]).fetchall()
    return {k: {"posts": int(n), "discussion": float(d or 0), "per_post": float(d or 0) / n if n else 0.0}
            for k, n, d in rows}


def _owner_and_median(store: Any, owner_keys: list[str], min_posts: int) -> tuple[float, float | None]:
    """(the owner's discussion summed, the median discussion per post — rounded to 4 places per account
    as `account_profiles` reports it — over the other accounts with ≥ min_posts classified posts), in one
    SQL aggregate over every classified post. An account without a key counts with 0 discussion."""
    row = store.con.execute(_DISCUSSION_CTES.format(where="") + """,
        o AS (SELECT unnest(?::VARCHAR[]) AS k)
        SELECT (SELECT coalesce(sum(discussion), 0) FROM per WHERE author_key IN (SELECT k FROM o)),
               (SELECT median(CASE WHEN author_key IS NULL THEN 0.0
                                   -- x·10⁴ rounded half up: the same arithmetic on DuckDB and Spark
                                   -- (their round(x, 4) differ: 3/160 → 0.0187 vs 0.0188)
                                   ELSE floor(coalesce(discussion, 0) / posts * 10000 + 0.5) / 10000 END)
                FROM per WHERE (author_key IS NULL OR author_key NOT IN (SELECT k FROM o)) AND posts >= ?)""",
                             [list(owner_keys), int(min_posts)]).fetchall()[0]
    return float(row[0] or 0), (None if row[1] is None else float(row[1]))


def profile_rule(shares: dict[str, float], per_post: float, median: float, posts: int,
                 min_posts: int = MIN_POSTS) -> tuple[str, str]:
    """(profile, reason) of one account from its class shares and discussion (pure; see the module doc)."""
    tl = shares.get("thought-leadership", 0.0)
    hp = shares.get("how-to", 0.0) + shares.get("promotional", 0.0)
    conv = shares.get("conversational", 0.0)
    if posts < min_posts:
        return "undetermined", f"only {posts} classified posts (needs {min_posts})"
    if tl >= LEADER_TL_SHARE and per_post >= median and per_post > 0:
        return "leader", (f"thought leadership {tl:.0%} ≥ {LEADER_TL_SHARE:.0%} and {per_post:.2f} replies + quotes "
                          f"per post ≥ median {median:.2f}")
    if hp >= MANAGER_SHARE or conv >= MANAGER_CONV_SHARE:
        return "manager", (f"how-to + promotional {hp:.0%} (≥ {MANAGER_SHARE:.0%}?), conversational {conv:.0%} "
                           f"(≥ {MANAGER_CONV_SHARE:.0%}?)")
    return "broadcaster", (f"thought leadership {tl:.0%}, how-to + promotional {hp:.0%}, conversational "
                           f"{conv:.0%}; {per_post:.2f} replies + quotes per post (median {median:.2f})")


def account_profiles(store: Any, account_keys: list[str] | None = None,
                     min_posts: int = MIN_POSTS) -> list[dict[str, Any]]:
    """Profile every account given (else every account with classified posts), most posts first.

    Each row: account_key, handle, posts, counts, shares (per class), discussion, discussion_per_post,
    median_discussion (over S), profile, reason.
    """
    mix = class_mix(store, account_keys)
    if not mix:
        return []
    disc = discussion_per_post(store, [m["account_key"] for m in mix])
    per = np.array([disc.get(m["account_key"], {}).get("per_post", 0.0) for m in mix])
    enough = np.array([m["posts"] >= min_posts for m in mix])
    median = float(np.median(per[enough])) if enough.any() else 0.0
    out = []
    for m, pp in zip(mix, per.tolist(), strict=True):
        prof, reason = profile_rule(m["shares"], pp, median, m["posts"], min_posts)
        out.append({**m, "discussion": disc.get(m["account_key"], {}).get("discussion", 0.0),
                    "discussion_per_post": round(pp, 4), "median_discussion": round(median, 4),
                    "profile": prof, "reason": reason})
    return out


def owner_profile(store: Any, owner_keys: list[str], min_posts: int = MIN_POSTS) -> dict[str, Any] | None:
    """The owner's accounts pooled as one (class mix and discussion summed), profiled against the other
    accounts with classified posts (S = every classified account). None when the owner has no classified post.
    """
    if not owner_keys:
        return None
    own = class_mix(store, list(owner_keys))
    if not own:
        return None
    counts = {c: sum(p["counts"].get(c, 0) for p in own) for c in CLASSES}
    posts = sum(counts.values())
    disc, med = _owner_and_median(store, list(owner_keys), min_posts)
    per_post = disc / posts if posts else 0.0
    median = float(med) if med is not None else per_post
    shares = {c: round(v / posts, 4) if posts else 0.0 for c, v in counts.items()}
    prof, reason = profile_rule(shares, per_post, median, posts, min_posts)
    return {"account_keys": list(owner_keys), "posts": posts, "counts": counts, "shares": shares,
            "discussion": disc, "discussion_per_post": round(per_post, 4), "median_discussion": round(median, 4),
            "profile": prof, "reason": reason, "rule": PROFILE_RULE}
