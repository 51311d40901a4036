"""Leiden communities (socialleads.graph.communities) on a 1 M-edge graph, with peak RSS.

    python benchmarks/bench_leiden.py [--edges 1000000] [--stages planted,random] [--seed 1]

Each stage runs in its own process so that peak RSS (resource.getrusage) is that stage's alone.
Stages:
  planted  --edges directed edges among edges/5 nodes in 2,000 planted groups, 80% inside the group
           (a social graph has communities): from_edges + communities
  random   --edges edges with heavy-tailed in-degree and no structure (bench_pagerank's graph): the
           hard case for Leiden, which keeps moving nodes between near-equal communities
Target (issue 5, this 2-core machine): Leiden on 1 M edges ≤ 5 s.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

STAGES = ("planted", "random")


def stage(name: str, edges: int, seed: int) -> dict:
    import numpy as np

    from socialleads.graph import from_edges
    from socialleads.graph.communities import communities

    rng = np.random.default_rng(seed)
    n = edges // 5
    src = rng.integers(0, n, edges)
    if name == "planted":
        k = 2000
        group = rng.integers(0, k, n)
        order = np.argsort(group, kind="stable")
        starts = np.searchsorted(group[order], np.arange(k))
        sizes = np.bincount(group, minlength=k)
        g_src = group[src]
        same = order[starts[g_src] + (rng.random(edges) * sizes[g_src]).astype(np.int64)]
        dst = np.where(rng.random(edges) < 0.8, same, rng.integers(0, n, edges))
    else:
        dst = np.minimum((rng.pareto(1.2, edges) * n / 50).astype(np.int64), n - 1)
    w = rng.integers(1, 4, edges).astype(np.float64)
    t0 = time.perf_counter()
    g = from_edges(src, dst, w)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = communities(g, seed=seed)
    leiden = time.perf_counter() - t0
    return {"stage": name, "build_s": build, "leiden_s": leiden, "nodes": g.n, "edges": g.n_edges,
            "communities": res.n_communities, "largest": int(res.sizes[0]), "modularity": round(res.modularity, 4),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--edges", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--stages", default=",".join(STAGES))
    ap.add_argument("--stage", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.stage:
        print(json.dumps(stage(args.stage, args.edges, args.seed)))
        return
    for name in args.stages.split(","):
        out = subprocess.run([sys.executable, __file__, "--stage", name, "--edges", str(args.edges),
                              "--seed", str(args.seed)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        extra = {k: v for k, v in r.items() if k not in ("stage", "build_s", "leiden_s", "peak_rss_mb")}
        print(f"{name:8s} build {r['build_s']:.2f} s  leiden {r['leiden_s']:.2f} s  "
              f"peak RSS {r['peak_rss_mb']:.0f} MB  {extra}")


if __name__ == "__main__":
    main()
