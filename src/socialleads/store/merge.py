"""Idempotent, set-based merges from staging tables into the store (CONNECTORS.md §6.1 rules).

* Keys stay unique without index constraints: new rows go in through an anti-join.
* A non-null value is never overwritten by a null, and a value already stored wins over a later
  different one (`coalesce(stored, new)`); `first_seen_at` keeps the earliest time; flags
  (`is_owner`, `is_deleted`) are sticky once true.
* Importing the same staging rows twice changes no count.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from socialleads.store.db import run_sql


@dataclass(frozen=True)
class TableMerge:
    table: str
    key: tuple[str, ...]                 # the identity of a row
    columns: tuple[str, ...]             # every column written (key included)
    keyed: bool = True                   # False: rows are whole-row facts (snapshots, entities)
    earliest: tuple[str, ...] = ()       # keep the minimum
    sticky: tuple[str, ...] = ()         # boolean OR


ACCOUNTS = TableMerge(
    "accounts", ("account_key",),
    ("account_key", "platform", "handle", "display_name", "url", "created_at", "is_owner", "source_ids", "extra",
     "source", "ingest_run_id"),
    sticky=("is_owner",),
)
POSTS = TableMerge(
    "posts", ("post_key",),
    ("post_key", "platform", "author_key", "kind", "kind_confidence", "created_at", "sort_at", "text", "text_html",
     "lang", "visibility", "reply_to_key", "thread_root_key", "repost_of_key", "quote_of_key", "url", "edited_at",
     "is_deleted", "first_seen_at", "source", "source_ids", "raw", "extra", "ingest_run_id"),
    earliest=("first_seen_at", "sort_at"), sticky=("is_deleted",),
)
INTERACTIONS = TableMerge(
    "interactions", ("interaction_key",),
    ("interaction_key", "platform", "type", "actor_key", "target_account_key", "target_post_key", "via_post_key",
     "created_at", "time_precision", "ended_at", "source", "extra", "ingest_run_id"),
)
FOLLOWER_SNAPSHOTS = TableMerge(
    "follower_snapshots", ("account_key", "observed_at", "follower_key"),
    ("account_key", "observed_at", "follower_key", "source", "ingest_run_id"), keyed=False,
)
METRICS_SNAPSHOTS = TableMerge(
    "metrics_snapshots", ("subject_key", "subject_type", "observed_at", "source"),
    ("subject_key", "subject_type", "observed_at", "likes", "reposts", "replies", "quotes", "bookmarks", "score",
     "upvote_ratio", "followers", "following", "posts", "source", "ingest_run_id"), keyed=False,
)
CLICKS = TableMerge(
    "clicks", ("click_key",),
    ("click_key", "occurred_at", "url", "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term",
     "visitor_key", "post_key", "referrer", "source", "extra", "ingest_run_id"),
)
CONVERSIONS = TableMerge(
    "conversions", ("conversion_key",),
    ("conversion_key", "occurred_at", "visitor_key", "url", "utm_source", "utm_medium", "utm_campaign",
     "utm_content", "utm_term", "goal", "value", "currency", "source", "extra", "ingest_run_id"),
)

ALL = (ACCOUNTS, POSTS, INTERACTIONS, FOLLOWER_SNAPSHOTS, METRICS_SNAPSHOTS, CLICKS, CONVERSIONS)


def staging_name(m: TableMerge) -> str:
    return f"stg_{m.table}"


# A post's entities as the columnar import paths stage them (`stg_posts.ents`), typed as post_entities stores them.
ENTITY_LIST = ("STRUCT(etype VARCHAR, value VARCHAR, target_account_key VARCHAR, start_idx INTEGER, end_idx INTEGER, "
               "idx_unit VARCHAR)[]")


def create_staging(con: duckdb.DuckDBPyConnection) -> None:
    """Temp tables shaped like the store's, plus `seq` (input order, for first-wins deduplication),
    `reason` (why a row is rejected; NULL when valid) and, for posts, their `entities` list (JSON, or `ents`
    typed: `ENTITY_LIST`)."""
    for m in ALL:
        run_sql(con,
            f"CREATE OR REPLACE TEMP TABLE {staging_name(m)} AS "
            f"SELECT {', '.join(m.columns)}, 0::BIGINT AS seq, NULL::VARCHAR AS reason"
            f"{f', NULL::JSON AS entities, NULL::{ENTITY_LIST} AS ents' if m.table == 'posts' else ''} "
            f"FROM {m.table} LIMIT 0"
        )


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchall()[0]
    return int(row[0]) if row and row[0] is not None else 0


def merge_table(con: duckdb.DuckDBPyConnection, m: TableMerge) -> tuple[int, int, int]:
    """Merge stg_<table> into <table>; returns (rows staged after dedup, new rows, updated rows)."""
    stg = staging_name(m)
    part = ", ".join(m.key)
    # one pass: the rows staged and their distinct keys (a NULL key is not counted: such rows go the dedup way)
    total, distinct = con.execute(f"SELECT count(*), count(DISTINCT {'(' + part + ')' if len(m.key) > 1 else part}) "
                                  f"FROM {stg}").fetchall()[0]
    if not total:
        return 0, 0, 0
    if total > distinct:  # first occurrence wins (input order)
        run_sql(con, f"CREATE OR REPLACE TEMP TABLE stg_dedup AS SELECT {', '.join(m.columns)} FROM {stg} "
                     f"QUALIFY row_number() OVER (PARTITION BY {part} ORDER BY seq) = 1")
        source = "stg_dedup"
        staged = _one(con, "SELECT count(*) FROM stg_dedup")
    else:  # the usual case: no copy, the staging table is the source
        source, staged = stg, int(total)
    cols = ", ".join(m.columns)
    updated = 0
    if m.keyed:
        # The keys of this batch that the store already has: a semi join that hashes the (small) batch
        # and streams the store's key column, instead of hashing the whole store on every flush.
        (key,) = m.key
        run_sql(con, f"CREATE OR REPLACE TEMP TABLE stg_existing AS SELECT {key} FROM {m.table} "
                     f"WHERE {key} IN (SELECT {key} FROM {source})")
        if _one(con, "SELECT count(*) FROM stg_existing"):
            rest = [c for c in m.columns if c not in m.key and c != "ingest_run_id"]
            sets, wants = [], []
            for c in rest:
                if c in m.earliest:
                    sets.append(f"{c} = least(t.{c}, s.{c})")
                    wants.append(f"(s.{c} < t.{c} OR (t.{c} IS NULL AND s.{c} IS NOT NULL))")
                elif c in m.sticky:
                    sets.append(f"{c} = coalesce(t.{c}, FALSE) OR coalesce(s.{c}, FALSE)")
                    wants.append(f"(coalesce(s.{c}, FALSE) AND NOT coalesce(t.{c}, FALSE))")
                else:
                    sets.append(f"{c} = coalesce(t.{c}, s.{c})")
                    wants.append(f"(t.{c} IS NULL AND s.{c} IS NOT NULL)")
            updated = _one(
                con,
                f"UPDATE {m.table} AS t SET {', '.join(sets)} FROM {source} AS s "
                f"WHERE t.{key} = s.{key} AND ({' OR '.join(wants)})",
            )
            new = _one(con, f"INSERT INTO {m.table} ({cols}) SELECT {cols} FROM {source} "
                            f"WHERE {key} NOT IN (SELECT {key} FROM stg_existing)")
        else:
            new = _one(con, f"INSERT INTO {m.table} ({cols}) SELECT {cols} FROM {source}")
        run_sql(con, "DROP TABLE stg_existing")
    else:
        match = " AND ".join(f"t.{k} IS NOT DISTINCT FROM s.{k}" for k in m.key)
        new = _one(con, f"INSERT INTO {m.table} ({cols}) SELECT {cols} FROM {source} s "
                        f"WHERE NOT EXISTS (SELECT 1 FROM {m.table} t WHERE {match})")
    run_sql(con, f"DELETE FROM {stg}")
    run_sql(con, "DROP TABLE IF EXISTS stg_dedup")
    return staged, new, updated


def staged_rows(con: duckdb.DuckDBPyConnection, more: tuple[str, ...] = ()) -> int:
    """Rows in the staging tables (and in the tables `more`), in one statement."""
    tables = [staging_name(m) for m in ALL] + list(more)
    return _one(con, "SELECT " + " + ".join(f"(SELECT count(*) FROM {t})" for t in tables))
