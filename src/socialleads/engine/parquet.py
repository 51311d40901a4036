"""The workspace as a Parquet dataset: the layout `--engine spark` reads and `leads export --parquet` writes.

    <root>/_leads_manifest.json          schema version, row counts, when and from which store
    <root>/<table>/platform=<p>/*.parquet   posts, interactions, accounts, post_entities
                                         (Hive partitions by platform)
    <root>/<table>/*.parquet             every other table

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
PARTITIONED = ("posts", "interactions", "accounts", "post_entities")
DEFAULT_TABLES = ("accounts", "posts", "post_entities", "interactions", "follower_snapshots", "metrics_snapshots",
                  "clicks", "conversions", "post_signals")


class DatasetError(LeadsError):
    """A folder that is not a socialleads Parquet dataset, or a table it lacks."""

    exit_code = 2


def table_path(root: Path | str, table: str) -> Path:
    return Path(root) / table


def _tables_in(store: Any) -> set[str]:
    rows = store.con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
                             ).fetchall()
    return {r[0] for r in rows}


def _has_column(store: Any, table: str, column: str) -> bool:
    rows = store.con.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = ? AND "
                             "column_name = ?", [table, column]).fetchall()
    return bool(rows[0][0])


def write_dataset(store: Any, root: Path | str, tables: tuple[str, ...] = DEFAULT_TABLES) -> dict[str, Any]:
    """Write the store's tables under `root` (replacing what was there) and the manifest; returns it.

    Each table is one DuckDB COPY (streamed; parallel; bounded by DuckDB's memory limit)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    present = _tables_in(store)
    counts: dict[str, int] = {}
    for name in tables:
        if name not in present:
            continue
        target = table_path(root, name)
        if target.exists():
            shutil.rmtree(target)
        n = int(store.con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0])
        counts[name] = n
        part = name in PARTITIONED and n > 0 and _has_column(store, name, "platform")
        target.mkdir(parents=True)
        if part:
            run_sql(store.con, f"COPY (SELECT * FROM \"{name}\") TO '{_sql_path(target)}' "
                               f"(FORMAT parquet, PARTITION_BY (platform), OVERWRITE_OR_IGNORE)")
        else:
            run_sql(store.con, f"COPY (SELECT * FROM \"{name}\") TO '{_sql_path(target / 'data_0.parquet')}' "
                               f"(FORMAT parquet)")
    manifest = {"format": "socialleads-parquet", "version": 1, "schema_version": store.schema_version,
                "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "store": str(store.path) if store.path else None, "tables": counts,
                "partitioned_by": {t: "platform" for t in PARTITIONED if t in counts}}
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


__all__ = ["DEFAULT_TABLES", "MANIFEST", "DatasetError", "read_manifest", "table_path", "write_dataset"]
