"""Listen in batch (issue 4): text signals (`enrich`) and monitor matching over every stored post.

    python benchmarks/bench_listen_batch.py [--posts 200000,1000000] [--work /tmp/blb] [--repeat 2]

For each size N the simulated world is reused from ``/tmp/bt/world-N`` or ``WORK/world-N`` when one
is there (a `leads simulate` folder: it holds ``truth.json`` and ``leads.toml``), else simulated into
``WORK/world-N``; it is imported once into the workspace ``WORK/ws-N`` (reused when it holds N posts).
Topics are fitted once (``fit_topics``) so that ``enrich(..., topics=True)`` assigns new posts.

Printed, one JSON line each:

* ``enrich/<component>``: the components of ``enrich`` timed one by one on all N posts read as one
  Arrow table — read, tokenize (+ hashing), sentiment, emotion, question form, language (posts without
  a source language only), topic assignment, the INSERT into post_signals — with posts/s;
* ``enrich/total``: ``enrich(store, force=True)`` end to end (post_topics emptied first, so topic
  assignment of every post is included), best of ``--repeat``;
* ``monitor/<name>``: ``count_matches`` of 5 typical monitors over all stored posts, and ``monitor/all``;
* ``enrich/signals``: ``enrich(store, force=True, topics=False)``: the text signals alone (sentiment,
  emotion, question form, language), best of ``--repeat``;
* ``combined``: N / (enrich/signals + all monitors) — the issue's "monitor matching + text signals";
  ``combined+topics``: N / (enrich total + all monitors), topic assignment of every post included.

Peak RSS at the end. The machine is shared: compare ratios within one run, repeat.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

sys.path.insert(0, str(Path(__file__).parent))
from _common import import_world, simulate_world  # noqa: E402


def brand_query(cfg_path: Path) -> str:
    """The owner brand monitor of a simulated leads.toml: brand name, owner handles, product terms."""
    import tomllib

    cfg = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
    handles = sorted({a["handle"].split("@")[0].split(".")[0] for a in cfg["owner"]["accounts"]})
    terms = [f'"{t}"' for t in cfg.get("brand", {}).get("product_terms", [])]
    parts = [*handles, *(f"@{h}" for h in handles), *(f"#{h}" for h in handles), *terms]
    return " OR ".join(dict.fromkeys(parts))


def monitors(world: Path) -> dict[str, str]:
    return {
        "brand": brand_query(world / "leads.toml"),
        "hashtags": "#solar OR #rooftopsolar OR #pv OR #heatpumps OR #batteries",
        "near": "heat NEAR/3 pump",
        "not": "solar NOT (#solar OR tariffs)",
        "wildcard": "batter* AND charg*",
    }


def find_world(n: int, work: Path) -> Path:
    for cand in (Path(f"/tmp/bt/world-{n}"), work / f"world-{n}"):
        if (cand / "truth.json").exists() and (cand / "leads.toml").exists() and any(cand.glob("posts-*.jsonl")):
            return cand
    world = work / f"world-{n}"
    simulate_world(world, n, seed=1)
    return world


def workspace(n: int, world: Path, work: Path) -> Path:
    from socialleads.workspace import open_workspace

    ws = work / f"ws-{n}"
    if (ws / "leads.duckdb").exists():
        try:
            with open_workspace(ws) as w:
                if w.store.con.execute("SELECT count(*) FROM posts").fetchall()[0][0] == n:
                    return ws
        except Exception:  # noqa: BLE001 - a broken leftover: rebuild it
            pass
    import_world(world, ws)
    return ws


def row(name: str, seconds: float, posts: int, **extra: Any) -> dict[str, Any]:
    r = {"what": name, "seconds": round(seconds, 3), "posts_per_s": round(posts / seconds) if seconds > 0 else None,
         **extra}
    print(json.dumps(r), flush=True)
    return r


def timed(fn, repeat: int = 1):
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def components(store: Any, n: int, repeat: int) -> None:
    """Each step of enrich timed alone on all posts (one Arrow table)."""
    from socialleads.enrich import signals as sig
    from socialleads.listen import sentiment as se
    from socialleads.listen.emotion import default_emotion_model
    from socialleads.listen.language import detect
    from socialleads.listen.topics import _blas1, load_model

    con = store.con
    t, tbl = timed(lambda: con.sql("SELECT post_key, text, lang FROM posts").to_arrow_table(), repeat)
    row("enrich/read", t, n)
    text = tbl.column("text").combine_chunks()
    lang = tbl.column("lang").combine_chunks()
    has = pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(text), ""), False).to_numpy(zero_copy_only=False)
    idx = np.flatnonzero(has)
    sel = text.take(pa.array(idx))
    mdl, emo = se.default_model(), default_emotion_model()
    t, items = timed(lambda: sel.to_pylist(), repeat)
    row("enrich/to_python", t, n)
    t, parts = timed(lambda: se._parts(items, mdl.bits, mdl.lex), repeat)
    row("enrich/tokenize+hash", t, n)
    rows, keys, scale, dense = parts

    def sentiment() -> np.ndarray:
        if hasattr(se, "proba_from_parts"):  # the current path (sparse product in float64)
            return se.proba_from_parts(mdl, rows, keys, scale, dense)
        z = dense @ mdl.lex_w + mdl.b  # the path before it (a bincount per class)
        wk = mdl.w[keys]
        for c in range(3):
            z[:, c] += np.bincount(rows, wk[:, c], minlength=len(items)) * scale
        return z

    t, _ = timed(sentiment, repeat)
    row("enrich/sentiment", t, n)
    t, _ = timed(lambda: emo.proba_from_parts(rows, keys, scale, len(items)), repeat)
    row("enrich/emotion", t, n)
    t, _ = timed(lambda: sig.question_flags(text, lang), repeat)
    row("enrich/question", t, n)
    missing = np.flatnonzero(has & ~lang.is_valid().to_numpy(zero_copy_only=False))
    t, _ = timed(lambda: detect(text.take(pa.array(missing))), repeat)
    row("enrich/language", t, n, detected=len(missing), texts_per_s=round(len(missing) / t) if t else None)
    model = load_model(store)
    if model is not None:
        def assign() -> Any:
            with _blas1():
                return model.assign(sel)
        t, _ = timed(assign, repeat)
        row("enrich/topics_assign", t, n)


def full_enrich(store: Any, n: int, repeat: int, topics: bool = True) -> float:
    from socialleads.enrich import enrich

    best = float("inf")
    for _ in range(repeat):
        store.con.execute("DELETE FROM post_topics").fetchall()
        store.con.execute("DELETE FROM post_signals").fetchall()
        store.con.execute("CHECKPOINT").fetchall()
        t0 = time.perf_counter()
        out = enrich(store, topics=topics)
        best = min(best, time.perf_counter() - t0)
    if topics:
        row("enrich/total", best, n, computed=out["computed"], topics_assigned=out.get("topics", {}).get("assigned"))
    else:
        row("enrich/signals", best, n, computed=out["computed"])
    return best


def match_all(store: Any, world: Path, n: int, repeat: int) -> float:
    from socialleads.listen.monitors import count_matches

    total = 0.0
    for name, q in monitors(world).items():
        t, hits = timed(lambda q=q: count_matches(store, q), repeat)
        row(f"monitor/{name}", t, n, matches=hits, query=q)
        total += t
    row("monitor/all", total, n)
    return total


def run(n: int, work: Path, repeat: int, parts: bool) -> None:
    from socialleads.listen.topics import fit_topics, has_topics
    from socialleads.workspace import open_workspace

    world = find_world(n, work)
    ws = workspace(n, world, work)
    with open_workspace(ws) as w:
        store = w.store
        if not has_topics(store):
            t0 = time.perf_counter()
            fit_topics(store)
            row("topics/fit+assign (setup)", time.perf_counter() - t0, n)
        print(f"# {n} posts, world {world}, workspace {ws}", flush=True)
        if parts:
            components(store, n, repeat)
        ts = full_enrich(store, n, repeat, topics=False)
        te = full_enrich(store, n, repeat)
        tm = match_all(store, world, n, repeat)
        # the figure: the text signals of issue 4 point 2 (sentiment, emotion, question form,
        # language) + monitor matching; and the same with every post's topic assignment as well
        row("combined", ts + tm, n, signals_s=round(ts, 3), monitors_s=round(tm, 3))
        row("combined+topics", te + tm, n, enrich_s=round(te, 3), monitors_s=round(tm, 3))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", default="200000,1000000")
    ap.add_argument("--work", default="/tmp/blb")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--no-components", action="store_true")
    a = ap.parse_args()
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    for n in [int(x) for x in a.posts.split(",")]:
        run(n, work, a.repeat, not a.no_components)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
