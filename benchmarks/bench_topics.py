"""Topics on a simulated world: fit on a sample + assign every post (issue 4, point 3).

    python benchmarks/bench_topics.py --posts 200000 [--work DIR] [--reuse] [--sample 50000] [--k N]

Simulates (unless --reuse and the workspace exists), imports, then in a fresh process runs
`fit_topics` and prints: posts assigned, topics, outlier share, fit seconds, assign posts/s, and the
peak RSS of the topic process (resource.getrusage, so the import's memory is not counted).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def prepare(work: Path, posts: int, reuse: bool) -> Path:
    ws = work / f"world-{posts}"
    if reuse and (ws / "leads.duckdb").exists():
        return ws
    from socialleads.simulate import simulate
    from socialleads.sources.importer import import_path
    from socialleads.workspace import open_workspace

    simulate(ws, posts=posts, seed=1)
    with open_workspace(ws) as w:
        import_path(w.store, ws)
    return ws


def run_topics(ws: Path, sample: int, k: int | None) -> None:
    from socialleads.listen.topics import fit_topics, topic_summary
    from socialleads.workspace import open_workspace

    t0 = time.perf_counter()
    with open_workspace(ws) as w:
        out = fit_topics(w.store, sample=sample, k=k)
        summ = topic_summary(w.store, limit=5)
    out["total_seconds"] = round(time.perf_counter() - t0, 3)
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out["top"] = [(t["label"], t["size"], round(t["growth"], 2)) for t in summ["topics"]]
    print(json.dumps(out, indent=1))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=200_000)
    ap.add_argument("--work", default=None)
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--sample", type=int, default=50_000)
    ap.add_argument("--k", type=int, default=None)
    ap.add_argument("--stage", default="all", help=argparse.SUPPRESS)
    a = ap.parse_args()
    work = Path(a.work or tempfile.mkdtemp(prefix="bench-topics-"))
    if a.stage == "topics":
        run_topics(work / f"world-{a.posts}", a.sample, a.k)
        return
    t0 = time.perf_counter()
    ws = prepare(work, a.posts, a.reuse)
    print(f"world ready in {time.perf_counter() - t0:.1f} s: {ws}")
    cmd = [sys.executable, __file__, "--posts", str(a.posts), "--work", str(work), "--sample", str(a.sample),
           "--stage", "topics"] + (["--k", str(a.k)] if a.k else [])
    subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
