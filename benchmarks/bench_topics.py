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


def tweet_topic(embeddings: bool) -> None:
    """tweet_topic_xl en (train + validation = all 200 English tweets in the shared copy): NMI / ARI of the
    clusters vs the primary (first) label, a shuffled baseline, and a supervised readout (cluster → majority
    train label, accuracy / macro-F1 on validation)."""
    import numpy as np
    from sklearn.metrics import adjusted_rand_score, f1_score, normalized_mutual_info_score

    from socialleads.listen.topics import fit_model, minilm_embedder

    root = Path(__file__).parents[1] / ".." / "shared" / "data" / "topics" / "tweet_topic_xl"
    rows = {s: [json.loads(x) for x in (root / f"en_{s}.jsonl").read_text(encoding="utf-8").splitlines()]
            for s in ("train", "validation")}
    allr = rows["train"] + rows["validation"]
    y = np.array([r["topics"][0] if r["topics"] else "none" for r in allr])
    ntr = len(rows["train"])
    methods = [("lsa-kmeans", None)] + ([("minilm", minilm_embedder())] if embeddings else [])
    for name, emb in methods:
        res = []
        for seed in range(3):
            _, t, _ = fit_model([r["text"] for r in allr], k=19, seed=seed, min_size=1, min_score=0.0, embedder=emb)
            rng = np.random.default_rng(seed)
            maj = {c: max(set(y[:ntr][t[:ntr] == c]), key=list(y[:ntr][t[:ntr] == c]).count)
                   for c in set(t[:ntr])}
            fallback = max(set(y[:ntr]), key=list(y[:ntr]).count)
            pred = np.array([maj.get(c, fallback) for c in t[ntr:]])
            res.append((normalized_mutual_info_score(y, t), normalized_mutual_info_score(y, rng.permutation(t)),
                        adjusted_rand_score(y, t), float((pred == y[ntr:]).mean()),
                        f1_score(y[ntr:], pred, average="macro", zero_division=0)))
        m = np.mean(res, axis=0)
        print(json.dumps({"method": name, "texts": len(allr), "nmi": round(m[0], 3), "nmi_shuffled": round(m[1], 3),
                          "ari": round(m[2], 3), "val_accuracy": round(m[3], 3), "val_macro_f1": round(m[4], 3),
                          "val_majority_accuracy": round(float((y[ntr:] == fallback).mean()), 3)}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=200_000)
    ap.add_argument("--work", default=None)
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--sample", type=int, default=50_000)
    ap.add_argument("--k", type=int, default=None)
    ap.add_argument("--stage", default="all", help=argparse.SUPPRESS)
    ap.add_argument("--tweet-topic", action="store_true", help="only the tweet_topic_xl agreement figures")
    ap.add_argument("--embeddings", action="store_true", help="with --tweet-topic: also MiniLM embeddings")
    a = ap.parse_args()
    if a.tweet_topic:
        tweet_topic(a.embeddings)
        return
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
