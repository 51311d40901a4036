"""Live listening: Bluesky Jetstream v1 (websocket) and Mastodon streaming (SSE) into the store, with the
monitors and the spike detector run on what arrives (`leads listen`; CONNECTORS.md §1.5, §2.4).

Pipeline (three stages, so that a slow flush never delays an alert):

1. The reader task (event loop) receives frames and queues them with their receive time.
2. ``Pipeline.prepare`` (a worker thread) takes them in batches (``batch`` events or ``batch_ms``
   milliseconds, whichever comes first) and converts them to generic records with the Bluesky reader's
   mapper ``bsky_record`` (``jetstream_records``; Mastodon: the REST Status shape), or, with ``sql_map``,
   in SQL (sources/fast_jetstream.py ``LiveFrames``: the same records as typed structs). Then, still
   before anything is stored, it runs the monitors on the batch's posts that are new (not in the store
   and not in a batch waiting to be committed): the in-memory hourly series (alerts.LiveSeries) get the
   matches, the spike detector runs, new alerts are logged and the delivery thread is woken (a monitor
   none of whose words occurs in the batch is skipped before its regexes are compiled). The
   detector has its own DuckDB connection whose temp views ``posts`` / ``post_entities`` are the
   store's plus the batch's, so query matching and an alert's top posts / terms see the new posts.
3. The committer thread stores prepared batches in order, each in **one DuckDB transaction** through
   the importer's public ``RecordSink`` (the same staging, validation, idempotent merges, derived
   interactions and stub accounts as `leads import`), with the deletes (one statement per table), the
   malformed frames (``quarantine``: frame text and reason) and the stream's cursor (``listen_cursors``:
   the largest Jetstream ``time_us`` committed). When storage falls behind, the waiting batches are
   merged into one transaction (up to COMMIT_MAX events): batches grow with the load, so the fixed
   per-transaction cost is paid less often. After a crash or ``kill -9`` the store holds whole batches
   and the cursor that covers exactly them.

Resume. A restart subscribes with ``cursor = committed − lookback`` (1 s by default: Jetstream's order is
only roughly by time_us). The replayed events merge idempotently (same keys), and the monitors count
only posts that were not stored before, so nothing is counted twice. An alert logged before its batch
was committed is found in the ``alerts`` log after a restart and not sent again. Mastodon streams have
no cursor (live only; CONNECTORS.md §2.4).

Reconnect: exponential backoff with full jitter (0.5 s doubling to 30 s), reset after a frame arrives.
Each reconnection is reported (``on_reconnect``: the server and why); after ``max_retries`` failed
attempts in a row with nothing received the listener gives up (ListenConnectError, exit 4), and a
``duration`` that ends without ever connecting is the same error.
Alerts are delivered from a separate thread and connection (a slow webhook never stalls ingestion).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import queue
import random
import re
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from socialleads.errors import LeadsError
from socialleads.listen import alerts as A
from socialleads.listen import query as Q
from socialleads.listen.monitors import list_monitors
from socialleads.listen.query import compile_query
from socialleads.sources import generic as G
from socialleads.sources import importer as I
from socialleads.sources import records as R
from socialleads.sources.fast_jetstream import LiveFrames
from socialleads.sources.platforms import bluesky_files as B
from socialleads.sources.platforms.mastodon_archive import PLATFORM as MASTODON
from socialleads.sources.platforms.mastodon_archive import acct_key, html_to_text
from socialleads.store.db import Store, run_sql

log = logging.getLogger(__name__)

JETSTREAM_URL = "wss://jetstream2.us-east.bsky.network/subscribe"
BATCH = 20_000
BATCH_MS = 200
COMMIT_MAX = 200_000    # events per transaction when the committer has a backlog
STORE_BACKLOG = 64      # prepared batches waiting for the committer (backpressure beyond)
LOOKBACK_US = 1_000_000
RECENT = 256           # frames whose time_us the reader takes as the resume point after a drop
BACKOFF_START, BACKOFF_MAX = 0.5, 30.0
MAX_FRAME = 4 << 20
MAX_RETRIES = 10        # failed connection attempts in a row (nothing received) before giving up
COUNT_SPAN = dt.timedelta(days=30)     # posts older than this (by the stream's clock) are stored, not counted
FUTURE_SLACK = dt.timedelta(minutes=10)


class ListenError(LeadsError):
    """Bad options for `leads listen` (a bad URL, a missing token)."""


class ListenConnectError(ListenError):
    """The stream's server could not be reached (or refused the stream): what was received is stored."""

    exit_code = 4


# --------------------------------------------------------------------------------------- conversion
def jetstream_records(ev: Any) -> tuple[list[dict[str, Any]], list[tuple[str, str | None]], int | None]:
    """(records, deletes as (AT-URI, time), time_us) of one Jetstream v1 event; raises B.BadItem with the
    reason for a malformed one. Unmodelled collections give no records (CONNECTORS.md §1.5)."""
    if not isinstance(ev, dict):
        raise B.BadItem("frame is not a JSON object")
    did, tus, kind = ev.get("did"), ev.get("time_us"), ev.get("kind")
    if not isinstance(did, str) or not did.startswith("did:"):
        raise B.BadItem("not a Jetstream event (no did)")
    if not isinstance(tus, int) or isinstance(tus, bool):
        raise B.BadItem("not a Jetstream event (no integer time_us)")
    if not 0 <= tus < 1 << 63:   # (it becomes the stream's cursor, a BIGINT)
        raise B.BadItem(f"time_us {str(tus)[:30]} out of range")
    if kind == "commit":
        c = ev.get("commit")
        if not isinstance(c, dict) or not isinstance(c.get("collection"), str) or not c.get("rkey"):
            raise B.BadItem("commit event without commit.collection / rkey")
        op, coll, rkey = c.get("operation"), c["collection"], str(c["rkey"])
        if op in ("create", "update"):
            return B.bsky_record(did, coll, rkey, c.get("record"), c.get("cid")), [], tus
        if op == "delete":
            if coll not in B.MODELLED or coll == B.PROFILE:
                return [], [], tus
            when = dt.datetime.fromtimestamp(tus / 1e6, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            return [], [(B.at_uri(did, coll, rkey), when)], tus
        raise B.BadItem(f"unknown operation {str(op)[:20]!r}")
    if kind == "identity":
        ident = ev.get("identity")
        handle = ident.get("handle") if isinstance(ident, dict) else None
        recs = [{"record_type": "account", "platform": B.PLATFORM, "account_key": did, "handle": handle}] \
            if isinstance(handle, str) and handle else []
        return recs, [], tus
    if kind == "account":
        return [], [], tus
    raise B.BadItem(f"unknown event kind {str(kind)[:20]!r}")


# Mapping in SQL (sources/fast_jetstream.py `LiveFrames`: posts, reposts, likes, follows, deletes and
# identity of the usual shapes as typed structs, staged without JSON text; odd frames through
# jetstream_records) is an option (``sql_map``), off by default: measured on the bench's mix it costs more
# CPU than the Python mapper (~31 ms of planning per batch + ~13-17 us a frame, against ~9 us a frame;
# storing structs saves ~10 us a record), and on this shared 2-core machine CPU is what runs out.
SQL_MAP_MIN = 64   # with sql_map: the smallest batch mapped in SQL


def _host(url: Any) -> str | None:
    if not isinstance(url, str):
        return None
    return urllib.parse.urlsplit(url).hostname


def _account(acc: Any) -> tuple[dict[str, Any], str]:
    if not isinstance(acc, dict) or not isinstance(acc.get("acct"), str):
        raise B.BadItem("status without account.acct")
    acct = acc["acct"]
    if "@" not in acct:
        host = _host(acc.get("url"))
        if not host:
            raise B.BadItem(f"account {acct!r} without a host (no @host and no url)")
        acct = f"{acct}@{host}"
    kh = acct_key(acct)
    if kh is None:
        raise B.BadItem(f"account address {acct!r} is not user@host")
    return ({"record_type": "account", "platform": MASTODON, "account_key": kh[0], "handle": kh[1],
             "display_name": acc.get("display_name") or None, "url": acc.get("url")}, kh[0])


def mastodon_status_records(status: Any) -> list[dict[str, Any]]:
    """Generic records of one Mastodon REST Status (a streaming `update` payload): its author, the post
    keyed by the status URI (as the archive reader keys it), and for a boost the boosted status too."""
    if not isinstance(status, dict):
        raise B.BadItem("status is not a JSON object")
    uri, created = status.get("uri"), B.bsky_time(status.get("created_at"))
    if not isinstance(uri, str) or not uri:
        raise B.BadItem("status without uri")
    if created is None:
        raise B.BadItem(f"{uri}: status without a created_at time")
    acc_rec, author = _account(status.get("account"))
    out = [acc_rec]
    sid = {"id": str(status["id"])} if status.get("id") is not None else None
    reblog = status.get("reblog")
    if isinstance(reblog, dict):
        inner = mastodon_status_records(reblog)
        out += inner
        return out + [{"record_type": "post", "platform": MASTODON, "post_key": uri, "author_key": author,
                       "created_at": created, "kind": "repost", "repost_of_key": reblog.get("uri"),
                       "url": status.get("url"), "source_ids": sid}]
    html = status.get("content") if isinstance(status.get("content"), str) else ""
    text = html_to_text(html)[0] if html else ""
    ents: list[dict[str, Any]] = []
    for m in status.get("mentions") or []:
        if isinstance(m, dict) and isinstance(m.get("acct"), str):
            try:
                _, key = _account({"acct": m["acct"], "url": m.get("url")})
            except B.BadItem:
                continue
            ents.append({"etype": "mention", "value": "@" + m["acct"], "target_account_key": key})
    for t in status.get("tags") or []:
        if isinstance(t, dict) and isinstance(t.get("name"), str):
            ents.append({"etype": "hashtag", "value": t["name"]})
    for media in status.get("media_attachments") or []:
        if isinstance(media, dict) and isinstance(media.get("url"), str):
            ents.append({"etype": "media", "value": media["url"]})
    reply = status.get("in_reply_to_id") is not None
    post = {"record_type": "post", "platform": MASTODON, "post_key": uri, "author_key": author,
            "created_at": created, "kind": "reply" if reply else "original", "text": text, "text_html": html or None,
            "lang": status.get("language") or None, "visibility": status.get("visibility") or None,
            "url": status.get("url"), "entities": ents or None, "source_ids": sid,
            "edited_at": B.bsky_time(status.get("edited_at"))}
    return out + [{k: v for k, v in post.items() if v is not None}]


# ------------------------------------------------------------------------------------------- stats
@dataclass
class Stats:
    """What the listener has done (the live view and the `--json` lines show these)."""

    stream: str = ""
    received: int = 0
    committed: int = 0
    batches: int = 0
    quarantined: int = 0
    posts_new: int = 0
    matches: int = 0
    alerts: int = 0
    reconnects: int = 0
    cursor: int | None = None
    lag_s: float | None = None         # receive clock − time_us of the newest committed event
    events_per_s: float = 0.0
    started: float = field(default_factory=time.time)
    last_error: str | None = None

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["elapsed_s"] = round(time.time() - self.started, 3)
        d.pop("started")
        if d["lag_s"] is not None:
            d["lag_s"] = round(d["lag_s"], 3)
        d["events_per_s"] = round(d["events_per_s"], 1)
        return d


# ---------------------------------------------------------------------------------------- pipeline
@dataclass
class Batch:
    """Frames converted to records (not stored yet): what the detector reads and the committer stores."""

    frames: int
    records: list[dict[str, Any]]
    deletes: list[tuple[str, str | None]]
    bad: list[tuple[str, str, str]]
    top: int | None                     # the largest Jetstream time_us of the batch
    post_keys: list[str] = field(default_factory=list)
    rows: pa.Table | None = None        # records as typed structs (the SQL-mapped batches: rt, jp/ji/ja, extra)

    def record_dicts(self) -> list[dict[str, Any]]:
        """Every record of the batch as a dict without null fields (rows first, then records)."""
        out = []
        if self.rows is not None:
            for r in self.rows.to_pylist():
                j = r[_COL[r["rt"]]]
                d = {k: (json.loads(v) if k in R.JSON_FIELDS and isinstance(v, str) else v)
                     for k, v in j.items() if v is not None}
                if r["extra"] is not None:
                    d.update(json.loads(r["extra"]))
                out.append(d)
        return out + [{k: v for k, v in r.items() if v is not None} for r in self.records]


_COL = {"post": "jp", "interaction": "ji", "account": "ja"}


class _RowsBlock(G.Block):
    """A batch's struct records for RecordSink.append (staged by G.process_rows, numbered in stream order)."""

    def __init__(self, con: Any, rows: pa.Table) -> None:
        self.con, self.rows, self.count = con, rows, rows.num_rows

    def sources(self, n0: int) -> Iterator[Any]:
        tbl = self.rows.append_column("line_no", pa.array(range(n0 + 1, n0 + 1 + self.count), pa.int64()))
        present = set(pc.unique(tbl.column("rt")).to_pylist())
        self.con.register("live_rows", tbl)
        try:
            yield G.RowsSource({rt: G.rows_sql(R.SPECS[rt], f"(SELECT line_no, {col}::{G.struct_type_sql(R.SPECS[rt])} "
                                                         f"AS j, extra::JSON AS extra FROM live_rows WHERE rt = '{rt}')")
                                for rt, col in _COL.items() if rt in present}, "live_rows")
        finally:
            self.con.unregister("live_rows")


_POST_COLS = ("post_key", "platform", "author_key", "kind", "created_at", "text", "lang", "reply_to_key",
              "repost_of_key", "quote_of_key", "url")


class Pipeline:
    """Converts batches of frames, runs the monitors on them in memory (`prepare`: alerts do not wait for
    storage), and stores them (`commit`: one transaction per batch with the cursor, through the importer's
    public `RecordSink`). `prepare` and `commit` may run on two threads at once: each has its own DuckDB
    connection (the detector a cursor of the store's); alert delivery runs on a third."""

    def __init__(self, store: Store, stream: str, platform: str, *, sinks: list[str] | None = None,
                 detect: bool = True, k: float = 2.0, alpha: float = 0.01, cooldown: int = 6,
                 min_count: int = 0, console: Any = None, webhook_timeout: float = A.WEBHOOK_TIMEOUT,
                 sql_map: bool = False) -> None:
        self.store, self.stream, self.platform = store, stream, platform
        self.sinks = [A.parse_sink(s) for s in (sinks or [])]
        self.detect, self.k, self.alpha, self.cooldown, self.min_count = detect, k, alpha, cooldown, min_count
        self.console, self.webhook_timeout = console, webhook_timeout
        self.stats = Stats(stream=stream)
        self.sink = I.RecordSink(store, stream, f"{platform}_live", {"stream": stream, "tool": "leads listen"})
        self.summary = self.sink.summary
        rows = run_sql(store.con, "SELECT cursor FROM listen_cursors WHERE stream = ?", [stream])
        self.cursor: int | None = rows[0][0] if rows else None
        self.stats.cursor = self.cursor
        self.series = [A.LiveSeries.from_store(store, m["name"], m["query"]) for m in list_monitors(store)] \
            if detect else []
        self._where = {s.name: compile_query(s.query) for s in self.series}
        self._pre = {s.name: _prefilter(s.query) for s in self.series}
        # The detector's own connection: a temp view `posts` (and `post_entities`) = the store's plus the
        # batch being detected, so matching and the alert's top posts / terms see posts not stored yet.
        self._det = Store(store.con.cursor(), store.path)
        db = run_sql(self._det.con, "SELECT current_database()")[0][0].replace('"', '""')
        self._posts = f'"{db}".main.posts'   # the stored posts (the detector's `posts` adds the batch's)
        if self.series:
            self._set_live(pa.table({c: pa.array([], pa.string()) for c in _POST_COLS}), [])
            # created_at as the importer casts it (RFC 3339 → UTC TIMESTAMP)
            run_sql(self._det.con, "CREATE OR REPLACE TEMP VIEW live_batch_typed AS SELECT * REPLACE "
                                   "(try_cast(created_at AS TIMESTAMPTZ)::TIMESTAMP AS created_at) FROM live_batch_posts")
            run_sql(self._det.con, f'CREATE OR REPLACE TEMP VIEW posts AS SELECT * FROM "{db}".main.posts '
                                   "UNION ALL BY NAME SELECT * FROM live_batch_typed")
            run_sql(self._det.con, f'CREATE OR REPLACE TEMP VIEW post_entities AS SELECT * FROM "{db}".main.post_entities '
                                   "UNION ALL BY NAME SELECT * FROM live_batch_entities")
        self._pending: set[str] = set()     # post keys detected but not committed yet
        self._pending_lock = threading.Lock()
        self.clock: dt.datetime | None = None          # the stream's clock: newest event time seen
        self.since: dt.datetime | None = None          # alerts must end after the session's first hour
        self._deliver_wake = threading.Event()
        self._deliver_stop = False
        self._deliverer: threading.Thread | None = None
        self.on_alert: Callable[[dict[str, Any]], None] | None = None
        self.on_reconnect: Callable[[str], None] | None = None   # told each reconnection and why
        self.connected = False          # a connection to the server was opened at least once
        self.timings: dict[str, float] = {"convert": 0.0, "detect": 0.0, "store": 0.0}
        self.sql_map_min = SQL_MAP_MIN if sql_map else None   # batches at least this big are mapped in SQL
        self._frames = LiveFrames(self._det.con)

    # -- conversion of a batch
    def _convert(self, frames: list[tuple[str, float]], n0: int) -> Batch:
        recs: list[dict[str, Any]] = []
        deletes: list[tuple[int, str, str | None]] = []      # (frame index, key, time)
        bad: list[tuple[str, str, str]] = []
        top: int | None = None
        jet = self.platform == B.PLATFORM
        todo: Any = range(len(frames))
        sql = jet and self.sql_map_min is not None and len(frames) >= self.sql_map_min
        if sql:
            todo, deletes, top = self._frames.classify([t for t, _ in frames])
        py: list[tuple[int, dict[str, Any]]] = []
        for i in todo:
            text = frames[i][0]
            try:
                ev = json.loads(text)
            except ValueError as exc:
                bad.append((f"frame {n0 + i + 1}", f"not JSON ({str(exc)[:80]})", text))
                continue
            try:
                if jet:
                    r, d, tus = jetstream_records(ev)
                    if tus is not None and (top is None or tus > top):
                        top = tus
                else:
                    r, d = mastodon_event(ev)
            except B.BadItem as exc:
                bad.append((f"frame {n0 + i + 1}", str(exc), text))
                continue
            for rec in r:
                py.append((i, rec))
            for k_, w in d:
                deletes.append((i, k_, w))
        rows = None
        if sql:   # (a record type the struct path does not know stays a dict: the importer quarantines it)
            rows = self._frames.records([x for x in py if x[1].get("record_type") in _COL])
            recs = [rec for _, rec in py if rec.get("record_type") not in _COL]
            keys = rows.filter(pc.equal(rows.column("rt"), "post")).column("jp").combine_chunks() \
                .field("post_key").to_pylist()
        else:
            recs = [rec for _, rec in py]
            keys = [r["post_key"] for r in recs if r.get("record_type") == "post"]
        deletes.sort(key=lambda x: x[0])
        return Batch(len(frames), recs, [(k_, w) for _, k_, w in deletes], bad, top,
                     list(dict.fromkeys(keys)), rows)

    def prepare(self, frames: list[tuple[str, float]], n0: int = 0) -> Batch:
        """Convert frames (numbered from ``n0`` + 1 for quarantine places) and run the monitors on the
        posts new to the store; alerts are logged and delivery is woken before anything is stored."""
        t0 = time.perf_counter()
        b = self._convert(frames, n0)
        t1 = time.perf_counter()
        self.timings["convert"] += t1 - t0
        if b.post_keys:
            with self._pending_lock:   # pending first, then the store (a commit in between is seen by one)
                known = self._pending.intersection(b.post_keys)
                self._pending.update(b.post_keys)
            rest = [k_ for k_ in b.post_keys if k_ not in known]
            if rest:
                known |= self._stored(rest)
            new = [k_ for k_ in b.post_keys if k_ not in known]
            self.stats.posts_new += len(new)
            if self.series and new:
                try:
                    self._monitors(b, set(new))
                except Exception as exc:  # noqa: BLE001 - detection must never stop ingestion
                    log.warning("live detection failed: %s", exc)
                    self.stats.last_error = f"detection: {type(exc).__name__}: {str(exc)[:200]}"
        self.timings["detect"] += time.perf_counter() - t1
        return b

    def _stored(self, keys: list[str]) -> set[str]:
        """The keys already in the store (a join on the key column: 5 ms for 850 keys at 200 k posts, ~90 ms
        at 2 M; a literal IN list measured no faster on a stored table)."""
        return {k_ for (k_,) in run_sql(self._det.con, f"SELECT post_key FROM {self._posts} WHERE post_key IN "
                                                       "(SELECT unnest(?::VARCHAR[]))", [keys])}

    def commit(self, b: Batch) -> dict[str, Any]:
        """Store one prepared batch and its cursor in one transaction (the batch's posts leave the
        detector's pending set only once committed)."""
        t0 = time.perf_counter()
        con = self.store.con
        con.execute("BEGIN TRANSACTION")
        try:
            if b.rows is not None and b.rows.num_rows:
                self.sink.append([*b.records, _RowsBlock(con, b.rows)])
            elif b.records:
                self.sink.append(b.records)
            self._apply_deletes(b.deletes)
            if b.bad:
                run_sql(con, "INSERT INTO quarantine (run_id, file, line, place, record_type, reason, raw) "
                             "SELECT ?, ?, NULL, unnest(?::VARCHAR[]), NULL, unnest(?::VARCHAR[]), unnest(?::VARCHAR[])",
                        [self.summary.run_id, self.stream, [x[0] for x in b.bad], [x[1] for x in b.bad],
                         [x[2][:G.RAW_LIMIT] for x in b.bad]])
            cursor = max(b.top, self.cursor) if b.top is not None and self.cursor is not None else (b.top or self.cursor)
            run_sql(con, "INSERT INTO listen_cursors (stream, cursor, events, updated_at) "
                         "VALUES (?, ?, ?, now()::TIMESTAMP) ON CONFLICT (stream) DO UPDATE SET "
                         "cursor = excluded.cursor, events = listen_cursors.events + excluded.events, "
                         "updated_at = excluded.updated_at", [self.stream, cursor, b.frames])
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                con.execute("ROLLBACK")
            raise
        if b.post_keys:
            with self._pending_lock:
                self._pending.difference_update(b.post_keys)
        self.cursor = cursor
        s = self.stats
        s.committed += b.frames
        s.batches += 1
        s.quarantined += len(b.bad)
        self.summary.quarantined += len(b.bad)
        s.cursor = cursor
        if b.top is not None:
            s.lag_s = time.time() - b.top / 1e6
        self.timings["store"] += time.perf_counter() - t0
        return {"events": b.frames, "records": len(b.records) + (b.rows.num_rows if b.rows is not None else 0),
                "quarantined": len(b.bad)}

    def _apply_deletes(self, deletes: list[tuple[str, str | None]]) -> None:
        """One statement per table for the batch's deletes (first delete of a key wins)."""
        if not deletes:
            return
        first = dict(reversed(deletes))
        keys = list(first)
        con = self.store.con
        if self.platform == B.PLATFORM:
            run_sql(con, "UPDATE posts SET is_deleted = TRUE WHERE post_key IN (SELECT unnest(?::VARCHAR[]))", [keys])
            whens = [w.rstrip("Z") if w else None for w in first.values()]
            run_sql(con, "UPDATE interactions AS i SET ended_at = coalesce(i.ended_at, d.w) FROM "
                         "(SELECT unnest(?::VARCHAR[]) AS k, unnest(?::TIMESTAMP[]) AS w) d "
                         "WHERE i.interaction_key = d.k", [keys, whens])
        else:
            run_sql(con, "UPDATE posts SET is_deleted = TRUE WHERE platform = ? "
                         "AND source_ids->>'id' IN (SELECT unnest(?::VARCHAR[]))", [MASTODON, keys])

    # -- monitors and alerts
    def _set_live(self, posts: pa.Table, entities: list[dict[str, Any]]) -> None:
        con = self._det.con
        con.register("live_batch_posts", posts)
        ent = pa.table({"post_key": pa.array([e[0] for e in entities], pa.string()),
                        "etype": pa.array([e[1] for e in entities], pa.string()),
                        "value": pa.array([e[2] for e in entities], pa.string()),
                        "target_account_key": pa.array([e[3] for e in entities], pa.string())}) \
            if entities else pa.table({c: pa.array([], pa.string())
                                       for c in ("post_key", "etype", "value", "target_account_key")})
        con.register("live_batch_entities", ent)

    def _monitors(self, b: Batch, new: set[str]) -> list[dict[str, Any]]:
        from socialleads.listen.sentiment import score_texts

        tbl, ents = _new_posts(b, new)
        if not tbl.num_rows:
            return []
        con = self._det.con
        self._set_live(tbl, ents)
        clock = dt.datetime.fromtimestamp(b.top / 1e6, dt.UTC).replace(tzinfo=None) if b.top else None
        if clock is None:
            clock = max(dt.datetime.fromisoformat(c.rstrip("Z")) for c in tbl.column("created_at").to_pylist())
        self.clock = max(self.clock, clock) if self.clock else clock
        if self.since is None:
            self.since = self.clock.replace(minute=0, second=0, microsecond=0)
        # created_at as the importer casts it (RFC 3339 → UTC TIMESTAMP); the view adds the stored columns
        found: list[dict[str, Any]] = []
        lo = np.datetime64(self.clock - COUNT_SPAN, "us")
        hi = np.datetime64(self.clock + FUTURE_SLACK, "us")
        # RE2 compiles a query's regexes anew for every query (~8 ms per Unicode-class regex, measured), so
        # the monitors whose words appear in no post of the batch are dropped first by a substring test
        # (no regex); the rest run in one query over the batch, one boolean column per monitor
        n = len(self.series)
        active = list(range(n))
        pre = [(j, self._pre[s.name]) for j, s in enumerate(self.series) if self._pre[s.name] is not None]
        if pre:
            any_ = run_sql(con, "SELECT " + ", ".join(f"coalesce(bool_or({c}), false)" for _, c in pre)
                           + " FROM live_batch_typed p WHERE p.created_at IS NOT NULL")[0]
            drop = {j for (j, _), v in zip(pre, any_, strict=True) if not v}
            active = [j for j in active if j not in drop]
        rows = []
        if active:
            flags = ", ".join(f"coalesce(({self._where[self.series[j].name]}), false)" for j in active)
            rows = [r for r in run_sql(con, f"SELECT p.created_at, p.text, {flags} FROM live_batch_typed p "
                                            "LEFT JOIN accounts a ON a.account_key = p.author_key "
                                            "WHERE p.created_at IS NOT NULL") if any(r[2:])]
        if rows:
            t_all = np.array([r[0] for r in rows], dtype="datetime64[us]")
            ok = (t_all >= lo) & (t_all <= hi)
            hit = np.zeros((len(rows), n), bool)
            hit[:, active] = np.array([r[2:] for r in rows], dtype=bool).reshape(len(rows), len(active)) & ok[:, None]
            scored = np.flatnonzero(hit.any(axis=1))
            neg_all = np.zeros(len(rows), bool)
            if len(scored):
                labels, _ = score_texts([rows[i][1] or "" for i in scored])
                neg_all[scored] = np.asarray(labels, dtype=object) == "negative"
            for j, s in enumerate(self.series):
                m = hit[:, j]
                if not m.any():
                    continue
                self.stats.matches += int(m.sum())
                s.add(t_all[m], neg_all[m])
                found += A.raise_alerts(self._det, s.name, s.query, s.hours, s.counts, self.sinks, k=self.k,
                                        alpha=self.alpha, cooldown=self.cooldown, min_count=self.min_count,
                                        since=self.since)
        self._set_live(tbl.slice(0, 0), [])
        if found:
            self.stats.alerts += len(found)
            for a in found:
                if self.on_alert:
                    self.on_alert(a)
            self._deliver_wake.set()
        return found

    def start_delivery(self) -> None:
        """A thread (with its own DuckDB cursor) that delivers pending alerts when woken, and every 30 s."""
        if self._deliverer is not None or not self.sinks:
            return
        store = Store(self.store.con.cursor(), self.store.path)

        def loop() -> None:
            while not self._deliver_stop:
                self._deliver_wake.wait(30)
                self._deliver_wake.clear()
                try:
                    A.deliver_pending(store, console=self.console, timeout=self.webhook_timeout)
                except Exception as exc:  # noqa: BLE001 - delivery must never stop the listener
                    log.warning("alert delivery failed: %s", exc)
                if self._deliver_stop:
                    break
        self._deliverer = threading.Thread(target=loop, name="leads-alert-delivery", daemon=True)
        self._deliverer.start()
        self._deliver_wake.set()   # alerts left pending by an earlier session

    def close(self) -> None:
        if self._deliverer is not None:
            self._deliver_stop = True
            self._deliver_wake.set()
            self._deliverer.join(timeout=self.webhook_timeout * A.WEBHOOK_ATTEMPTS + 5)
            self._deliverer = None
        with contextlib.suppress(Exception):
            self._det.con.close()
        self.sink.close({"events": self.stats.committed})
        run_sql(self.store.con, "CHECKPOINT")


def merge_batches(batches: list[Batch]) -> Batch:
    """Several prepared batches as one (in order): the committer stores a backlog in one transaction."""
    if len(batches) == 1:
        return batches[0]
    tops = [b.top for b in batches if b.top is not None]
    rows = [b.rows for b in batches if b.rows is not None]
    if rows and any(b.records for b in batches):   # keep the stream order: rows and dicts do not mix
        return Batch(sum(b.frames for b in batches), [r for b in batches for r in b.record_dicts()],
                     [d for b in batches for d in b.deletes], [x for b in batches for x in b.bad],
                     max(tops) if tops else None, [k_ for b in batches for k_ in b.post_keys])
    return Batch(sum(b.frames for b in batches), [r for b in batches for r in b.records],
                 [d for b in batches for d in b.deletes], [x for b in batches for x in b.bad],
                 max(tops) if tops else None, [k_ for b in batches for k_ in b.post_keys],
                 pa.concat_tables(rows) if rows else None)


def _needles(node: Any) -> list[list[str]] | None:
    """Groups of lower-cased substrings such that a post matching `node` holds every substring of at
    least one group in lower(text) (the literals query.py guards its regexes with); None when a match
    need not show in the text (hashtag and mention entities, from:, lang:, NOT, a bare wildcard)."""
    if isinstance(node, (Q.Word, Q.Phrase)):
        lits = Q._literals(node)
        return [lits] if lits else None
    if isinstance(node, Q.Near):
        lits = Q._literals(node.left) + Q._literals(node.right)
        return [lits] if lits else None
    if isinstance(node, Q.And):   # every child matches: the needles of any one of them will do
        return next((g for g in map(_needles, node.children) if g is not None), None)
    if isinstance(node, Q.Or):
        groups = [_needles(c) for c in node.children]
        return None if any(g is None for g in groups) else [x for g in groups for x in g]
    return None


def _prefilter(query: str) -> str | None:
    """SQL over `p`: true for the posts that may match `query` (substring tests, no regex), or None."""
    groups = _needles(Q.parse(query))
    if not groups:
        return None
    text = "lower(coalesce(p.text, ''))"
    return "(" + " OR ".join("(" + " AND ".join(f"contains({text}, {Q.sql_literal(x)})" for x in g) + ")"
                             for g in groups) + ")"


def _new_posts(b: Batch, new: set[str]) -> tuple[pa.Table, list[tuple[Any, ...]]]:
    """The batch's posts in `new` (first occurrence, with a time) as a table of _POST_COLS, and their
    entities as (post_key, etype, value, target_account_key)."""
    ents: list[tuple[Any, ...]] = []
    seen: set[str] = set()
    if b.rows is not None:
        jp = b.rows.filter(pc.equal(b.rows.column("rt"), "post")).column("jp").combine_chunks()
        idx = []
        for j, (k_, c) in enumerate(zip(jp.field("post_key").to_pylist(), jp.field("created_at").to_pylist(),
                                        strict=True)):
            if k_ in new and k_ not in seen and c:
                seen.add(k_)
                idx.append(j)
        take = pa.array(idx, pa.int64())
        tbl = pa.table({c: jp.field(c).take(take).cast(pa.string()) for c in _POST_COLS})
        for k_, e in zip(tbl.column("post_key").to_pylist(), jp.field("entities").take(take).to_pylist(), strict=True):
            for x in (json.loads(e) if isinstance(e, str) else e) or []:
                ents.append((k_, x.get("etype"), x.get("value"), x.get("target_account_key")))
        return tbl, ents
    posts = []
    for r in b.records:
        k_ = r.get("post_key") if r.get("record_type") == "post" else None
        if k_ in new and k_ not in seen and r.get("created_at"):
            seen.add(k_)
            posts.append(r)
            for e in r.get("entities") or []:
                ents.append((k_, e.get("etype"), e.get("value"), e.get("target_account_key")))
    return pa.table({c: pa.array([p.get(c) for p in posts], pa.string()) for c in _POST_COLS}), ents


def mastodon_event(ev: Any) -> tuple[list[dict[str, Any]], list[tuple[str, str | None]]]:
    """Records and deletes of one Mastodon streaming event {"event", "payload"} (payload: JSON text of a
    Status for update / status.update, the status id for delete; other events are ignored)."""
    if not isinstance(ev, dict) or not isinstance(ev.get("event"), str):
        raise B.BadItem("not a Mastodon streaming event (no event name)")
    name, payload = ev["event"], ev.get("payload")
    if name in ("update", "status.update"):
        if isinstance(payload, str):
            try:
                payload = json.loads(payload)
            except ValueError as exc:
                raise B.BadItem(f"{name} payload is not JSON ({str(exc)[:80]})") from None
        return mastodon_status_records(payload), []
    if name == "delete":
        if not isinstance(payload, (str, int)):
            raise B.BadItem("delete without a status id")
        return [], [(str(payload), None)]
    return [], []


# ------------------------------------------------------------------------------------------ sources
def jetstream_url(url: str, collections: list[str], dids: list[str], cursor: int | None) -> str:
    """The subscribe URL with wantedCollections / wantedDids (repeated keys) and cursor."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("ws", "wss"):
        raise ListenError(f"--url {url!r}: expected a ws:// or wss:// URL")
    q = urllib.parse.parse_qsl(parts.query)
    q = [(k, v) for k, v in q if k != "cursor"]
    q += [("wantedCollections", c) for c in collections] + [("wantedDids", d) for d in dids]
    if cursor is not None:
        q.append(("cursor", str(cursor)))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(q)))


def stream_id(kind: str, url: str, collections: list[str], dids: list[str]) -> str:
    base = url.split("?", 1)[0]
    extra = ",".join(sorted(collections)) + ("|" + ",".join(sorted(dids)) if dids else "")
    return f"{kind}:{base}" + (f"?{extra}" if extra else "")


def backoff_delays(start: float = BACKOFF_START, cap: float = BACKOFF_MAX,
                   rng: random.Random | None = None) -> Iterator[float]:
    """Exponential backoff with full jitter: uniform(0, min(cap, start·2^n)), n = 0, 1, …"""
    r = rng or random.Random()
    n = 0
    while True:
        yield r.uniform(0, min(cap, start * (2 ** n)))
        n += 1


def _server(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url


def _before_retry(pipeline: Pipeline, url: str, failures: int, max_retries: int | None, delay: float) -> None:
    """After a connection attempt ended: give up (ListenConnectError) when ``failures`` attempts in a row
    received nothing and that is more than ``max_retries``; else tell ``on_reconnect`` why and when."""
    why = pipeline.stats.last_error or "the server closed the connection"
    if max_retries and failures > max_retries:
        raise ListenConnectError(f"{_server(url)}: no stream after {failures} connection attempts in a row "
                                 f"({why}); giving up (see --max-retries)")
    if pipeline.on_reconnect is not None:
        count = f" (retry {failures} of {max_retries})" if max_retries and failures else ""
        pipeline.on_reconnect(f"{_server(url)}: {why}; reconnecting in {delay:.1f} s{count}")


async def _jetstream_reader(url: str, collections: list[str], dids: list[str], pipeline: Pipeline,
                            queue: asyncio.Queue, stop: asyncio.Event, lookback_us: int,
                            backoff: tuple[float, float], max_retries: int | None = None) -> None:
    import websockets

    delays = backoff_delays(*backoff)
    failures = 0    # attempts in a row that received nothing
    last_tus: int | None = None
    # the resume point is read from the last frames received when the connection ends (not from every
    # frame: the reader is the pipeline's busiest thread at high rates); Jetstream's order is only rough,
    # so it is the largest time_us of the last RECENT frames, and the lookback covers the rest
    recent: deque[str] = deque(maxlen=RECENT)
    while not stop.is_set():
        for tus in filter(None, map(_peek_time_us, recent)):
            if last_tus is None or tus > last_tus:
                last_tus = tus
        recent.clear()
        base = last_tus if last_tus is not None else pipeline.cursor
        cursor = max(0, base - lookback_us) if base is not None else None
        target = jetstream_url(url, collections, dids, cursor)
        fresh = True
        try:
            async with websockets.connect(target, max_size=MAX_FRAME, open_timeout=10, ping_interval=20,
                                          ping_timeout=20, close_timeout=2) as ws:
                pipeline.connected = True
                async for msg in ws:
                    text = msg if isinstance(msg, str) else msg.decode("utf-8", "replace")
                    pipeline.stats.received += 1
                    try:   # (no coroutine per frame unless the queue is full: backpressure)
                        queue.put_nowait((text, time.time()))
                    except asyncio.QueueFull:
                        await queue.put((text, time.time()))
                    recent.append(text)
                    if fresh:   # a frame arrived: the next outage backs off from the start again
                        delays, fresh = backoff_delays(*backoff), False
                    if stop.is_set():
                        return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any network failure: back off and reconnect
            pipeline.stats.last_error = f"{type(exc).__name__}: {str(exc)[:200]}"
            log.info("jetstream connection lost: %s", pipeline.stats.last_error)
        if stop.is_set():
            return
        failures = failures + 1 if fresh else 0
        delay = next(delays)
        _before_retry(pipeline, url, failures, max_retries, delay)
        pipeline.stats.reconnects += 1
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)


_TIME_US = re.compile(r'"time_us":\s*(-?\d+)')


def _peek_time_us(text: str) -> int | None:
    """The frame's time_us without parsing it (the reader's resume point on a reconnect)."""
    m = _TIME_US.search(text)
    return int(m.group(1)) if m else None


async def _sse_reader(url: str, token: str | None, pipeline: Pipeline, queue: asyncio.Queue,
                      stop: asyncio.Event, backoff: tuple[float, float], max_retries: int | None = None) -> None:
    """Mastodon SSE: `event:` / `data:` lines, blank line ends an event, `:` lines are heartbeats."""
    import httpx

    delays = backoff_delays(*backoff)
    failures = 0    # attempts in a row that received nothing
    headers = {"Accept": "text/event-stream", "User-Agent": "socialleads"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    while not stop.is_set():
        got = False
        try:
            async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=90.0)) as client, \
                    client.stream("GET", url, headers=headers) as resp:
                if resp.status_code in (401, 403):
                    pipeline.stats.last_error = f"HTTP {resp.status_code}: the stream needs a user token (--token)"
                elif resp.status_code != 200:
                    pipeline.stats.last_error = f"HTTP {resp.status_code}"
                else:
                    pipeline.connected = True
                    event, data = None, []
                    async for line in resp.aiter_lines():
                        if line.startswith(":"):
                            continue
                        if not line:
                            if event is not None or data:
                                text = json.dumps({"event": event or "message", "payload": "\n".join(data)})
                                pipeline.stats.received += 1
                                await queue.put((text, time.time()))
                                delays, got = backoff_delays(*backoff), True
                            event, data = None, []
                            if stop.is_set():
                                return
                            continue
                        field_, _, value = line.partition(":")
                        value = value[1:] if value.startswith(" ") else value
                        if field_ == "event":
                            event = value
                        elif field_ == "data":
                            data.append(value)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001
            pipeline.stats.last_error = f"{type(exc).__name__}: {str(exc)[:200]}"
        if stop.is_set():
            return
        failures = 0 if got else failures + 1
        delay = next(delays)
        _before_retry(pipeline, url, failures, max_retries, delay)
        pipeline.stats.reconnects += 1
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)


def mastodon_stream_url(base: str, hashtag: str | None = None, user: bool = False, local: bool = False) -> str:
    """The SSE URL of a hashtag stream (`/api/v1/streaming/hashtag[/local]?tag=`) or the user stream."""
    parts = urllib.parse.urlsplit(base if "://" in base else f"https://{base}")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ListenError(f"--mastodon {base!r}: expected a server like https://mastodon.social")
    root = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}/api/v1/streaming"
    if user:
        return root + "/user"
    if not hashtag:
        raise ListenError("a Mastodon stream needs --hashtag TAG or --user")
    return f"{root}/hashtag{'/local' if local else ''}?" + urllib.parse.urlencode({"tag": hashtag.lstrip("#")})


# ------------------------------------------------------------------------------------------- runner
@dataclass
class ListenConfig:
    url: str = JETSTREAM_URL
    collections: list[str] = field(default_factory=list)
    dids: list[str] = field(default_factory=list)
    mastodon: str | None = None
    hashtag: str | None = None
    user: bool = False
    local: bool = False
    token: str | None = None
    max_events: int | None = None
    duration: float | None = None
    batch: int = BATCH
    batch_ms: int = BATCH_MS
    lookback_us: int = LOOKBACK_US
    sinks: list[str] = field(default_factory=list)
    detect: bool = True
    k: float = 2.0
    alpha: float = 0.01
    cooldown: int = 6
    min_count: int = 0
    backoff: tuple[float, float] = (BACKOFF_START, BACKOFF_MAX)
    max_retries: int | None = MAX_RETRIES   # failed attempts in a row before giving up (None or 0: never)
    stats_every: float = 1.0
    sql_map: bool = False       # map Jetstream frames in SQL (LiveFrames) instead of the Python mapper


def listen(store: Store, cfg: ListenConfig, *, on_stats: Callable[[dict[str, Any]], None] | None = None,
           console: Any = None, on_reconnect: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Follow the configured stream until ``max_events`` are committed, ``duration`` seconds pass, or
    Ctrl-C; returns the final stats. ``on_stats`` gets the stats about every ``stats_every`` seconds,
    ``on_reconnect`` a line for each reconnection (the server and why).

    Raises ListenConnectError (exit 4) after ``max_retries`` failed connection attempts in a row, or when
    ``duration`` ends without a connection ever opened; what was received before is stored."""
    if cfg.batch < 1 or cfg.batch_ms < 1:
        raise ListenError("--batch and --batch-ms must be >= 1")
    if cfg.mastodon:
        url = mastodon_stream_url(cfg.mastodon, cfg.hashtag, cfg.user, cfg.local)
        stream, platform = f"mastodon:{url}", MASTODON
    else:
        jetstream_url(cfg.url, cfg.collections, cfg.dids, None)   # validates
        url = cfg.url
        stream, platform = stream_id("jetstream", cfg.url, cfg.collections, cfg.dids), B.PLATFORM
    pipe = Pipeline(store, stream, platform, sinks=cfg.sinks, detect=cfg.detect, k=cfg.k, alpha=cfg.alpha,
                    cooldown=cfg.cooldown, min_count=cfg.min_count, console=console, sql_map=cfg.sql_map)
    pipe.on_reconnect = on_reconnect
    interrupted = False
    try:
        pipe.start_delivery()
        asyncio.run(_run(pipe, cfg, url, on_stats))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        pipe.close()
    if not interrupted and not pipe.connected and not pipe.stats.received:
        took = f" in {cfg.duration:g} s" if cfg.duration else ""
        raise ListenConnectError(f"{_server(url)}: never connected{took} ({pipe.stats.last_error or 'no answer'})")
    return {**pipe.stats.to_json(), "timings_s": {k: round(v, 3) for k, v in pipe.timings.items()}}


def _committer(pipe: Pipeline, q: queue.Queue, errors: list[BaseException]) -> None:
    """The storage thread: commits prepared batches in order; a backlog (storage slower than arrival)
    is merged into one transaction of up to COMMIT_MAX events, so the per-transaction cost is paid once."""
    done = False
    while not done:
        b = q.get()
        if b is None:
            return
        group, n = [b], b.frames
        while n < COMMIT_MAX:
            try:
                nb = q.get_nowait()
            except queue.Empty:
                break
            if nb is None:
                done = True
                break
            group.append(nb)
            n += nb.frames
        if errors:
            continue   # after a failure: drain (nothing more is stored), so the producer never blocks
        try:
            pipe.commit(merge_batches(group))
        except BaseException as exc:  # noqa: BLE001 - reported by the runner
            errors.append(exc)


async def _run(pipe: Pipeline, cfg: ListenConfig, url: str, on_stats: Callable[[dict[str, Any]], None] | None) -> None:
    frames_q: asyncio.Queue = asyncio.Queue(maxsize=max(10_000, cfg.batch * 20))
    stop = asyncio.Event()
    if cfg.mastodon:
        reader = asyncio.create_task(_sse_reader(url, cfg.token, pipe, frames_q, stop, cfg.backoff,
                                                 cfg.max_retries))
    else:
        reader = asyncio.create_task(_jetstream_reader(url, cfg.collections, cfg.dids, pipe, frames_q, stop,
                                                       cfg.lookback_us, cfg.backoff, cfg.max_retries))
    store_q: queue.Queue = queue.Queue(maxsize=STORE_BACKLOG)
    errors: list[BaseException] = []
    committer = threading.Thread(target=_committer, args=(pipe, store_q, errors), name="leads-listen-commit",
                                 daemon=True)
    committer.start()
    deadline = time.monotonic() + cfg.duration if cfg.duration else None
    last_stats = time.monotonic()
    last_committed, last_t = 0, time.monotonic()
    taken = 0          # frames taken from the reader (handed to the detector and the committer)
    try:
        while not errors:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                break
            if cfg.max_events is not None and taken >= cfg.max_events:
                break
            if reader.done() and frames_q.empty():
                break
            batch: list[tuple[str, float]] = []
            want = cfg.batch if cfg.max_events is None else min(cfg.batch, cfg.max_events - taken)
            end = now + cfg.batch_ms / 1000
            if deadline is not None:
                end = min(end, deadline)
            while len(batch) < want:
                left = end - time.monotonic()
                if left <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(frames_q.get(), left))
                except TimeoutError:
                    break
                while len(batch) < want and not frames_q.empty():
                    batch.append(frames_q.get_nowait())
            if batch:
                prepared = await asyncio.to_thread(pipe.prepare, batch, taken)
                taken += len(batch)
                await asyncio.to_thread(store_q.put, prepared)   # blocks only when the backlog is full
            now = time.monotonic()
            if now - last_stats >= cfg.stats_every:
                pipe.stats.events_per_s = (pipe.stats.committed - last_committed) / (now - last_t)
                last_committed, last_t, last_stats = pipe.stats.committed, now, now
                if on_stats:
                    on_stats(pipe.stats.to_json())
    finally:
        stop.set()
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reader
        await asyncio.to_thread(store_q.put, None)
        await asyncio.to_thread(committer.join)
    if errors:
        raise errors[0]
    gave_up = reader.exception() if reader.done() and not reader.cancelled() else None
    if isinstance(gave_up, ListenError):   # the reader could not connect: what came is stored
        raise gave_up
    if on_stats:
        on_stats(pipe.stats.to_json())


__all__ = ["JETSTREAM_URL", "ListenConfig", "ListenConnectError", "ListenError", "Batch", "Pipeline", "Stats", "backoff_delays", "jetstream_records",
           "jetstream_url", "listen", "mastodon_event", "mastodon_status_records", "mastodon_stream_url", "stream_id"]
