"""The owner's posts in W and the response each drew: the input of every Social mandate figure.

Columns used: posts.post_key, platform, author_key, kind, created_at, text, is_deleted;
post_entities (etype 'link', value); interactions.type, actor_key, target_post_key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from socialleads.errors import LeadsError

#: Actions on a post that count as a response to it (a mention is of an account, not of a post).
RESPONSE_TYPES = ("reply", "repost", "quote", "like")


class MandateError(LeadsError):
    """Bad input to a Social mandate figure (no owner accounts, a bad threshold)."""


def owner_posts(store: Any, owner_keys: Sequence[str], start: dt.datetime | None = None,
                end: dt.datetime | None = None) -> pa.Table:
    """O's posts created in [start, end] (either end open), oldest first, with `links` (the post's link
    entities), `engagers` (distinct non-owner accounts that replied to, reposted, quoted or liked it, at
    any time in the stored data) and `actions` (their count)."""
    owners = sorted(set(owner_keys))
    if not owners:
        raise MandateError(getattr(owner_keys, "reason", None)
                           or "no owner accounts: declare [[owner.accounts]] in leads.toml")
    types = ", ".join(f"'{t}'" for t in RESPONSE_TYPES)
    sql = f"""
    WITH o AS (SELECT DISTINCT unnest(CAST(? AS VARCHAR[])) AS k),
    mine AS (SELECT post_key, any_value(platform) AS platform, any_value(author_key) AS author_key,
                    any_value(kind) AS kind, min(created_at) AS created_at, any_value(text) AS text
             FROM posts WHERE author_key IN (SELECT k FROM o) AND NOT coalesce(is_deleted, FALSE)
               AND created_at IS NOT NULL
               AND (CAST(? AS TIMESTAMP) IS NULL OR created_at >= CAST(? AS TIMESTAMP))
               AND (CAST(? AS TIMESTAMP) IS NULL OR created_at <= CAST(? AS TIMESTAMP))
             GROUP BY post_key),
    resp AS (SELECT target_post_key AS post_key, count(DISTINCT actor_key) AS engagers, count(*) AS actions
             FROM interactions WHERE type IN ({types}) AND target_post_key IN (SELECT post_key FROM mine)
               AND actor_key IS NOT NULL AND actor_key NOT IN (SELECT k FROM o)
             GROUP BY 1),
    links AS (SELECT post_key, list(value ORDER BY value) AS links FROM post_entities
              WHERE etype = 'link' AND post_key IN (SELECT post_key FROM mine) GROUP BY 1)
    SELECT m.post_key, m.platform, m.author_key, m.kind, m.created_at, m.text,
           coalesce(l.links, CAST([] AS VARCHAR[])) AS links,
           coalesce(r.engagers, 0) AS engagers, coalesce(r.actions, 0) AS actions
    FROM mine m LEFT JOIN resp r USING (post_key) LEFT JOIN links l USING (post_key)
    ORDER BY m.created_at, m.post_key
    """
    return store.con.sql(sql, params=[owners, start, start, end, end]).to_arrow_table()


__all__ = ["RESPONSE_TYPES", "MandateError", "owner_posts"]
