"""Throughput and peak memory of `socialleads.simulate` (run on demand: python benchmarks/bench_simulate.py [N ...]).

Each size runs in a fresh subprocess so that peak RSS (resource.getrusage) belongs to that size alone.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_one(n: int) -> None:
    from socialleads.simulate import simulate

    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        simulate(Path(d), n, seed=0)
        dt = time.perf_counter() - t0
        size = sum(f.stat().st_size for f in Path(d).iterdir())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"posts={n:>10,}  time={dt:7.2f} s  posts/s={n / dt:>10,.0f}  peak RSS={rss:7.0f} MiB  output={size / 2**20:8.0f} MiB",
          flush=True)


def main(argv: list[str]) -> None:
    if len(argv) == 2 and argv[0] == "--one":
        run_one(int(argv[1]))
        return
    for n in [int(a) for a in argv] or [100_000, 1_000_000]:
        subprocess.run([sys.executable, __file__, "--one", str(n)], check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
