"""`leads import PATH --to-parquet DIR`: import straight into a Parquet dataset, with no workspace store.

For data that does not fit one machine's store: the dataset (the layout of `engine/parquet.py`, which
`--engine spark` reads, locally or on object storage once copied up) grows by one set of new part
files per import, so a machine needs room for one input, never for the accumulated data.

One import:

1. the input goes through the usual importer (`sources.importer.import_path`: format detection,
   validation, quarantine, idempotent merges, derived interactions, stub accounts, deletes within the
   input) into a scratch DuckDB file under ``DIR/_import/`` (spilling to disk like a workspace store);
2. each table's rows whose key the dataset does not hold yet are appended as new files
   ``DIR/<table>/[platform=<p>/]part-<run>-<uuid>.parquet`` — the first value of a record wins, as in the
   store (`store/merge.py`), so importing the same input twice adds nothing;
3. its ``ingest_runs`` row and its quarantine go to ``DIR/_ingest_runs/`` and ``DIR/_quarantine/``, and
   the manifest's row counts are brought up to date; the scratch file is deleted.

What a dataset import does not do, and says so: Parquet files are written once, so a record already in
the dataset is not updated by a later import (the store would fill its empty fields or apply a later
delete). A delete of such a record (a post deleted, an un-like, an unfollow) is not dropped: it goes to
the quarantine with that reason, and importing the same inputs into a workspace applies it.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from socialleads.engine.parquet import MANIFEST, DatasetError, data_tables, read_manifest, table_path
from socialleads.sources import importer as I
from socialleads.store import merge as M
from socialleads.store.db import run_sql

#: The identity of a row in each table an import writes: the store's merge keys (store/merge.py and the
#: importer's experiment assignments), and post_entities by post (a post's entities come once).
KEYS: dict[str, tuple[str, ...]] = {
    **{m.table: m.key for m in (*M.ALL, I.EXPERIMENTS)},
    "post_entities": ("post_key",),
}
#: Rows of a later import that would change a stored record by deleting it (quarantined in a dataset import).
DELETES = {"posts": "coalesce(s.is_deleted, FALSE)", "interactions": "s.ended_at IS NOT NULL"}
DELETE_REASON = ("delete of a record already in the dataset: not applied (a Parquet dataset import only "
                 "appends; import the same input into a workspace to apply it)")


def _q(p: Path | str) -> str:
    return "'" + str(p).replace("'", "''") + "'"


def _files(root: Path, table: str) -> list[Path]:
    base = table_path(root, table)
    return sorted(base.rglob("*.parquet")) if base.is_dir() else []


def _existing(root: Path, table: str) -> str | None:
    """SQL relation of the table's rows already in the dataset (None when it has none)."""
    files = _files(root, table)
    if not files:
        return None
    return f"read_parquet([{', '.join(_q(f) for f in files)}], hive_partitioning=true, union_by_name=true)"


def _has_platform(con: Any, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = ? "
                            "AND column_name = 'platform'", [table]).fetchall()[0][0])


def _append(con: Any, root: Path, table: str, select: str, run: str) -> None:
    target = table_path(root, table)
    target.mkdir(parents=True, exist_ok=True)
    for f in target.glob("part-*-schema.parquet"):  # no rows: it only stood for the table until now
        f.unlink()
    if _has_platform(con, table):
        run_sql(con, f"COPY ({select}) TO {_q(target)} (FORMAT parquet, PARTITION_BY (platform), "
                     f"FILENAME_PATTERN 'part-{run}-{{uuid}}', APPEND, COMPRESSION zstd)")
    else:
        run_sql(con, f"COPY ({select}) TO {_q(target / f'part-{run}-{uuid.uuid4().hex}.parquet')} "
                     "(FORMAT parquet, COMPRESSION zstd)")


def _count(con: Any, sql: str) -> int:
    return int(con.execute(sql).fetchall()[0][0])


def append_store(store: Any, root: Path, run: str, run_id: str) -> dict[str, dict[str, int]]:
    """Append the rows of `store` that `root` lacks (by KEYS); quarantine deletes of rows it has.
    Returns {table: {"appended": n, "already_in_dataset": m}}."""
    con = store.con
    out: dict[str, dict[str, int]] = {}
    for table, key in KEYS.items():
        n = _count(con, f'SELECT count(*) FROM "{table}"')
        if not n:
            continue
        old = _existing(root, table)
        if old is None:
            _append(con, root, table, f'SELECT * FROM "{table}"', run)
            out[table] = {"appended": n, "already_in_dataset": 0}
            continue
        match = " AND ".join(f"e.{k} IS NOT DISTINCT FROM s.{k}" for k in key)
        run_sql(con, f"CREATE OR REPLACE TEMP TABLE ds_known AS SELECT DISTINCT {', '.join(key)} FROM {old}")
        new = f'SELECT s.* FROM "{table}" s WHERE NOT EXISTS (SELECT 1 FROM ds_known e WHERE {match})'
        m = _count(con, f"SELECT count(*) FROM ({new})")
        if m:
            _append(con, root, table, new, run)
        if table in DELETES:
            (k,) = key
            run_sql(con, f"""INSERT INTO quarantine (run_id, file, line, place, record_type, reason, raw)
                SELECT '{run_id}', {_q(str(root))}, NULL, '{table} ' || s.{k}, '{table}', ?, to_json(s)::VARCHAR
                FROM "{table}" s WHERE {DELETES[table]} AND EXISTS (SELECT 1 FROM ds_known e WHERE {match})""",
                    [DELETE_REASON])
        run_sql(con, "DROP TABLE ds_known")
        out[table] = {"appended": m, "already_in_dataset": n - m}
    # every other table the store has gets a schema-only file once, as `write_dataset` writes empty tables,
    # so that readers find each table of the layout
    for table in data_tables(store):
        if table not in out and not _files(root, table):
            target = table_path(root, table)
            target.mkdir(parents=True, exist_ok=True)
            run_sql(con, f'COPY (SELECT * FROM "{table}" LIMIT 0) TO {_q(target / f"part-{run}-schema.parquet")} '
                         "(FORMAT parquet)")
    return out


def import_to_dataset(path: Path | str, root: Path | str, *, fmt: str | None = None,
                      progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Import `path` into the Parquet dataset `root` (created when missing or empty). Returns the import's
    summary (`ImportSummary.to_json()`, counting what the input held) with ``dataset``: per table the
    rows appended and those already in the dataset, ``quarantined`` including refused deletes, and
    ``owner_accounts``: the accounts the input marks as its owner's (an archive's own account)."""
    from socialleads.sources.importer import import_path
    from socialleads.store import open_store

    root = Path(root)
    if (root / MANIFEST).is_file():
        manifest = read_manifest(root)
    elif root.is_dir() and any(root.iterdir()):
        raise DatasetError(f"{root}: a folder that is neither empty nor a socialleads Parquet dataset "
                           f"(no {MANIFEST})")
    else:
        manifest = None
    scratch = root / "_import"
    scratch.mkdir(parents=True, exist_ok=True)
    run = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    db = scratch / f"{run}.duckdb"
    store = open_store(db)
    try:
        summary = import_path(store, Path(path), fmt=fmt, progress=progress)
        appended = append_store(store, root, run, summary.run_id)
        refused = _count(store.con, f"SELECT count(*) FROM quarantine WHERE reason = {_q(DELETE_REASON)}")
        for table in ("ingest_runs", "quarantine"):
            if _count(store.con, f"SELECT count(*) FROM {table}"):
                target = root / f"_{table}"
                target.mkdir(parents=True, exist_ok=True)
                run_sql(store.con, f"COPY {table} TO {_q(target / f'part-{run}.parquet')} "
                                   "(FORMAT parquet, COMPRESSION zstd)")
        schema_version = store.schema_version
        owners = [{"account_key": k, "platform": p, "handle": h} for k, p, h in store.con.execute(
            "SELECT account_key, platform, handle FROM accounts WHERE is_owner ORDER BY account_key").fetchall()]
    finally:
        store.close()
        for p in scratch.glob(f"{run}*"):
            shutil.rmtree(p) if p.is_dir() else p.unlink(missing_ok=True)
        tmp = scratch / ".leads-tmp"
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        if scratch.is_dir() and not any(scratch.iterdir()):
            scratch.rmdir()
    counts = dict((manifest or {}).get("tables") or {})
    for table, a in appended.items():
        counts[table] = int(counts.get(table, 0)) + a["appended"]
    imports = list((manifest or {}).get("imports") or [])
    imports.append({"run": run, "input": str(path), "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "appended": {t: a["appended"] for t, a in appended.items()}})
    new_manifest = {**(manifest or {"format": "socialleads-parquet", "version": 1, "store": None,
                                      "partitioned_by": {}}),
                    "schema_version": schema_version, "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "tables": counts, "imports": imports}
    parts = dict(new_manifest.get("partitioned_by") or {})
    for table in appended:
        if any(p.is_dir() and p.name.startswith("platform=") for p in table_path(root, table).iterdir()):
            parts[table] = "platform"
    new_manifest["partitioned_by"] = parts
    (root / MANIFEST).write_text(json.dumps(new_manifest, indent=1) + "\n", encoding="utf-8")
    out = summary.to_json()
    out["quarantined"] = int(out.get("quarantined", 0)) + refused
    out["complete"] = bool(out.get("complete")) and not refused
    out["dataset"] = {"root": str(root), "run": run, "tables": appended}
    out["owner_accounts"] = owners   # an archive's own account: declare it in a workspace's leads.toml to score it
    return out


__all__ = ["DELETE_REASON", "KEYS", "append_store", "import_to_dataset"]
