"""`leads import`: files or folders into the store, with provenance, quarantine and a summary.

One import is one `ingest_runs` row. Records are staged in bounded batches and merged with the
idempotent set-based merges of store/merge.py; posts of kind reply / repost / quote and mention
entities also yield their interactions (CONNECTORS.md §6.1), and accounts that are only referenced
(authors, actors) get a stub row so that every key resolves.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from socialleads import __version__
from socialleads.errors import FormatError
from socialleads.sources import formats as F
from socialleads.sources import generic as G
from socialleads.sources.lines import TruncatedInput
from socialleads.sources.records import PendingDelete, type_from_filename
from socialleads.store import Store
from socialleads.store import merge as M
from socialleads.store.db import run_sql

FLUSH_ROWS = 1_000_000
SOURCE = "generic"
# During an import, DuckDB's automatic checkpoint (every 16 MiB of changes by default) also checkpoints the
# temp database: it recompresses the staging and work tables after every few batches (measured: staging a
# 1 M-event Jetstream capture took 25-35 % more CPU with it). An import checkpoints the store itself at its
# end (`_end_run`), so the threshold is raised while it runs and restored after; 256 MB kept most of the
# gain for +330 MiB of peak RSS (1 GB: no more gain, +630 MiB).
IMPORT_CHECKPOINT_THRESHOLD = "256MB"
# Experiment assignments (migration 007): whole-row facts keyed by (post, experiment), first wins.
EXPERIMENTS = M.TableMerge(
    "experiment_assignments", ("post_key", "experiment"),
    ("post_key", "experiment", "variant", "source", "extra", "ingest_run_id"), keyed=False,
)


@dataclass
class ImportSummary:
    run_id: str
    files: list[str] = field(default_factory=list)
    accepted: dict[str, int] = field(default_factory=dict)   # per table: distinct records accepted
    new: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    refused: list[str] = field(default_factory=list)        # one message per refused file
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    runs: list[str] = field(default_factory=list)            # further ingest runs of a folder of several exports

    @property
    def complete(self) -> bool:
        return not self.refused and self.quarantined == 0

    def to_json(self) -> dict[str, Any]:
        a = self.accepted
        return {
            "run_id": self.run_id,
            **({"run_ids": [self.run_id, *self.runs]} if self.runs else {}),
            "posts": a.get("posts", 0),
            "accounts": a.get("accounts", 0),
            "interactions": a.get("interactions", 0),
            "entities": a.get("post_entities", 0),
            "follower_snapshots": a.get("follower_snapshots", 0),
            "metrics_snapshots": a.get("metrics_snapshots", 0),
            "clicks": a.get("clicks", 0),
            "conversions": a.get("conversions", 0),
            "experiment_assignments": a.get("experiment_assignments", 0),
            "quarantined": self.quarantined,
            "new": dict(self.new),
            "updated": dict(self.updated),
            "files": list(self.files),
            "refused": list(self.refused),
            "skipped": list(self.skipped),
            "complete": self.complete,
            "seconds": round(self.seconds, 3),
        }


def collect_files(path: Path) -> tuple[list[Path], list[str]]:
    """The files an import of `path` reads, and the names it leaves alone."""
    if not path.exists():
        raise FormatError(f"{path}: no such file or folder")
    if path.is_file():
        return [path], []
    files, skipped = [], []
    for p in sorted(path.rglob("*")):
        if not p.is_file() or p.name.startswith("."):
            continue
        if p.name in G.SKIP_NAMES:
            skipped.append(str(p))
            continue
        if G.file_kind(p) is None:
            skipped.append(str(p))
            continue
        files.append(p)
    return files, skipped


_ENTITY = json.dumps([{"etype": "VARCHAR", "value": "JSON", "target_account_key": "JSON", "start_idx": "VARCHAR",
                        "end_idx": "VARCHAR", "idx_unit": "JSON"}])


def _json_text(x: str) -> str:
    """SQL: `->>'$'` of JSON leaf `x` (a string's text, another value's JSON), without a parse for plain strings."""
    return (f"CASE WHEN starts_with({x}, '\"') AND NOT contains({x}, '\\') THEN trim({x}, '\"') "
            f"ELSE {x}->>'$' END")


class _Run:
    def __init__(self, store: Store, summary: ImportSummary) -> None:
        self.store = store
        self.con = store.con
        self.s = summary
        self.seq_base = 0
        self.pending: list[tuple[str, str, PendingDelete, str | None]] = []  # deletes to resolve

    def add(self, d: dict[str, int], table: str, n: int) -> None:
        d[table] = d.get(table, 0) + n

    def reject(self, file: str, place: str, reason: str, raw: str | None) -> None:
        """One quarantine row (once per file, place and reason: a re-import adds none)."""
        run_sql(self.con, "INSERT INTO quarantine (run_id, file, line, place, record_type, reason, raw) "
                          "SELECT ?, ?, NULL, ?, NULL, ?, ? WHERE NOT EXISTS (SELECT 1 FROM quarantine "
                          "WHERE file = ? AND place = ? AND reason = ?)",
                [self.s.run_id, file, place, reason, (raw or "")[:G.RAW_LIMIT], file, place, reason])
        self.s.quarantined += 1

    def flush(self) -> None:
        """Merge everything staged; derived interactions and stub accounts come from the staged posts."""
        con = self.con
        if not M.staged_rows(con, ("stg_experiment_assignments",)):
            return       # nothing staged since the last flush (e.g. the one that ends an import after a reader's)
        self._index_records()
        # Accounts first so the posts' stubs are not needed for declared accounts.
        self._merge(M.ACCOUNTS)
        run_sql(con, "CREATE OR REPLACE TEMP TABLE batch_posts AS SELECT post_key, platform, author_key, kind, "
                    "created_at, reply_to_key, repost_of_key, quote_of_key, source, ingest_run_id, seq FROM stg_posts")
        # A post's entities come with it once: they are added only for posts that have none stored yet,
        # from the post's first occurrence in the input (so no per-entity deduplication is needed). They are staged
        # as JSON (`entities`) or, by the columnar paths, as a typed list (`ents`: the same fields as read here).
        # One parse of the JSON into typed fields: etype is a string (checked when staged) and the offsets are cast
        # to INTEGER; value, target_account_key and idx_unit stay JSON (`->>` gives a number's text as yyjson
        # writes it, as `e->>'value'` did), read without a parse when they are plain strings.
        rows = run_sql(con, f"""INSERT INTO post_entities
            WITH f AS (SELECT post_key, entities, ents FROM stg_posts WHERE entities IS NOT NULL OR ents IS NOT NULL
                       QUALIFY row_number() OVER (PARTITION BY post_key ORDER BY seq) = 1),
            n AS (SELECT * FROM f WHERE post_key NOT IN (SELECT post_key FROM post_entities
                                                         WHERE post_key IN (SELECT post_key FROM f)))
            SELECT post_key, e.etype, {_json_text("e.value")}, {_json_text("e.target_account_key")},
                   try_cast(e.start_idx AS INTEGER), try_cast(e.end_idx AS INTEGER), {_json_text("e.idx_unit")}
            FROM (SELECT post_key, unnest(from_json(entities, '{_ENTITY}')) AS e FROM n WHERE entities IS NOT NULL)
            UNION ALL
            SELECT post_key, e.etype, e.value, e.target_account_key, e.start_idx, e.end_idx, e.idx_unit
            FROM (SELECT post_key, unnest(ents) AS e FROM n WHERE entities IS NULL)""")
        n_ent = int(rows[0][0]) if rows else 0
        self.add(self.s.accepted, "post_entities", n_ent)  # entities of posts new to the store
        if n_ent:
            self.add(self.s.new, "post_entities", n_ent)
        self._merge(M.POSTS)
        run = self.s.run_id
        derived = []
        for kind, col in (("reply", "reply_to_key"), ("repost", "repost_of_key"), ("quote", "quote_of_key")):
            # A repost is one record, so its key is the repost's own key (the AT-URI on Bluesky, as
            # CONNECTORS.md §6.1 asks); a reply may also quote, so those two are keyed by a hash.
            key = "b.post_key" if kind == "repost" else \
                G._key_md5("b.platform", f"'{kind}'", "b.author_key", "b.post_key", f"b.{col}")
            derived.append(f"""
              SELECT {key},
                     b.platform, '{kind}', b.author_key, p.author_key, b.{col}, b.post_key, b.created_at, 'exact',
                     NULL::TIMESTAMP, b.source, NULL::JSON, '{run}', b.seq, NULL
              FROM batch_posts b LEFT JOIN (SELECT post_key, author_key FROM posts
                WHERE post_key IN (SELECT {col} FROM batch_posts)) p ON p.post_key = b.{col}
              WHERE b.{col} IS NOT NULL AND (b.kind = '{kind}' OR '{kind}' = 'quote')""")
        derived.append(f"""
              SELECT {G._key_md5("b.platform", "'mention'", "b.author_key", "b.post_key", "e.target_account_key")},
                     b.platform, 'mention', b.author_key, e.target_account_key, b.post_key, b.post_key, b.created_at,
                     'exact', NULL::TIMESTAMP, b.source, NULL::JSON, '{run}', b.seq, NULL
              FROM batch_posts b JOIN (SELECT DISTINCT post_key, target_account_key FROM post_entities
                                       WHERE etype = 'mention' AND target_account_key IS NOT NULL
                                         AND post_key IN (SELECT post_key FROM batch_posts)) e
                ON e.post_key = b.post_key""")
        # A derived interaction whose key is already staged by an earlier record (a platform reader's own reply /
        # repost interaction, made before its post) would lose the merge's first-wins deduplication anyway: it is
        # left out here (an anti join), so that the usual batch needs no deduplication pass at all.
        run_sql(con, "INSERT INTO stg_interactions SELECT d.* FROM (" + " UNION ALL ".join(derived) + ") AS d("
                     f"{', '.join(M.INTERACTIONS.columns)}, seq, reason) ANTI JOIN stg_interactions s "
                     "ON s.interaction_key = d.interaction_key AND s.seq < d.seq")
        run_sql(con, "DROP TABLE batch_posts")
        self._merge(M.INTERACTIONS)
        for m in (M.FOLLOWER_SNAPSHOTS, M.METRICS_SNAPSHOTS, M.CLICKS, M.CONVERSIONS, EXPERIMENTS):
            self._merge(m)

    def _index_records(self) -> None:
        """record_index: every staged AT-URI record (Bluesky) and the post / interaction it became (its key
        is the AT-URI), so that a delete in a later import can be applied; deletes staged in this batch
        (posts with is_deleted, records with ended_at) mark their entry deleted."""
        con = self.con
        run_sql(con, """INSERT INTO record_index (at_uri, collection, subject_uri, subject_did, created_at)
            SELECT k, split_part(k, '/', 4), subj, sdid, created_at FROM (
              SELECT post_key AS k, coalesce(repost_of_key, quote_of_key, reply_to_key) AS subj,
                     nullif(split_part(coalesce(repost_of_key, quote_of_key, reply_to_key), '/', 3), '') AS sdid,
                     created_at, seq FROM stg_posts WHERE post_key LIKE 'at://%'
              UNION ALL SELECT interaction_key, target_post_key, target_account_key, created_at, seq
              FROM stg_interactions WHERE interaction_key LIKE 'at://%') r
            WHERE k NOT IN (SELECT at_uri FROM record_index WHERE at_uri IN (
                SELECT post_key FROM stg_posts UNION ALL SELECT interaction_key FROM stg_interactions))
            QUALIFY row_number() OVER (PARTITION BY k ORDER BY seq) = 1""")
        run_sql(con, """UPDATE record_index AS r SET deleted_at = d.t FROM (
              SELECT post_key AS k, coalesce(try_cast(extra->>'deleted_at' AS TIMESTAMPTZ)::TIMESTAMP,
                                             now()::TIMESTAMP) AS t
              FROM stg_posts WHERE post_key LIKE 'at://%' AND is_deleted
              UNION ALL SELECT interaction_key, ended_at FROM stg_interactions
              WHERE interaction_key LIKE 'at://%' AND ended_at IS NOT NULL) d
            WHERE r.at_uri = d.k AND r.deleted_at IS NULL""")
        # a delete's time is the index's, not the post's: it does not go on to posts.extra
        run_sql(con, """UPDATE stg_posts SET extra = nullif(json_merge_patch(extra, '{"deleted_at": null}')::VARCHAR,
                                                        '{}')::JSON
            WHERE is_deleted AND extra IS NOT NULL AND extra->>'deleted_at' IS NOT NULL""")

    def resolve_deletes(self, reject: Callable[[str, str, str, str | None], None]) -> None:
        """Deletes whose create was not in the input: applied when record_index knows the record (an
        earlier import), else quarantined with the reader's reason."""
        if not self.pending:
            return
        con = self.con
        run_sql(con, "CREATE OR REPLACE TEMP TABLE pending_deletes AS SELECT unnest(?::VARCHAR[]) AS uri, "
                     "unnest(?::VARCHAR[]) AS w", [[p[2].uri for p in self.pending], [p[2].when for p in self.pending]])
        run_sql(con, """UPDATE record_index AS r
            SET deleted_at = coalesce(try_cast(d.w AS TIMESTAMPTZ)::TIMESTAMP, now()::TIMESTAMP)
            FROM (SELECT uri, min(w) AS w FROM pending_deletes GROUP BY uri) d
            WHERE r.at_uri = d.uri AND r.deleted_at IS NULL""")
        known = {r[0] for r in con.execute("SELECT at_uri FROM record_index WHERE at_uri IN "
                                           "(SELECT uri FROM pending_deletes)").fetchall()}
        run_sql(con, "DROP TABLE pending_deletes")
        for file, place, reason, raw in self.pending:
            if reason.uri not in known:
                reject(file, place, str(reason), raw)
        self.pending = []

    def _apply_deletes(self) -> None:
        """Store the deletions record_index knows: posts.is_deleted, interactions.ended_at (un-like,
        unfollow, un-repost). Sticky and idempotent: a re-import changes nothing."""
        con = self.con
        deleted = "SELECT at_uri FROM record_index WHERE deleted_at IS NOT NULL"
        n = _first(run_sql(con, f"""UPDATE posts SET is_deleted = TRUE
            WHERE post_key IN ({deleted}) AND NOT coalesce(is_deleted, FALSE)"""))
        m = _first(run_sql(con, """UPDATE interactions AS i SET ended_at = r.deleted_at FROM record_index r
            WHERE r.deleted_at IS NOT NULL AND i.interaction_key = r.at_uri AND i.ended_at IS NULL"""))
        for table, k in (("posts", n), ("interactions", m)):
            if k:
                self.add(self.s.updated, table, k)

    def _merge(self, m: M.TableMerge) -> None:
        staged, new, updated = M.merge_table(self.con, m)
        self.add(self.s.accepted, m.table, staged)
        if new:
            self.add(self.s.new, m.table, new)
        if updated:
            self.add(self.s.updated, m.table, updated)

    def finish(self) -> None:
        """Once per import: stubs for referenced accounts, and reply/like targets resolved late."""
        con = self.con
        run = self.s.run_id
        stubs = con.execute(f"""
            INSERT INTO accounts (account_key, platform, is_owner, source, ingest_run_id)
            SELECT key, any_value(platform), FALSE, 'reference', '{run}' FROM (
              SELECT author_key AS key, platform FROM posts WHERE ingest_run_id = '{run}'
              UNION ALL SELECT actor_key, platform FROM interactions WHERE ingest_run_id = '{run}'
              UNION ALL SELECT target_account_key, platform FROM interactions
                WHERE ingest_run_id = '{run}' AND target_account_key IS NOT NULL) r
            WHERE key IS NOT NULL AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.account_key = r.key)
            GROUP BY key""").fetchall()[0]
        n = int(stubs[0]) if stubs else 0
        if n:
            self.add(self.s.new, "accounts", n)
            self.add(self.s.accepted, "accounts", n)
        run_sql(con, """
            UPDATE interactions AS i SET target_account_key = p.author_key FROM posts p
            WHERE i.target_account_key IS NULL AND i.type IN ('reply', 'repost', 'quote', 'like')
              AND i.target_post_key = p.post_key""")
        self._apply_deletes()


def _first(rows: list[Any] | None) -> int:
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def _new_run(store: Store, path: Path, fmt: str | None, source: str, skipped: list[str]) -> ImportSummary:
    run_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]
    run_sql(store.con, "INSERT INTO ingest_runs (run_id, source, started_at, params, status) "
                       "VALUES (?, ?, now()::TIMESTAMP, ?, 'running')",
            [run_id, source, json.dumps({"path": str(path), "format": fmt or "auto", "tool": "socialleads",
                                         "version": __version__})])
    M.create_staging(store.con)
    run_sql(store.con, "CREATE OR REPLACE TEMP TABLE stg_experiment_assignments AS SELECT "
                       f"{', '.join(EXPERIMENTS.columns)}, 0::BIGINT AS seq, NULL::VARCHAR AS reason "
                       "FROM experiment_assignments LIMIT 0")
    return ImportSummary(run_id=run_id, skipped=skipped)


def _checkpoint_threshold(con: Any, value: str | None = None) -> str:
    """Set DuckDB's automatic checkpoint threshold to `value` (when given); returns the one it replaces (as
    DuckDB prints it, e.g. "16.0 MiB": a value restored from it is within 0.1 of its unit)."""
    old = str(run_sql(con, "SELECT current_setting('checkpoint_threshold')")[0][0])
    if value is not None:
        run_sql(con, f"SET checkpoint_threshold = {G.sql_str(value)}")
    return old


@contextlib.contextmanager
def _import_checkpoints(con: Any) -> Iterator[None]:
    """DuckDB's automatic checkpoints held back (IMPORT_CHECKPOINT_THRESHOLD) for the length of an import."""
    old = _checkpoint_threshold(con, IMPORT_CHECKPOINT_THRESHOLD)
    try:
        yield
    finally:
        with contextlib.suppress(duckdb.Error):   # the connection may be gone with the error that ends the import
            _checkpoint_threshold(con, old)


def _end_run(store: Store, run: _Run, t0: float) -> ImportSummary:
    con, summary = store.con, run.s
    run.flush()
    run.finish()
    for t in ("src", "meta"):
        run_sql(con, f"DROP TABLE IF EXISTS {t}")
    summary.seconds = time.perf_counter() - t0
    status = "complete" if summary.complete else "partial"
    run_sql(con, "UPDATE ingest_runs SET finished_at = now()::TIMESTAMP, counts = ?, rejects = ?, status = ? "
                 "WHERE run_id = ?",
            [json.dumps({"accepted": summary.accepted, "new": summary.new, "updated": summary.updated,
                         "files": summary.files, "refused": summary.refused}),
             summary.quarantined, status, summary.run_id])
    run_sql(con, "CHECKPOINT")
    return summary


def _stage(run: _Run, src: str | G.TypedSource, file: str, file_type: str | None, source: str) -> None:
    con = run.con
    if isinstance(src, G.TypedSource):  # Parquet: staged from its typed columns, no JSON text
        run.s.quarantined += G.process_typed(con, src, file, run.s.run_id, source, run.seq_base)
    elif isinstance(src, G.RowsSource):  # a platform's columnar path: records built as structs in SQL
        run.s.quarantined += G.process_rows(con, src, file, run.s.run_id, source, run.seq_base)
    else:
        run.s.quarantined += G.process_batch(con, src, file, file_type, run.s.run_id, source, run.seq_base)
    if M.staged_rows(con) >= FLUSH_ROWS:
        run.flush()
    run.seq_base += 10_000_000_000


class RecordSink:
    """Public API for streaming writers (`leads listen`): append batches of generic records (dicts as a
    platform reader makes them) to the store **inside the caller's transaction**, with the same staging,
    validation, quarantine, idempotent merges, derived interactions and stub accounts as `leads import`.

    One sink is one ``ingest_runs`` row (opened here, closed by `close`). `append` never checkpoints and
    never commits, so the caller can commit a batch together with its own state (a stream cursor)::

        sink = RecordSink(store, "jetstream:wss://…", source="bluesky_live")
        con.execute("BEGIN TRANSACTION"); sink.append(records); <cursor upsert>; con.execute("COMMIT")

    Bad records are quarantined under ``label`` (the ``file`` column); `append` returns the rows new to
    the store per table in this call. Not thread-safe: one sink per connection, used from one thread.
    """

    def __init__(self, store: Store, label: str, source: str, params: dict[str, Any] | None = None) -> None:
        self.store, self.label, self.source = store, label, source
        self.summary = _new_run(store, Path(label), source, source, [])
        if params is not None:
            run_sql(store.con, "UPDATE ingest_runs SET params = ? WHERE run_id = ?",
                    [json.dumps(params), self.summary.run_id])
        self._run = _Run(store, self.summary)

    @property
    def run_id(self) -> str:
        return self.summary.run_id

    def append(self, records: Iterable[dict[str, Any]], lines: pa.Array | None = None) -> dict[str, int]:
        """Stage, validate and merge ``records`` and/or ``lines`` (an Arrow string array of records already
        as JSON text, e.g. built in SQL: no Python object per record); no CHECKPOINT, no COMMIT. Returns
        the rows new to the store per table."""
        before = dict(self.summary.new)
        if lines is not None and len(lines):   # one staging pass over both: records first, then lines
            text = [json.dumps(r, ensure_ascii=False, default=str) for r in records]
            allt = pa.concat_arrays([pa.array(text, pa.large_utf8()), lines.cast(pa.large_utf8())])
            for src in G._text_view(self.store.con, pa.array(range(1, len(allt) + 1), pa.int64()), allt, "record"):
                _stage(self._run, src, self.label, None, self.source)
        else:
            for src in G.record_sources(self.store.con, iter(records)):
                _stage(self._run, src, self.label, None, self.source)
        self._run.flush()
        self._run.finish()
        return {t: n - before.get(t, 0) for t, n in self.summary.new.items() if n != before.get(t, 0)}

    def close(self, counts: dict[str, Any] | None = None, status: str = "complete") -> ImportSummary:
        """Close the run row (finished_at, counts, rejects, status); no CHECKPOINT (the caller's choice)."""
        s = self.summary
        run_sql(self.store.con, "UPDATE ingest_runs SET finished_at = now()::TIMESTAMP, counts = ?, rejects = ?, "
                                "status = ? WHERE run_id = ?",
                [json.dumps({"accepted": s.accepted, "new": s.new, "updated": s.updated, **(counts or {})}),
                 s.quarantined, status, s.run_id])
        return s


def import_path(store: Store, path: Path, *, fmt: str | None = None,
                progress: Callable[[int, int], None] | None = None,
                source: str = SOURCE) -> ImportSummary:
    """Import a file or folder: a platform export (detected, or named by `fmt`) or the generic format.

    Never raises for bad records: they are quarantined. Raises FormatError only when `path` cannot be
    read at all (missing) or `fmt` is unknown; generic files that are not in the format are listed in
    `summary.refused` and nothing of theirs is imported.
    """
    path = Path(os.path.abspath(path))  # one spelling per file: quarantine rows and provenance match on re-import
    if not path.exists():
        raise FormatError(f"{path}: no such file or folder")
    if not path.is_file() and not path.is_dir():
        raise FormatError(f"{path}: not a regular file or folder (a pipe, socket or device cannot be imported: "
                          "save the stream to a file and import that)")
    platform = None
    if fmt not in (None, "generic", "jsonl", "csv", "parquet"):
        platform = F.formats().get(fmt)
        if platform is None:
            raise FormatError(f"--format {fmt}: unknown format (see `leads import --list-formats`)")
    elif fmt is None:
        if path.is_dir():
            return _import_folder(store, path, progress=progress, source=source)
        platform = F.detect(path)
    if platform is not None:
        return import_records(store, path, platform, progress=progress, forced=fmt is not None)
    return _import_generic(store, path, fmt=fmt, progress=progress, source=source)


_MAX_DEPTH = 8


def plan_folder(path: Path) -> tuple[list[tuple[F.FileFormat, Path]], list[Path], list[str]]:
    """What a folder holds: (platform exports with their format, generic files, names left alone).

    A folder detected as one export is one export, unless a subfolder is an export of another format (a
    detector that looks into subfolders must not swallow a neighbour: an X archive beside a Mastodon one).
    Otherwise each entry is looked at on its own, subfolders recursively: so a folder holding an archive and
    its dated follower lists, or a CAR file beside a Jetstream capture, imports all of them."""
    exports: list[tuple[F.FileFormat, Path]] = []
    generic: list[Path] = []
    skipped: list[str] = []
    seen: set[Path] = set()
    known: dict[Path, F.FileFormat | None] = {}

    def detect(p: Path) -> F.FileFormat | None:      # each folder is looked at once (as a child, then itself)
        if p not in known:
            known[p] = F.detect(p)
        return known[p]

    def visit(d: Path, depth: int) -> None:
        real = d.resolve()
        if real in seen:                 # a symlink loop
            return
        seen.add(real)
        fmt = detect(d)
        try:
            entries = [e for e in sorted(d.iterdir()) if not e.name.startswith(".")]
        except OSError as exc:
            skipped.append(f"{d} ({exc.strerror or type(exc).__name__})")
            return
        if fmt is not None:
            kinds = {k.name for k in (detect(e) for e in entries if e.is_dir()) if k is not None}
            if kinds <= {fmt.name}:
                exports.append((fmt, d))
                return
        for e in entries:
            if e.is_dir():
                if depth < _MAX_DEPTH:
                    visit(e, depth + 1)
                else:
                    skipped.append(str(e))
            elif e.is_file():
                f = None if e.name in G.SKIP_NAMES else F.detect(e)
                if f is not None:
                    exports.append((f, e))
                elif e.name not in G.SKIP_NAMES and G.file_kind(e) is not None:
                    generic.append(e)
                else:
                    skipped.append(str(e))

    visit(path, 0)
    used = {p.parent / c for f, p in exports if p.is_file() for c in f.companions}
    return exports, [g for g in generic if g not in used], skipped


def _import_folder(store: Store, path: Path, *, progress: Callable[[int, int], None] | None,
                   source: str) -> ImportSummary:
    """A folder: one export, generic files, or several exports side by side (one ingest run each)."""
    exports, generic, skipped = plan_folder(path)
    if len(exports) == 1 and not generic and exports[0][1] == path:
        return import_records(store, path, exports[0][0], progress=progress)
    if not exports:
        s = _import_generic(store, path, fmt=None, progress=progress, source=source)
        if not s.files and not s.refused:
            s.refused.append(f"{path}: nothing in it is in a format leads reads ({len(s.skipped):,} file(s) left "
                             "alone; see `leads import --list-formats`)")
        return s
    parts = [import_records(store, p, f, progress=progress) for f, p in exports]
    if generic:
        t0 = time.perf_counter()
        with _import_checkpoints(store.con):
            parts.append(_import_files(store, generic, None, _Run(store, _new_run(store, path, None, source, [])),
                                       progress, source, t0))
    out = parts[0]
    for s in parts[1:]:
        out.files += s.files
        out.refused += s.refused
        out.skipped += s.skipped
        out.quarantined += s.quarantined
        out.seconds += s.seconds
        out.runs.append(s.run_id)
        for mine, theirs in ((out.accepted, s.accepted), (out.new, s.new), (out.updated, s.updated)):
            for k, v in theirs.items():
                mine[k] = mine.get(k, 0) + v
    out.skipped += skipped
    return out


# The columnar paths (records built in SQL, same records as the Python readers): off for tests that compare.
_FAST = True


def _fast_sources(con: Any, path: Path, platform: F.FileFormat, reject: Callable[..., None]) -> Iterator[Any] | None:
    """The batches of a columnar path for `platform` and `path`, or None (the Python reader is used)."""
    if not _FAST:
        return None
    if platform.name == "bsky_jetstream":
        from socialleads.sources import fast_jetstream
        if fast_jetstream.applicable(path):
            return fast_jetstream.jetstream_sources(con, path, reject)
    if platform.name == "x_archive":
        from socialleads.sources import fast_x
        from socialleads.sources.platforms import x_archive
        return G.mixed_sources(con, x_archive.read_archive(
            path, reject, fast_part=lambda data, label, reader: fast_x.part(con, data, reader)))
    return None


def import_records(store: Store, path: Path, platform: F.FileFormat,
                   progress: Callable[[int, int], None] | None = None, forced: bool = False) -> ImportSummary:
    """Store the records a platform reader makes of `path` (validated and merged like a generic file).

    `forced` (the user named the format): when nothing at all could be read as that format — every item
    rejected — the input is refused (listed in `summary.refused`) rather than reported as a partial import."""
    t0 = time.perf_counter()
    summary = _new_run(store, path, platform.name, platform.name, [])
    run = _Run(store, summary)
    con = store.con
    with _import_checkpoints(con):
        return _import_records(store, path, platform, run, progress, t0, forced)


def _import_records(store: Store, path: Path, platform: F.FileFormat, run: _Run,
                    progress: Callable[[int, int], None] | None, t0: float, forced: bool = False) -> ImportSummary:
    con, summary = store.con, run.s
    label = str(path)

    def reject(file: str, place: str, reason: str, raw: str | None) -> None:
        if isinstance(reason, PendingDelete):  # resolved against record_index once the input is staged
            run.pending.append((file, place, reason, raw))
            return
        run.reject(file, place, reason, raw)

    size = path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    if progress:
        progress(0, size)  # readers stream records, not bytes: the bar is filled when the export is read
    try:
        for src in _fast_sources(con, path, platform, reject) or G.record_sources(con, platform.read(path, reject)):
            _stage(run, src, label, None, platform.name)
    except TruncatedInput as exc:       # a compressed capture that breaks off: what came before is kept
        run.reject(label, exc.place, str(exc), None)
    except FormatError as exc:
        summary.refused.append(str(exc))
    except OSError as exc:      # e.g. a folder given to a single-file format (--format bsky_car on a folder)
        summary.refused.append(f"{path}: cannot be read as {platform.name} ({exc.strerror or type(exc).__name__})")
    run.flush()
    run.resolve_deletes(reject)
    if summary.quarantined and not any(summary.accepted.values()) and (summary.refused or forced):
        # The input is refused whole, as a file not in the generic format is: its items are not kept in quarantine
        # one by one (a file of another kind given with --format would leave a row per line).
        first = run_sql(con, "SELECT place, reason FROM quarantine WHERE run_id = ? "
                             "ORDER BY line NULLS LAST, place LIMIT 1", [summary.run_id])
        why = f"the first: {first[0][0]}: {first[0][1][:300]}" if first else ""
        if not summary.refused:
            summary.refused.append(f"{path}: nothing in it could be read as {platform.name} "
                                   f"({summary.quarantined:,} item(s) rejected; {why})")
        elif why:        # the reader's refusal, with what it met (e.g. a capture cut off before its first event)
            summary.refused[-1] += f" ({summary.quarantined:,} fault(s); {why})"
        run_sql(con, "DELETE FROM quarantine WHERE run_id = ?", [summary.run_id])
        summary.quarantined = 0
    if progress:
        progress(size, size)
    summary.files.append(label)
    return _end_run(store, run, t0)


def _import_generic(store: Store, path: Path, *, fmt: str | None,
                    progress: Callable[[int, int], None] | None, source: str) -> ImportSummary:
    files, skipped = collect_files(path)
    t0 = time.perf_counter()
    summary = _new_run(store, path, fmt, source, skipped)
    with _import_checkpoints(store.con):
        return _import_files(store, files, fmt, _Run(store, summary), progress, source, t0)


def _import_files(store: Store, files: list[Path], fmt: str | None, run: _Run,
                  progress: Callable[[int, int], None] | None, source: str, t0: float) -> ImportSummary:
    con, summary = store.con, run.s
    total = sum(f.stat().st_size for f in files)
    done = 0

    def bytes_done(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(min(done, total), total)

    for f in files:
        kind = fmt if fmt in ("jsonl", "csv", "parquet") else G.file_kind(f)
        file_type = type_from_filename(f.name)
        try:
            if kind is None:
                raise FormatError(G.unknown_file_reason(f))
            if kind == "jsonl":
                G.check_jsonl(f, file_type)
                sources = G.jsonl_sources(con, f, on_bytes=bytes_done)
            elif kind == "parquet":
                sources = iter(G.parquet_sources(con, f, file_type))
            else:
                run_sql(con, "DROP TABLE IF EXISTS csv_reject_errors; DROP TABLE IF EXISTS csv_reject_scans")
                sources = iter([G.table_source(con, f, kind, file_type)])
        except FormatError as exc:
            summary.refused.append(str(exc))
            continue
        summary.files.append(str(f))
        try:
            for src in sources:
                _stage(run, src, str(f), file_type, source)
        except TruncatedInput as exc:   # a .gz that breaks off: the lines before it are kept
            run.reject(str(f), exc.place, str(exc), None)
        except duckdb.Error as exc:
            if kind != "parquet" or isinstance(exc, duckdb.OutOfMemoryException):
                raise
            # damaged Parquet pages (a bad download): the rows read before the damage are kept
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            run.reject(str(f), "file", f"damaged Parquet data, the rest of the file is not read ({first[:200]})",
                       None)
        if kind == "csv":
            q = con.execute(G.csv_rejects_sql(summary.run_id, str(f))).fetchall()[0]
            summary.quarantined += int(q[0]) if q else 0
        if kind != "jsonl":
            bytes_done(f.stat().st_size)
    return _end_run(store, run, t0)
