"""Community-building behaviours of the owner (METRICS.md §2 "community building"): welcomes,
introductions and affirmations, each as a count and a rate over the window W = [start, end].

**Welcomes.** A *new follower* is a non-owner whose follow of any owner account (a `follow` interaction)
was created in W (its first such follow in W). It is *welcomed* when O acted on it — a reply, mention,
repost, quote or like whose target is that account or one of its posts — within `welcome_days` (7) of the
follow: follow time ≤ action time ≤ follow time + 7 days. A follow-back is not a welcome (it says nothing
to the follower). ``rate`` = welcomed ÷ *due* new followers, where due = welcomed, or followed at least
7 days before the end of the data (a follower still inside its 7 days and not yet welcomed is
``pending``, neither welcomed nor missed — the rule of `response_stats`' within-SLA share).

**Introductions.** An O post (not a repost, not deleted) created in W that mentions ≥ 2 distinct
non-owner accounts, at least one pair of which had no interaction between them before the post: no
reply, mention, repost, quote, like or follow in either direction created strictly before the post's
time (an interaction with no time counts as prior: we cannot tell it came later). ``count`` =
introducing posts; ``pairs`` = distinct account pairs introduced; ``rate`` = introducing posts ÷ O's
posts in W other than reposts; ``candidates`` = O's posts in W mentioning ≥ 2 non-owner accounts.

**Affirmations.** An O reply (a post by O with `reply_to_key`) created in W to a post by a *follower*
(a non-owner whose follow of an owner account was in force at the reply's time: created ≤ t or untimed,
not ended by t) whose sentiment (`post_signals`, `leads enrich`) is positive. ``count`` = affirming
replies; ``rate`` = affirming replies ÷ O's replies to followers in W that have a sentiment label.

A figure whose input is missing is None with the reason in ``unavailable`` — never 0: no follow events
(welcomes and affirmations need the follower list), no sentiment rows (affirmations need `leads enrich`).

Columns used: interactions.type, actor_key, target_account_key, target_post_key, created_at, ended_at;
posts.post_key, author_key, kind, created_at, reply_to_key, is_deleted; post_entities.post_key, etype,
target_account_key; post_signals.post_key, sentiment_label.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from socialleads.engage.inbox import _aware, _naive_utc, _owners, data_end
from socialleads.engage.who import EngageError
from socialleads.store import Store

#: A new follower is welcomed when O acts on it within this many days of the follow (METRICS.md §2).
WELCOME_DAYS = 7
#: What counts as O acting on an account (a follow-back does not).
ACTION_TYPES = ("reply", "mention", "repost", "quote", "like")
#: What counts as a prior connection between two accounts for an introduction.
CONNECTION_TYPES = ("reply", "mention", "repost", "quote", "like", "follow")

_O = "o AS (SELECT DISTINCT unnest(CAST(? AS VARCHAR[])) AS k)"


def _types(ts: Sequence[str]) -> str:
    return ", ".join(f"'{t}'" for t in ts)


def _welcomes(store: Store, owners: list[str], t0: dt.datetime, t1: dt.datetime, t_data: dt.datetime,
              days: int) -> tuple[int, int, int, float | None]:
    """(new followers, welcomed, due, median hours to the welcome)."""
    row = store.con.execute(f"""
    WITH {_O},
    nf AS (SELECT actor_key AS f, min(created_at) AS t_follow FROM interactions
           WHERE type = 'follow' AND target_account_key IN (SELECT k FROM o) AND actor_key IS NOT NULL
             AND actor_key NOT IN (SELECT k FROM o)
             AND created_at >= CAST(? AS TIMESTAMP) AND created_at <= CAST(? AS TIMESTAMP)
           GROUP BY actor_key),
    oi AS (SELECT i.actor_key, i.target_account_key, i.target_post_key, i.created_at FROM interactions i
           WHERE i.type IN ({_types(ACTION_TYPES)}) AND i.actor_key IN (SELECT k FROM o)
             AND i.created_at IS NOT NULL AND i.created_at <= CAST(? AS TIMESTAMP)),
    ev AS (SELECT coalesce(oi.target_account_key, p.author_key) AS target, oi.created_at AS t
           FROM oi LEFT JOIN (SELECT post_key, any_value(author_key) AS author_key FROM posts
                              WHERE post_key IN (SELECT target_post_key FROM oi WHERE target_account_key IS NULL)
                              GROUP BY post_key) p
                  ON oi.target_account_key IS NULL AND p.post_key = oi.target_post_key),
    w AS (SELECT nf.f, any_value(nf.t_follow) AS t_follow, min(ev.t) AS first_t
          FROM nf LEFT JOIN ev ON ev.target = nf.f AND ev.t >= nf.t_follow
                              AND ev.t <= nf.t_follow + INTERVAL ({int(days)}) DAY
          GROUP BY nf.f)
    SELECT count(*), count(first_t),
           count(*) FILTER (WHERE first_t IS NOT NULL
                            OR t_follow <= CAST(? AS TIMESTAMP) - INTERVAL ({int(days)}) DAY),
           median(epoch(first_t - t_follow) / 3600.0)
    FROM w
    """, [owners, t0, t1, t_data, t_data]).fetchall()[0]
    return int(row[0]), int(row[1]), int(row[2]), (float(row[3]) if row[3] is not None else None)


def _introductions(store: Store, owners: list[str], t0: dt.datetime, t1: dt.datetime) -> tuple[int, int, int, int]:
    """(O's non-repost posts in W, candidates, introducing posts, distinct pairs introduced)."""
    row = store.con.execute(f"""
    WITH {_O},
    op AS (SELECT post_key, created_at FROM posts
           WHERE author_key IN (SELECT k FROM o) AND kind <> 'repost' AND NOT coalesce(is_deleted, FALSE)
             AND created_at >= CAST(? AS TIMESTAMP) AND created_at <= CAST(? AS TIMESTAMP)),
    m AS (SELECT DISTINCT e.post_key, e.target_account_key AS a FROM post_entities e
          WHERE e.etype = 'mention' AND e.target_account_key IS NOT NULL
            AND e.target_account_key NOT IN (SELECT k FROM o) AND e.post_key IN (SELECT post_key FROM op)),
    multi AS (SELECT post_key FROM m GROUP BY post_key HAVING count(*) >= 2),
    pairs AS (SELECT m1.post_key, m1.a AS a, m2.a AS b, op.created_at AS t
              FROM m m1 JOIN m m2 ON m1.post_key = m2.post_key AND m1.a < m2.a
              JOIN op ON op.post_key = m1.post_key),
    acc AS (SELECT DISTINCT a AS k FROM m),
    ci AS (SELECT actor_key, target_account_key, target_post_key, created_at FROM interactions
           WHERE type IN ({_types(CONNECTION_TYPES)}) AND actor_key IN (SELECT k FROM acc)),
    cr AS (SELECT ci.actor_key AS x, coalesce(ci.target_account_key, p.author_key) AS y, ci.created_at
           FROM ci LEFT JOIN (SELECT post_key, any_value(author_key) AS author_key FROM posts
                              WHERE post_key IN (SELECT target_post_key FROM ci WHERE target_account_key IS NULL)
                              GROUP BY post_key) p
                  ON ci.target_account_key IS NULL AND p.post_key = ci.target_post_key),
    pe AS (SELECT least(x, y) AS a, greatest(x, y) AS b,
                  -- an untimed connection counts as before any post (the earliest timestamp both DuckDB and
                  -- Spark hold; Spark has no '-infinity')
                  min(coalesce(created_at, TIMESTAMP '0001-01-01 00:00:00')) AS first_t
           FROM cr WHERE y IN (SELECT k FROM acc) AND x <> y GROUP BY ALL),
    intro AS (SELECT pairs.* FROM pairs LEFT JOIN pe ON pe.a = pairs.a AND pe.b = pairs.b
              WHERE pe.first_t IS NULL OR pe.first_t >= pairs.t)
    SELECT (SELECT count(*) FROM op), (SELECT count(*) FROM multi),
           (SELECT count(DISTINCT post_key) FROM intro), (SELECT count(*) FROM (SELECT DISTINCT a, b FROM intro))
    """, [owners, t0, t1]).fetchall()[0]
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


def _affirmations(store: Store, owners: list[str], t0: dt.datetime, t1: dt.datetime) -> tuple[int, int, int]:
    """(O's replies to followers in W, of them with a sentiment label, of them positive)."""
    row = store.con.execute(f"""
    WITH {_O},
    r AS (SELECT post_key, created_at AS t, reply_to_key FROM posts
          WHERE author_key IN (SELECT k FROM o) AND reply_to_key IS NOT NULL AND NOT coalesce(is_deleted, FALSE)
            AND created_at >= CAST(? AS TIMESTAMP) AND created_at <= CAST(? AS TIMESTAMP)),
    par AS (SELECT post_key, any_value(author_key) AS author_key FROM posts
            WHERE post_key IN (SELECT reply_to_key FROM r) GROUP BY post_key),
    rp AS (SELECT r.post_key, r.t, par.author_key AS parent_author FROM r JOIN par ON par.post_key = r.reply_to_key
           WHERE par.author_key IS NOT NULL AND par.author_key NOT IN (SELECT k FROM o)),
    fol AS (SELECT actor_key AS f, created_at AS c, ended_at AS e FROM interactions
            WHERE type = 'follow' AND target_account_key IN (SELECT k FROM o)
              AND actor_key IN (SELECT parent_author FROM rp)),
    tofol AS (SELECT DISTINCT rp.post_key FROM rp JOIN fol ON fol.f = rp.parent_author
              AND (fol.c IS NULL OR fol.c <= rp.t) AND (fol.e IS NULL OR fol.e > rp.t)),
    s AS (SELECT post_key, any_value(sentiment_label) AS label FROM post_signals
          WHERE post_key IN (SELECT post_key FROM tofol) AND sentiment_label IS NOT NULL GROUP BY post_key)
    SELECT (SELECT count(*) FROM tofol), (SELECT count(*) FROM s),
           (SELECT count(*) FROM s WHERE label = 'positive')
    """, [owners, t0, t1]).fetchall()[0]
    return int(row[0]), int(row[1]), int(row[2])


def _has_follows(store: Store, owners: list[str]) -> bool:
    row = store.con.execute("SELECT count(*) FROM (SELECT 1 FROM interactions WHERE type = 'follow' "
                            "AND target_account_key IN (SELECT unnest(CAST(? AS VARCHAR[]))) LIMIT 1)",
                            [owners]).fetchall()
    return bool(row[0][0])


def community_behaviours(store: Store, owner_keys: Sequence[str], *, start: Any, end: Any,
                         welcome_days: int = WELCOME_DAYS) -> dict[str, Any]:
    """Welcomes, introductions and affirmations of the owner in [start, end] (see the module docstring).

    Returns {"start", "end", "welcome_days", "welcomes": {count, new_followers, due, pending, rate,
    median_hours, denominator}, "introductions": {count, pairs, candidates, owner_posts, rate,
    denominator}, "affirmations": {count, replies_to_followers, scored, rate, denominator},
    "unavailable": {"<behaviour>.<figure>": reason}}. Four DuckDB queries.
    """
    owners = _owners(owner_keys)
    t0, t1 = _naive_utc(start, "start"), _naive_utc(end, "end")
    if t0 > t1:
        raise EngageError(f"the window starts ({t0.isoformat()}) after it ends ({t1.isoformat()})")
    if isinstance(welcome_days, bool) or not isinstance(welcome_days, int) or welcome_days < 1:
        raise EngageError(f"welcome_days must be a whole number >= 1 (got {welcome_days!r})")
    unavailable: dict[str, str] = {}
    t_data = data_end(store) or t1
    follows = _has_follows(store, owners)
    no_follows = ("not available: no follow events for the owner's accounts (import the follower list, "
                  "e.g. follows or an archive's follower.js)")

    wel: dict[str, Any] = {"denominator": f"new followers in the window that are due (welcomed, or followed at "
                                          f"least {welcome_days} days before the end of the data)"}
    if follows:
        n_new, n_wel, n_due, med = _welcomes(store, owners, t0, t1, t_data, welcome_days)
        wel.update(count=n_wel, new_followers=n_new, due=n_due, pending=n_new - n_due, median_hours=med,
                   rate=n_wel / n_due if n_due else None)
        if not n_due:
            unavailable["welcomes.rate"] = ("no new follower in the window" if not n_new else
                                            f"no new follower is {welcome_days} days old yet")
        if med is None:
            unavailable["welcomes.median_hours"] = "no new follower was welcomed"
    else:
        wel.update(count=None, new_followers=None, due=None, pending=None, median_hours=None, rate=None)
        unavailable["welcomes.count"] = unavailable["welcomes.rate"] = no_follows

    n_posts, n_cand, n_intro, n_pairs = _introductions(store, owners, t0, t1)
    intro: dict[str, Any] = {"count": n_intro, "pairs": n_pairs, "candidates": n_cand, "owner_posts": n_posts,
                             "rate": n_intro / n_posts if n_posts else None,
                             "denominator": "the owner's posts in the window other than reposts"}
    if not n_posts:
        unavailable["introductions.rate"] = "the owner has no posts other than reposts in the window"

    aff: dict[str, Any] = {"denominator": "the owner's replies to followers in the window that have a "
                                          "sentiment label (`leads enrich`)"}
    if follows:
        n_rf, n_scored, n_pos = _affirmations(store, owners, t0, t1)
        aff.update(replies_to_followers=n_rf, scored=n_scored)
        if n_rf and not n_scored:
            aff.update(count=None, rate=None)
            unavailable["affirmations.count"] = unavailable["affirmations.rate"] = (
                "not available: the owner's replies have no sentiment (run `leads enrich`)")
        else:
            aff.update(count=n_pos, rate=n_pos / n_scored if n_scored else None)
            if not n_scored:
                unavailable["affirmations.rate"] = "the owner replied to no follower in the window"
    else:
        aff.update(count=None, replies_to_followers=None, scored=None, rate=None)
        unavailable["affirmations.count"] = unavailable["affirmations.rate"] = no_follows
    return {"start": _aware(t0), "end": _aware(t1), "welcome_days": welcome_days, "welcomes": wel,
            "introductions": intro, "affirmations": aff, "unavailable": unavailable}


__all__ = ["ACTION_TYPES", "CONNECTION_TYPES", "WELCOME_DAYS", "community_behaviours"]
