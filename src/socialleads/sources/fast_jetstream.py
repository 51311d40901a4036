"""Jetstream v1 captures at scale: the columnar path of `leads import` for `bsky_jetstream`.

The Python reader (platforms/bluesky_files.py `_read_jetstream`) makes one dict per event and the importer
turns each into JSON text that the staging SQL parses again. Here a plain (not .zst) capture is read in
bounded Arrow batches of raw lines (sources/lines.py) and each batch is mapped to generic records **in
DuckDB**: one json_transform per line takes out the fields (json_valid / json_keys / json_type check the
shape), the records are built as typed structs and handed to the staging SQL as `G.RowsSource` (no JSON
text is made or parsed again).

Exactly the same records as the Python reader, in the same order and with the same numbers:
* lines that are not of the regular shapes below go, one by one, through the reader's own per-event code
  (`B.jetstream_event`, `B.bsky_record`, the same rejects with file, place and raw text): undecodable or
  malformed lines, events without a `did`, unknown kinds and operations, a key repeated in any object the
  mapping reads (the event, `commit`, `commit.record`, its `subject`, `reply`, `reply.parent`, `reply.root`,
  `identity`: the reader's json.loads keeps the last value, DuckDB the first), records whose
  mapping is not done in SQL (posts with facets, embeds, tags or entities; times not in the lexicon's
  `YYYY-MM-DDTHH:MM:SS.mmmZ`; anything the mapper would reject), the stand-in of a line over the
  JSON-lines cap (sources/lines.py: quarantined with its size, as the reader does);
* deletes are resolved against the creates seen before them in the input (a table of at most
  `B.DELETE_INDEX_MAX` creates, carried from batch to batch), else handed to the importer as a
  `PendingDelete` (record_index), as the reader does; identity handles are deduplicated over the input.

Memory: one batch of lines (`BATCH_BYTES`) plus DuckDB's bounded buffer pool.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from socialleads.errors import FormatError
from socialleads.sources import records as R
from socialleads.sources.formats import Reject
from socialleads.sources.generic import SCAN_ROWS, RowsSource, rows_sql, struct_pack_sql, struct_type_sql
from socialleads.sources.generic import distinct_sql as _uniq
from socialleads.sources.generic import json_str_sql as _s
from socialleads.sources.generic import sql_str as _q
from socialleads.sources.lines import line_batches, too_long_reason
from socialleads.sources.platforms import bluesky_files as B
from socialleads.sources.records import PendingDelete
from socialleads.store.db import run_sql

# ~240 k events: two of DuckDB's 122,880-row groups, so that every statement on a batch's temp tables runs on
# both cores (32 MiB, one row group: 20.2 s for 1 M events, 1.25 GB; 128 MiB: 15.0 s, 1.75 GB)
BATCH_BYTES = 128 << 20
_SPECS = {"post": R.POST, "interaction": R.INTERACTION, "account": R.ACCOUNT}
_COL = {"post": "jp", "interaction": "ji", "account": "ja"}
_TIME = r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$"
_MAX_US = 4_102_444_800_000_000      # 2100-01-01: larger event times go the reader's way


def applicable(path: Path) -> bool:
    """A plain capture file (a .zst one is read by the Python reader)."""
    if not path.is_file() or path.name.lower().endswith(".zst"):
        return False
    with path.open("rb") as fh:
        return fh.read(4) != B.ZSTD_MAGIC


_SHAPE = json.dumps({
    "did": "JSON", "kind": "JSON", "time_us": "JSON", "identity": {"handle": "JSON"},
    "commit": {"operation": "JSON", "collection": "JSON", "rkey": "JSON", "cid": "JSON",
               "record": {"createdAt": "JSON", "subject": {"uri": "JSON"}, "text": "JSON", "langs": "JSON",
                          "reply": {"parent": {"uri": "JSON"}, "root": {"uri": "JSON"}}, "displayName": "JSON",
                          "facets": "JSON", "embed": "JSON", "tags": "JSON", "entities": "JSON"}}})
_TYPES = ["$.commit", "$.commit.record", "$.identity", "$.commit.record.subject", "$.commit.record.reply"]
# the objects whose keys the mapping reads: a key repeated in one of them sends the line the reader's way
_KEYS = ["$", *_TYPES, "$.commit.record.reply.parent", "$.commit.record.reply.root"]


def _classify_sql(src: str = "fj_in", out: str = "fj_a") -> str:
    """Temp table `out` (fj_a): per line of `src` (line_no, l) the envelope's fields, `fast` (the SQL maps
    it) and what it yields.

    One json_transform takes every field out (leaves as JSON, so that their types can be checked); the
    types of the line and of its objects come from one json_type call (in `try`: a line that is not JSON
    gets NULL, which spares a json_valid parse of every line), the keys of every object the mapping reads
    from one json_keys call. A key repeated in one of them (the reader's json.loads keeps the last value,
    DuckDB the first) sends the line the reader's way. Measured on 300 k events (CPU s of this query, 2 cores):
    2.04 s with the top level checked only; 2.26 s with the nested objects checked and the two parses spared
    (2.5 s without sparing them); the whole `leads import` +2-3 %."""
    return f"CREATE OR REPLACE TEMP TABLE {out} AS {_classify_select(src)}"


def _classify_select(src: str) -> str:
    """`_classify_sql`'s query (no table made)."""
    modelled = ", ".join(_q(c) for c in sorted(B.MODELLED))
    unique = " AND ".join(f"coalesce({_uniq(f'k[{i}]')}, TRUE)" for i in range(1, len(_KEYS) + 1))
    return f"""
    WITH o AS (SELECT line_no, l, try(json_type(l, {['$', *_TYPES]})) AS ty FROM {src}),
    x AS (SELECT line_no, obj, CASE WHEN obj THEN json_keys(l, {_KEYS}) END AS k,
            CASE WHEN obj THEN json_transform(l, '{_SHAPE}') END AS j, ty, l
          FROM (SELECT *, coalesce(ty[1] = 'OBJECT', FALSE) AS obj FROM o)),
    e AS (SELECT line_no, obj, k, ty[2] AS cmt, ty[3] AS rect, ty[4] AS idt, ty[5] AS subjt, ty[6] AS rpt,
            json_type(j.time_us) AS tut, j.time_us AS tu,
            {_s("j.did")} AS did, {_s("j.kind")} AS kind, {_s("j.commit.operation")} AS op,
            {_s("j.commit.collection")} AS coll, {_s("j.commit.rkey")} AS rkey, json_type(j.commit.cid) AS cidt,
            {_s("j.commit.cid")} AS cid, {_s("j.identity.handle")} AS handle, j.commit.record AS r, l FROM x),
    c AS (SELECT *,
            coalesce(obj AND {unique} AND starts_with(did, 'did:') AND (
              kind IN ('account', 'identity')
              OR (kind = 'commit' AND cmt = 'OBJECT' AND coll IS NOT NULL
                  AND rkey <> '' AND op IN ('create', 'update', 'delete')
                  AND (op <> 'delete' OR tut IS NULL OR tut NOT IN ('BIGINT', 'UBIGINT')
                       OR try_cast(tu::VARCHAR AS HUGEINT) BETWEEN 0 AND {_MAX_US})
                  AND (op = 'delete' OR coll NOT IN ({modelled})
                       OR (rect = 'OBJECT' AND (cidt IS NULL OR cidt IN ('NULL', 'VARCHAR')))))), FALSE) AS env_ok,
            coalesce(coll IN ({modelled}) AND op IN ('create', 'update'), FALSE) AS maps
          FROM e),
    z AS (SELECT *, json_type(r.createdAt) AS crt, {_s("r.createdAt")} AS cr, {_s("r.subject.uri")} AS subj_uri,
            CASE WHEN subjt = 'VARCHAR' AND coll = 'app.bsky.graph.follow'
                 THEN json_extract_string(l, '$.commit.record.subject') END AS subj_s,
            {_s("r.text")} AS txt, {_s("r.reply.parent.uri")} AS parent, {_s("r.reply.root.uri")} AS root,
            CASE WHEN json_type(r.langs) = 'ARRAY' AND json_type(r.langs, '$[0]') = 'VARCHAR'
                 THEN r.langs->>'$[0]' END AS lang, {_s("r.displayName")} AS dname,
            coalesce(json_type(r.facets), 'NULL') = 'NULL' AND coalesce(json_type(r.embed), 'NULL') = 'NULL'
              AND coalesce(json_type(r.tags), 'NULL') = 'NULL'
              AND coalesce(json_type(r.entities), 'NULL') = 'NULL' AS plain FROM c),
    t AS (SELECT *,
            CASE WHEN crt = 'VARCHAR' AND regexp_matches(cr, '{_TIME}')
                      AND try_strptime(cr[1:19], '%Y-%m-%dT%H:%M:%S') IS NOT NULL
                 THEN cr[1:19] || CASE WHEN rtrim(cr[21:23], '0') <> '' THEN '.' || rtrim(cr[21:23], '0') ELSE '' END
                      || 'Z' END AS created,
            starts_with(subj_uri, 'at://') AS subj_ok FROM z)
    SELECT line_no, did, kind, op, coll, rkey, cid, handle, idt, tut, tu, created, subj_uri, subj_s, txt, rpt,
           parent, root, lang, dname, coalesce(env_ok AND (NOT maps OR (
             (crt IS NULL OR crt = 'NULL' OR created IS NOT NULL) AND CASE coll
               WHEN 'app.bsky.feed.like' THEN coalesce(subj_ok, FALSE)
               WHEN 'app.bsky.graph.follow' THEN coalesce(starts_with(subj_s, 'did:'), FALSE)
               WHEN 'app.bsky.feed.repost' THEN coalesce(subj_ok, FALSE) AND created IS NOT NULL
               WHEN 'app.bsky.actor.profile' THEN TRUE
               ELSE txt IS NOT NULL AND created IS NOT NULL AND plain
                    AND (rpt IS NULL OR rpt = 'NULL' OR coalesce(starts_with(parent, 'at://'), FALSE)) END)),
             FALSE) AS fast
    FROM t"""


def _uri_did(u: str) -> str:
    """SQL: `B._uri_did` — the DID of an AT-URI `at://did/collection/rkey`, else NULL."""
    return (f"CASE WHEN regexp_full_match({u}, 'at://[^/]+/[^/]+/[^/]+', 's') AND starts_with({u}, 'at://did:') "
            f"THEN split_part({u}, '/', 3) END")


def _fast_rows_sql(src: str = "fj_a") -> str:
    """The records of the lines mapped in SQL (`src`.fast, fj_a): fj_rec's columns."""
    uri = "'at://' || did || '/' || coll || '/' || rkey"
    exact = "CASE WHEN created IS NULL THEN 'unknown' ELSE 'exact' END"
    sids = "CASE WHEN cid <> '' THEN json_object('cid', cid) END"
    p, i, a = R.POST, R.INTERACTION, R.ACCOUNT
    like = struct_pack_sql(i, record_type="'interaction'", platform="'bluesky'", type="'like'",
                           interaction_key=uri, actor_key="did", target_post_key="subj_uri",
                           target_account_key=_uri_did("subj_uri"), created_at="created", time_precision=exact)
    follow = struct_pack_sql(i, record_type="'interaction'", platform="'bluesky'", type="'follow'",
                             interaction_key=uri, actor_key="did", target_account_key="subj_s",
                             created_at="created", time_precision=exact)
    repost = struct_pack_sql(p, record_type="'post'", platform="'bluesky'", post_key=uri, author_key="did",
                             created_at="created", kind="'repost'", repost_of_key="subj_uri", source_ids=sids)
    post = struct_pack_sql(p, record_type="'post'", platform="'bluesky'", post_key=uri, author_key="did",
                           created_at="created", kind="CASE WHEN rpt IS NULL OR rpt = 'NULL' THEN 'original' "
                                                     "ELSE 'reply' END",
                           text="txt", lang="lang",
                           reply_to_key="CASE WHEN rpt IS NULL OR rpt = 'NULL' THEN NULL ELSE parent END",
                           thread_root_key="CASE WHEN rpt IS NULL OR rpt = 'NULL' OR NOT starts_with(root, 'at://') "
                                           "THEN NULL ELSE root END",
                           url="'https://bsky.app/profile/' || did || '/post/' || rkey", source_ids=sids)
    profile = struct_pack_sql(a, record_type="'account'", platform="'bluesky'", account_key="did",
                              display_name="nullif(dname, '')", created_at="created")
    ident = struct_pack_sql(a, record_type="'account'", platform="'bluesky'", account_key="did", handle="handle")
    return f"""
    SELECT line_no, CASE WHEN kind = 'identity' THEN 'acc' WHEN op = 'delete' THEN 'del' ELSE 'rec' END AS act,
      {uri} AS uri,
      CASE WHEN kind = 'identity' OR coll = 'app.bsky.actor.profile' THEN 'account'
           WHEN coll IN ('app.bsky.feed.like', 'app.bsky.graph.follow') THEN 'interaction' ELSE 'post' END AS rt,
      CASE coll WHEN 'app.bsky.feed.post' THEN {post} WHEN 'app.bsky.feed.repost' THEN {repost} END AS jp,
      CASE coll WHEN 'app.bsky.feed.like' THEN {like} WHEN 'app.bsky.graph.follow' THEN {follow} END AS ji,
      CASE WHEN kind = 'identity' THEN {ident} WHEN coll = 'app.bsky.actor.profile' THEN {profile} END AS ja,
      CASE WHEN op = 'delete' AND tut IN ('BIGINT', 'UBIGINT')
           THEN strftime(make_timestamp((tu::VARCHAR)::BIGINT), '%Y-%m-%dT%H:%M:%S.%fZ') END AS w
    FROM {src}
    WHERE fast AND ((kind = 'identity' AND idt = 'OBJECT' AND handle <> '')
                    OR (kind = 'commit' AND coll IN ({", ".join(_q(c) for c in sorted(B.MODELLED))})
                        AND NOT (op = 'delete' AND coll = 'app.bsky.actor.profile')))"""


def _py_rows_sql() -> str:
    """fj_rec's columns for the records the Python reader's code made (fj_py: line_no, act, uri, rt, w, text)."""
    cols = []
    for rt, col in _COL.items():
        cols.append(f"CASE WHEN rt = '{rt}' THEN json_transform(text, '{_json_type(_SPECS[rt])}') END AS {col}")
    return f"SELECT line_no, act, uri, rt, {', '.join(cols)}, w FROM fj_py"


def _json_type(spec: R.RecordSpec) -> str:
    fields = tuple(dict.fromkeys(R.ENVELOPE + spec.fields))
    return "{" + ", ".join(f'"{f}": "{"JSON" if f in R.JSON_FIELDS else "VARCHAR"}"' for f in fields) + "}"


def _deleted(spec: R.RecordSpec, src: str) -> str:
    """The struct of a create's record as its delete restates it (posts: is_deleted; interactions: ended_at)."""
    if spec is R.POST:
        return struct_pack_sql(spec, **{f: f"{src}.{f}" for f in _fields(spec) if f != "is_deleted"},
                               is_deleted="'true'")
    return struct_pack_sql(spec, **{f: f"{src}.{f}" for f in _fields(spec) if f != "ended_at"},
                           ended_at=f"coalesce(w, {src}.ended_at)")


def _fields(spec: R.RecordSpec) -> tuple[str, ...]:
    return tuple(dict.fromkeys(R.ENVELOPE + spec.fields))


class _Batches:
    """State carried from batch to batch: record numbers, remembered creates, identity handles, `good`."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, reject: Reject) -> None:
        self.con, self.path, self.file, self.reject = con, path, str(path), reject
        self.n = 0
        self.good = 0
        types = ", ".join(f"{c} {struct_type_sql(_SPECS[rt])}" for rt, c in _COL.items() if rt != "account")
        run_sql(con, f"CREATE OR REPLACE TEMP TABLE fj_state (uri VARCHAR, rt VARCHAR, {types}, ord BIGINT)")
        run_sql(con, "CREATE OR REPLACE TEMP TABLE fj_handles (did VARCHAR, handle VARCHAR)")
        self.classify, self.fast_rows, self.py_rows = _classify_sql(), _fast_rows_sql(), _py_rows_sql()

    # ---- the lines the SQL does not map: the reader's own code, line by line
    def _python(self, rows: list[tuple[int, bytes]], rejects: list[tuple[int, str, bytes | None]]) -> pa.Table:
        out: dict[str, list[Any]] = {"line_no": [], "act": [], "uri": [], "rt": [], "w": [], "text": []}

        def add(n: int, act: str, uri: str | None, rt: str | None, w: str | None, rec: dict | None) -> None:
            for k, v in zip(out, (n, act, uri, rt, w, json.dumps(rec, ensure_ascii=False, default=str)
                                  if rec is not None else None), strict=True):
                out[k].append(v)

        for n, raw in rows:
            line = raw[:-1] if raw.endswith(b"\n") else raw
            if not line.strip():
                continue
            too_long = too_long_reason(line)
            if too_long:                                       # a line over the cap (sources/lines.py)
                rejects.append((n, too_long, b""))
                continue
            try:
                ev = json.loads(line)
            except (ValueError, UnicodeDecodeError) as exc:
                rejects.append((n, f"not JSON ({str(exc)[:80]})", line))
                continue
            good, what = B.jetstream_event(ev)
            self.good += good
            if isinstance(what, str):                          # a reject reason
                rejects.append((n, what, line))
                continue
            if what is None:
                continue
            if what[0] == "identity":
                add(n, "acc", None, "account", None, {"record_type": "account", "platform": B.PLATFORM,
                                                      "account_key": what[1], "handle": what[2]})
                continue
            _, did, action, collection, rkey, record, cid, when = what
            uri = B.at_uri(did, collection, rkey)
            if action in ("create", "update"):
                try:
                    recs = B.bsky_record(did, collection, rkey, record, cid)
                except B.BadItem as exc:
                    rejects.append((n, str(exc), line))
                    continue
                for r in recs:
                    add(n, "rec", uri, r["record_type"], None, r)
            elif action == "delete":
                if collection in B.MODELLED and collection != B.PROFILE:
                    add(n, "del", uri, None, when, None)
            else:
                rejects.append((n, f"unknown operation {str(action)[:20]!r}", line))
        return pa.table(out, schema=pa.schema([("line_no", pa.int64()), ("act", pa.string()), ("uri", pa.string()),
                                               ("rt", pa.string()), ("w", pa.string()), ("text", pa.string())]))

    def batch(self, tbl: pa.Table) -> RowsSource | None:
        con = self.con
        raw = tbl.column("raw").combine_chunks()
        text = raw.view(pa.large_utf8())
        try:
            text.validate(full=True)
            lines = pa.table({"line_no": tbl.column("line_no"), "l": text})   # zero-copy view of the bytes
        except pa.ArrowInvalid:                                                # some line is not UTF-8
            con.register("fj_raw", tbl)
            try:
                lines = con.sql("SELECT line_no, try(decode(raw)) AS l FROM fj_raw").to_arrow_table()
            finally:
                con.unregister("fj_raw")
        # several record batches, so that DuckDB scans them on all cores (one batch = one thread)
        con.register("fj_in", pa.Table.from_batches(lines.to_batches(max_chunksize=SCAN_ROWS)))
        try:
            run_sql(con, self.classify)
        finally:
            con.unregister("fj_in")
        self.good += int(run_sql(con, "SELECT count(*) FROM fj_a WHERE fast")[0][0])
        slow = [r[0] for r in run_sql(con, "SELECT line_no FROM fj_a WHERE NOT fast ORDER BY line_no")]
        rejects: list[tuple[int, str, bytes | None]] = []
        first = int(tbl.column("line_no")[0].as_py())
        py = self._python([(n, raw[n - first].as_py()) for n in slow], rejects)
        con.register("fj_py", py)
        try:
            run_sql(con, f"CREATE OR REPLACE TEMP TABLE fj_rec AS {self.fast_rows} UNION ALL {self.py_rows}")
        finally:
            con.unregister("fj_py")
        # deletes: the op before each on the same AT-URI (this batch, or a create remembered from before)
        run_sql(con, "CREATE OR REPLACE TEMP TABLE fj_del AS SELECT DISTINCT uri FROM fj_rec WHERE act = 'del'")
        run_sql(con, """CREATE OR REPLACE TEMP TABLE fj_ops AS
            SELECT line_no, act, uri, w, lag(act) OVER u AS pact, lag(rt) OVER u AS prt, lag(jp) OVER u AS pjp,
                   lag(ji) OVER u AS pji FROM (
              SELECT line_no, act, uri, rt, jp, ji, w FROM fj_rec
                WHERE uri IN (SELECT uri FROM fj_del) AND (act = 'del' OR (act = 'rec' AND rt <> 'account'))
              UNION ALL SELECT 0, 'rec', uri, rt, jp, ji, NULL FROM fj_state WHERE uri IN (SELECT uri FROM fj_del))
            WINDOW u AS (PARTITION BY uri ORDER BY line_no)""")
        for n, uri, w in run_sql(con, "SELECT line_no, uri, w FROM fj_ops WHERE act = 'del' "
                                      "AND (pact IS NULL OR pact <> 'rec') ORDER BY line_no"):
            rejects.append((n, PendingDelete(B._unresolved(uri), uri, w), None))
        # what is remembered for the batches after this one: the creates not deleted since (at most
        # DELETE_INDEX_MAX, the newest, as the reader)
        run_sql(con, """CREATE OR REPLACE TEMP TABLE fj_last AS SELECT uri, max(line_no) AS m FROM fj_rec
            WHERE act = 'del' OR (act = 'rec' AND rt <> 'account') GROUP BY uri""")
        run_sql(con, "DELETE FROM fj_state WHERE uri IN (SELECT uri FROM fj_last)")
        run_sql(con, """INSERT INTO fj_state SELECT r.uri, r.rt, r.jp, r.ji, r.line_no FROM fj_rec r
            JOIN fj_last t ON t.uri = r.uri AND t.m = r.line_no WHERE r.act = 'rec' AND r.rt <> 'account'""")
        if int(run_sql(con, "SELECT count(*) FROM fj_state")[0][0]) > B.DELETE_INDEX_MAX:
            run_sql(con, f"""DELETE FROM fj_state WHERE ord < (SELECT ord FROM fj_state ORDER BY ord DESC
                LIMIT 1 OFFSET {B.DELETE_INDEX_MAX - 1})""")
        # the records of this batch (at most one a line), numbered on from the last batch's in input order
        post, inter = _deleted(R.POST, "o.pjp"), _deleted(R.INTERACTION, "o.pji")
        run_sql(con, f"""CREATE OR REPLACE TEMP TABLE fj_out AS
              SELECT line_no, rt, jp, ji, ja, NULL::JSON AS extra FROM fj_rec WHERE act = 'rec'
              UNION ALL
              SELECT o.line_no, o.prt, CASE WHEN o.prt = 'post' THEN {post} END,
                     CASE WHEN o.prt = 'interaction' THEN {inter} END, NULL,
                     CASE WHEN o.prt = 'post' AND o.w IS NOT NULL THEN json_object('deleted_at', o.w) END
              FROM fj_ops o WHERE o.act = 'del' AND o.pact = 'rec'
              UNION ALL
              SELECT line_no, rt, NULL, NULL, ja, NULL FROM (
                SELECT line_no, rt, ja, ja.account_key AS did, ja.handle AS handle FROM fj_rec WHERE act = 'acc'
                QUALIFY row_number() OVER (PARTITION BY did, handle ORDER BY line_no) = 1) a
              WHERE NOT EXISTS (SELECT 1 FROM fj_handles h WHERE h.did = a.did AND h.handle = a.handle)""")
        run_sql(con, f"""CREATE OR REPLACE TEMP TABLE fj_num AS
            SELECT line_no, {self.n} + row_number() OVER (ORDER BY line_no) AS rec_no FROM fj_out""")
        run_sql(con, """INSERT INTO fj_handles SELECT DISTINCT ja.account_key, ja.handle FROM fj_out
            WHERE rt = 'account' AND ja.handle IS NOT NULL""")
        self._reject_all(rejects, raw, first)
        count = int(run_sql(con, "SELECT count(*) FROM fj_num")[0][0])
        self.n += count
        if not count:
            return None
        rows = {rt: rows_sql(_SPECS[rt], f"(SELECT rec_no AS line_no, {_COL[rt]} AS j, extra FROM fj_out "
                                          f"JOIN fj_num USING (line_no) WHERE rt = '{rt}')")
                for rt in _COL}
        return RowsSource(rows, "fj_out", "record")

    def _reject_all(self, rejects: list[tuple[int, str, bytes | None]], raws: pa.Array, first: int) -> None:
        for n, reason, line in sorted(rejects, key=lambda r: r[0]):
            if line is None:
                raw = raws[n - first].as_py()
                line = raw[:-1] if raw.endswith(b"\n") else raw
            self.reject(self.file, f"line {n}", reason, line[:2000].decode("utf-8", "replace"))


def jetstream_sources(con: duckdb.DuckDBPyConnection, path: Path, reject: Reject) -> Iterator[RowsSource]:
    """The staged batches of a plain Jetstream capture; raises FormatError as the reader does when no line
    of a non-empty file is a Jetstream event."""
    b = _Batches(con, path, reject)
    try:
        for tbl in line_batches(path, BATCH_BYTES):
            src = b.batch(tbl)
            if src is not None:
                yield src
    finally:
        for t in ("fj_a", "fj_rec", "fj_del", "fj_ops", "fj_last", "fj_out", "fj_num", "fj_state", "fj_handles"):
            run_sql(con, f"DROP TABLE IF EXISTS {t}")
    if b.good == 0 and path.stat().st_size > 0:
        raise FormatError(f"{path}: no Jetstream events in it (expected JSON lines with did, time_us, kind)")


# ------------------------------------------------------------------------------- live frames (leads listen)
def _struct_of_json_sql(src: str) -> str:
    """(line_no, sub, rt, jp, ji, ja, extra) of records given as JSON text (`src`: line_no, sub, rt, text),
    typed as `_typed_rows` types a record's JSON text (unknown keys in `extra`)."""
    cols, extra = [], []
    for rt, col in _COL.items():
        spec = _SPECS[rt]
        fields = _fields(spec)
        cols.append(f"CASE WHEN rt = '{rt}' THEN json_transform(text, '{_json_type(spec)}') END AS {col}")
        known = ", ".join(_q(f) for f in fields)
        extra.append(f"WHEN rt = '{rt}' AND len(list_filter(json_keys(text), lambda k: k NOT IN ({known}))) > 0 "
                     f"THEN json_merge_patch(text, {_q(json.dumps(dict.fromkeys(fields)))})")
    return (f"SELECT line_no, sub, rt, {', '.join(cols)}, CASE {' '.join(extra)} END::JSON AS extra "
            f"FROM {src}")


class LiveFrames:
    """The columnar mapping for `leads listen`: a batch of Jetstream v1 frames to generic records as typed
    structs (the same records as the live mapper ``listen.live.jetstream_records`` makes, frame by frame).

    ``classify`` maps in SQL the frames of the regular shapes (the classification of `leads import`'s
    columnar path, plus: an integer ``time_us`` in 0 … 2^63 − 1, as the live mapper requires) and
    returns the frames left to the Python mapper; ``records`` then types that mapper's records the same
    way and returns the batch's records in frame order. Deletes are not resolved here (the live
    pipeline applies them by key when it stores the batch). One instance per connection, one thread."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        ok = "coalesce(tut IN ('BIGINT', 'UBIGINT') AND try_cast(tu::VARCHAR AS BIGINT) >= 0, FALSE)"
        self._sql = f"""
        WITH a AS MATERIALIZED ({_classify_select("fjl_in")}),
        b AS MATERIALIZED (SELECT * REPLACE (fast AND {ok} AS fast) FROM a),
        r AS ({_fast_rows_sql("b")})
        SELECT b.line_no, b.fast, CASE WHEN b.fast THEN try_cast(b.tu::VARCHAR AS BIGINT) END AS tus, r.act,
               r.uri, r.w, 0 AS sub, r.rt, r.jp, r.ji, r.ja, NULL::JSON AS extra
        FROM b LEFT JOIN r USING (line_no) ORDER BY b.line_no"""
        self._py_sql = _struct_of_json_sql("fjl_py")
        self._fast: pa.Table | None = None

    def classify(self, frames: list[str]) -> tuple[list[int], list[tuple[int, str, str | None]], int | None]:
        """(frames for the Python mapper (their index), deletes mapped here as (index, AT-URI, time),
        the largest time_us of the frames mapped here)."""
        tbl = pa.table({"line_no": pa.array(range(len(frames)), pa.int64()), "l": pa.array(frames, pa.large_utf8())})
        self.con.register("fjl_in", tbl)
        try:
            res = self.con.sql(self._sql).to_arrow_table()
        finally:
            self.con.unregister("fjl_in")
        fast = res.column("fast").to_numpy(zero_copy_only=False)
        slow = np.flatnonzero(~fast.astype(bool)).tolist()
        act = res.column("act")
        dels = res.filter(pc.equal(act, "del"))
        deletes = list(zip(dels.column("line_no").to_pylist(), dels.column("uri").to_pylist(),
                           dels.column("w").to_pylist(), strict=True))
        top = pc.max(res.column("tus")).as_py()
        self._fast = res.filter(pc.is_in(act, pa.array(["rec", "acc"]))).select(
            ["line_no", "sub", "rt", "jp", "ji", "ja", "extra"])
        return slow, deletes, top

    def records(self, py: list[tuple[int, dict[str, Any]]]) -> pa.Table:
        """The batch's records in frame order (then the order of a frame's records): columns rt and
        jp / ji / ja (the record as the struct of its type) and extra; ``py`` are the Python mapper's
        records as (frame index, record)."""
        fast, self._fast = self._fast, None
        assert fast is not None, "classify first"
        if not py:
            return fast.drop_columns(["line_no", "sub"])
        src = pa.table({"line_no": pa.array([i for i, _ in py], pa.int64()),
                        "sub": pa.array(range(1, len(py) + 1), pa.int32()),
                        "rt": pa.array([r.get("record_type") for _, r in py], pa.string()),
                        "text": pa.array([json.dumps(r, ensure_ascii=False, default=str) for _, r in py],
                                         pa.large_utf8())})
        self.con.register("fjl_py", src)
        try:
            slow = self.con.sql(self._py_sql).to_arrow_table()
        finally:
            self.con.unregister("fjl_py")
        both = pa.concat_tables([fast, slow.cast(fast.schema)])
        return both.take(pc.sort_indices(both, [("line_no", "ascending"), ("sub", "ascending")])) \
            .drop_columns(["line_no", "sub"])
