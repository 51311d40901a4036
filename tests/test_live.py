"""Live listening against local servers on 127.0.0.1 that replay the real Jetstream capture
(../shared/fixtures/bluesky/jetstream_corpus/expected_v1.jsonl) and hand-made Mastodon SSE events.

Expected counts come from an independent read of the capture in this file (plain json over the lines),
cross-checked with CONNECTORS.md §1.5's documented counts: 105 like, 17 post, 15 repost and 6 follow creates.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from socialleads.listen import live as L
from socialleads.listen.monitors import add_monitor
from socialleads.store import open_store
from socialleads.store.db import run_sql

SHARED = Path(__file__).parents[1] / ".." / "shared"
CAPTURE = SHARED / "fixtures" / "bluesky" / "jetstream_corpus" / "expected_v1.jsonl"
LINES = [ln for ln in CAPTURE.read_text(encoding="utf-8").splitlines() if ln.strip()] if CAPTURE.exists() else []

pytestmark = pytest.mark.skipif(not LINES, reason="the shared Jetstream capture is missing")


def expected_counts() -> dict[str, int]:
    """Independent read: creates per collection in the capture."""
    c = Counter()
    for ln in LINES:
        ev = json.loads(ln)
        if ev.get("kind") == "commit" and ev["commit"]["operation"] == "create":
            c[ev["commit"]["collection"]] += 1
    return {"like": c["app.bsky.feed.like"], "post": c["app.bsky.feed.post"],
            "repost": c["app.bsky.feed.repost"], "follow": c["app.bsky.graph.follow"]}


def stored_counts(con) -> dict[str, int]:
    q = lambda sql: int(run_sql(con, sql)[0][0])  # noqa: E731
    return {"like": q("SELECT count(*) FROM interactions WHERE type = 'like'"),
            "post": q("SELECT count(*) FROM posts WHERE kind <> 'repost'"),
            "repost": q("SELECT count(*) FROM posts WHERE kind = 'repost'"),
            "follow": q("SELECT count(*) FROM interactions WHERE type = 'follow'")}


class ReplayServer:
    """A Jetstream-like websocket server in a thread: serves `frames` (text) with time_us >= cursor,
    in order; `drop_after` closes the first connections after that many frames; `delay` between frames."""

    def __init__(self, frames: list[str], *, drop_after: list[int] | None = None, delay: float = 0.0,
                 loop_forever: bool = False) -> None:
        self.frames, self.drop_after, self.delay = frames, list(drop_after or []), delay
        self.loop_forever = loop_forever
        self.cursors: list[int | None] = []
        self.params: list[dict[str, list[str]]] = []
        self.port = 0
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    @staticmethod
    def _tus(frame: str) -> int | None:
        try:
            v = json.loads(frame).get("time_us")
            return v if isinstance(v, int) else None
        except (ValueError, AttributeError):
            return None

    async def _handler(self, ws) -> None:
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(ws.request.path).query)
        self.params.append(q)
        cursor = int(q["cursor"][0]) if "cursor" in q else None
        self.cursors.append(cursor)
        limit = self.drop_after.pop(0) if self.drop_after else None
        sent = 0
        for f in self.frames:
            t = self._tus(f)
            if cursor is not None and t is not None and t < cursor:
                continue
            if limit is not None and sent >= limit:
                return  # drop the connection mid-stream
            await ws.send(f)
            sent += 1
            if self.delay:
                await asyncio.sleep(self.delay)
        await asyncio.sleep(30 if self.loop_forever else 0.2)

    async def _main(self) -> None:
        from websockets.asyncio.server import serve

        self._stop = asyncio.Event()
        async with serve(self._handler, "127.0.0.1", 0) as server:
            self.port = server.sockets[0].getsockname()[1]
            self._loop = asyncio.get_running_loop()
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/subscribe"


def _cfg(url: str, **kw) -> L.ListenConfig:
    return L.ListenConfig(url=url, backoff=(0.01, 0.05), batch_ms=50, **kw)


def test_capture_counts_match_the_documented_ones():
    assert expected_counts() == {"like": 105, "post": 17, "repost": 15, "follow": 6}


@pytest.mark.parametrize("sql_map", [False, True])
def test_replay_with_drops_and_malformed_frames(store, monkeypatch, sql_map):
    monkeypatch.setattr(L, "SQL_MAP_MIN", 1)   # with sql_map: every batch mapped in SQL
    t = json.loads(LINES[40])["time_us"]
    bad = ["{not json", json.dumps({"kind": "commit", "time_us": t}), json.dumps({"did": "did:plc:x", "time_us": t,
                                                                                   "kind": "weird"})]
    frames = LINES[:40] + bad + LINES[40:]
    with ReplayServer(frames, drop_after=[25, 60]) as srv:
        stats = L.listen(store, _cfg(srv.url, max_events=len(frames) + 200, duration=30, sql_map=sql_map))
        assert srv.cursors[0] is None
        assert len(srv.cursors) >= 3 and all(c is not None for c in srv.cursors[1:])  # resumed with a cursor
    assert stored_counts(store.con) == expected_counts()
    q = run_sql(store.con, "SELECT reason, raw FROM quarantine ORDER BY reason")
    reasons = [r for r, _ in q]
    # each malformed frame is quarantined once per delivery (the drops make the server resend some)
    assert {r.split(" (")[0] for r in reasons} == {"not JSON", "not a Jetstream event", "unknown event kind 'weird'"}
    assert any(raw == "{not json" for _, raw in q)
    assert stats["reconnects"] >= 2
    top = max(json.loads(ln)["time_us"] for ln in LINES)
    assert run_sql(store.con, "SELECT cursor FROM listen_cursors")[0][0] == top


def test_cursor_param_and_wanted_filters_on_the_url():
    u = L.jetstream_url("ws://h/subscribe", ["app.bsky.feed.post", "app.bsky.graph.*"], ["did:plc:a"], 123)
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(u).query)
    assert q == {"wantedCollections": ["app.bsky.feed.post", "app.bsky.graph.*"], "wantedDids": ["did:plc:a"],
                 "cursor": ["123"]}
    with pytest.raises(L.ListenError):
        L.jetstream_url("http://h/subscribe", [], [], None)


def test_restart_resumes_from_committed_cursor(tmp_path):
    db = tmp_path / "s.duckdb"
    with ReplayServer(LINES) as srv:
        s = open_store(db)
        L.listen(s, _cfg(srv.url, max_events=50, batch=10, collections=["app.bsky.feed.like"]))
        cur = run_sql(s.con, "SELECT cursor FROM listen_cursors")[0][0]
        s.close()
        s = open_store(db)
        n = len(srv.cursors)
        L.listen(s, _cfg(srv.url, max_events=len(LINES), duration=30, batch=50, collections=["app.bsky.feed.like"]))
        assert srv.cursors[n] == cur - L.LOOKBACK_US
        assert srv.params[-1]["wantedCollections"] == ["app.bsky.feed.like"]
        assert stored_counts(s.con) == expected_counts()
        s.close()


def test_kill_9_and_restart_equals_capture(tmp_path):
    ws = tmp_path / "ws"
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("LEADS_WORKSPACE", None)
    r = subprocess.run([sys.executable, "-m", "socialleads", "init", str(ws)], env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    # one frame per 20 ms: ~3 s for the capture, so the kill lands mid-stream
    with ReplayServer(LINES, delay=0.02, loop_forever=True) as srv:
        cmd = [sys.executable, "-m", "socialleads", "listen", "--url", srv.url, "-w", str(ws), "--json",
               "--batch", "5", "--batch-ms", "50"]
        p = subprocess.Popen(cmd + ["--duration", "60"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        committed = 0
        deadline = time.time() + 30
        while time.time() < deadline:  # stats lines: wait until some, not all, is committed
            line = p.stdout.readline()
            if not line:
                break
            committed = json.loads(line).get("committed", 0)
            if 20 <= committed < len(LINES) - 20:
                break
        os.kill(p.pid, signal.SIGKILL)
        p.wait(10)
        assert 0 < committed < len(LINES), committed
        r = subprocess.run(cmd + ["--duration", "30", "--max-events", str(len(LINES))], env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert srv.cursors[-1] is not None
    from socialleads.workspace import open_workspace
    with open_workspace(ws, read_only=True) as w:
        got = stored_counts(w.store.con)
    assert got == expected_counts()


def test_monitor_matches_counted_once(store):
    posts = [json.loads(ln) for ln in LINES if '"app.bsky.feed.post"' in ln and '"create"' in ln]
    word = next(w for p in posts for w in p["commit"]["record"]["text"].split() if w.isascii() and w.isalpha()
                and len(w) > 4)
    add_monitor(store, "m", word)
    with ReplayServer(LINES, drop_after=[100]) as srv:
        stats = L.listen(store, _cfg(srv.url, max_events=len(LINES) + 100, duration=30))
    from socialleads.listen.monitors import count_matches
    n = count_matches(store, word)
    assert n >= 1
    # the drop replays the first 100 frames, but matches count posts new to the store only
    assert stats["matches"] == n


@pytest.mark.parametrize(("query", "filtered"), [
    ("{w}", True), ("{w} OR zzzunseen", True), ("{w} AND NOT zzzunseen", True), ('"{w}" NEAR/5 the', True),
    ("{w}* AND lang:en", True), ("zzzunseen OR #{w}", False), ("NOT zzzunseen", False)])
def test_monitor_prefilter_never_drops_a_match(store, query, filtered):
    """The substring prefilter that lets a batch skip a monitor's regex query is sound: over the stored
    capture, every post the compiled query matches passes it (an independent evaluation: the full SQL)."""
    posts = [json.loads(ln) for ln in LINES if '"app.bsky.feed.post"' in ln and '"create"' in ln]
    word = next(w for p in posts for w in p["commit"]["record"]["text"].split() if w.isascii() and w.isalpha()
                and len(w) > 4).lower()
    pipe = L.Pipeline(store, "s", "bluesky", detect=False)
    pipe.commit(pipe.prepare([(f, 0.0) for f in LINES]))
    q = query.format(w=word)
    pre = L._prefilter(q)
    match = L.compile_query(q)
    hits = run_sql(store.con, f"SELECT count(*) FROM posts p LEFT JOIN accounts a ON a.account_key = p.author_key "
                              f"WHERE {match}")[0][0]
    assert hits >= 1 or q.startswith("zzz")
    assert (pre is not None) == filtered   # hashtags, mentions and NOT need not show in the text: no prefilter
    if pre is None:
        return
    missed = run_sql(store.con, f"SELECT count(*) FROM posts p LEFT JOIN accounts a ON a.account_key = p.author_key "
                                f"WHERE {match} AND NOT {pre}")[0][0]
    assert missed == 0
    assert run_sql(store.con, f"SELECT count(*) FROM posts p WHERE {pre}")[0][0] < run_sql(
        store.con, "SELECT count(*) FROM posts")[0][0]   # and it does drop posts


# ---------------------------------------------------------------------------------------------- mastodon
def _status(i: int, tag: str = "voltwise") -> dict:
    return {"id": str(1000 + i), "uri": f"https://m.example/users/ann/statuses/{1000 + i}",
            "url": f"https://m.example/@ann/{1000 + i}", "created_at": "2026-11-01T10:00:00.000Z",
            "content": f"<p>Post {i} about <a href=\"https://m.example/tags/{tag}\">#<span>{tag}</span></a></p>",
            "language": "en", "visibility": "public", "in_reply_to_id": None, "reblog": None,
            "account": {"id": "1", "acct": "ann", "username": "ann", "url": "https://m.example/@ann",
                        "display_name": "Ann"},
            "mentions": [{"id": "2", "acct": "bob@other.example", "username": "bob",
                          "url": "https://other.example/@bob"}],
            "tags": [{"name": tag, "url": f"https://m.example/tags/{tag}"}], "media_attachments": []}


class SSEHandler(BaseHTTPRequestHandler):
    events: list[str] = []
    seen: list[tuple[str, str | None]] = []

    def do_GET(self):  # noqa: N802
        type(self).seen.append((self.path, self.headers.get("Authorization")))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        self.wfile.write(b":)\n\n")
        for e in type(self).events:
            self.wfile.write(e.encode())
            self.wfile.flush()
        time.sleep(0.3)

    def log_message(self, *a):
        pass


def test_mastodon_sse_hashtag_stream(store):
    ev = [f"event: update\ndata: {json.dumps(_status(i))}\n\n" for i in range(3)]
    ev.append("event: update\ndata: {broken\n\n")
    ev.append(f"event: update\ndata: {json.dumps(_status(9) | {'reblog': _status(7), 'content': ''})}\n\n")
    ev.append("event: delete\ndata: 1001\n\n")
    SSEHandler.events, SSEHandler.seen = ev, []
    srv = ThreadingHTTPServer(("127.0.0.1", 0), SSEHandler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        cfg = L.ListenConfig(mastodon=f"http://127.0.0.1:{srv.server_port}", hashtag="#voltwise", token="tok",
                             max_events=len(ev), duration=8, backoff=(0.01, 0.05), batch_ms=50)
        stats = L.listen(store, cfg)
    finally:
        srv.shutdown()
        srv.server_close()
    path, auth = SSEHandler.seen[0]
    assert path == "/api/v1/streaming/hashtag?tag=voltwise" and auth == "Bearer tok"
    assert stats["committed"] == len(ev) and stats["quarantined"] == 1
    rows = dict(run_sql(store.con, "SELECT post_key, kind FROM posts"))
    assert len(rows) == 5  # statuses 0, 1, 2, the boost (9) and the boosted status (7)
    assert rows["https://m.example/users/ann/statuses/1009"] == "repost"
    deleted = run_sql(store.con, "SELECT post_key FROM posts WHERE is_deleted")
    assert deleted == [("https://m.example/users/ann/statuses/1001",)]
    ents = run_sql(store.con, "SELECT etype, value, target_account_key FROM post_entities "
                              "WHERE post_key LIKE '%1000' ORDER BY etype")
    assert ents == [("hashtag", "voltwise", None), ("mention", "@bob@other.example", "acct:bob@other.example")]
    text = run_sql(store.con, "SELECT text FROM posts WHERE post_key LIKE '%1000'")[0][0]
    assert "Post 0 about #voltwise" in text


def test_backoff_grows_with_jitter():
    import random
    d = L.backoff_delays(0.5, 30.0, random.Random(1))
    xs = [next(d) for _ in range(12)]
    caps = [min(30.0, 0.5 * 2 ** i) for i in range(12)]
    assert all(0 <= x <= c for x, c in zip(xs, caps, strict=True))
    assert len(set(xs)) == 12


# ------------------------------------------------------------------------------------- fast path, alerts
def _like(**kw) -> str:
    ev = json.loads(next(ln for ln in LINES if '"app.bsky.feed.like"' in ln and '"create"' in ln))
    rec = ev["commit"]["record"]
    for k, v in kw.items():
        if k in ("createdAt", "subject"):
            rec[k] = v
        elif k == "rkey":
            ev["commit"]["rkey"] = v
        else:
            ev[k] = v
    return json.dumps(ev)


def _odd_frames() -> list[str]:
    odd = [_like(createdAt=t) for t in ("2026-07-04T14:38:08Z", "2026-07-04T14:38:08.100000Z", "2026-07-04T14:38:08.000Z",
                                        "2026-07-04T14:38:08.1234567891Z", "2026-02-30T14:38:08Z", "2026-07-04T24:00:00Z",
                                        "2026-07-04T14:38:08+02:00", " 2026-07-04T14:38:08Z", None)]
    odd += [_like(subject={"uri": u}) for u in ("at://did:plc:x/a.b/c/d", "at://notdid/a.b/c", "https://x")]
    odd += [_like(subject="at://x"), _like(time_us=2 ** 70), _like(time_us=2 ** 63), _like(time_us=-1),
            _like(time_us=2 ** 63 - 1), _like(time_us=True), _like(time_us=1.5), _like(rkey=5),
            _like(rkey="")]
    # a duplicate top-level key (json.loads keeps the last), a frame that is not an object, not JSON at all
    odd += [LINES[0][:-1] + ', "did": "did:plc:dup"}', "[1, 2]", "{nope"]
    return odd


def test_sql_mapped_frames_equal_the_python_mapper(store):
    """With sql_map the frames are mapped in SQL (fast_jetstream.LiveFrames); the reference is
    jetstream_records on every frame in order — records (in order), deletes, quarantine reasons and the
    cursor — including odd times (offset, no fraction, >6 digits, Feb 30, hour 24, spaces), odd subjects
    and time_us values, deletes, identity and account events, posts with facets and embeds."""
    frames = [(f, 0.0) for f in LINES * 2 + _odd_frames()]
    pipe = L.Pipeline(store, "s", "bluesky", detect=False, sql_map=True)
    b = pipe._convert(frames, 0)
    assert b.rows is not None and b.rows.num_rows >= 2 * 140 and not b.records
    ref, ref_del, ref_bad, ref_top = [], [], [], None
    for n, (f, _) in enumerate(frames):
        try:
            r, d, t = L.jetstream_records(json.loads(f))
        except L.B.BadItem as exc:
            ref_bad.append(f"frame {n + 1}: {str(exc)[:20]}")
            continue
        except ValueError as exc:
            ref_bad.append(f"frame {n + 1}: {f'not JSON ({exc}'[:20]}")
            continue
        ref += [{k: v for k, v in x.items() if v is not None} for x in r]
        ref_del += d
        ref_top = t if ref_top is None or (t is not None and t > ref_top) else ref_top
    assert b.record_dicts() == ref
    assert b.deletes == ref_del and len(ref_del) == 2 * 4
    assert [f"{place}: {reason[:20]}" for place, reason, _ in b.bad] == ref_bad and len(ref_bad) >= 6
    assert b.top == ref_top


def _table(con, t: str, key: str) -> list[tuple]:
    cols = [c for (c,) in run_sql(con, "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                                       "AND column_name NOT IN ('ingest_run_id', 'first_seen_at') ORDER BY ordinal_position", [t])]
    return run_sql(con, f"SELECT {', '.join(cols)} FROM {t} ORDER BY {key}")


def test_sql_map_stores_the_same_rows(tmp_path):
    """The struct records of the SQL path, staged without JSON text, give the same rows table by table as
    the Python mapper's records (two batches committed as one, with the capture's deletes)."""
    frames = [(f, 0.0) for f in LINES + _odd_frames() + LINES]
    got = {}
    for sql in (False, True):
        s = open_store(tmp_path / f"{sql}.duckdb")
        pipe = L.Pipeline(s, "s", "bluesky", detect=False, sql_map=sql)
        pipe.sql_map_min = 1 if sql else None
        half = len(frames) // 2
        pipe.commit(L.merge_batches([pipe.prepare(frames[:half], 0), pipe.prepare(frames[half:], half)]))
        got[sql] = {t: _table(s.con, t, k) for t, k in (("posts", "post_key"), ("interactions", "interaction_key"),
                                                         ("accounts", "account_key"), ("post_entities", "post_key, value"))}
        got[sql]["quarantine"] = run_sql(s.con, "SELECT place, reason, raw FROM quarantine ORDER BY place")
        pipe.close()
        s.close()
    assert got[True]["posts"] and got[True]["interactions"] and got[True]["quarantine"]
    assert got[True] == got[False]


def test_alert_fires_before_the_batch_is_stored(store, tmp_path):
    """Detection reads the batch in memory: the alert (with the burst's posts as top posts) is logged
    before the commit, and the posts are stored only by the commit."""
    import datetime as dt
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    store.con.executemany("INSERT INTO posts (post_key, platform, author_key, kind, created_at, text, source) "
                          "VALUES (?, 'bluesky', 'did:plc:b', 'original', ?, 'zork calm', 'x')",
                          [(f"base{h}", now - dt.timedelta(hours=h)) for h in range(4, 200, 4)])
    add_monitor(store, "z", "zork")
    pipe = L.Pipeline(store, "s", "bluesky", sinks=[f"jsonl:{tmp_path}/alerts.jsonl"])
    ev = json.loads(next(ln for ln in LINES if '"app.bsky.feed.post"' in ln and '"create"' in ln))
    tus = int(now.replace(tzinfo=dt.UTC).timestamp() * 1e6)
    created = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    frames = []
    for j in range(40):
        e = json.loads(json.dumps(ev))
        e["time_us"] = tus + j
        e["commit"]["rkey"] = f"burst{j}"
        e["commit"]["record"] = {"$type": "app.bsky.feed.post", "text": f"zork outage {j}", "createdAt": created}
        frames.append((json.dumps(e), 0.0))
    b = pipe.prepare(frames)
    alerts = run_sql(store.con, "SELECT monitor, kind, payload FROM alerts")
    assert [(m, k) for m, k, _ in alerts] == [("z", "volume")]
    top = json.loads(alerts[0][2])["top_posts"]
    assert top and all(p["post_key"].endswith(tuple(f"/burst{j}" for j in range(40))) for p in top)
    assert run_sql(store.con, "SELECT count(*) FROM posts WHERE post_key LIKE '%burst%'")[0][0] == 0
    pipe.commit(b)
    assert run_sql(store.con, "SELECT count(*) FROM posts WHERE post_key LIKE '%burst%'")[0][0] == 40
    assert pipe.stats.matches == 40 and pipe.stats.posts_new == 40
    # the same frames again (a replay after a reconnect): nothing new, nothing counted, no second alert
    pipe.commit(pipe.prepare(frames))
    assert pipe.stats.matches == 40 and pipe.stats.posts_new == 40
    assert run_sql(store.con, "SELECT count(*) FROM alerts")[0][0] == 1
    pipe.close()
