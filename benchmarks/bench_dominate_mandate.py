"""Dominate + Social mandate sections on a simulated workspace (issue 6: the whole issue ≤ 30 s on 1 M posts).

    python benchmarks/bench_dominate_mandate.py [--work /tmp/dm-bench] [--posts 1000000]

Builds the world and workspace once with benchmarks/bench_pipeline.py (stages simulate,import) when
WORK/workspace is missing, then times each part in this process and prints wall time and peak RSS.
Per-topic figures need `leads topics` to have run on the workspace; without it they report why.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--work", type=Path, default=Path("/tmp/dm-bench"))
    a = ap.parse_args()
    if not (a.work / "workspace" / "leads.duckdb").exists():
        subprocess.run([sys.executable, str(Path(__file__).with_name("bench_pipeline.py")), "--posts", str(a.posts),
                        "--work", str(a.work), "--stages", "simulate,import"], check=True)
    from socialleads.dominate import (
        first_movers,
        members_of,
        plan_vs_execution,
        share_of_voice,
        topic_authority,
        whitespace,
    )
    from socialleads.engage.inbox import data_end
    from socialleads.mandate import mandate_report
    from socialleads.workspace import open_workspace

    with open_workspace(a.work / "workspace", read_only=True) as ws:
        end = data_end(ws.store).replace(tzinfo=None)
        start = end - dt.timedelta(days=ws.config.window_days)
        n = ws.store.con.execute("SELECT count(*) FROM posts").fetchall()[0][0]
        print(f"# {n:,} posts, window {start:%Y-%m-%d} .. {end:%Y-%m-%d}")
        total = 0.0
        members = members_of(ws.store, ws.config, ws.owner_keys())
        parts = [
            ("share of voice", lambda: share_of_voice(ws.store, members, start, end)),
            ("first movers", lambda: first_movers(ws.store, members, start, end)),
            ("topic authority", lambda: topic_authority(ws.store, members, start, end)),
            ("whitespace", lambda: whitespace(ws.store, members, start, end)),
            ("plan vs execution", lambda: plan_vs_execution(ws.store, ws.owner_keys(), ws.config.goals, start, end)),
            ("mandate", lambda: mandate_report(ws.store, ws.owner_keys(), ws.config.brand, start, end)),
        ]
        for name, fn in parts:
            t0 = time.perf_counter()
            r = fn()
            s = time.perf_counter() - t0
            total += s
            note = r.get("reason", "") if isinstance(r, dict) and r.get("available") is False else ""
            print(f"{name:20s} {s:7.2f} s  {note}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'total':20s} {total:7.2f} s  peak RSS {rss:,.0f} MiB")


if __name__ == "__main__":
    main()
