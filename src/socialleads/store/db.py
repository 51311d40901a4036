"""Open a workspace database and bring its schema up to date with numbered migrations."""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path

import duckdb

from socialleads.errors import WorkspaceError

DEFAULT_MEMORY_LIMIT = "1280MB"
_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


def migrations() -> list[tuple[int, str, str]]:
    """(number, name, sql) for every packaged migration, in order."""
    found = []
    for entry in resources.files("socialleads.store.migrations").iterdir():
        m = _MIGRATION_NAME.match(entry.name)
        if m:
            found.append((int(m.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [n for n, _, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"migrations are not numbered 1..n: {numbers}")
    return found


class Store:
    """A DuckDB connection to a workspace database, migrated to the latest schema."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path | None) -> None:
        self.con = con
        self.path = path

    @property
    def schema_version(self) -> int:
        row = self.con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchall()[0]
        return int(row[0]) if row else 0

    def migrate(self) -> list[int]:
        """Apply every migration newer than the database; returns the numbers applied."""
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER NOT NULL, name VARCHAR, applied_at TIMESTAMP DEFAULT (now()::TIMESTAMP))"
        )
        current = self.schema_version
        applied = []
        for number, name, sql in migrations():
            if number <= current:
                continue
            self.con.execute("BEGIN TRANSACTION")
            try:
                self.con.execute(sql)
                self.con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [number, name]).fetchall()
                self.con.execute("COMMIT")
            except Exception:
                self.con.execute("ROLLBACK")
                raise
            applied.append(number)
        return applied

    def count(self, table: str) -> int:
        row = self.con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0]
        return int(row[0]) if row else 0

    def counts(self) -> dict[str, int]:
        tables = ["accounts", "posts", "post_entities", "interactions", "metrics_snapshots",
                  "follower_snapshots", "clicks", "conversions", "experiment_assignments", "quarantine", "ingest_runs"]
        return {t: self.count(t) for t in tables}

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(path: Path | str | None = None, *, memory_limit: str | None = None,
               read_only: bool = False) -> Store:
    """Open (and migrate) the DuckDB file at `path`; `None` opens an in-memory store for tests."""
    target = ":memory:" if path is None else str(path)
    config: dict[str, str] = {}
    # DuckDB's default buffer pool is 80 % of RAM; a bounded pool makes big imports spill to disk
    # (temp_directory below) instead of growing (10 M posts import in < 4 GB RSS).
    limit = memory_limit or os.environ.get("LEADS_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT
    config["memory_limit"] = limit
    try:
        con = duckdb.connect(target, read_only=read_only, config=config)
    except duckdb.IOException as exc:
        raise WorkspaceError(f"{target}: cannot open the workspace database ({str(exc).splitlines()[0]})") from exc
    if path is not None:
        # Spill big sorts and joins next to the database instead of failing (10 M-post imports).
        con.execute(f"SET temp_directory = '{Path(path).parent / '.leads-tmp'}'")
    con.execute("SET TimeZone = 'UTC'")
    store = Store(con, Path(path) if path is not None else None)
    if not read_only:
        store.migrate()
    return store


def run_sql(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    """Execute and drain a statement (DuckDB 2.0 refuses new work while a result is unfetched)."""
    return con.execute(sql, params).fetchall() if params is not None else con.execute(sql).fetchall()


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether table (or view) `name` exists: optional tables (post_signals, topics, alerts...) appear only
    once their command has run, and a read-only store cannot create them."""
    rows = run_sql(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name])
    return bool(rows and rows[0][0])


def has_rows(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether table `name` exists and holds at least one row (`name` is one of our table names)."""
    return has_table(con, name) and bool(run_sql(con, f'SELECT count(*) FROM (SELECT 1 FROM "{name}" LIMIT 1)')[0][0])
