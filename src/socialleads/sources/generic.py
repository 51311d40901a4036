"""The generic format (docs/generic-format.md) from JSON lines, CSV and Parquet, into staging tables.

Every input becomes one relation `src(line_no, unit, line, undecodable)` where `line` is a JSON object
text. Per batch: a routing pass (`meta`: is it JSON, is it an object, which record_type), then one
INSERT per record type present that parses the line once into that type's fields, types them and
attaches the first thing wrong with the record (`reason`); rows with a reason move to quarantine with
the file, the place and the raw text. JSON lines come in bounded Arrow batches (sources/lines.py);
CSV is read by DuckDB's own reader and turned into the same relation. Parquet is not turned into text:
its typed columns go from DuckDB's Parquet scan through the same checks into staging (`process_typed`).
"""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from socialleads.errors import FormatError
from socialleads.sources import records as R
from socialleads.sources.lines import TOO_LONG, head_lines, line_batches, open_binary, prefetch
from socialleads.store.db import run_sql

SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".parquet": "parquet"}
SKIP_NAMES = {"truth.json", "leads.toml", "truth_owner_posts.jsonl"}
RAW_LIMIT = 65536
SCAN_ROWS = 16384  # rows per Arrow record batch handed to DuckDB


def file_kind(path: Path) -> str | None:
    """jsonl | csv | parquet from the name (a trailing .gz is allowed for text formats), else by content."""
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
        kind = SUFFIXES.get(Path(name).suffix)
        return kind if kind in ("jsonl", "csv") else None
    kind = SUFFIXES.get(Path(name).suffix)
    if kind:
        return kind
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
    except OSError:
        return None
    if head == b"PAR1":
        return "parquet"
    if head.lstrip()[:1] == b"{":
        return "jsonl"
    return None


_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def unknown_file_reason(path: Path) -> str:
    """Why `path`, which no reader detected and whose kind is not a generic one, is refused: a container that
    cannot be opened is named as damaged (a cut download is the usual cause), not as a file of the wrong kind."""
    name = path.name.lower()
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        return f"{path}: cannot be read ({exc.strerror or type(exc).__name__})"
    hint = "if it is an export, it may be cut off or corrupt: copy or download it again"
    if head.startswith(b"PK") or name.endswith(".zip"):
        try:
            with zipfile.ZipFile(path) as z:
                z.namelist()
        except zipfile.BadZipFile:
            return f"{path}: a ZIP archive that cannot be opened (its table of contents is missing or damaged); {hint}"
        except (OSError, ValueError) as exc:
            return f"{path}: a ZIP archive that cannot be opened ({exc}); {hint}"
        return f"{path}: a ZIP archive with no export leads reads in it (see `leads import --list-formats`)"
    if head.startswith(_ZSTD_MAGIC) or name.endswith(".zst"):
        try:
            import zstandard
        except ImportError:
            return f"{path}: zstd-compressed data, and the zstandard package is not installed"
        try:
            with path.open("rb") as fh, zstandard.ZstdDecompressor(max_window_size=2**31).stream_reader(fh) as r:
                got = r.read(1 << 20)
        except (zstandard.ZstdError, OSError) as exc:
            return f"{path}: zstd-compressed data that cannot be decompressed ({exc}); {hint}"
        if not got:
            return f"{path}: zstd-compressed data with no complete block; {hint}"
        return (f"{path}: zstd-compressed data in no format leads detects (a capture or dump is recognised by its "
                "first lines: name its format with --format, see `leads import --list-formats`)")
    if name.endswith(".car"):
        return f"{path}: not a CAR file leads can read (its header is missing or damaged); {hint}"
    if head.startswith(b"\x1f\x8b") or name.endswith((".tgz", ".tar", ".gz")):
        return f"{path}: an archive or compressed file in no format leads detects; {hint}"
    return f"{path}: not in the generic format (expected JSON lines, CSV or Parquet)"


def _struct_type(spec: R.RecordSpec) -> str:
    fields = tuple(dict.fromkeys(R.ENVELOPE + spec.fields))
    return "{" + ", ".join(f'"{f}": "{"JSON" if f in R.JSON_FIELDS else "VARCHAR"}"' for f in fields) + "}"


_KNOWN_TYPES = ", ".join("'" + n + "'" for n in R.SPECS)
_META_REASON = ("coalesce(m.bad, CASE WHEN m.rt IS NULL THEN 'record_type missing' "
                "ELSE 'unknown record_type ''' || left(m.rt, 40) || '''' END)")


def meta_sql(src: str, file_type: str | None) -> str:
    """Temp table `meta` (line_no, bad, rt): one cheap parse per line to route it or reject it.

    json_valid is computed once in the inner query and reused (written inline in each CASE arm, it
    measured 4x slower); blank lines are dropped.
    """
    ft = "NULL" if file_type is None else "'" + file_type + "'"
    return f"""
    CREATE OR REPLACE TEMP TABLE meta AS
    SELECT line_no, bad, coalesce(nullif(rt0, ''), CASE WHEN bad IS NULL THEN {ft} END) AS rt FROM (
      SELECT line_no,
        CASE WHEN v THEN (CASE WHEN starts_with(line, '{{') OR starts_with(ltrim(line, ' ' || chr(9)), '{{') THEN NULL
                               ELSE 'not a JSON object (a line must be {{…}})' END)
             WHEN line IS NULL THEN 'not UTF-8 text'
             WHEN trim(line, ' ' || chr(9) || chr(10) || chr(13)) = '' THEN 'blank'
             WHEN starts_with(line, '{TOO_LONG}') THEN rtrim(line[{len(TOO_LONG) + 1}:], chr(10) || chr(13))
             ELSE 'not valid JSON' END AS bad,
        CASE WHEN v THEN json_extract_string(line, '$.record_type') END AS rt0
      FROM (SELECT line_no, line, json_valid(line) AS v FROM {src}))
    WHERE bad IS NULL OR bad <> 'blank'
    """


def meta_quarantine_sql(src: str, run_id: str, file: str) -> str:
    """Lines rejected before routing: not text, not JSON, not an object, no or an unknown record_type."""
    f = file.replace("'", "''")
    return f"""INSERT INTO quarantine (run_id, file, line, place, record_type, reason, raw)
        SELECT '{run_id}', '{f}', m.line_no, r.unit || ' ' || m.line_no, m.rt, {_META_REASON},
          left(rtrim(coalesce(r.line, r.undecodable), chr(13) || chr(10)), {RAW_LIMIT})
        FROM meta m JOIN {src} r USING (line_no)
        WHERE (m.bad IS NOT NULL OR m.rt IS NULL OR m.rt NOT IN ({_KNOWN_TYPES}))
          AND NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.file = '{f}' AND q.line = m.line_no
                          AND q.reason = {_META_REASON})"""


def _typed_rows(src: str, spec: R.RecordSpec) -> str:
    """Rows of one record type: j (text fields), t_<time> (parsed once), extra (unknown keys)."""
    times = "".join(f", try_cast(j.{f} AS TIMESTAMPTZ)::TIMESTAMP AS t_{f}" for f in spec.times)
    # Unknown keys go to `extra`. A cheap test first ("more keys than known fields present"), then the
    # exact one only for the lines that pass it (keys given as null do); measured: testing every key
    # against a list costs 10x the parse.
    fields = tuple(dict.fromkeys(R.ENVELOPE + spec.fields))
    present = " + ".join(f"(j.{f} IS NOT NULL)::INTEGER" for f in fields)
    known = ", ".join("'" + f + "'" for f in fields)
    nulls = json.dumps({f: None for f in fields})
    return f"""(SELECT line_no, j{times},
          CASE WHEN len(json_keys(line)) > {present}
                AND len(list_filter(json_keys(line), lambda k: k NOT IN ({known}))) > 0
               THEN json_merge_patch(line, '{nulls}') END AS extra
        FROM (SELECT r.line_no, r.line, json_transform(r.line, '{_struct_type(spec)}') AS j
              FROM {src} r JOIN meta m USING (line_no) WHERE m.rt = '{spec.name}' AND m.bad IS NULL))"""


def _key_md5(*exprs: str) -> str:
    return "md5(concat_ws('|', " + ", ".join(f"coalesce(({e})::VARCHAR, '')" for e in exprs) + "))"


def _utm(col: str, name: str) -> str:
    return f"coalesce(nullif(j.{name}, ''), nullif(url_decode(regexp_extract({col}, '[?&]{name}=([^&#]*)', 1)), ''))"


def route_sql(spec: R.RecordSpec, src: str, run_id: str, default_source: str, seq_base: int,
              rows: str | None = None, ents: str = "NULL") -> str:
    """INSERT of one record type's rows into its staging table, each with its `reason` (NULL = valid).

    `rows` (line_no, j, t_<time>…, extra) defaults to `src`'s JSON text parsed by `_typed_rows`; a Parquet
    file hands its typed columns instead (`_parquet_rows`). `ents`: a post's entities as a typed list (a column
    of `rows`, see `RowsSource.ents`), else NULL."""
    s = f"coalesce(nullif(j.source, ''), '{default_source}')"
    reason = R.reason_sql(spec)
    seq = f"{seq_base} + line_no"
    tail = f"{s}, extra, '{run_id}', {seq}, {reason}"
    rows = rows or _typed_rows(src, spec)
    if spec.name == "account":
        return (f"INSERT INTO stg_accounts SELECT {R.typed_select(spec)}, extra, {s}, '{run_id}', {seq}, {reason} "
                f"FROM {rows}")
    if spec.name == "post":
        return f"""INSERT INTO stg_posts SELECT j.post_key, j.platform, j.author_key, j.kind,
              coalesce(nullif(j.kind_confidence, ''), 'exact'), t_created_at,
              least(t_created_at, coalesce(t_first_seen_at, now()::TIMESTAMP)),
              j.text, j.text_html, nullif(j.lang, ''), nullif(j.visibility, ''), nullif(j.reply_to_key, ''),
              nullif(j.thread_root_key, ''), nullif(j.repost_of_key, ''), nullif(j.quote_of_key, ''),
              nullif(j.url, ''), t_edited_at, coalesce(try_cast(j.is_deleted AS BOOLEAN), FALSE),
              coalesce(t_first_seen_at, now()::TIMESTAMP), {s}, j.source_ids, NULL, extra, '{run_id}',
              {seq}, {reason}, j.entities, {ents}
            FROM {rows}"""
    if spec.name in ("interaction", "follow"):
        if spec.name == "interaction":
            key = _key_md5("j.platform", "j.type", "j.actor_key", "j.via_post_key",
                           "coalesce(j.target_post_key, j.target_account_key)")
            cols = ("j.type, j.actor_key, nullif(j.target_account_key, ''), nullif(j.target_post_key, ''), "
                    "nullif(j.via_post_key, '')")
        else:
            key = _key_md5("j.platform", "'follow'", "j.actor_key", "j.target_account_key", "t_created_at")
            cols = "'follow', j.actor_key, j.target_account_key, NULL, NULL"
        return f"""INSERT INTO stg_interactions SELECT coalesce(nullif(j.interaction_key, ''), {key}),
              j.platform, {cols}, t_created_at,
              coalesce(nullif(j.time_precision, ''), CASE WHEN j.created_at IS NULL THEN 'unknown' ELSE 'exact' END),
              t_ended_at, {tail} FROM {rows}"""
    if spec.name == "follower_snapshot":
        return f"""INSERT INTO stg_follower_snapshots SELECT j.account_key, t_observed_at, j.follower_key,
              {s}, '{run_id}', {seq}, {reason} FROM {rows}"""
    if spec.name == "metrics_snapshot":
        ints = [f"try_cast(j.{c} AS BIGINT)" for c in R.METRICS_SNAPSHOT.ints]
        return f"""INSERT INTO stg_metrics_snapshots SELECT j.subject_key, j.subject_type, t_observed_at,
              {", ".join(ints[:6])}, try_cast(j.upvote_ratio AS DOUBLE), {", ".join(ints[6:])},
              {s}, '{run_id}', {seq}, {reason} FROM {rows}"""
    if spec.name == "click":
        key = _key_md5("j.occurred_at", "j.url", "j.visitor_key", "j.post_key")
        return f"""INSERT INTO stg_clicks SELECT coalesce(nullif(j.click_key, ''), {key}), t_occurred_at, j.url,
              {", ".join(_utm("j.url", u) for u in R.UTM)},
              nullif(j.visitor_key, ''), nullif(j.post_key, ''), nullif(j.referrer, ''), {tail} FROM {rows}"""
    if spec.name == "conversion":
        key = _key_md5("j.occurred_at", "j.visitor_key", "j.goal", "j.value", "j.url")
        return f"""INSERT INTO stg_conversions SELECT coalesce(nullif(j.conversion_key, ''), {key}), t_occurred_at,
              nullif(j.visitor_key, ''), nullif(j.url, ''), {", ".join(_utm("j.url", u) for u in R.UTM)},
              nullif(j.goal, ''), try_cast(j.value AS DOUBLE), nullif(j.currency, ''), {tail} FROM {rows}"""
    if spec.name == "experiment_assignment":
        return f"""INSERT INTO stg_experiment_assignments SELECT j.post_key, j.experiment, j.variant, {s}, extra,
              '{run_id}', {seq}, {reason} FROM {rows}"""
    raise AssertionError(spec.name)


def reject_staged_sql(table: str, src: str, run_id: str, file: str, seq_base: int) -> list[str]:
    """Move this batch's staged rows that carry a reason into quarantine, then drop them from staging."""
    f = file.replace("'", "''")
    line = f"(s.seq - {seq_base})"
    return [
        f"""INSERT INTO quarantine (run_id, file, line, place, record_type, reason, raw)
            SELECT '{run_id}', '{f}', {line}, r.unit || ' ' || {line}, m.rt, s.reason,
              left(rtrim(r.line, chr(13) || chr(10)), {RAW_LIMIT})
            FROM {table} s JOIN {src} r ON r.line_no = {line} JOIN meta m ON m.line_no = r.line_no
            WHERE s.reason IS NOT NULL AND s.seq > {seq_base}
              AND NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.file = '{f}' AND q.line = {line}
                              AND q.reason = s.reason)""",
        f"DELETE FROM {table} WHERE reason IS NOT NULL AND seq > {seq_base}",
    ]


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows = run_sql(con, sql)
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def process_batch(con: duckdb.DuckDBPyConnection, src: str, file: str, file_type: str | None, run_id: str,
                  default_source: str, seq_base: int) -> int:
    """Validate and stage one batch of `src` (line_no, unit, line, undecodable); returns the rows rejected."""
    run_sql(con, meta_sql(src, file_type))
    run_sql(con, meta_quarantine_sql(src, run_id, file))
    bad = _count(con, "SELECT count(*) FROM meta WHERE bad IS NOT NULL OR rt IS NULL "
                      f"OR rt NOT IN ({_KNOWN_TYPES})")
    types = sorted(r[0] for r in run_sql(con, f"SELECT DISTINCT rt FROM meta WHERE bad IS NULL AND rt IN ({_KNOWN_TYPES})"))
    for rt in types:
        spec = R.SPECS[rt]
        table = "stg_" + spec.table
        run_sql(con, route_sql(spec, src, run_id, default_source, seq_base))
        n = _count(con, f"SELECT count(*) FROM {table} WHERE reason IS NOT NULL AND seq > {seq_base}")
        if n:
            bad += n
            for q in reject_staged_sql(table, src, run_id, file, seq_base):
                run_sql(con, q)
    return bad


# ---------------------------------------------------------------- format checks (refuse whole files)

def check_jsonl(path: Path, file_type: str | None) -> None:
    try:
        head = head_lines(path)
    except OSError as exc:
        raise FormatError(f"{path}: {exc}") from None
    if not head:
        return  # an empty file imports nothing, and that is not an error
    wide = _wide_text(head[0])
    if wide:  # json.loads(bytes) would read it (it guesses UTF-16/32), the line reader would not
        raise FormatError(f"{path}: not in the generic format: the file is {wide}, not UTF-8 "
                          f"(save it as UTF-8, e.g. iconv -f {wide.split()[0]} -t UTF-8)")
    for ln in head:
        try:
            obj = json.loads(ln)
        except ValueError:
            continue
        if isinstance(obj, dict) and (obj.get("record_type") in R.SPECS or
                                      (file_type and "record_type" not in obj)):
            return
    first = head[0]
    if b"\x00" in first or sum(c < 32 and c not in (9, 13) for c in first[:4096]) > 2:
        raise FormatError(f"{path}: not in the generic format: binary data, not JSON lines text")
    # only the last line of a head cut by head_lines' 1 MiB can end inside a character
    cut = path.name.endswith(".gz") or path.stat().st_size > 1 << 20
    if not _is_utf8(first, cut_ok=cut and len(head) == 1):
        if not any(_is_utf8(ln, cut_ok=cut and i == len(head) - 1) for i, ln in enumerate(head)):
            raise FormatError(f"{path}: not in the generic format: the file is not UTF-8 text (none of its first "
                              f"{len(head)} line(s) is; Latin-1 or Windows-1252?): save it as UTF-8")
        raise FormatError(f"{path}: not in the generic format: the first line is not UTF-8 (Latin-1 or "
                          f"Windows-1252?) and none of the first {len(head)} line(s) is a JSON object with a "
                          f"known record_type")
    shown = first[:40].decode("utf-8", "replace")
    raise FormatError(f"{path}: not in the generic format: none of the first {len(head)} line(s) is a JSON object "
                      f"with a known record_type (line 1 starts {shown!r})")


def _is_utf8(b: bytes, cut_ok: bool = True) -> bool:
    try:
        b.decode("utf-8")
    except UnicodeDecodeError as exc:
        return cut_ok and exc.start > len(b) - 4  # a character cut at the sample's end is fine
    return True


_WIDE_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32 text (little-endian, with a byte order mark)"),
              (b"\x00\x00\xfe\xff", "UTF-32 text (big-endian, with a byte order mark)"),
              (b"\xff\xfe", "UTF-16 text (little-endian, with a byte order mark)"),
              (b"\xfe\xff", "UTF-16 text (big-endian, with a byte order mark)"))


def _wide_text(start: bytes) -> str | None:
    """'UTF-16 text (…)' / 'UTF-32 text (…)' when `start`, the first bytes of a file, is text in that encoding: a
    byte order mark, or the NUL byte that ASCII characters have next to them in UTF-16 without one."""
    for bom, name in _WIDE_BOMS:
        if start.startswith(bom):
            return name
    s = start[:4096]
    s = s[: len(s) - len(s) % 2]
    if len(s) < 4:
        return None
    even, odd = s[0::2].count(0) / (len(s) // 2), s[1::2].count(0) / (len(s) // 2)
    if odd > 0.3 and even < 0.05:
        return "UTF-16 text (little-endian)"
    if even > 0.3 and odd < 0.05:
        return "UTF-16 text (big-endian)"
    return None


def _columns(con: duckdb.DuckDBPyConnection, rel_sql: str, path: Path) -> list[str]:
    try:
        return [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {rel_sql}").fetchall()]
    except duckdb.Error as exc:
        raise FormatError(f"{path}: cannot be read as {path.suffix.lstrip('.') or 'this format'} "
                          f"({str(exc).splitlines()[0]})") from None


def _check_columns(path: Path, cols: list[str], file_type: str | None) -> None:
    if "record_type" not in cols and file_type is None:
        raise FormatError(f"{path}: not in the generic format: no record_type column and the file name does not "
                          f"say the record type (name it posts.csv, accounts.csv, …)")
    if "record_type" not in cols and file_type is not None:
        missing = [f for f in R.SPECS[file_type].required if f not in cols]
        if missing:
            raise FormatError(f"{path}: not in the generic format: a {file_type} file needs the column(s) "
                              f"{', '.join(missing)}")


def _json_struct_of(cols: list[str]) -> str:
    parts = []
    for c in cols:
        qc = '"' + c.replace('"', '""') + '"'
        if c in R.JSON_FIELDS:
            parts.append(f"{qc} := CASE WHEN json_valid({qc}::VARCHAR) THEN {qc}::VARCHAR::JSON ELSE to_json({qc}) END")
        else:
            parts.append(f"{qc} := {qc}")
    return "to_json(struct_pack(" + ", ".join(parts) + "))::VARCHAR"


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


sql_str = _sql_str  # a SQL string literal (the platforms' columnar paths build SQL with it)


def _csv_header(path: Path) -> tuple[str, list[str]]:
    """Delimiter (csv.Sniffer on the first 64 KiB) and header names; DuckDB's own sniffer gives up
    on a whole file because of one bad row, so the layout is read here and handed to it."""
    with open_binary(path) as fh:
        raw = fh.read(65536)
    wide = _wide_text(raw)
    if wide:  # its header would read as NUL-riddled names and the message would be about missing columns
        raise FormatError(f"{path}: not in the generic format: the file is {wide}, not UTF-8 "
                          f"(save it as UTF-8, e.g. iconv -f {wide.split()[0]} -t UTF-8)")
    sample = raw.decode("utf-8", "replace")
    lines = sample.splitlines()[:50]
    if not lines:
        raise FormatError(f"{path}: empty CSV file (no header row)")
    try:
        delim = csv.Sniffer().sniff("\n".join(lines[:-1] or lines), delimiters=",;\t|").delimiter
    except csv.Error:
        delim = ","
    header = next(csv.reader([lines[0]], delimiter=delim))
    names = [h.strip() for h in header]
    if not names or any(not n for n in names) or len(set(names)) != len(names):
        raise FormatError(f"{path}: the CSV header row is empty or repeats a column name")
    return delim, names


def table_source(con: duckdb.DuckDBPyConnection, path: Path, kind: str, file_type: str | None) -> str:
    """For CSV: create temp table `src` over the file; returns its name. Raises FormatError.
    (Parquet does not come this way: `parquet_sources` reads its typed columns.)"""
    if kind != "csv":
        raise ValueError(f"table_source reads CSV, not {kind}")
    p = _sql_str(str(path))
    delim, names = _csv_header(path)
    columns = "{" + ", ".join(f"{_sql_str(n)}: 'VARCHAR'" for n in names) + "}"
    rel = (f"read_csv({p}, columns={columns}, header=false, skip=1, auto_detect=false, delim={_sql_str(delim)}, "
           "quote='\"', escape='\"', store_rejects=true, "
           "rejects_table='csv_reject_errors', rejects_scan='csv_reject_scans')")
    cols = _columns(con, rel, path)
    _check_columns(path, cols, file_type)
    # row numbers count data rows: row 1 is the first row after the header
    run_sql(con, f"CREATE OR REPLACE TEMP TABLE src AS SELECT row_number() OVER () AS line_no, 'row' AS unit, "
                f"{_json_struct_of(cols)} AS line, NULL::VARCHAR AS undecodable FROM {rel}")
    return "src"


# ---------------------------------------------------------------- Parquet: typed columns, no JSON text

PARQUET_ROWS = 1_000_000  # rows of a Parquet file staged per batch (a filter on file_row_number: row groups skipped)
_LINE = "__leads_line_no"
_TIME_TYPES = ("TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "DATE", "TIMESTAMP WITH TIME ZONE")


@dataclass(frozen=True)
class TypedSource:
    """Rows ``lo <= file_row_number < hi`` of a Parquet file, read as its own typed columns: no JSON text is
    made or parsed. Row numbers count from 1 (``line_no``), as for CSV."""
    path: Path
    file_type: str | None
    cols: dict[str, str]          # column name → DuckDB type, in file order
    lo: int
    hi: int

    @property
    def rel(self) -> str:
        return (f"(SELECT file_row_number + 1 AS {_LINE}, * EXCLUDE (file_row_number) FROM "
                f"read_parquet({_sql_str(str(self.path))}, file_row_number=true) "
                f"WHERE file_row_number >= {self.lo} AND file_row_number < {self.hi})")

    @property
    def rt(self) -> str:
        """SQL: the record type of a row (its record_type, else the file name's)."""
        ft = "NULL" if self.file_type is None else _sql_str(self.file_type)
        return f"coalesce(nullif(\"record_type\"::VARCHAR, ''), {ft})" if "record_type" in self.cols else ft


def parquet_sources(con: duckdb.DuckDBPyConnection, path: Path, file_type: str | None) -> list[TypedSource]:
    """The batches of a Parquet file; raises FormatError when it cannot be read or lacks the format's columns."""
    p = _sql_str(str(path))
    try:
        desc = con.execute(f"DESCRIBE SELECT * FROM read_parquet({p}, file_row_number=true)").fetchall()
        n = int(con.execute(f"SELECT count(*) FROM read_parquet({p})").fetchall()[0][0])
    except duckdb.Error as exc:
        raise FormatError(f"{path}: cannot be read as parquet ({str(exc).splitlines()[0]})") from None
    cols = {r[0]: r[1] for r in desc if r[0] != "file_row_number"}
    _check_columns(path, list(cols), file_type)
    return [TypedSource(path, file_type, cols, lo, min(lo + PARQUET_ROWS, n)) for lo in range(0, n, PARQUET_ROWS)]


def _qi(c: str) -> str:
    return '"' + c.replace('"', '""') + '"'


def _parquet_rows(ts: TypedSource, spec: R.RecordSpec) -> str:
    """Rows of one record type shaped like `_typed_rows`' (line_no, j, t_<time>…, extra), from typed columns:
    text fields are the column (cast to text when it is not), times are taken as they are when the column is
    a timestamp and parsed like JSON text otherwise, JSON fields are the column's JSON."""
    fields = tuple(dict.fromkeys(R.ENVELOPE + spec.fields))
    parts = []
    for f in fields:
        t, c = ts.cols.get(f), _qi(f)
        if t is None:
            expr = "NULL::JSON" if f in R.JSON_FIELDS else "NULL::VARCHAR"
        elif f in R.JSON_FIELDS:
            expr = (f"CASE WHEN json_valid({c}) THEN {c}::JSON ELSE to_json({c}) END" if t == "VARCHAR"
                    else f"to_json({c})")
        else:
            expr = c if t == "VARCHAR" else f"{c}::VARCHAR"
        parts.append(f"{_qi(f)} := {expr}")
    times = []
    for f in spec.times:
        t, c = ts.cols.get(f), _qi(f)
        if t is None:
            expr = "NULL::TIMESTAMP"
        elif t in _TIME_TYPES:
            expr = f"{c}::TIMESTAMP"   # a TIMESTAMPTZ is taken in UTC: the store's session time zone
        else:
            expr = f"try_cast({c}::VARCHAR AS TIMESTAMPTZ)::TIMESTAMP"
        times.append(f", {expr} AS t_{f}")
    unknown = [c for c in ts.cols if c not in fields]
    extra = f"to_json(struct_pack({', '.join(f'{_qi(c)} := {_qi(c)}' for c in unknown)}))" if unknown else "NULL::JSON"
    where = f"WHERE {ts.rt} = {_sql_str(spec.name)}" if "record_type" in ts.cols else ""
    return (f"(SELECT {_LINE} AS line_no, struct_pack({', '.join(parts)}) AS j{''.join(times)}, {extra} AS extra "
            f"FROM {ts.rel} {where})")


def process_typed(con: duckdb.DuckDBPyConnection, ts: TypedSource, file: str, run_id: str, default_source: str,
                  seq_base: int) -> int:
    """Validate and stage one Parquet batch from its typed columns; returns the rows rejected. Same checks,
    reasons and quarantine rows as `process_batch` (a rejected row's raw text is the row as JSON)."""
    f = file.replace("'", "''")
    raw = f"left({_json_struct_of(list(ts.cols))}, {RAW_LIMIT})"
    bad = 0
    if "record_type" in ts.cols:
        rt = ts.rt
        wrong = f"({rt} IS NULL OR {rt} NOT IN ({_KNOWN_TYPES}))"
        reason = f"CASE WHEN {rt} IS NULL THEN 'record_type missing' ELSE 'unknown record_type ''' || left({rt}, 40) || '''' END"
        run_sql(con, f"""INSERT INTO quarantine (run_id, file, line, place, record_type, reason, raw)
            SELECT '{run_id}', '{f}', {_LINE}, 'row ' || {_LINE}, {rt}, {reason}, {raw} FROM {ts.rel}
            WHERE {wrong} AND NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.file = '{f}'
                                          AND q.line = {_LINE} AND q.reason = {reason})""")
        bad += _count(con, f"SELECT count(*) FROM {ts.rel} WHERE {wrong}")
        types = sorted(r[0] for r in run_sql(con, f"SELECT DISTINCT {rt} FROM {ts.rel} WHERE NOT {wrong}"))
    else:
        types = [ts.file_type] if ts.file_type else []
    for name in types:
        spec = R.SPECS[name]
        table = "stg_" + spec.table
        run_sql(con, route_sql(spec, "", run_id, default_source, seq_base, rows=_parquet_rows(ts, spec)))
        n = _count(con, f"SELECT count(*) FROM {table} WHERE reason IS NOT NULL AND seq > {seq_base}")
        if n:
            bad += n
            line = f"(s.seq - {seq_base})"
            run_sql(con, f"""INSERT INTO quarantine (run_id, file, line, place, record_type, reason, raw)
                SELECT '{run_id}', '{f}', {line}, 'row ' || {line}, '{name}', s.reason, r.raw
                FROM {table} s JOIN (SELECT {_LINE}, {raw} AS raw FROM {ts.rel}) r ON r.{_LINE} = {line}
                WHERE s.reason IS NOT NULL AND s.seq > {seq_base}
                  AND NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.file = '{f}' AND q.line = {line}
                                  AND q.reason = s.reason)""")
            run_sql(con, f"DELETE FROM {table} WHERE reason IS NOT NULL AND seq > {seq_base}")
    return bad


def csv_rejects_sql(run_id: str, file: str) -> str:
    f = file.replace("'", "''")
    _nl = "coalesce(length(csv_line) - length(replace(rtrim(csv_line, chr(10) || chr(13)), chr(10), '')) " \
          "- (length(csv_line) - length(rtrim(csv_line, chr(10) || chr(13)))), 0)"
    return f"""INSERT INTO quarantine (run_id, file, line, place, record_type, reason, raw)
        SELECT DISTINCT ON (line) '{run_id}', '{f}', line, 'line ' || line, NULL,
               'CSV: ' || split_part(error_message, chr(10), 1) || CASE WHEN {_nl} > 0 THEN
                 ' (this record spans ' || ({_nl} + 1) || ' lines: an unterminated quote? none of them is imported)'
                 ELSE '' END, left(csv_line, {RAW_LIMIT})
        FROM csv_reject_errors r WHERE NOT EXISTS (
          SELECT 1 FROM quarantine q WHERE q.file = '{f}' AND q.line = r.line AND q.raw = left(r.csv_line, {RAW_LIMIT}))"""


def jsonl_sources(con: duckdb.DuckDBPyConnection, path: Path,
                  on_bytes: Callable[[int], None] | None = None) -> Iterator[str]:
    """For JSON lines: yields once per batch after filling temp table `src` with that batch.

    Valid UTF-8 (checked by Arrow, vectorized) is handed to DuckDB as text without a copy; a batch with
    a bad byte sequence goes through DuckDB's `try(decode())` so that only the bad lines are rejected.
    """
    for batch in prefetch(line_batches(path)):
        raw = batch.column("raw").combine_chunks()
        text = raw.view(pa.large_utf8())
        try:
            text.validate(full=True)
            utf8 = True
        except pa.ArrowInvalid:
            utf8 = False
        if utf8:
            # zero-copy: DuckDB scans the Arrow buffers in place through a view
            yield from _text_view(con, batch.column("line_no"), text, "line")
        else:
            # only the lines that do not decode are rejected; the decode runs once, into a table
            con.register("src_batch", batch)
            run_sql(con, "CREATE OR REPLACE TEMP TABLE src_t AS SELECT line_no, 'line' AS unit, "
                         "try(decode(raw)) AS line, raw::VARCHAR AS undecodable FROM src_batch")
            yield "src_t"
            run_sql(con, "DROP TABLE src_t")
            con.unregister("src_batch")
        if on_bytes is not None:
            on_bytes(raw.nbytes - (len(raw) + 1) * 8)


RECORD_BATCH = 50_000


def _text_view(con: duckdb.DuckDBPyConnection, line_no: Any, text: pa.Array, unit: str) -> Iterator[str]:
    """View `src_v` (line_no, unit, line, undecodable) over Arrow text, zero-copy, for one batch.

    Split into several record batches so that DuckDB scans them on all cores (one batch = one thread).
    """
    tbl = pa.table({"line_no": line_no, "line": text})
    con.register("src_batch", pa.Table.from_batches(tbl.to_batches(max_chunksize=SCAN_ROWS)))
    run_sql(con, f"CREATE OR REPLACE TEMP VIEW src_v AS SELECT line_no, '{unit}' AS unit, line, "
                 "NULL::VARCHAR AS undecodable FROM src_batch")
    yield "src_v"
    run_sql(con, "DROP VIEW src_v")
    con.unregister("src_batch")


def record_sources(con: duckdb.DuckDBPyConnection, records: Iterator[dict[str, Any]]) -> Iterator[str]:
    """For records made by a platform reader: yields once per batch of `RECORD_BATCH` after creating
    view `src_v` over them as JSON text (`unit` 'record', `line_no` the record's number)."""
    yield from mixed_sources(con, records)


# ---------------------------------------------------------------- records built in SQL (platform fast paths)

def _fields_of(spec: R.RecordSpec) -> tuple[str, ...]:
    return tuple(dict.fromkeys(R.ENVELOPE + spec.fields))


def struct_type_sql(spec: R.RecordSpec) -> str:
    """The DuckDB type of struct `j` for `spec`, as `_typed_rows` makes it from JSON text."""
    return "STRUCT(" + ", ".join(f'"{f}" {"JSON" if f in R.JSON_FIELDS else "VARCHAR"}'
                                 for f in _fields_of(spec)) + ")"


def struct_pack_sql(spec: R.RecordSpec, **values: str) -> str:
    """SQL: struct `j` of `spec` with the given field expressions (every other field NULL), typed exactly
    as `_typed_rows` types it, so that rows made either way can be unioned."""
    unknown = set(values) - set(_fields_of(spec))
    if unknown:
        raise ValueError(f"not fields of {spec.name}: {sorted(unknown)}")
    parts = []
    for f in _fields_of(spec):
        t = "JSON" if f in R.JSON_FIELDS else "VARCHAR"
        parts.append(f'"{f}" := ({values[f]})::{t}' if f in values else f'"{f}" := NULL::{t}')
    return "struct_pack(" + ", ".join(parts) + ")"


def rows_sql(spec: R.RecordSpec, rel: str, more: str = "") -> str:
    """`route_sql`'s rows (line_no, j, t_<time>…, extra) from a relation of (line_no, j, extra); `more`: other
    columns of `rel` to keep (", ents")."""
    times = "".join(f", try_cast(j.{f} AS TIMESTAMPTZ)::TIMESTAMP AS t_{f}" for f in spec.times)
    return f"(SELECT line_no, j{times}, extra{more} FROM {rel})"


@dataclass(frozen=True)
class RowsSource:
    """A batch of records already built as typed structs (a platform's columnar path): `rows` maps a record
    type to its rows for `route_sql`; `line_no` is the record's number, as for records from a reader."""
    rows: dict[str, str]
    table: str
    unit: str = "record"
    ents: bool = False     # the post rows have column `ents`: their entities as a typed list (j.entities NULL)


def process_rows(con: duckdb.DuckDBPyConnection, rs: RowsSource, file: str, run_id: str, default_source: str,
                 seq_base: int) -> int:
    """Validate and stage one batch of struct records; returns the rows rejected (quarantined like the
    records of `record_sources`, with the record as JSON for raw)."""
    f = file.replace("'", "''")
    bad = 0
    for name, rows in rs.rows.items():
        spec = R.SPECS[name]
        table = "stg_" + spec.table
        run_sql(con, route_sql(spec, "", run_id, default_source, seq_base, rows=rows,
                               ents="ents" if rs.ents and name == "post" else "NULL"))
        n = _count(con, f"SELECT count(*) FROM {table} WHERE reason IS NOT NULL AND seq > {seq_base}")
        if n:
            bad += n
            line = f"(s.seq - {seq_base})"
            rec = "json_merge_patch('{}', to_json(r.j))"
            if rs.ents and name == "post":    # the entities, staged apart, back in the record
                rec = f"json_merge_patch({rec}, json_object('entities', to_json(r.ents)))"
            raw = f"left({rec}::VARCHAR, {RAW_LIMIT})"
            run_sql(con, f"""INSERT INTO quarantine (run_id, file, line, place, record_type, reason, raw)
                SELECT '{run_id}', '{f}', {line}, '{rs.unit} ' || {line}, '{name}', s.reason, {raw}
                FROM {table} s JOIN {rows} r ON r.line_no = {line}
                WHERE s.reason IS NOT NULL AND s.seq > {seq_base}
                  AND NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.file = '{f}' AND q.line = {line}
                                  AND q.reason = s.reason)""")
            run_sql(con, f"DELETE FROM {table} WHERE reason IS NOT NULL AND seq > {seq_base}")
    return bad


class Block:
    """A run of records made in SQL that a reader's stream holds in their place (sources/fast_x.py):
    `count` records, staged by `sources(n0)` with the numbers n0 + 1 … n0 + count."""
    count: int

    def sources(self, n0: int) -> Iterator[Any]:
        raise NotImplementedError


def json_str_sql(x: str) -> str:
    """SQL: the string value of JSON `x`, NULL when it is not a JSON string."""
    return f"CASE WHEN json_type({x}) = 'VARCHAR' THEN {x}->>'$' END"


def distinct_sql(k: str) -> str:
    """SQL: list `k` has no repeated element (JSON keys: the reader's json.loads keeps the last, DuckDB the first)."""
    return f"len({k}) = len(list_distinct({k}))"


def int64_range(lo: int, hi: int) -> pa.Array:
    """Arrow int64 lo … hi - 1. (`pa.array` of anything imports pandas on its first call, 0.2-0.3 s of every
    `leads import`; Arrow arrays made from buffers do not.)"""
    return pa.Array.from_buffers(pa.int64(), hi - lo, [None, pa.py_buffer(np.arange(lo, hi, dtype=np.int64))])


def _utf8(t: str) -> bytes:
    """UTF-8 of `t`; a lone UTF-16 surrogate (json.loads keeps an unpaired "\\ud800" escape, e.g. an emoji
    cut in half by a platform's truncation) becomes U+FFFD, so the record is kept with the broken character
    marked, as a Unicode decoder marks it."""
    try:
        return t.encode("utf-8")
    except UnicodeEncodeError:
        return t.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode("utf-8")


def large_utf8(texts: list[str]) -> pa.Array:
    """Arrow large_utf8 of Python strings (see `int64_range`)."""
    data = [_utf8(t) for t in texts]
    offsets = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum([len(d) for d in data], out=offsets[1:])
    return pa.Array.from_buffers(pa.large_utf8(), len(data), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))])


def mixed_sources(con: duckdb.DuckDBPyConnection, items: Iterator[Any]) -> Iterator[Any]:
    """`record_sources` for a reader whose stream also holds blocks of records made in SQL (an object with
    `count` and `sources(n0)`, e.g. sources/fast_x.py `Block`): records and blocks are numbered on in
    stream order, as if every record had come one by one."""
    n = 0
    buf: list[str] = []

    def emit() -> Iterator[str]:
        nonlocal n, buf
        numbers = int64_range(n + 1, n + 1 + len(buf))
        text = large_utf8(buf)
        n += len(buf)
        buf = []
        yield from _text_view(con, numbers, text, "record")

    for it in items:
        if not isinstance(it, Block):
            buf.append(json.dumps(it, ensure_ascii=False, default=str))
            if len(buf) >= RECORD_BATCH:
                yield from emit()
            continue
        if buf:
            yield from emit()
        start, count = n, it.count
        if count:
            yield from it.sources(start)
        n = start + count
    if buf:
        yield from emit()
