"""Live pipeline benchmark: a local Jetstream-like server replays the real capture's items (new rkeys and
time_us = send time) at RATE events/s for SECONDS; a monitor with a 7-day baseline gets planted bursts,
alerts go to a local webhook. Prints stored events/s, lag, p50/p99 event-to-alert latency (first burst
frame's send time → webhook arrival) and peak RSS.

    python benchmarks/bench_live.py [RATE] [SECONDS] [BURSTS]
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import resource
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

from socialleads.listen import live as L
from socialleads.listen.monitors import add_monitor
from socialleads.store import open_store

CAPTURE = Path(__file__).parents[1] / ".." / "shared" / "fixtures" / "bluesky" / "jetstream_corpus" / "expected_v1.jsonl"
RATE = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 30.0
BURSTS = int(sys.argv[3]) if len(sys.argv) > 3 else 5
ITEMS = [json.loads(x) for x in CAPTURE.read_text().splitlines() if x.strip()]
arrivals: dict[str, float] = {}


class Hook(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        arrivals[body["blocks"][0]["text"]["text"]] = time.time()
        self.send_response(200)
        self.end_headers()

    def log_message(self, *a):
        pass


def frame(i: int, now_us: int, text: str | None = None) -> str:
    ev = json.loads(json.dumps(ITEMS[i % len(ITEMS)]))
    ev["time_us"] = now_us
    c = ev.get("commit")
    if c:
        c["rkey"] = f"b{i}"
        if text is not None:
            c.update(collection="app.bsky.feed.post", operation="create",
                     record={"$type": "app.bsky.feed.post", "text": text, "createdAt":
                             dt.datetime.fromtimestamp(now_us / 1e6, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")})
    return json.dumps(ev)


sent_at: dict[str, float] = {}


async def serve(port_box: list[int], done: threading.Event) -> None:
    from websockets.asyncio.server import serve as ws_serve

    async def handler(ws):
        i, t0 = 0, time.time()
        burst_at = {int((b + 1) * SECONDS / (BURSTS + 1) * RATE): b for b in range(BURSTS)}
        while time.time() - t0 < SECONDS:
            due = int((time.time() - t0) * RATE)
            while i < due:
                now_us = int(time.time() * 1e6)
                if i in burst_at:
                    b = burst_at[i]
                    sent_at[f"Spike: burst{b} (volume)"] = time.time()
                    for j in range(40):
                        await ws.send(frame(10_000_000 * (b + 1) + j, now_us, f"crisis{b} happening now"))
                await ws.send(frame(i, now_us))
                i += 1
            await asyncio.sleep(0.002)
        done.set()
        await asyncio.sleep(3)

    async with ws_serve(handler, "127.0.0.1", 0, max_queue=None) as server:
        port_box.append(server.sockets[0].getsockname()[1])
        while not done.is_set():
            await asyncio.sleep(0.1)
        await asyncio.sleep(4)


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    store = open_store(tmp / "bench.duckdb")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = [(f"base{b}-{h}", "bluesky", "did:plc:base", "original", now - dt.timedelta(hours=h), f"crisis{b} calm", "x")
            for b in range(BURSTS) for h in range(1, 24 * 8) if h % 4 == 0]
    store.con.executemany("INSERT INTO posts (post_key, platform, author_key, kind, created_at, text, source) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    for b in range(BURSTS):
        add_monitor(store, f"burst{b}", f"crisis{b}")
    hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    port: list[int] = []
    done = threading.Event()
    threading.Thread(target=lambda: asyncio.run(serve(port, done)), daemon=True).start()
    while not port:
        time.sleep(0.05)
    lags: list[float] = []
    cfg = L.ListenConfig(url=f"ws://127.0.0.1:{port[0]}/subscribe", duration=SECONDS + 5,
                         sinks=[f"webhook:http://127.0.0.1:{hook.server_port}/"])
    t0 = time.perf_counter()
    st = L.listen(store, cfg, on_stats=lambda s: lags.append(s["lag_s"] or 0))
    wall = time.perf_counter() - t0
    time.sleep(1)
    lat = [arrivals[k] - sent_at[k] for k in sent_at if k in arrivals]
    n = store.con.execute("SELECT count(*) FROM listen_cursors").fetchall()
    print(json.dumps({
        "rate_target": RATE, "seconds": SECONDS, "sent_approx": int(RATE * SECONDS),
        "committed": st["committed"], "stored_events_per_s": round(st["committed"] / wall, 1),
        "received": st["received"], "batches": st["batches"], "max_lag_s": round(max(lags or [0]), 3),
        "final_lag_s": st["lag_s"], "alerts": st["alerts"], "alerts_delivered": len(lat), "bursts": BURSTS,
        "latency_p50_s": round(float(np.percentile(lat, 50)), 3) if lat else None,
        "latency_p99_s": round(float(np.percentile(lat, 99)), 3) if lat else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), "cursors": n[0][0]}))


if __name__ == "__main__":
    main()
