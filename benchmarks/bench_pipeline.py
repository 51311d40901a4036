"""End to end on a simulated world: simulate → import → scorecard, each stage in its own process.

    python benchmarks/bench_pipeline.py --posts 1000000 [--work DIR] [--stages simulate,import,scorecard]
                                        [--format jsonl|parquet|jsonl,parquet]

`--format` is the simulated world's file format (`leads simulate --format`); with both, every stage runs for
each format in turn, in worlds `world` (JSON lines) and `world-parquet`, workspaces `workspace` and
`workspace-parquet` under `--work`.

Prints each stage's wall time, throughput and peak RSS (resource.getrusage of that stage's process,
so the figures do not mix). Targets (issue 2, this 2-core machine): import ≥ 500 k posts/s, scorecard on
1 M posts ≤ 10 s, peak RSS ≤ 2 GB; 10 M posts import with peak RSS ≤ 4 GB.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import format_row, import_world, run_child, simulate_world, stage_result  # noqa: E402


def stage(name: str, work: Path, posts: int, seed: int, fmt: str = "jsonl") -> dict:
    suffix = "" if fmt == "jsonl" else f"-{fmt}"
    world, ws = work / f"world{suffix}", work / f"workspace{suffix}"
    t0 = time.perf_counter()
    extra: dict = {}
    if name == "simulate" and fmt == "jsonl":
        extra = simulate_world(world, posts, seed)
    elif name == "simulate":
        from socialleads.simulate import simulate

        shutil.rmtree(world, ignore_errors=True)
        simulate(world, posts=posts, seed=seed, fmt=fmt)
        extra = {"bytes": sum(f.stat().st_size for f in world.iterdir())}
    elif name == "import":
        extra = import_world(world, ws)
    elif name == "scorecard":
        from socialleads.metrics.scorecard import build_scorecard
        from socialleads.workspace import open_workspace

        with open_workspace(ws, read_only=True) as w:
            card = build_scorecard(w.store, w.owner_keys(), w.config)
            extra = {k: card["audience"].get(k) for k in ("followers", "passive_share", "week4_retention")}
    elif name == "report":
        from socialleads.report import write_report
        from socialleads.workspace import open_workspace

        with open_workspace(ws, read_only=True) as w:
            write_report(w.store, w.owner_keys(), w.config, work / "report.html")
    else:
        raise SystemExit(f"unknown stage {name}")
    return stage_result(name, t0, posts, {"format": fmt, **extra})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", type=Path, default=Path("/tmp/leads-bench"))
    ap.add_argument("--stages", default="simulate,import,scorecard")
    ap.add_argument("--format", default="jsonl", help="jsonl, parquet or both (jsonl,parquet)")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(stage(a.one, a.work, a.posts, a.seed, a.format)), flush=True)
        return
    a.work.mkdir(parents=True, exist_ok=True)
    print(f"# {a.posts:,} posts, work dir {a.work}")
    for fmt in a.format.split(","):
        if fmt not in ("jsonl", "parquet"):
            raise SystemExit(f"--format {fmt}: expected jsonl or parquet")
        for name in a.stages.split(","):
            r = run_child(__file__, name, ["--posts", str(a.posts), "--seed", str(a.seed), "--work", str(a.work),
                                           "--format", fmt])
            print(format_row(r), flush=True)


if __name__ == "__main__":
    main()
