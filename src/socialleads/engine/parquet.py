"""The workspace as a Parquet dataset: the layout `--engine spark` reads and `leads export --parquet` writes.

    <root>/_leads_manifest.json              schema version, row counts, when and from which store
    <root>/<table>/platform=<p>/data_0.parquet  a non-empty table with a `platform` column (Hive
                                             partitions: the column comes back from the folder name)
    <root>/<table>/data_0.parquet            every other table (written even when empty: the schema)

Left out: schema_migrations, quarantine (raw rejected input), ingest_runs (local file paths),
record_index, listen_cursors and sync_state (stream cursors and client state).

Timestamps are written as Parquet TIMESTAMP without time zone holding UTC (as in the store); Spark
reads them as TIMESTAMP_NTZ and the session runs in UTC. Object storage works the same way on a
cluster (`s3a://bucket/path` as <root> for Spark; write it with `leads export --parquet` to a local
folder and copy it up, or with DuckDB's httpfs).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

from socialleads.errors import LeadsError
from socialleads.store.db import run_sql

MANIFEST = "_leads_manifest.json"
SKIP = frozenset({"schema_migrations", "quarantine", "ingest_runs", "listen_cursors", "sync_state", "record_index"})


class DatasetError(LeadsError):
    """A folder that is not a socialleads Parquet dataset, or a table it lacks."""

    exit_code = 2


def table_path(root: Path | str, table: str) -> Path:
    return Path(root) / table


def data_tables(store: Any) -> list[str]:
    """The store's base tables that a dataset holds (all but SKIP), in name order."""
    rows = store.con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
                             "AND table_type = 'BASE TABLE' ORDER BY table_name").fetchall()
    return [r[0] for r in rows if r[0] not in SKIP]


def _has_column(store: Any, table: str, column: str) -> bool:
    rows = store.con.execute("SELECT count(*) FROM information_schema.columns WHERE table_schema = 'main' AND "
                             "table_name = ? AND column_name = ?", [table, column]).fetchall()
    return bool(rows[0][0])


def write_dataset(store: Any, root: Path | str, tables: list[str] | None = None) -> dict[str, Any]:
    """Write the store's tables (default: `data_tables`) under `root`, replacing those tables' folders,
    and the manifest; returns the manifest.

    Each table is one DuckDB COPY (streamed, parallel, bounded by DuckDB's memory limit, zstd)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    present = set(data_tables(store))
    counts: dict[str, int] = {}
    partitioned: dict[str, str] = {}
    for name in tables if tables is not None else sorted(present):
        if name not in present:
            continue
        target = table_path(root, name)
        if target.exists():
            shutil.rmtree(target)
        n = int(store.con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0])
        counts[name] = n
        target.mkdir(parents=True)
        if n and _has_column(store, name, "platform"):
            partitioned[name] = "platform"
            run_sql(store.con, f"COPY \"{name}\" TO '{_sql_path(target)}' "
                               f"(FORMAT parquet, PARTITION_BY (platform), OVERWRITE_OR_IGNORE, COMPRESSION zstd)")
        else:
            run_sql(store.con, f"COPY \"{name}\" TO '{_sql_path(target / 'data_0.parquet')}' "
                               f"(FORMAT parquet, COMPRESSION zstd)")
    manifest = {"format": "socialleads-parquet", "version": 1, "schema_version": store.schema_version,
                "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "store": str(store.path) if store.path else None, "tables": counts,
                "partitioned_by": partitioned}
    (root / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def _sql_path(p: Path) -> str:
    return str(p).replace("'", "''")


def read_manifest(root: Path | str) -> dict[str, Any]:
    path = Path(root) / MANIFEST
    if not path.is_file():
        raise DatasetError(f"{root}: not a socialleads Parquet dataset (no {MANIFEST}; write one with "
                           f"`leads export --parquet {root}`)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{path}: unreadable manifest ({exc})") from exc
    if data.get("format") != "socialleads-parquet":
        raise DatasetError(f"{path}: not a socialleads Parquet manifest")
    return data


__all__ = ["MANIFEST", "SKIP", "DatasetError", "data_tables", "read_manifest", "table_path", "write_dataset"]
