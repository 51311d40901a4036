"""The Activate section on a simulated workspace: build once (simulate + import) into --work, reuse it.

    python benchmarks/bench_activate.py --posts 1000000 [--work /tmp/leads-bench-activate]

Prints the wall time of each Activate part (attribution, funnel, per-post table, experiments, what
works) and of the whole section, peak RSS, and how the planted experiments read against the truth.
Target (issue 6): all stages of the scorecard on 1 M posts in ≤ 30 s together.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path


def build(work: Path, posts: int, seed: int) -> None:
    from socialleads.simulate import simulate
    from socialleads.sources.importer import import_path
    from socialleads.workspace import open_workspace

    world = work / "world"
    if not (world / "truth.json").exists():
        t = time.perf_counter()
        simulate(world, posts=posts, seed=seed)
        print(f"simulate: {time.perf_counter() - t:.1f} s")
    ws = work / "ws"
    if not (ws / "leads.duckdb").exists():
        ws.mkdir(parents=True, exist_ok=True)
        (ws / "leads.toml").write_text((world / "leads.toml").read_text())
        t = time.perf_counter()
        with open_workspace(ws) as w:
            import_path(w.store, world)
        print(f"import: {time.perf_counter() - t:.1f} s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", type=Path, default=None)
    a = ap.parse_args()
    work = a.work or Path(f"/tmp/leads-bench-activate-{a.posts}")
    build(work, a.posts, a.seed)

    from socialleads.activate import attribution as A
    from socialleads.activate.experiments import experiment_report
    from socialleads.activate.funnel import data_window, funnel
    from socialleads.activate.posts import owner_posts
    from socialleads.activate.section import section
    from socialleads.activate.whatworks import what_works
    from socialleads.metrics.stages import StageContext
    from socialleads.workspace import open_workspace

    truth = json.loads((work / "world" / "truth.json").read_text())
    with open_workspace(work / "ws", read_only=True) as ws:
        con, owners = ws.store.con, ws.owner_keys()
        t0 = time.perf_counter()
        sec = section(StageContext(ws.store, owners, None, ws.config))
        total = time.perf_counter() - t0
        parts = {}
        for name, fn in (("attribution", lambda: A.attribution(con, owners)),
                         ("funnel", lambda: funnel(con, owners, *data_window(con, 90), built=True)),
                         ("per-post table", lambda: owner_posts(con, owners)),
                         ("what works", lambda: what_works(con, owners)),
                         ("experiment report x2", lambda: [experiment_report(con, owners, e) for e in truth["experiments"]])):
            t = time.perf_counter()
            fn()
            parts[name] = round(time.perf_counter() - t, 2)
        reports = {e: experiment_report(con, owners, e)["comparisons"][0] for e in truth["experiments"]}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"posts": a.posts, "section_seconds": round(total, 2), "parts_seconds": parts,
                      "peak_rss_mib": round(rss), "grade": sec["grade"]["letter"], "clicks": sec["clicks"],
                      "experiments": {e: {"true_difference": truth["experiments"][e]["true_difference"],
                                          "difference": r["difference"], "interval": r["decision_interval"],
                                          "verdict": r["verdict"]} for e, r in reports.items()}}, indent=1))


if __name__ == "__main__":
    main()
