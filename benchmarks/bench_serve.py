"""Dashboard page times on a big workspace (issue 7: each page ≤ 1 s after the first load).

    python benchmarks/bench_serve.py [--workspace DIR] [--posts 1000000]

Without --workspace it uses /tmp/serve-bench/workspace, creating it when missing (`leads simulate` +
`leads import`: several minutes at 1 M posts). Requests go in-process through the ASGI app (FastAPI's
TestClient), so the times are the server's own: the first load computes and caches every section
(read-only on the workspace); then each page and its JSON twin is fetched 3 times and the slowest
time is reported. Prints peak RSS when psutil is installed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

PAGES = ["/", "/api/overview", "/listen", "/api/listen", "/engage", "/api/engage", "/inbox", "/inbox?question=true",
         "/api/inbox?negative=true", "/live", "/tables", "/api/who.csv", "/api/inbox.parquet"]


def ensure_workspace(ws: Path, posts: int) -> None:
    if (ws / "leads.duckdb").exists():
        return
    world = ws.parent / "world"
    leads = [sys.executable, "-m", "socialleads"]
    if not (world / "truth.json").exists():
        subprocess.run([*leads, "simulate", "--posts", str(posts), "--out", str(world)], check=True)
    subprocess.run([*leads, "init", str(ws), "--config", str(world / "leads.toml")], check=True)
    subprocess.run([*leads, "import", str(world), "-w", str(ws)], check=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workspace", type=Path, default=Path("/tmp/serve-bench/workspace"))
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    ensure_workspace(args.workspace, args.posts)

    from fastapi.testclient import TestClient

    from socialleads.serve import create_app

    t0 = time.perf_counter()
    app = create_app(args.workspace)
    client = TestClient(app)
    with app.state.dashboard.open() as ws:
        n_posts = ws.store.count("posts")
    t1 = time.perf_counter()
    app.state.dashboard.warm()
    t2 = time.perf_counter()
    print(f"workspace {args.workspace}: {n_posts:,} posts")
    print(f"open {t1 - t0:.2f} s; first load (every section computed and cached) {t2 - t1:.2f} s")
    first = {}
    for url in PAGES:  # first render of each page (sections cached, HTML fragments not yet)
        t = time.perf_counter()
        r = client.get(url)
        first[url] = time.perf_counter() - t
        assert r.status_code == 200, (url, r.status_code, r.text[:200])
    handle = client.get("/api/engage").json()["who"][0]
    person = f"/person/{handle.get('handle') or handle['account']}"
    client.get(person)
    worst = 0.0
    print(f"{'page':32} {'first':>8} {'after (max of ' + str(args.repeat) + ')':>20}")
    for url in [*PAGES, person]:
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            r = client.get(url)
            times.append(time.perf_counter() - t)
            assert r.status_code == 200
        worst = max(worst, max(times))
        print(f"{url[:32]:32} {first.get(url, float('nan')):8.3f} {max(times):20.3f}")
    print(f"slowest page after the first load: {worst:.3f} s (target ≤ 1 s)")
    try:
        import psutil

        print(f"peak RSS {psutil.Process(os.getpid()).memory_info().rss / 2**20:,.0f} MiB (current; ru_maxrss below)")
    except ImportError:
        pass
    import resource

    print(f"ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
