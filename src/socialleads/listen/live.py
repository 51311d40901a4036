"""Live listening: Bluesky Jetstream v1 (websocket) and Mastodon streaming (SSE) into the store, with the
monitors and the spike detector run on what arrives (`leads listen`; CONNECTORS.md §1.5, §2.4).

Pipeline. A reader task receives frames and queues them with their receive time; a committer takes
them in small batches (``batch`` events or ``batch_ms`` milliseconds, whichever comes first) and, in a
worker thread, in **one DuckDB transaction**: converts them to generic records (Jetstream: the Bluesky
reader's mapper ``bsky_record``; Mastodon: the REST Status shape), stages and merges them with the
importer's record path (socialleads.sources.importer: the same staging, validation, idempotent merges,
derived interactions and stub accounts as `leads import`), applies deletes to what is stored, writes
malformed frames to ``quarantine`` (frame text and reason) and upserts the stream's cursor
(``listen_cursors``: the largest Jetstream ``time_us`` committed). So after a crash or ``kill -9`` the
store holds whole batches and the cursor that covers them, nothing more.

Resume. A restart subscribes with ``cursor = committed − lookback`` (1 s by default: Jetstream's order is
only roughly by time_us). The replayed events merge idempotently (same keys), and the monitors count
only posts that were not stored before, so nothing is counted twice. Mastodon streams have no cursor
(live only; CONNECTORS.md §2.4).

Reconnect: exponential backoff with full jitter (0.5 s doubling to 30 s), reset after a frame arrives.
After each batch the monitors' in-memory hourly series (alerts.LiveSeries, built once from the store)
get the batch's new matching posts, the spike detector runs on them, and new alerts are logged and
delivered from a separate thread (a slow webhook never stalls ingestion).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import random
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from socialleads.errors import LeadsError
from socialleads.listen import alerts as A
from socialleads.listen.monitors import list_monitors
from socialleads.listen.query import compile_query
from socialleads.sources import generic as G
from socialleads.sources import importer as I
from socialleads.sources.platforms import bluesky_files as B
from socialleads.sources.platforms.mastodon_archive import PLATFORM as MASTODON
from socialleads.sources.platforms.mastodon_archive import acct_key, html_to_text
from socialleads.store.db import Store, run_sql

log = logging.getLogger(__name__)

JETSTREAM_URL = "wss://jetstream2.us-east.bsky.network/subscribe"
BATCH = 20_000
BATCH_MS = 200
LOOKBACK_US = 1_000_000
BACKOFF_START, BACKOFF_MAX = 0.5, 30.0
MAX_FRAME = 4 << 20
COUNT_SPAN = dt.timedelta(days=30)     # posts older than this (by the stream's clock) are stored, not counted
FUTURE_SLACK = dt.timedelta(minutes=10)


class ListenError(LeadsError):
    """Bad options for `leads listen` (a bad URL, a missing token)."""


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
class Pipeline:
    """Commits batches of frames to the store (one transaction each) and runs the monitors on them.
    Used from one thread at a time; alert delivery runs on its own thread and connection."""

    def __init__(self, store: Store, stream: str, platform: str, *, sinks: list[str] | None = None,
                 detect: bool = True, k: float = 2.0, alpha: float = 0.01, cooldown: int = 6,
                 min_count: int = 0, console: Any = None, webhook_timeout: float = A.WEBHOOK_TIMEOUT) -> None:
        self.store, self.stream, self.platform = store, stream, platform
        self.sinks = [A.parse_sink(s) for s in (sinks or [])]
        self.detect, self.k, self.alpha, self.cooldown, self.min_count = detect, k, alpha, cooldown, min_count
        self.console, self.webhook_timeout = console, webhook_timeout
        self.stats = Stats(stream=stream)
        self._tmp = tempfile.TemporaryDirectory(prefix="leads-listen-")
        self.label = Path(self._tmp.name) / platform   # the importer wants a path: the stream's label
        self.label.write_text(stream + "\n", encoding="utf-8")
        self.summary = I._new_run(store, self.label, f"{platform}_live", f"{platform}_live", [])
        self.run = I._Run(store, self.summary)
        run_sql(store.con, "UPDATE ingest_runs SET params = ? WHERE run_id = ?",
                [json.dumps({"stream": stream, "tool": "leads listen"}), self.summary.run_id])
        rows = run_sql(store.con, "SELECT cursor FROM listen_cursors WHERE stream = ?", [stream])
        self.cursor: int | None = rows[0][0] if rows else None
        self.stats.cursor = self.cursor
        self.series = [A.LiveSeries.from_store(store, m["name"], m["query"]) for m in list_monitors(store)] \
            if detect else []
        self._where = {s.name: compile_query(s.query) for s in self.series}
        self.clock: dt.datetime | None = None          # the stream's clock: newest event time seen
        self.since: dt.datetime | None = None          # alerts must end after the session's first hour
        self._deliver_lock = threading.Lock()
        self._deliver_wake = threading.Event()
        self._deliver_stop = False
        self._deliverer: threading.Thread | None = None
        self.on_alert: Callable[[dict[str, Any]], None] | None = None

    # -- conversion of a batch
    def _convert(self, frames: list[tuple[str, float]]) -> tuple[list[dict[str, Any]], list[tuple[str, str | None]],
                                                                  list[tuple[str, str, str]], int | None]:
        recs: list[dict[str, Any]] = []
        deletes: list[tuple[str, str | None]] = []
        bad: list[tuple[str, str, str]] = []
        top: int | None = None
        n0 = self.stats.received - len(frames)
        for i, (text, _) in enumerate(frames):
            place = f"frame {n0 + i + 1}"
            try:
                ev = json.loads(text)
            except ValueError as exc:
                bad.append((place, f"not JSON ({str(exc)[:80]})", text))
                continue
            try:
                if self.platform == B.PLATFORM:
                    r, d, tus = jetstream_records(ev)
                    if tus is not None and (top is None or tus > top):
                        top = tus
                else:
                    r, d = mastodon_event(ev)
            except B.BadItem as exc:
                bad.append((place, str(exc), text))
                continue
            recs += r
            deletes += d
        return recs, deletes, bad, top

    def commit(self, frames: list[tuple[str, float]]) -> dict[str, Any]:
        """Store one batch of frames and its cursor in one transaction; then run the monitors."""
        recs, deletes, bad, top = self._convert(frames)
        con = self.store.con
        post_keys = list({r["post_key"] for r in recs if r.get("record_type") == "post"})
        con.execute("BEGIN TRANSACTION")
        try:
            old = {k for (k,) in run_sql(con, "SELECT post_key FROM posts WHERE post_key IN (SELECT unnest(?::VARCHAR[]))",
                                         [post_keys])} if post_keys else set()
            if recs:
                for src in G.record_sources(con, iter(recs)):
                    I._stage(self.run, src, str(self.label), None, f"{self.platform}_live")
                self.run.flush()
                self.run.finish()
            self._apply_deletes(deletes)
            for place, reason, text in bad:
                run_sql(con, "INSERT INTO quarantine (run_id, file, line, place, record_type, reason, raw) "
                             "VALUES (?, ?, NULL, ?, NULL, ?, ?)",
                        [self.summary.run_id, self.stream, place, reason, text[:G.RAW_LIMIT]])
            cursor = max(top, self.cursor) if top is not None and self.cursor is not None else (top or self.cursor)
            run_sql(con, "INSERT INTO listen_cursors (stream, cursor, events, updated_at) "
                         "VALUES (?, ?, ?, now()::TIMESTAMP) ON CONFLICT (stream) DO UPDATE SET "
                         "cursor = excluded.cursor, events = listen_cursors.events + excluded.events, "
                         "updated_at = excluded.updated_at", [self.stream, cursor, len(frames)])
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                con.execute("ROLLBACK")
            raise
        self.cursor = cursor
        s = self.stats
        s.committed += len(frames)
        s.batches += 1
        s.quarantined += len(bad)
        s.cursor = cursor
        now = time.time()
        if top is not None:
            s.lag_s = now - top / 1e6
        new = [k for k in post_keys if k not in old]
        s.posts_new += len(new)
        found = self._monitors(new, top) if self.series and new else []
        return {"events": len(frames), "records": len(recs), "quarantined": len(bad), "new_posts": len(new),
                "alerts": found}

    def _apply_deletes(self, deletes: list[tuple[str, str | None]]) -> None:
        if not deletes:
            return
        keys = [k for k, _ in deletes]
        if self.platform == B.PLATFORM:
            run_sql(self.store.con, "UPDATE posts SET is_deleted = TRUE WHERE post_key IN (SELECT unnest(?::VARCHAR[]))",
                    [keys])
            for key, when in deletes:  # one statement per delete: deletes are a small share of a stream
                run_sql(self.store.con, "UPDATE interactions SET ended_at = coalesce(ended_at, ?::TIMESTAMP) "
                                        "WHERE interaction_key = ?", [when.rstrip("Z") if when else None, key])
        else:
            run_sql(self.store.con, "UPDATE posts SET is_deleted = TRUE WHERE platform = ? "
                                    "AND source_ids->>'id' IN (SELECT unnest(?::VARCHAR[]))", [MASTODON, keys])

    # -- monitors and alerts
    def _monitors(self, new: list[str], top: int | None) -> list[dict[str, Any]]:
        from socialleads.listen.sentiment import score_texts

        con = self.store.con
        run_sql(con, "CREATE OR REPLACE TEMP TABLE live_new_posts AS SELECT * FROM posts "
                     "WHERE post_key IN (SELECT unnest(?::VARCHAR[])) AND created_at IS NOT NULL", [new])
        clock = dt.datetime.fromtimestamp(top / 1e6, dt.UTC).replace(tzinfo=None) if top else None
        if clock is None:
            clock = run_sql(con, "SELECT max(created_at) FROM live_new_posts")[0][0]
        if clock is not None:
            self.clock = max(self.clock, clock) if self.clock else clock
            if self.since is None:
                self.since = self.clock.replace(minute=0, second=0, microsecond=0)
        found: list[dict[str, Any]] = []
        for s in self.series:
            rows = run_sql(con, "SELECT p.created_at, p.text FROM live_new_posts p "
                                f"LEFT JOIN accounts a ON a.account_key = p.author_key WHERE ({self._where[s.name]}) "
                                "AND NOT coalesce(p.is_deleted, false)")
            if not rows:
                continue
            t = np.array([r[0] for r in rows], dtype="datetime64[us]")
            if self.clock is not None:
                ok = (t >= np.datetime64(self.clock - COUNT_SPAN, "us")) & (t <= np.datetime64(self.clock + FUTURE_SLACK, "us"))
                t = t[ok]
                texts = [r[1] or "" for r, keep in zip(rows, ok, strict=True) if keep]
            else:
                texts = [r[1] or "" for r in rows]
            if not len(t):
                continue
            labels, _ = score_texts(texts)
            neg = np.asarray(labels, dtype=object) == "negative"
            self.stats.matches += len(t)
            s.add(t, neg)
            # only the hours around now: the baseline scan is over the series, the alerts over recent hours
            found += A.raise_alerts(self.store, s.name, s.query, s.hours, s.counts, self.sinks, k=self.k,
                                    alpha=self.alpha, cooldown=self.cooldown, min_count=self.min_count,
                                    since=self.since)
        run_sql(con, "DROP TABLE IF EXISTS live_new_posts")
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
        try:
            s = self.summary
            run_sql(self.store.con, "UPDATE ingest_runs SET finished_at = now()::TIMESTAMP, counts = ?, rejects = ?, "
                                    "status = 'complete' WHERE run_id = ?",
                    [json.dumps({"accepted": s.accepted, "new": s.new, "events": self.stats.committed}),
                     self.stats.quarantined, s.run_id])
            run_sql(self.store.con, "CHECKPOINT")
        finally:
            self._tmp.cleanup()


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


async def _jetstream_reader(url: str, collections: list[str], dids: list[str], pipeline: Pipeline,
                            queue: asyncio.Queue, stop: asyncio.Event, lookback_us: int,
                            backoff: tuple[float, float]) -> None:
    import websockets

    delays = backoff_delays(*backoff)
    last_tus: int | None = None
    while not stop.is_set():
        base = last_tus if last_tus is not None else pipeline.cursor
        cursor = max(0, base - lookback_us) if base is not None else None
        target = jetstream_url(url, collections, dids, cursor)
        try:
            async with websockets.connect(target, max_size=MAX_FRAME, open_timeout=10, ping_interval=20,
                                          ping_timeout=20, close_timeout=2) as ws:
                async for msg in ws:
                    text = msg if isinstance(msg, str) else msg.decode("utf-8", "replace")
                    pipeline.stats.received += 1
                    await queue.put((text, time.time()))
                    delays = backoff_delays(*backoff)
                    tus = _peek_time_us(text)
                    if tus is not None and (last_tus is None or tus > last_tus):
                        last_tus = tus
                    if stop.is_set():
                        return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any network failure: back off and reconnect
            pipeline.stats.last_error = f"{type(exc).__name__}: {str(exc)[:200]}"
            log.info("jetstream connection lost: %s", pipeline.stats.last_error)
        if stop.is_set():
            return
        pipeline.stats.reconnects += 1
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), next(delays))


def _peek_time_us(text: str) -> int | None:
    i = text.find('"time_us":')
    if i < 0:
        return None
    j = i + 10
    k = j
    while k < len(text) and (text[k].isdigit() or text[k] in " -"):
        k += 1
    try:
        return int(text[j:k])
    except ValueError:
        return None


async def _sse_reader(url: str, token: str | None, pipeline: Pipeline, queue: asyncio.Queue,
                      stop: asyncio.Event, backoff: tuple[float, float]) -> None:
    """Mastodon SSE: `event:` / `data:` lines, blank line ends an event, `:` lines are heartbeats."""
    import httpx

    delays = backoff_delays(*backoff)
    headers = {"Accept": "text/event-stream", "User-Agent": "socialleads"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    while not stop.is_set():
        try:
            async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=90.0)) as client, \
                    client.stream("GET", url, headers=headers) as resp:
                if resp.status_code in (401, 403):
                    pipeline.stats.last_error = f"HTTP {resp.status_code}: the stream needs a user token (--token)"
                elif resp.status_code != 200:
                    pipeline.stats.last_error = f"HTTP {resp.status_code}"
                else:
                    event, data = None, []
                    async for line in resp.aiter_lines():
                        if line.startswith(":"):
                            continue
                        if not line:
                            if event is not None or data:
                                text = json.dumps({"event": event or "message", "payload": "\n".join(data)})
                                pipeline.stats.received += 1
                                await queue.put((text, time.time()))
                                delays = backoff_delays(*backoff)
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
        pipeline.stats.reconnects += 1
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), next(delays))


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
    stats_every: float = 1.0


def listen(store: Store, cfg: ListenConfig, *, on_stats: Callable[[dict[str, Any]], None] | None = None,
           console: Any = None) -> dict[str, Any]:
    """Follow the configured stream until ``max_events`` are committed, ``duration`` seconds pass, or
    Ctrl-C; returns the final stats. ``on_stats`` gets the stats about every ``stats_every`` seconds."""
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
                    cooldown=cfg.cooldown, min_count=cfg.min_count, console=console)
    try:
        pipe.start_delivery()
        asyncio.run(_run(pipe, cfg, url, on_stats))
    except KeyboardInterrupt:
        pass
    finally:
        pipe.close()
    return pipe.stats.to_json()


async def _run(pipe: Pipeline, cfg: ListenConfig, url: str, on_stats: Callable[[dict[str, Any]], None] | None) -> None:
    queue: asyncio.Queue = asyncio.Queue(maxsize=max(10_000, cfg.batch * 20))
    stop = asyncio.Event()
    if cfg.mastodon:
        reader = asyncio.create_task(_sse_reader(url, cfg.token, pipe, queue, stop, cfg.backoff))
    else:
        reader = asyncio.create_task(_jetstream_reader(url, cfg.collections, cfg.dids, pipe, queue, stop,
                                                       cfg.lookback_us, cfg.backoff))
    deadline = time.monotonic() + cfg.duration if cfg.duration else None
    last_stats = time.monotonic()
    last_committed, last_t = 0, time.monotonic()
    try:
        while True:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                break
            if cfg.max_events is not None and pipe.stats.committed >= cfg.max_events:
                break
            if reader.done() and queue.empty():
                break
            batch: list[tuple[str, float]] = []
            want = cfg.batch if cfg.max_events is None else min(cfg.batch, cfg.max_events - pipe.stats.committed)
            end = now + cfg.batch_ms / 1000
            if deadline is not None:
                end = min(end, deadline)
            while len(batch) < want:
                left = end - time.monotonic()
                if left <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(queue.get(), left))
                except TimeoutError:
                    break
                while len(batch) < want and not queue.empty():
                    batch.append(queue.get_nowait())
            if batch:
                await asyncio.to_thread(pipe.commit, batch)
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
    if on_stats:
        on_stats(pipe.stats.to_json())


__all__ = ["JETSTREAM_URL", "ListenConfig", "ListenError", "Pipeline", "Stats", "backoff_delays", "jetstream_records",
           "jetstream_url", "listen", "mastodon_event", "mastodon_status_records", "mastodon_stream_url", "stream_id"]
