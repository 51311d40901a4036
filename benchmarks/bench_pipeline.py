"""End to end on a simulated world: simulate → import → scorecard, each stage in its own process.

    python benchmarks/bench_pipeline.py --posts 1000000 [--work DIR] [--reuse] [--stages simulate,import,scorecard]

Prints each stage's wall time, throughput and peak RSS (resource.getrusage of that stage's process,
so the figures do not mix). Targets (issue 2, this 2-core machine): import ≥ 500 k posts/s, scorecard on
1 M posts ≤ 10 s, peak RSS ≤ 2 GB; 10 M posts import with peak RSS ≤ 4 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path


def stage(name: str, work: Path, posts: int, seed: int) -> dict:
    world, ws = work / "world", work / "workspace"
    t0 = time.perf_counter()
    extra: dict = {}
    if name == "simulate":
        from socialleads.simulate import simulate

        shutil.rmtree(world, ignore_errors=True)
        simulate(world, posts=posts, seed=seed)
        extra["bytes"] = sum(f.stat().st_size for f in world.iterdir())
    elif name == "import":
        from socialleads.sources.importer import import_path
        from socialleads.workspace import init_workspace, open_workspace

        shutil.rmtree(ws, ignore_errors=True)
        init_workspace(ws, config_from=world / "leads.toml")
        with open_workspace(ws) as w:
            s = import_path(w.store, world)
            w.mark_owner_accounts()
            extra = {k: v for k, v in s.to_json().items() if k in ("posts", "interactions", "accounts", "quarantined")}
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
    seconds = time.perf_counter() - t0
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"stage": name, "seconds": round(seconds, 2), "posts_per_s": round(posts / seconds),
            "peak_rss_mib": round(rss_mib), **extra}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", type=Path, default=Path("/tmp/leads-bench"))
    ap.add_argument("--stages", default="simulate,import,scorecard")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(stage(a.one, a.work, a.posts, a.seed)), flush=True)
        return
    a.work.mkdir(parents=True, exist_ok=True)
    print(f"# {a.posts:,} posts, work dir {a.work}")
    for name in a.stages.split(","):
        out = subprocess.run([sys.executable, __file__, "--one", name, "--posts", str(a.posts), "--seed", str(a.seed),
                              "--work", str(a.work)], check=True, capture_output=True, text=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rest = {k: v for k, v in r.items() if k not in ("stage", "seconds", "posts_per_s", "peak_rss_mib")}
        print(f"{r['stage']:<10} {r['seconds']:8.2f} s  {r['posts_per_s']:>10,} posts/s  peak RSS {r['peak_rss_mib']:>6,} MiB  {rest}",
              flush=True)


if __name__ == "__main__":
    main()
