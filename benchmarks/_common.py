"""Helpers shared by the end-to-end benchmarks (bench_pipeline.py, bench_e2e.py).

Each stage runs in its own Python process (the script re-invokes itself with ``--one STAGE``), so the
peak RSS that process reports (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) belongs to that stage alone.
The child prints one JSON line; the parent parses the last line of its stdout and prints a table row.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

RESULT_KEYS = ("stage", "seconds", "posts_per_s", "peak_rss_mib")


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stage_result(name: str, t0: float, posts: int, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON line of one stage: wall seconds since `t0`, posts/s, peak RSS, and any extra figures."""
    seconds = time.perf_counter() - t0
    return {"stage": name, "seconds": round(seconds, 2), "posts_per_s": round(posts / seconds) if seconds else None,
            "peak_rss_mib": round(peak_rss_mib()), **(extra or {})}


def simulate_world(world: Path, posts: int, seed: int) -> dict[str, Any]:
    """`leads simulate` into `world` (replacing it); returns {"bytes": size of the files written}."""
    from socialleads.simulate import simulate

    shutil.rmtree(world, ignore_errors=True)
    simulate(world, posts=posts, seed=seed)
    return {"bytes": sum(f.stat().st_size for f in world.iterdir())}


def import_world(world: Path, ws: Path) -> dict[str, Any]:
    """`leads init --config world/leads.toml` + `leads import world` into a fresh workspace `ws`."""
    from socialleads.sources.importer import import_path
    from socialleads.workspace import init_workspace, open_workspace

    shutil.rmtree(ws, ignore_errors=True)
    init_workspace(ws, config_from=world / "leads.toml")
    with open_workspace(ws) as w:
        s = import_path(w.store, world)
        w.mark_owner_accounts()
        return {k: v for k, v in s.to_json().items() if k in ("posts", "interactions", "accounts", "quarantined")}


def run_child(script: str | Path, stage: str, args: list[str]) -> dict[str, Any]:
    """Run `script --one stage *args` in a fresh interpreter; the stage's JSON result (its last stdout line)."""
    out = subprocess.run([sys.executable, str(script), "--one", stage, *args], capture_output=True, text=True)
    if out.returncode != 0:
        sys.stderr.write(out.stderr[-4000:])
        raise SystemExit(f"stage {stage} failed (exit {out.returncode})")
    return json.loads(out.stdout.strip().splitlines()[-1])


def format_row(r: dict[str, Any]) -> str:
    rest = {k: v for k, v in r.items() if k not in RESULT_KEYS}
    pps = f"{r['posts_per_s']:>10,}" if r.get("posts_per_s") is not None else f"{'-':>10}"
    return (f"{r['stage']:<10} {r['seconds']:8.2f} s  {pps} posts/s  peak RSS {r['peak_rss_mib']:>6,} MiB"
            + (f"  {json.dumps(rest, default=str)}" if rest else ""))
