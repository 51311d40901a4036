"""End to end on a simulated world, as a user runs it: import → enrich → topics → classes → scorecard →
coach → report, each stage in its own process (peak RSS per stage).

    python benchmarks/bench_e2e.py --posts 1000000 [--work /tmp/leads-e2e-1000000] [--stages ...] [--fresh]

The world is simulated into WORK/world once and reused while its truth.json exists (``--fresh`` simulates
again). Stages (default: all but simulate; ``--stages`` picks some, e.g. to re-time one after a change):

* import    `leads import` of the world into a fresh workspace (WORK/workspace);
* enrich    `leads enrich` (sentiment, question form, language);
* topics    `leads topics` (fit on a sample, assign every post);
* classes   `leads classes --all` (content class of every post: the account profiles compare the owner
            with every other account, so all posts are classified);
* scorecard `leads scorecard`: the audience figures and every LEADS section (+ the stage of influence),
            with each section's own seconds; the card is saved to WORK/scorecard.json for the coach;
* coach     `leads coach` on that card;
* report    `leads report` (recomputes the scorecard with its series, renders every section).

Prints each stage's wall seconds, throughput (posts of the world per second), peak RSS and the total
(simulate excluded). Targets (issue 8, this 2-core machine): 1 M posts ≤ 60 s in all with peak RSS ≤ 3 GB;
10 M posts ≤ 10 min with peak RSS ≤ 6 GB.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import format_row, import_world, peak_rss_mib, run_child, simulate_world, stage_result  # noqa: E402

STAGES = ("simulate", "import", "enrich", "topics", "classes", "scorecard", "coach", "report")


def _timed_sections(timings: dict[str, float], rss: dict[str, int]) -> None:
    """Wrap each scorecard section's function so its own seconds, and the process's peak RSS (MiB) when it
    ends, are recorded (benchmark only): the section where the peak jumps is the one that needed the memory."""
    import importlib

    from socialleads.classify import stage as stage_mod
    from socialleads.metrics import scorecard as sc
    from socialleads.metrics.stages import STAGE_MODULES

    def wrap(name: str, fn: Any) -> Any:
        def timed(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                timings[name] = round(timings.get(name, 0.0) + time.perf_counter() - t, 2)
                rss[name] = round(peak_rss_mib())
        return timed

    sc.listen_summary = wrap("listen", sc.listen_summary)
    sc._materialize = wrap("audience_materialize", sc._materialize)
    sc._compute = wrap("audience", sc._compute)
    stage_mod.stage_for_store = wrap("stage_of_influence", stage_mod.stage_for_store)
    for stage, modname in STAGE_MODULES.items():
        mod = importlib.import_module(modname)
        mod.section = wrap(stage, mod.section)


def stage(name: str, work: Path, posts: int, seed: int) -> dict[str, Any]:
    from socialleads.workspace import open_workspace

    world, ws = work / "world", work / "workspace"
    t0 = time.perf_counter()
    extra: dict[str, Any] = {}
    if name == "simulate":
        extra = simulate_world(world, posts, seed)
    elif name == "import":
        extra = import_world(world, ws)
    elif name == "enrich":
        from socialleads.enrich.signals import enrich

        with open_workspace(ws) as w:
            r = enrich(w.store, force=True)
        extra = {k: r.get(k) for k in ("computed", "batches")}
    elif name == "topics":
        from socialleads.listen.topics import fit_topics

        with open_workspace(ws) as w:
            r = fit_topics(w.store)
        extra = {k: r.get(k) for k in ("sampled", "topics", "outlier_share", "fit_seconds", "assign_seconds")}
    elif name == "classes":
        from socialleads.classify.classes import classify_posts

        with open_workspace(ws) as w:
            r = classify_posts(w.store, w.config, force=True)
        extra = {"computed": r["computed"], "batches": r["batches"]}
    elif name == "scorecard":
        from socialleads.metrics.scorecard import build_scorecard

        sections: dict[str, float] = {}
        rss: dict[str, int] = {}
        _timed_sections(sections, rss)
        with open_workspace(ws, read_only=True) as w:
            card = build_scorecard(w.store, w.owner_keys(), w.config)
        (work / "scorecard.json").write_text(json.dumps(card, default=str))
        extra = {"grades": {k: (card.get(k) or {}).get("grade", {}).get("letter") for k in
                            ("listen", "engage", "activate", "dominate", "mandate")},
                 "influence": (card.get("stage_of_influence") or {}).get("stage"), "section_seconds": sections,
                 "peak_rss_after_mib": rss}
    elif name == "coach":
        from socialleads.classify.coach import coach

        card = json.loads((work / "scorecard.json").read_text()) if (work / "scorecard.json").exists() else None
        with open_workspace(ws, read_only=True) as w:
            acts = coach(w.store, w.owner_keys(), w.config, card)
        extra = {"actions": len(acts)}
    elif name == "report":
        from socialleads.report import write_report

        with open_workspace(ws, read_only=True) as w:
            out = write_report(w.store, w.owner_keys(), w.config, work / "report.html")
        html = out.read_text(encoding="utf-8")
        extra = {"mb": round(len(html) / 1e6, 1)}
    else:
        raise SystemExit(f"unknown stage {name}")
    return stage_result(name, t0, posts, extra)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--stages", default=",".join(STAGES[1:]))
    ap.add_argument("--fresh", action="store_true", help="simulate the world again even if one exists")
    ap.add_argument("--json", type=Path, help="also write the results to this JSON file")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    a = ap.parse_args()
    work = a.work or Path(f"/tmp/leads-e2e-{a.posts}")
    if a.one:
        print(json.dumps(stage(a.one, work, a.posts, a.seed), default=str), flush=True)
        return
    names = [s for s in a.stages.split(",") if s]
    bad = [s for s in names if s not in STAGES]
    if bad:
        raise SystemExit(f"--stages: unknown stage(s) {', '.join(bad)}; known: {', '.join(STAGES)}")
    work.mkdir(parents=True, exist_ok=True)
    if "simulate" not in names and (a.fresh or not (work / "world" / "truth.json").exists()):
        names.insert(0, "simulate")
    args = ["--posts", str(a.posts), "--seed", str(a.seed), "--work", str(work)]
    print(f"# {a.posts:,} posts, work dir {work}", flush=True)
    results, total, peak = [], 0.0, 0
    for name in names:
        r = run_child(__file__, name, args)
        results.append(r)
        print(format_row(r), flush=True)
        if name != "simulate":
            total += r["seconds"]
            peak = max(peak, r["peak_rss_mib"])
    print(f"{'total':<10} {total:8.2f} s  {round(a.posts / total) if total else 0:>10,} posts/s  "
          f"peak RSS {peak:>6,} MiB  (every stage run, simulate excluded)", flush=True)
    by = {r["stage"]: r for r in results}
    summary: dict[str, Any] = {}
    pipeline = [s for s in ("import", "enrich", "topics", "classes", "coach", "report") if s in by]
    if len(pipeline) == 6:
        # `leads report` computes every scorecard figure itself, so the scorecard stage is not counted twice
        secs = sum(by[s]["seconds"] for s in pipeline)
        summary["pipeline_seconds"] = round(secs, 2)
        print(f"{'pipeline':<10} {secs:8.2f} s  {round(a.posts / secs):>10,} posts/s  "
              f"peak RSS {max(by[s]['peak_rss_mib'] for s in pipeline):>6,} MiB  "
              f"(import → enrich → topics → classes → coach → report; the report computes every figure)", flush=True)
    if "classes" in by and "scorecard" in by and "coach" in by:
        sec = by["scorecard"].get("section_seconds") or {}
        parts = {"classes": by["classes"]["seconds"], **{k: sec.get(k, 0.0) for k in
                 ("activate", "dominate", "mandate", "stage_of_influence")}, "coach": by["coach"]["seconds"]}
        summary["issue6_seconds"] = round(sum(parts.values()), 2)
        print(f"{'issue 6':<10} {summary['issue6_seconds']:8.2f} s  (classes + Activate + Dominate + Mandate "
              f"+ stage of influence + coach: {parts})", flush=True)
    if a.json:
        a.json.write_text(json.dumps({"posts": a.posts, "stages": results, "total_seconds": round(total, 2),
                                      "peak_rss_mib": peak, **summary}, indent=1, default=str))


if __name__ == "__main__":
    main()
