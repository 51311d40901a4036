"""Live pipeline benchmark: a local Jetstream-like server replays the real capture's items (new rkeys and
time_us = send time) at RATE events/s for SECONDS; monitors with a 7-day baseline get planted bursts
(40 matching posts each), alerts go to a local webhook. Prints stored events/s, lag, p50/p99 event-to-alert
latency (first burst frame's send time → webhook arrival) and peak RSS.

The server runs in its own process (multiprocessing) with pre-encoded frames (one string concatenation
per frame: time_us and rkey are spliced into a template), so it is not the bottleneck; ``--server-only``
measures its ceiling alone: it sends as fast as it can and a bare websockets client counts the frames.

    python benchmarks/bench_live.py [RATE] [SECONDS] [BURSTS]
    python benchmarks/bench_live.py --server-only [SECONDS]

Environment: BENCH_LIVE_IMPL=path/to/live.py runs an earlier version of the pipeline in the same conditions;
BENCH_SQL_MAP=1 maps the frames in SQL (ListenConfig.sql_map); BENCH_BATCH_MS sets --batch-ms. The output also gives the listener's CPU
seconds (all its threads) and the 1-minute load average at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

CAPTURE = Path(__file__).parents[1] / ".." / "shared" / "fixtures" / "bluesky" / "jetstream_corpus" / "expected_v1.jsonl"
T_MARK, R_MARK = 1111111111111111, "__RKEY__"
BURST_FRAMES = 40


def templates(burst_texts: list[str]) -> tuple[list[list[str]], list[list[str]]]:
    """Each capture item as [head, mid, tail] (frame = head + time_us + mid + rkey + tail; items without a
    commit have no rkey), and one post template per burst text."""
    items = [json.loads(x) for x in CAPTURE.read_text(encoding="utf-8").splitlines() if x.strip()]

    def split(ev: dict) -> list[str]:
        ev["time_us"] = T_MARK
        if ev.get("commit"):
            ev["commit"]["rkey"] = R_MARK
        head, rest = json.dumps(ev).split(str(T_MARK))
        mid, tail = rest.split(R_MARK) if R_MARK in rest else (rest, "")
        return [head, mid, tail]

    normal = [split(ev) for ev in items]
    post = next(ev for ev in items if ev.get("commit", {}).get("collection") == "app.bsky.feed.post")
    bursts = []
    for text in burst_texts:
        ev = json.loads(json.dumps(post))
        ev["commit"]["operation"] = "create"
        ev["commit"]["record"] = {"$type": "app.bsky.feed.post", "text": text, "createdAt": "__CREATED__"}
        bursts.append(split(ev))
    return normal, bursts


async def send_many(ws, frames: list[str]) -> None:
    """Send text frames in one burst: the frames are encoded into the protocol's buffer under one send
    context (what ``ws.send`` does per message), so the transport is written and drained once."""
    if not frames:
        return
    async with ws.send_context():
        for f in frames:
            ws.protocol.send_text(f.encode())


def _server_main(rate: float, seconds: float, bursts: int, port_q: mp.Queue, out_q: mp.Queue) -> None:
    """The replay server process: sends `rate` frames/s for `seconds` to the first client (rate 0: as
    fast as possible); reports {"sent", "seconds", "burst_sent_at": {monitor: time}} on out_q."""
    from websockets.asyncio.server import serve

    normal, burst_t = templates([f"crisis{b} happening now" for b in range(bursts)])
    nn = len(normal)

    served: list[bool] = []

    async def handler(ws) -> None:
        if served:   # a reconnect after the run: nothing more to replay (keeps the counts exact)
            await asyncio.sleep(seconds + 30)
            return
        served.append(True)
        i, sent, t0 = 0, 0, time.time()
        at = {int((b + 1) * seconds / (bursts + 1) * rate): b for b in range(bursts)} if rate else {}
        sent_at: dict[str, float] = {}
        while (now := time.time()) - t0 < seconds:
            due = int((now - t0) * rate) if rate else i + 2000
            tus = str(int(now * 1e6))
            out: list[str] = []
            while i < due:
                if i in at:
                    b = at[i]
                    created = dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                    h, m, t = burst_t[b]
                    sent_at[f"Spike: burst{b} (volume)"] = time.time()
                    out += [h + tus + m + f"x{b}y{j}" + t.replace("__CREATED__", created) for j in range(BURST_FRAMES)]
                h, m, t = normal[i % nn]
                out.append(h + tus + m + f"b{i}" + t if t else h + tus + m)
                i += 1
            await send_many(ws, out)
            sent += len(out)
            await asyncio.sleep(0.002 if rate else 0)
        out_q.put({"sent": sent, "seconds": time.time() - t0, "burst_sent_at": sent_at})
        await asyncio.sleep(seconds + 30)   # keep the connection open: the listener stops on its duration

    async def main() -> None:
        async with serve(handler, "127.0.0.1", 0, max_queue=None, compression=None) as server:
            port_q.put(server.sockets[0].getsockname()[1])
            await asyncio.sleep(seconds + 30)

    asyncio.run(main())


def start_server(rate: float, seconds: float, bursts: int) -> tuple[mp.Process, int, mp.Queue]:
    ctx = mp.get_context("spawn")
    port_q, out_q = ctx.Queue(), ctx.Queue()
    p = ctx.Process(target=_server_main, args=(rate, seconds, bursts, port_q, out_q), daemon=True)
    p.start()
    return p, port_q.get(timeout=60), out_q


def server_only(seconds: float) -> None:
    """The server's ceiling: as fast as it can send, a bare client counting frames."""
    p, port, out_q = start_server(0, seconds, 0)

    async def client() -> int:
        import websockets
        n, end = 0, time.time() + seconds + 1
        async with websockets.connect(f"ws://127.0.0.1:{port}/subscribe", max_size=4 << 20, compression=None) as ws:
            with contextlib.suppress(websockets.ConnectionClosed, TimeoutError):
                async with asyncio.timeout_at(asyncio.get_running_loop().time() + end - time.time()):
                    async for _ in ws:
                        n += 1
        return n

    t0 = time.perf_counter()
    n = asyncio.run(client())
    res = out_q.get(timeout=30)
    p.terminate()
    print(json.dumps({"server_sent": res["sent"], "server_frames_per_s": round(res["sent"] / res["seconds"], 1),
                      "client_received": n, "client_frames_per_s": round(n / res["seconds"], 1), "client_wall_s": round(time.perf_counter() - t0, 2)}))


arrivals: dict[str, float] = {}


class Hook(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        arrivals.setdefault(body["blocks"][0]["text"]["text"], time.time())
        self.send_response(200)
        self.end_headers()

    def log_message(self, *a):
        pass


def _live_module():
    """socialleads.listen.live, or the file named by $BENCH_LIVE_IMPL (to compare with an earlier
    version in the same conditions, e.g. `git show HEAD~1:src/socialleads/listen/live.py > old.py`)."""
    path = os.environ.get("BENCH_LIVE_IMPL")
    if not path:
        from socialleads.listen import live
        return live
    import importlib.util
    spec = importlib.util.spec_from_file_location("bench_live_impl", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod   # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main(rate: int, seconds: float, bursts: int) -> None:
    L = _live_module()  # noqa: N806
    from socialleads.listen.monitors import add_monitor
    from socialleads.store import open_store

    tmp = Path(tempfile.mkdtemp())
    store = open_store(tmp / "bench.duckdb")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = [(f"base{b}-{h}", "bluesky", "did:plc:base", "original", now - dt.timedelta(hours=h), f"crisis{b} calm", "x")
            for b in range(bursts) for h in range(1, 24 * 8) if h % 4 == 0]
    store.con.executemany("INSERT INTO posts (post_key, platform, author_key, kind, created_at, text, source) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    for b in range(bursts):
        add_monitor(store, f"burst{b}", f"crisis{b}")
    hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    proc, port, out_q = start_server(rate, seconds, bursts)
    lags: list[float] = []
    cfg = L.ListenConfig(url=f"ws://127.0.0.1:{port}/subscribe", duration=seconds + 5,
                         sinks=[f"webhook:http://127.0.0.1:{hook.server_port}/"])
    if os.environ.get("BENCH_SQL_MAP"):   # map the frames in SQL (ListenConfig.sql_map)
        cfg.sql_map = True
    if os.environ.get("BENCH_BATCH_MS"):
        cfg.batch_ms = int(os.environ["BENCH_BATCH_MS"])
    t0, cpu0 = time.perf_counter(), _cpu()
    st = L.listen(store, cfg, on_stats=lambda s: lags.append(s["lag_s"] or 0))
    wall, cpu = time.perf_counter() - t0, _cpu()
    time.sleep(1)
    srv = out_q.get(timeout=30)
    proc.terminate()
    sent_at = srv["burst_sent_at"]
    lat = [arrivals[k] - sent_at[k] for k in sent_at if k in arrivals]
    stored = int(store.con.execute("SELECT events FROM listen_cursors").fetchall()[0][0])
    print(json.dumps({
        "impl": (os.environ.get("BENCH_LIVE_IMPL") or "current") + (" sql_map" if os.environ.get("BENCH_SQL_MAP") else "")
        + (f" batch_ms={cfg.batch_ms}" if os.environ.get("BENCH_BATCH_MS") else ""), "rate_target": rate, "seconds": seconds, "server_sent": srv["sent"],
        "server_rate": round(srv["sent"] / srv["seconds"], 1),
        "committed": st["committed"], "stored_events_in_cursor_row": stored,
        "stored_events_per_s": round(st["committed"] / srv["seconds"], 1), "listen_wall_s": round(wall, 1),
        "received": st["received"], "batches": st["batches"], "max_lag_s": round(max(lags or [0]), 3),
        "final_lag_s": st["lag_s"], "alerts": st["alerts"], "alerts_delivered": len(lat), "bursts": bursts,
        "latency_p50_s": round(float(np.percentile(lat, 50)), 3) if lat else None,
        "latency_p99_s": round(float(np.percentile(lat, 99)), 3) if lat else None,
        "latency_max_s": round(max(lat), 3) if lat else None,
        "timings_s": st.get("timings_s"), "reconnects": st["reconnects"],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "listener_cpu_s": round(cpu - cpu0, 1), "load_avg_1m": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--server-only":
        server_only(float(sys.argv[2]) if len(sys.argv) > 2 else 5.0)
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000, float(sys.argv[2]) if len(sys.argv) > 2 else 30.0,
             int(sys.argv[3]) if len(sys.argv) > 3 else 5)
