"""Train the shipped emotion model and report its accuracy (TweetEval emotion).

    python -m socialleads.listen.emotion_train ../shared/data/sentiment [--out src/socialleads/listen/emotion_model.npz]

Reads ``tweeteval/emotion/{train,val,test}_{text,labels}.txt`` (0 anger, 1 joy, 2 optimism, 3 sadness).
Fits on train only, picks the L2 strength on val, and prints test macro-F1 / accuracy next to two
baselines: the majority class, and a small hand-written emotion word list (`SEED_LEXICON`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from socialleads.listen.emotion import EMOTIONS, EmotionModel
from socialleads.listen.sentiment import DEFAULT_BITS, _parts

# The lexicon baseline: a few unambiguous cue words per class (hand-written, not learnt from the data).
SEED_LEXICON = {
    "anger": "angry anger furious rage mad hate outraged annoyed irritated pissed fuming disgusting terrible "
             "awful offended bitter",
    "joy": "happy joy love lovely laugh laughing fun glad delighted amazing awesome excited yay great "
           "wonderful smile",
    "optimism": "hope hopeful optimism optimistic believe faith positive better future confident inspire "
                "inspired strength dream goals",
    "sadness": "sad sadness depressed depression cry crying lonely miss hurt grief sorrow unhappy tears "
               "heartbroken lost",
}


def read_split(folder: Path, split: str) -> tuple[list[str], np.ndarray]:
    text = (folder / f"{split}_text.txt").read_text(encoding="utf-8").split("\n")
    labels = np.array((folder / f"{split}_labels.txt").read_text(encoding="utf-8").split(), np.int64)
    return text[: len(labels)], labels


def fit(texts: list[str], y: np.ndarray, bits: int = DEFAULT_BITS, l2: float = 1e-4, max_iter: int = 300
        ) -> EmotionModel:
    """Multinomial logistic regression (L-BFGS) on hashed features; classes balanced by weight."""
    from scipy.optimize import minimize

    k_cls = len(EMOTIONS)
    n = len(texts)
    rows, keys, scale, _ = _parts(texts, bits, None)
    x = sp.csr_matrix((scale[rows], (rows, keys)), shape=(n, 1 << bits), dtype=np.float64)
    counts = np.bincount(y, minlength=k_cls).astype(np.float64)
    sw = (n / (k_cls * np.maximum(counts, 1)))[y]
    sw = sw / sw.sum()
    onehot = np.eye(k_cls)[y]
    used = np.unique(x.indices)
    xu = sp.csr_matrix(x[:, used])
    k = xu.shape[1]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[: k_cls * k].reshape(k, k_cls), theta[k_cls * k:]
        z = xu @ w + b
        z -= z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1))[:, None]
        val = -(sw * (logp * onehot).sum(axis=1)).sum() + 0.5 * l2 * (w * w).sum()
        g = (np.exp(logp) - onehot) * sw[:, None]
        gw = np.asarray(xu.T @ g) + l2 * w
        return float(val), np.concatenate([gw.ravel(), g.sum(axis=0)])

    res = minimize(loss, np.zeros(k_cls * k + k_cls), jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
    w = np.zeros((1 << bits, k_cls), np.float32)
    w[used] = res.x[: k_cls * k].reshape(k, k_cls)
    return EmotionModel(w=w, b=res.x[k_cls * k:].astype(np.float32), bits=bits)


def lexicon_predict(texts: list[str]) -> np.ndarray:
    """The seed-lexicon baseline: the class with the most cue words (ties and no cue → joy, the majority)."""
    import re

    score = np.zeros((len(texts), len(EMOTIONS)))
    for j, name in enumerate(EMOTIONS):
        words = set(SEED_LEXICON[name].split())
        for i, t in enumerate(texts):  # evaluation only (a few thousand tweets)
            score[i, j] = sum(w in words for w in re.findall(r"[a-z']+", t.lower()))
    order = [1, 0, 2, 3]  # ties: joy first
    return np.array(order)[np.argmax(score[:, order], axis=1)]


def macro_f1(y: np.ndarray, p: np.ndarray, k: int = len(EMOTIONS)) -> float:
    f = []
    for c in range(k):
        tp = np.sum((p == c) & (y == c))
        prec = tp / max(np.sum(p == c), 1)
        rec = tp / max(np.sum(y == c), 1)
        f.append(0.0 if tp == 0 else 2 * prec * rec / (prec + rec))
    return float(np.mean(f))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data", help="../shared/data/sentiment")
    ap.add_argument("--out", default=None, help="where to save the model (.npz)")
    a = ap.parse_args()
    folder = Path(a.data) / "tweeteval" / "emotion"
    tr, ytr = read_split(folder, "train")
    va, yva = read_split(folder, "val")
    te, yte = read_split(folder, "test")
    best = None
    for l2 in (3e-5, 1e-4, 3e-4, 1e-3):
        m = fit(tr, ytr, l2=l2)
        from socialleads.listen.emotion import emotion_proba

        f = macro_f1(yva, emotion_proba(va, m).argmax(axis=1))
        if best is None or f > best[0]:
            best = (f, l2, m)
    assert best is not None
    from socialleads.listen.emotion import emotion_proba

    _, l2, model = best
    pred = emotion_proba(te, model).argmax(axis=1)
    maj = np.bincount(ytr).argmax()
    lex = lexicon_predict(te)
    out = {"l2": l2, "val_macro_f1": round(best[0], 4), "test_n": len(yte),
           "model": {"macro_f1": round(macro_f1(yte, pred), 4), "accuracy": round(float((pred == yte).mean()), 4)},
           "majority": {"macro_f1": round(macro_f1(yte, np.full(len(yte), maj)), 4),
                        "accuracy": round(float((yte == maj).mean()), 4)},
           "lexicon": {"macro_f1": round(macro_f1(yte, lex), 4), "accuracy": round(float((lex == yte).mean()), 4)}}
    if a.out:
        model.save(a.out)
        out["size_bytes"] = Path(a.out).stat().st_size
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
