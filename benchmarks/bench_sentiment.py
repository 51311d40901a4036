"""Default sentiment scorer vs the vaderSentiment package on TweetEval sentiment (issue 4, point 2).

    python benchmarks/bench_sentiment.py [--data ../shared/data/sentiment] [--repeat 3]

One run, same machine, same texts: macro-F1 and macro-recall on the TweetEval sentiment TEST split
(12,284 tweets; never used in training), and throughput (texts/s, best of --repeat) of both scorers.
VADER's label: compound >= 0.05 positive, <= -0.05 negative, else neutral (its authors' rule).
The bar: the default beats VADER's macro-F1 and is >= 10x faster. Also prints peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np

from socialleads.listen.sentiment import LABELS, _read_split, score_texts


def macro(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    f1, rec = [], []
    for k in range(3):
        tp = int(((p == k) & (y == k)).sum())
        prec = tp / max(int((p == k).sum()), 1)
        r = tp / max(int((y == k).sum()), 1)
        f1.append(2 * prec * r / (prec + r) if prec + r else 0.0)
        rec.append(r)
    return float(np.mean(f1)), float(np.mean(rec))


def best_rate(fn, texts: list[str], repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(texts)
        best = min(best, time.perf_counter() - t0)
    return len(texts) / best, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data/sentiment")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    texts, y = _read_split(Path(a.data) / "tweeteval" / "sentiment", "test")
    score_texts(texts[:10])  # load the model once, outside the timing
    rate, (labels, _) = best_rate(score_texts, texts, a.repeat)
    pred = np.searchsorted(LABELS, labels)  # LABELS is sorted: negative < neutral < positive
    f1, rec = macro(y, pred)
    rows = [{"scorer": "socialleads default", "macro_f1": f1, "macro_recall": rec, "texts_per_s": rate}]
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        print("vaderSentiment is not installed (pip install vaderSentiment): VADER left out")
    else:
        sia = SentimentIntensityAnalyzer()

        def vader(ts: list[str]) -> np.ndarray:
            return np.array([sia.polarity_scores(t)["compound"] for t in ts])

        vrate, comp = best_rate(vader, texts, a.repeat)
        vpred = np.where(comp >= 0.05, 2, np.where(comp <= -0.05, 0, 1))
        vf1, vrec = macro(y, vpred)
        rows.append({"scorer": "vaderSentiment", "macro_f1": vf1, "macro_recall": vrec, "texts_per_s": vrate})
        rows.append({"speedup": rate / vrate, "beats_vader_f1": f1 > vf1, "ten_x_faster": rate >= 10 * vrate})
    print(f"TweetEval sentiment test: {len(texts)} tweets, labels {np.bincount(y).tolist()} (neg, neu, pos)")
    for r in rows:
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()}))
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
