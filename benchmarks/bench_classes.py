"""Content classes on a simulated workspace: classification throughput (posts/s), owner profile, stage
of influence and the coach.

    python benchmarks/bench_classes.py [--work /tmp/classes-bench] [--posts 1000000]

Builds the world and workspace once with benchmarks/bench_pipeline.py (stages simulate,import — i.e.
`leads simulate` + `leads import`) when WORK/workspace is missing, then, in this process: deletes any
post_classes rows (so every run classifies the whole store), classifies every post, then times the
profiles, the stage of influence and the coach. Prints wall time and peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--work", type=Path, default=Path("/tmp/classes-bench"))
    a = ap.parse_args()
    if not (a.work / "workspace" / "leads.duckdb").exists():
        subprocess.run([sys.executable, str(Path(__file__).with_name("bench_pipeline.py")), "--posts", str(a.posts),
                        "--work", str(a.work), "--stages", "simulate,import"], check=True)
    from socialleads.classify.classes import classify_posts
    from socialleads.classify.coach import coach
    from socialleads.classify.profile import account_profiles, owner_profile
    from socialleads.classify.stage import stage_of_influence
    from socialleads.workspace import open_workspace

    with open_workspace(a.work / "workspace") as ws:
        ws.store.con.execute("DELETE FROM post_classes").fetchall()
        owners = ws.owner_keys()
        t0 = time.perf_counter()
        run = classify_posts(ws.store, ws.config)
        t1 = time.perf_counter()
        print(f"classify: {run['computed']:,} posts in {t1 - t0:.2f} s = {run['computed'] / (t1 - t0):,.0f} posts/s "
              f"({run['batches']} batches); by class {run['by_class']}")
        again = classify_posts(ws.store, ws.config)
        t2 = time.perf_counter()
        print(f"re-run (nothing new): {again['computed']} posts in {t2 - t1:.2f} s")
        profs = account_profiles(ws.store)
        t3 = time.perf_counter()
        print(f"account profiles: {len(profs):,} accounts in {t3 - t2:.2f} s")
        prof = owner_profile(ws.store, owners)
        st = stage_of_influence({}, prof)
        t4 = time.perf_counter()
        print(f"owner profile + stage: {prof and prof['profile']} / {st['stage']} in {t4 - t3:.2f} s")
        acts = coach(ws.store, owners, ws.config, None)
        t5 = time.perf_counter()
        print(f"coach: {len(acts)} actions in {t5 - t4:.2f} s")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"total {t5 - t0:.2f} s, peak RSS {rss:,.0f} MB")


if __name__ == "__main__":
    main()
