"""The engagement inbox and the Engage scorecard section on a simulated workspace.

    python benchmarks/bench_inbox.py --posts 1000000 [--work DIR] [--rebuild] [--repeat 3]

The workspace is built once (`simulate` + `import`, as benchmarks/bench_pipeline.py does) under
``--work`` and reused by later runs. Prints the wall time of each call (best of `--repeat`, each in the
same process after one warm-up), its CPU time, the load average and the peak RSS. Target (issue 5, this 2-core machine): `inbox` on a
1 M-post workspace ≤ 2 s; the engage section in a few seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import time
from pathlib import Path
from typing import Any


def build(work: Path, posts: int, seed: int) -> Path:
    from socialleads.simulate import simulate
    from socialleads.sources.importer import import_path
    from socialleads.workspace import init_workspace, open_workspace

    world, ws = work / "world", work / "workspace"
    if (ws / "leads.duckdb").exists():
        return ws
    shutil.rmtree(world, ignore_errors=True)
    shutil.rmtree(ws, ignore_errors=True)
    t0 = time.perf_counter()
    simulate(world, posts=posts, seed=seed)
    init_workspace(ws, config_from=world / "leads.toml")
    with open_workspace(ws) as w:
        import_path(w.store, world)
        w.mark_owner_accounts()
    print(f"built {ws} in {time.perf_counter() - t0:.1f} s")
    return ws


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(label: str, fn: Any, repeat: int) -> Any:
    """Best wall time of `repeat` calls after a warm-up, and the CPU time (all threads) of that call:
    on a shared machine the CPU time shows the work when the wall time is inflated by other load."""
    out = fn()  # warm-up (DuckDB caches, imports)
    best, cpu = float("inf"), 0.0
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), _cpu()
        out = fn()
        wall = time.perf_counter() - t0
        if wall < best:
            best, cpu = wall, _cpu() - c0
    print(f"{label:<28} {best:7.3f} s wall {cpu:7.3f} s cpu", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", type=Path, default=Path("/tmp/engage-bench"))
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    if a.rebuild:
        shutil.rmtree(a.work / "workspace", ignore_errors=True)
    ws_dir = build(a.work, a.posts, a.seed)

    from socialleads.engage.inbox import data_end, inbox, inbox_summary, response_stats
    from socialleads.engage.section import section
    from socialleads.metrics.stages import StageContext
    from socialleads.metrics.tables import tables_for
    from socialleads.metrics.window import window_for
    from socialleads.workspace import open_workspace

    with open_workspace(ws_dir, read_only=True) as ws:
        store, owners, cfg = ws.store, ws.owner_keys(), ws.config
        n = store.con.execute("SELECT count(*) FROM posts").fetchall()[0][0]
        print(f"# {n:,} posts in {ws_dir}")
        sla = cfg.goals.response_sla_hours
        items = timed("inbox (top 50)", lambda: inbox(store, owners, sla_hours=sla), a.repeat)
        summ = timed("inbox_summary", lambda: inbox_summary(store, owners, sla_hours=sla), a.repeat)
        end = data_end(store)
        timed("response_stats (90 d)", lambda: response_stats(store, owners, start=end - dt.timedelta(days=90),
                                                               end=end, sla_hours=sla), a.repeat)
        w = window_for(tables_for(store), cfg.window_days)
        sec = timed("engage section (cold cache)",
                    lambda: section(StageContext(store, list(owners), w, cfg)), a.repeat)
        print(f"inbox: {len(items)} items shown, {summ['open']:,} open ({summ['by_band']}); "
              f"section grade {sec['grade']['letter']} ({sec['grade']['met']}/{sec['grade']['checks']})")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
