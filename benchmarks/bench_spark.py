"""The whole scorecard on Spark against DuckDB, and per-post enrichment on Spark (issue 8).

    python benchmarks/bench_spark.py [--posts 200000] [--seed 3] [--work /tmp/leads-bench-spark]
                                     [--master local[2]]

Simulates a world, imports it into a workspace, enriches it on DuckDB (signals, topics, classes of the
owner and competitors), writes the Parquet dataset, then times:

* `duckdb scorecard`: `scorecard_and_series` on the store (every section, the series);
* `spark scorecard`: the same on `SparkStore` over the dataset (every section on Spark), and checks
  that both cards are equal (counts, rates to 1e-9);
* `spark enrich`, `spark topics`, `spark classes`: the Arrow batch functions on the executors.

Prints one row per stage: seconds, posts/s, and the peak RSS of the Python driver and of Spark's JVM
(sampled every 0.2 s with psutil; the JVM is the driver process's child). Needs the `spark` and `bench`
extras and Java 17+.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import import_world, peak_rss_mib, simulate_world  # noqa: E402


class JvmPeak:
    """Peak RSS of this process's child processes (Spark's JVM), sampled in a thread."""

    def __init__(self) -> None:
        import psutil

        self.me = psutil.Process()
        self.peak = 0.0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = 0
            for c in self.me.children(recursive=True):
                try:
                    rss += c.memory_info().rss
                except Exception:  # noqa: S112 - a child that just exited
                    continue
            self.peak = max(self.peak, rss / 2**20)
            self._stop.wait(0.2)

    def reset(self) -> None:
        self.peak = 0.0

    def stop(self) -> None:
        self._stop.set()


def diffs(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict):
        if not isinstance(b, dict) or set(a) != set(b):
            return [f"{path}: keys differ"]
        return [d for k in a for d in diffs(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list | tuple):
        if not isinstance(b, list | tuple) or len(a) != len(b):
            return [f"{path}: lengths differ"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in diffs(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and not isinstance(a, bool):
        ok = isinstance(b, float | int) and (math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
                                             or (math.isnan(a) and math.isnan(float(b))))
        return [] if ok else [f"{path}: {a!r} != {b!r}"]
    return [] if a == b else [f"{path}: {a!r:.80} != {b!r:.80}"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--work", type=Path, default=Path("/tmp/leads-bench-spark"))
    ap.add_argument("--master", default="local[2]")
    args = ap.parse_args()

    from socialleads.classify.classes import classify_posts
    from socialleads.dominate.members import members_of
    from socialleads.engine.parquet import write_dataset
    from socialleads.engine.spark import spark_enrich, spark_session
    from socialleads.engine.spark_enrich import spark_classify, spark_topics
    from socialleads.engine.spark_sql import SparkStore
    from socialleads.enrich import enrich
    from socialleads.listen.topics import fit_topics
    from socialleads.metrics.scorecard import scorecard_and_series
    from socialleads.workspace import open_workspace

    world, ws_dir, root = args.work / "world", args.work / "ws", args.work / "parquet"
    args.work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    simulate_world(world, args.posts, args.seed)
    import_world(world, ws_dir)
    with open_workspace(ws_dir) as ws:
        enrich(ws.store)
        fit_topics(ws.store)
        owners = ws.owner_keys()
        classify_posts(ws.store, ws.config,
                       account_keys=sorted({k for m in members_of(ws.store, ws.config, owners) for k in m.keys}))
        shutil.rmtree(root, ignore_errors=True)
        write_dataset(ws.store, root)
    print(f"world of {args.posts:,} posts prepared in {time.perf_counter() - t0:.1f} s (simulate, import, "
          f"enrich, topics, classes, dataset)", flush=True)

    rows: list[tuple[str, float, int]] = []
    jvm = JvmPeak()
    with open_workspace(ws_dir, read_only=True) as ws:
        owners, config = ws.owner_keys(), ws.config
        t = time.perf_counter()
        duck = scorecard_and_series(ws.store, owners, config, series=True)
        rows.append(("duckdb scorecard (every section + series)", time.perf_counter() - t, args.posts))
    session = spark_session(args.master)
    session.sparkContext.setLogLevel("ERROR")
    jvm.reset()
    t = time.perf_counter()
    with SparkStore(session, root) as store:
        on_spark = scorecard_and_series(store, owners, config, series=True)
    rows.append(("spark scorecard (every section + series)", time.perf_counter() - t, args.posts))
    jvm_peaks = [jvm.peak]
    a, b = duck["scorecard"], on_spark["scorecard"]
    a.pop("engine"), b.pop("engine")
    found = diffs(a, b, "scorecard") + diffs(duck["series"], on_spark["series"], "series")
    for name, fn in (("spark enrich (text signals)", lambda: spark_enrich(session, root)),
                     ("spark topics (fit on driver, assign on executors)", lambda: spark_topics(session, root)),
                     ("spark classes (owner + competitors)", lambda: spark_classify(session, root, config, owners))):
        jvm.reset()
        t = time.perf_counter()
        fn()
        rows.append((name, time.perf_counter() - t, args.posts))
        jvm_peaks.append(jvm.peak)
    jvm.stop()
    session.stop()
    print(f"\n{'stage':52} {'seconds':>8} {'posts/s':>10} {'JVM peak MiB':>13}")
    for (name, secs, n), jp in zip(rows, [None, *jvm_peaks], strict=True):
        print(f"{name:52} {secs:8.1f} {n / secs:10,.0f} {'' if jp is None else f'{jp:13,.0f}'}")
    print(f"\ndriver (Python) peak RSS {peak_rss_mib():,.0f} MiB; master {args.master}")
    print("scorecard on Spark equals DuckDB's" if not found else f"{len(found)} differences: " + "; ".join(found[:10]))
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
