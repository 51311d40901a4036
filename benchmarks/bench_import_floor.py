"""The floor under issue 2's import target: DuckDB's own load of a simulated world, next to `leads import`.

Issue 2 asks `leads import` for >= 500 k posts/s on this 2-core machine. This script measures, on the same
world and back to back (the machine is shared: compare within one run), three things:

  1. `bare`: DuckDB's `read_json` of the world's posts and interactions files (auto-detected typed columns)
     into persistent tables of a fresh database file, then CHECKPOINT — no validation, no quarantine, no line
     numbers, no deduplication or merge, no derived interactions, no provenance;
  2. `bare_uncompressed`: the same with `force_compression = 'uncompressed'` (DuckDB's storage compression is
     most of a persistent write's CPU);
  3. `leads import`: the whole import into a fresh workspace, in its own process.

Each prints seconds and posts/s of the world's posts. If the bare load is slower than 500 k posts/s, the
target cannot be met by any import into a DuckDB store on this machine.

    python benchmarks/bench_import_floor.py --posts 1000000 --work /tmp/floor
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb


def bare(world: Path, db: Path, uncompressed: bool) -> float:
    for f in (db, db.with_suffix(".duckdb.wal")):
        f.unlink(missing_ok=True)
    con = duckdb.connect(str(db), config={"memory_limit": "1280MB"})
    if uncompressed:
        con.execute("SET force_compression = 'uncompressed'")
    posts = [str(p) for p in sorted(world.glob("posts-*.jsonl"))]
    inter = [str(p) for p in sorted(world.glob("interactions-*.jsonl"))]
    t = time.perf_counter()
    con.execute(f"CREATE TABLE posts AS SELECT * FROM read_json({posts!r}, format = 'newline_delimited')")
    con.execute(f"CREATE TABLE interactions AS SELECT * FROM read_json({inter!r}, format = 'newline_delimited')")
    con.execute("CHECKPOINT")
    seconds = time.perf_counter() - t
    con.close()
    return seconds


def leads_import(world: Path, ws: Path) -> float:
    shutil.rmtree(ws, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "socialleads", "init", str(ws)], check=True, capture_output=True)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "socialleads", "import", str(world), "--json", "-w", str(ws)],
                   check=True, capture_output=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_import_floor"))
    a = ap.parse_args()
    world = a.work / "world"
    if not (world / "truth.json").is_file():
        subprocess.run([sys.executable, "-m", "socialleads", "simulate", "--posts", str(a.posts), "--seed",
                        str(a.seed), "--out", str(world)], check=True, capture_output=True)
    n = sum(1 for p in world.glob("posts-*.jsonl") for _ in p.open("rb"))
    rows = {"bare": bare(world, a.work / "bare.duckdb", False),
            "bare_uncompressed": bare(world, a.work / "bare.duckdb", True),
            "leads_import": leads_import(world, a.work / "ws")}
    for k, s in rows.items():
        print(f"{k:<18} {s:7.2f} s  {n / s:>10,.0f} posts/s")
    print(json.dumps({"posts": n, **{k: round(v, 2) for k, v in rows.items()}}))


if __name__ == "__main__":
    main()
