"""The analysis window W = [T_start, T_end] (docs/audience-definitions.md; METRICS.md notation).

T_end is the end of the data, never wall-clock now: the latest `created_at` among posts and timestamped
interactions. Columns used: posts.created_at, interactions.created_at.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from socialleads.metrics.tables import Tables

UTC = dt.UTC
DEFAULT_WINDOW_DAYS = 90


#: T_end in DuckDB SQL over the store (greatest() skips a NULL: a store with posts but no interactions).
DATA_END_SQL = "SELECT greatest((SELECT max(created_at) FROM posts), (SELECT max(created_at) FROM interactions))"


def store_data_end(con: Any) -> dt.datetime | None:
    """T_end of a DuckDB store (naive UTC; None when empty): the one SQL reading of `data_end` that the
    sections written in DuckDB SQL share (inbox, activation funnel, coach)."""
    row = con.execute(DATA_END_SQL).fetchall()
    return row[0][0] if row else None


def as_utc(value: dt.datetime) -> dt.datetime:
    """DuckDB/Arrow may hand back naive datetimes for TIMESTAMPTZ in a UTC session: make them aware."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def naive(value: dt.datetime) -> dt.datetime:
    """Ibis 12 reads the store's TIMESTAMPTZ columns as `timestamp(6)` (no zone) in this UTC session, so
    literals handed to Ibis are naive UTC; DuckDB compares them with the columns in UTC."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo is not None else value


@dataclass(frozen=True)
class Window:
    start: dt.datetime
    end: dt.datetime
    days: int

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "days": self.days}


def window_days(override: int | None, config: Any = None) -> int:
    """The length of W in days: the command's option, else leads.toml's analysis.window_days, else 90."""
    return int(override or getattr(config, "window_days", None) or DEFAULT_WINDOW_DAYS)


def data_end(t: Tables) -> dt.datetime | None:
    """T_end: the latest created_at among posts and timestamped interactions (None for an empty store)."""
    maxes = t.posts.aggregate(m=t.posts.created_at.max()).union(
        t.interactions.aggregate(m=t.interactions.created_at.max()))
    rows = maxes.aggregate(m=maxes.m.max()).to_pyarrow().to_pylist()
    value = rows[0]["m"] if rows else None
    return as_utc(value) if value is not None else None


def window_for(t: Tables, window_days: int | None = None) -> Window | None:
    """W = [T_end − window_days, T_end]; None when the store has no timestamped post or interaction."""
    days = int(window_days or DEFAULT_WINDOW_DAYS)
    end = data_end(t)
    if end is None:
        return None
    return Window(start=end - dt.timedelta(days=days), end=end, days=days)
