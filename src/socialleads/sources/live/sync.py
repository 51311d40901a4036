"""Where each live client stands, and how a page is stored (migration 006, table `sync_state`).

A pull is one `ingest_runs` row (source `bsky_api` / `masto_api` / `reddit_api`). Each page is stored
through the importer's validation, quarantine and idempotent merges (sources/importer.py), and the
page's records (appended through the importer's public `RecordSink`, which never commits or
checkpoints) and the endpoint's new `sync_state` row are committed in **one transaction**: a crash
loses at most the page in flight, and the next run resumes from the stored cursor.

`walk` is the one pagination loop every client uses. Lists come newest first; a complete walk leaves
`high_water` = the newest item seen, and the next run stops as soon as it reaches it, so a second run
fetches only what is new (plus at most the one page that holds the boundary). Two kinds of marker:

* ordered (a time or an id that sorts): the walk stops at the first item whose marker is <= high water;
* unordered (lists without time, e.g. followers): high water is the newest 20 keys; the walk stops at
  the first item among them.

A walk never trusts the server to end it: a next-page cursor that was already used in this walk (a
server repeating its cursor would make every client loop forever on the same page) stops it with a
`BadAnswer`, earlier pages kept; `max_items` caps a listing (Reddit serves at most 1000 items a listing).

An `ingest_runs` row of a pull stays 'running' if its process was killed. The workspace is opened by one
writing process at a time (DuckDB's file lock), so when a pull starts, any other 'running' row of the same
source that is not a pull in progress in this process belongs to a process that is gone: it is marked
'interrupted' (with its finished_at).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from socialleads.sources import generic as G
from socialleads.sources import importer as I
from socialleads.sources.formats import Record
from socialleads.sources.live.http import BadAnswer
from socialleads.store import Store
from socialleads.store.db import run_sql

UNORDERED_KEEP = 20
_ACTIVE_RUNS: set[str] = set()      # run ids of the pulls in progress in this process


@dataclass
class EndpointState:
    cursor: str | None = None
    high_water: str | None = None
    pending_high_water: str | None = None
    stop_at: str | None = None
    items: int = 0
    pages: int = 0


@dataclass
class EndpointResult:
    endpoint: str
    pages: int = 0
    items: int = 0            # items fetched and stored in this run (after the high-water cut)
    complete: bool = False
    resumed: bool = False


@dataclass
class Page:
    items: list[Any]
    cursor: str | None        # where the next (older) page starts; None: this is the last page
    doc: Any = None           # the raw response, for mappers that need its envelope


@dataclass
class PullSummary:
    source: str
    account: str
    run_id: str
    endpoints: list[EndpointResult] = field(default_factory=list)
    accepted: dict[str, int] = field(default_factory=dict)
    new: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    requests: int = 0
    retries: int = 0
    waited: float = 0.0
    error: str | None = None
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return self.error is None and all(e.complete for e in self.endpoints) and self.quarantined == 0

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "account": self.account, "run_id": self.run_id,
                "endpoints": [vars(e) for e in self.endpoints], "accepted": dict(self.accepted),
                "new": dict(self.new), "quarantined": self.quarantined, "requests": self.requests,
                "retries": self.retries, "waited_seconds": round(self.waited, 3), "error": self.error,
                "complete": self.complete, "seconds": round(self.seconds, 3)}


class PullSession:
    """One pull of one account: an ingest run, pages committed with their sync state."""

    def __init__(self, store: Store, source: str, connector: str, account: str, params: dict[str, Any],
                 policy: Any = None, counted_from: tuple[int, int, float] = (0, 0, 0.0)) -> None:
        self.store, self.con = store, store.con
        self.source, self.connector, self.account = source, connector, account
        self.policy, self.counted_from = policy, counted_from
        self.t0 = time.perf_counter()
        self.label = f"pull:{source}/{account}"
        self.before = self._cursors()
        self.sink = I.RecordSink(store, self.label, connector,
                                 params={"pull": source, "account": account, **params})
        run_sql(self.con, "UPDATE ingest_runs SET cursor_before = ? WHERE run_id = ?",
                [json.dumps(self.before), self.sink.run_id])
        self.summary = PullSummary(source, account, self.sink.run_id)
        _ACTIVE_RUNS.add(self.sink.run_id)
        self.finished = False
        self._mark_interrupted()

    def _mark_interrupted(self) -> None:
        """Close the 'running' rows this source's killed pulls left (see the module doc)."""
        rows = self.con.execute("SELECT run_id FROM ingest_runs WHERE source = ? AND status = 'running' "
                                "AND run_id <> ?", [self.connector, self.summary.run_id]).fetchall()
        stale = [r for (r,) in rows if r not in _ACTIVE_RUNS]
        for run_id in stale:
            run_sql(self.con, "UPDATE ingest_runs SET status = 'interrupted', finished_at = now()::TIMESTAMP, "
                              "counts = coalesce(counts, ?) WHERE run_id = ? AND status = 'running'",
                    [json.dumps({"error": "interrupted: the process stopped before the pull finished"}), run_id])

    def release(self) -> None:
        """The pull's process is done with this run (finished, or stopped by an exception such as Ctrl-C):
        a later pull may mark it interrupted if it is still 'running'."""
        _ACTIVE_RUNS.discard(self.summary.run_id)

    def _cursors(self) -> dict[str, Any]:
        rows = self.con.execute("SELECT endpoint, cursor, high_water FROM sync_state WHERE source = ? AND account = ?",
                                [self.source, self.account]).fetchall()
        return {e: {"cursor": c, "high_water": h} for e, c, h in rows}

    def state(self, endpoint: str) -> EndpointState:
        rows = self.con.execute(
            "SELECT cursor, high_water, pending_high_water, stop_at, items, pages FROM sync_state "
            "WHERE source = ? AND account = ? AND endpoint = ?", [self.source, self.account, endpoint]).fetchall()
        if not rows:
            return EndpointState()
        c, h, p, s, n, pg = rows[0]
        return EndpointState(c, h, p, s, int(n or 0), int(pg or 0))

    def reject(self, place: str, reason: str, raw: str | None) -> None:
        run_sql(self.con, "INSERT INTO quarantine (run_id, file, line, place, record_type, reason, raw) "
                          "VALUES (?, ?, NULL, ?, NULL, ?, ?)",
                [self.summary.run_id, self.label, place, reason, (raw or "")[:G.RAW_LIMIT]])
        self.sink.summary.quarantined += 1

    def commit_page(self, endpoint: str, records: Iterable[Record], st: EndpointState, n_items: int,
                    rejects: list[tuple[str, str, str | None]] = ()) -> None:
        """Store a page's records and the endpoint's state `st` in one transaction."""
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            for place, reason, raw in rejects:
                self.reject(place, reason, raw)
            records = list(records)
            if records:            # an empty page only moves the cursor
                self.sink.append(records)
            run_sql(con, """INSERT OR REPLACE INTO sync_state (source, account, endpoint, cursor, high_water,
                              pending_high_water, stop_at, items, pages, run_id, updated_at)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP)""",
                    [self.source, self.account, endpoint, st.cursor, st.high_water, st.pending_high_water,
                     st.stop_at, st.items + n_items, st.pages + 1, self.summary.run_id])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            M_recreate(con)
            raise

    def finish(self, error: str | None = None) -> PullSummary:
        s = self.summary
        r = self.sink.summary
        s.accepted, s.new, s.quarantined = dict(r.accepted), dict(r.new), r.quarantined
        s.error = error
        s.seconds = time.perf_counter() - self.t0
        if self.policy is not None:             # the policy counted every request of the pull, retries, waits
            n, retries, waited = self.policy.counters()
            n0, r0, w0 = self.counted_from
            s.requests, s.retries, s.waited = n - n0, retries - r0, waited - w0
        status = "failed" if error else ("complete" if s.complete else "partial")
        self.sink.close({"endpoints": [vars(e) for e in s.endpoints], "error": error, "requests": s.requests,
                         "retries": s.retries, "waited_seconds": round(s.waited, 3)}, status=status)
        run_sql(self.con, "UPDATE ingest_runs SET cursor_after = ? WHERE run_id = ?",
                [json.dumps(self._cursors()), s.run_id])
        run_sql(self.con, "CHECKPOINT")
        self.finished = True
        self.release()
        return s


def M_recreate(con: Any) -> None:
    """After a rollback the temp staging tables may be gone: make them again (empty)."""
    from socialleads.store import merge as M

    M.create_staging(con)


def _reached(marker: str | None, stop_at: str | None, ordered: bool, stop_set: set[str]) -> bool:
    if marker is None or stop_at is None:
        return False
    return marker <= stop_at if ordered else marker in stop_set


def walk(session: PullSession, endpoint: str, fetch: Callable[[str | None, str | None], Page],
         to_records: Callable[[Page, list[Any]], tuple[list[Record], list[tuple[str, str, str | None]]]],
         marker: Callable[[Any], str | None], *, ordered: bool = True,
         max_pages: int | None = None, max_items: int | None = None, where: str | None = None) -> EndpointResult:
    """Page through one endpoint from its stored position (see the module doc). `fetch(cursor, stop_at)`
    returns one page (cursor None = the newest page); `to_records(page, kept_items)` maps the kept
    items to records (and rejects). Exceptions from `fetch` propagate after earlier pages are stored.
    A next cursor already used in this walk raises BadAnswer (naming `where`, the server and path);
    `max_items` ends the walk (as complete) once that many items were fetched in this run."""
    st = session.state(endpoint)
    res = EndpointResult(endpoint)
    session.summary.endpoints.append(res)
    if st.cursor:                                   # an unfinished walk: resume where it stopped
        cursor, stop_at, pending = st.cursor, st.stop_at, st.pending_high_water
        res.resumed = True
    else:
        cursor, stop_at, pending = None, st.high_water, None
    stop_set = set(json.loads(stop_at)) if (stop_at and not ordered) else set()
    used: set[str] = {cursor} if cursor else set()
    fetched = 0
    while True:
        page = fetch(cursor, None if not ordered else stop_at)
        fetched += len(page.items)
        keep: list[Any] = []
        reached = False
        for it in page.items:
            if _reached(marker(it), stop_at, ordered, stop_set):
                reached = True
                break
            keep.append(it)
        if pending is None and keep:
            if ordered:
                pending = max((m for m in map(marker, keep) if m is not None), default=None)
            else:
                pending = json.dumps([m for m in map(marker, keep[:UNORDERED_KEEP]) if m is not None])
        res.pages += 1
        done = reached or not page.cursor or not page.items or (max_items is not None and fetched >= max_items)
        if not done and page.cursor in used:
            shown = page.cursor if len(page.cursor) <= 40 else page.cursor[:39] + "…"
            raise BadAnswer(f"{where or endpoint}: the server sent the same page cursor again ({shown!r}, page "
                            f"{res.pages} of this run)")
        records, rejects = to_records(page, keep)
        if done:
            new = EndpointState(None, pending if pending is not None else st.high_water, None, None, st.items, st.pages)
            if not ordered and pending is not None and st.high_water and not res.resumed:
                # keep older known keys too, so that one unfollow does not make the next run walk everything
                merged = json.loads(pending) + [k for k in json.loads(st.high_water) if k not in json.loads(pending)]
                new.high_water = json.dumps(merged[:UNORDERED_KEEP])
        else:
            new = EndpointState(page.cursor, st.high_water, pending, stop_at, st.items, st.pages)
        session.commit_page(endpoint, records, new, len(keep), rejects)
        st = EndpointState(new.cursor, new.high_water, new.pending_high_water, new.stop_at,
                           st.items + len(keep), st.pages + 1)
        res.items += len(keep)
        if done:
            res.complete = True
            return res
        if max_pages is not None and res.pages >= max_pages:
            return res                              # stopped on purpose; the cursor is stored
        cursor = page.cursor
        used.add(cursor)


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
