"""Saved monitors: a name for a query (listen/query.py), its matching posts and their volume over time
(METRICS.md §1, "mention volume").

Matching is one DuckDB query over every stored post (the compiled query is a WHERE clause), so a
monitor over a million posts costs one scan, not a Python loop. Deleted posts never match.
Columns used: posts (post_key, platform, author_key, created_at, text, lang, url, is_deleted),
accounts (account_key, handle), post_entities, monitors.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from socialleads.errors import LeadsError
from socialleads.listen.query import FROM_CLAUSE, compile_query, parse
from socialleads.store.db import Store, run_sql

_NAME = re.compile(r"^[\w][\w.\-]{0,63}$", re.UNICODE)
BUCKETS = ("hour", "day")


class MonitorError(LeadsError):
    """An unknown monitor, a bad monitor name or a bad time bound."""


# ---------------------------------------------------------------------------------------------- storage
def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise MonitorError(f"monitor name {name!r}: use 1-64 letters, digits, '_', '-' or '.', "
                           "starting with a letter or digit")
    return name


def add_monitor(store: Store, name: str, query: str) -> dict[str, Any]:
    """Save `query` under `name` after parsing it (a syntax error raises QuerySyntaxError and saves
    nothing); re-adding a name replaces its query. Returns the saved monitor."""
    _check_name(name)
    parse(query)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    run_sql(store.con, "INSERT OR REPLACE INTO monitors (name, query, created_at) VALUES (?, ?, ?)",
            [name, query, now])
    return {"name": name, "query": query, "created_at": now}


def list_monitors(store: Store) -> list[dict[str, Any]]:
    """Every saved monitor, by name."""
    rows = run_sql(store.con, "SELECT name, query, created_at FROM monitors ORDER BY name")
    return [{"name": n, "query": q, "created_at": c} for n, q, c in rows]


def get_monitor(store: Store, name: str) -> dict[str, Any]:
    rows = run_sql(store.con, "SELECT name, query, created_at FROM monitors WHERE name = ?", [name])
    if not rows:
        known = [m["name"] for m in list_monitors(store)]
        hint = f" (monitors: {', '.join(known)})" if known else " (add one with `leads monitor add NAME \"QUERY\"`)"
        raise MonitorError(f"no monitor named {name!r}{hint}")
    n, q, c = rows[0]
    return {"name": n, "query": q, "created_at": c}


def remove_monitor(store: Store, name: str) -> None:
    """Delete a monitor; an unknown name is an error (a typo should not pass silently)."""
    get_monitor(store, name)
    run_sql(store.con, "DELETE FROM monitors WHERE name = ?", [name])


# --------------------------------------------------------------------------------------------- matching
def as_time(value: dt.datetime | dt.date | str | None, what: str) -> dt.datetime | None:
    """A time bound as a naive UTC datetime (the store's convention): a datetime (aware ones are
    converted), a date (its midnight UTC) or ISO text ('2026-09-29', '2026-09-29T17:00:00Z')."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise MonitorError(f"{what}: expected a date or a time like 2026-09-29 or 2026-09-29T17:00:00Z, "
                               f"got {text!r}") from None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo is not None else value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    raise MonitorError(f"{what}: expected a date or a time, got {value!r}")


def _where(query: str, since: Any, until: Any) -> tuple[str, list[Any]]:
    lo, hi = as_time(since, "since"), as_time(until, "until")
    if lo is not None and hi is not None and hi <= lo:
        raise MonitorError(f"until ({hi.isoformat()}) must be after since ({lo.isoformat()})")
    parts = [compile_query(query), "NOT coalesce(p.is_deleted, false)"]
    params: list[Any] = []
    if lo is not None:
        parts.append("p.created_at >= ?")
        params.append(lo)
    if hi is not None:
        parts.append("p.created_at < ?")
        params.append(hi)
    return " AND ".join(parts), params


MENTION_COLUMNS = ("post_key", "author", "created_at", "text", "platform", "url")


def match_posts(store: Store, query: str, since: Any = None, until: Any = None,
                limit: int | None = None) -> list[dict[str, Any]]:
    """Posts matching `query` with since <= created_at < until, newest first: post_key, author
    (handle), created_at, text, platform, url."""
    where, params = _where(query, since, until)
    sql = (f"SELECT p.post_key, a.handle, p.created_at, p.text, p.platform, p.url FROM {FROM_CLAUSE} "
           f"WHERE {where} ORDER BY p.created_at DESC NULLS LAST, p.post_key")
    if limit is not None:
        if int(limit) < 0:
            raise MonitorError(f"limit must be 0 or more, got {limit}")
        sql += f" LIMIT {int(limit)}"
    return [dict(zip(MENTION_COLUMNS, r)) for r in run_sql(store.con, sql, params)]


def count_matches(store: Store, query: str, since: Any = None, until: Any = None) -> int:
    """How many posts match `query` (one scan)."""
    where, params = _where(query, since, until)
    return int(run_sql(store.con, f"SELECT count(*) FROM {FROM_CLAUSE} WHERE {where}", params)[0][0])


def mentions(store: Store, name: str, since: Any = None, until: Any = None,
             limit: int | None = None) -> list[dict[str, Any]]:
    """The posts matching the saved monitor `name`, newest first (see match_posts)."""
    return match_posts(store, get_monitor(store, name)["query"], since, until, limit)


def query_volume(store: Store, query: str, by: str = "hour", since: Any = None, until: Any = None,
                 fill: bool = True) -> list[dict[str, Any]]:
    """Matching posts per hour or day: [{"period": start of the bucket (UTC), "count": n}], oldest
    first. With `fill`, empty buckets between the first and the last bucket (or since / until when
    given) are present with count 0, so the series is ready for spike detection."""
    if by not in BUCKETS:
        raise MonitorError(f"by: expected one of {', '.join(BUCKETS)}, got {by!r}")
    where, params = _where(query, since, until)
    counts = (f"SELECT date_trunc('{by}', p.created_at) AS period, count(*) AS n FROM {FROM_CLAUSE} "
              f"WHERE {where} AND p.created_at IS NOT NULL GROUP BY 1")
    if not fill:
        rows = run_sql(store.con, counts + " ORDER BY 1", params)
        return [{"period": p, "count": int(n)} for p, n in rows]
    lo, hi = as_time(since, "since"), as_time(until, "until")
    lo_sql = f"date_trunc('{by}', ?::TIMESTAMP)" if lo is not None else "(SELECT min(period) FROM c)"
    # until is exclusive: the last bucket is the one holding the instant just before it
    hi_sql = (f"date_trunc('{by}', ?::TIMESTAMP - INTERVAL 1 MICROSECOND)" if hi is not None
              else "(SELECT max(period) FROM c)")
    bound_params = ([lo] if lo is not None else []) + ([hi] if hi is not None else [])
    sql = (f"WITH c AS ({counts}), g AS (SELECT unnest(generate_series({lo_sql}, {hi_sql}, "
           f"INTERVAL 1 {by})) AS period) "
           "SELECT g.period, coalesce(c.n, 0) FROM g LEFT JOIN c USING (period) ORDER BY 1")
    rows = run_sql(store.con, sql, params + bound_params)
    return [{"period": p, "count": int(n)} for p, n in rows if p is not None]


def mention_volume(store: Store, name: str, by: str = "hour", since: Any = None, until: Any = None,
                   fill: bool = True) -> list[dict[str, Any]]:
    """Mention volume of the saved monitor `name` per hour or day (METRICS.md §1; see query_volume)."""
    return query_volume(store, get_monitor(store, name)["query"], by, since, until, fill)
