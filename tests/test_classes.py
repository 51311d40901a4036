"""Content classes: the labelled evaluation set (real posts of ../shared), the classifier against it and
against the simulator's ground truth, the store round trip and the account profile."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest

from socialleads.classify.classes import (
    CLASSES,
    BrandCues,
    ClassifyError,
    class_mix,
    classify_posts,
    classify_table,
    classify_texts,
)
from socialleads.classify.evalset import EvalSetError, load_evalset, read_labels
from socialleads.classify.profile import account_profiles, owner_profile, profile_rule
from socialleads.store import open_store
from socialleads.store.db import run_sql

HERE = Path(__file__).parent
EVAL = HERE / "data" / "content_classes_eval.csv"
SHARED = HERE.parent.parent / "shared"

# The brand cues each account of the set would write in its leads.toml (its own products and domains);
# documented in docs/content-classes.md.
BRANDS = {
    "fixtures/twitter/archive_rtiatmla/data/tweet.js": BrandCues(
        ("Research Training Institute", "#RTI2021", "#JoinRTI", "RTI fellows", "RTI faculty"), ()),
    "fixtures/mastodon/archive_dealingwith_full/outbox.json": BrandCues(
        (), ("daniel.industries", "danielmiller.bandcamp.com", "letterbird.co")),
    "fixtures/twitter/archive_larsbrinkhoff/archive_2021-03-22/data/tweet.js": BrandCues(
        (), ("github.com/PDP-10", "github.com/larsbrinkhoff")),
}

# Floors measured on the whole set (see docs/content-classes.md), with a margin below the measurement.
FLOORS = {  # class: (precision floor, recall floor)
    "conversational": (0.90, 0.78),
    "curation": (0.62, 0.70),
    "promotional": (0.62, 0.35),
    "personal": (0.52, 0.57),
    "thought-leadership": (0.30, 0.42),
    "how-to": (0.10, 0.28),
}
ACCURACY_FLOOR = 0.64

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared is not present")


@pytest.fixture(scope="module")
def evalset() -> pa.Table:
    return load_evalset(EVAL, SHARED)


def _predict(t: pa.Table) -> list[str]:
    src = t.column("source_file").to_pylist()
    out: list[str | None] = [None] * t.num_rows
    for s in set(src):
        idx = [i for i, x in enumerate(src) if x == s]
        got = classify_table(t.take(pa.array(idx)), BRANDS.get(s)).column("class").to_pylist()
        for i, c in zip(idx, got, strict=True):
            out[i] = c
    return out  # type: ignore[return-value]


# -- the evaluation set --------------------------------------------------------------------------------

def test_labels_file_holds_ids_and_labels_only():
    with open(EVAL, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0].keys()) == ["source_file", "item_id", "label", "note"]
    assert len(rows) >= 400
    assert {r["label"] for r in rows} == set(CLASSES)
    assert len({(r["source_file"], r["item_id"]) for r in rows}) == len(rows)  # no item twice
    assert max(len(r["note"]) for r in rows) < 80  # notes, never copied texts


@needs_shared
def test_every_item_resolves_from_shared(evalset):
    assert evalset.num_rows >= 400
    texts = evalset.column("text").to_pylist()
    kinds = evalset.column("kind").to_pylist()
    # every item has text except boosts (a Mastodon Announce carries no text of its own)
    assert all(t.strip() or k == "repost" for t, k in zip(texts, kinds, strict=True))
    srcs = Counter(evalset.column("source_file").to_pylist())
    assert len(srcs) >= 10
    families = {s.split("/")[1] for s in srcs}
    assert {"twitter", "mastodon", "bluesky", "reddit", "tweeteval", "tweet_topic_xl"} <= families | {
        s.split("/")[2] for s in srcs}


def test_bad_label_and_missing_item_are_named(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("source_file,item_id,label,note\n"
                   "data/sentiment/tweeteval/sentiment/test_text.txt,1,opinion,\n", encoding="utf-8")
    with pytest.raises(EvalSetError, match="row 2: unknown label 'opinion'"):
        read_labels(bad)
    missing = tmp_path / "missing.csv"
    missing.write_text("source_file,item_id,label,note\n"
                       "data/sentiment/tweeteval/sentiment/test_text.txt,999999999,personal,\n", encoding="utf-8")
    if SHARED.is_dir():
        with pytest.raises(EvalSetError, match="row 2: item 999999999 not in"):
            load_evalset(missing, SHARED)


@needs_shared
def test_precision_recall_floors_on_the_labelled_set(evalset):
    gold = evalset.column("label").to_pylist()
    pred = _predict(evalset)
    # by hand …
    acc = sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold)
    assert acc >= ACCURACY_FLOOR
    for c, (pf, rf) in FLOORS.items():
        tp = sum(g == c and p == c for g, p in zip(gold, pred, strict=True))
        n_pred = sum(p == c for p in pred)
        n_gold = sum(g == c for g in gold)
        assert n_gold > 0
        prec = tp / n_pred if n_pred else 0.0
        rec = tp / n_gold
        assert prec >= pf, (c, prec)
        assert rec >= rf, (c, rec)
    # … and the same figures from scikit-learn when it is installed
    metrics = pytest.importorskip("sklearn.metrics")
    p, r, _, _ = metrics.precision_recall_fscore_support(gold, pred, labels=list(FLOORS), zero_division=0)
    for (c, (pf, rf)), pi, ri in zip(FLOORS.items(), p, r, strict=True):
        assert pi >= pf and ri >= rf, c


# -- the rules on hand-made posts -------------------------------------------------------------------------

def test_rule_order_on_hand_made_posts():
    cues = BrandCues(("Voltwise Hub",), ("voltwise.example",))
    cases = [
        ("", "repost", "curation"),
        ("@ana thanks, glad it helped!", "reply", "conversational"),
        ("New: the Voltwise Hub is here, 20% off this week", "original", "promotional"),
        ("How to read your Voltwise Hub graphs in three steps", "original", "how-to"),
        ("Our view: metering should be open, because data shows guessing fails", "original", "thought-leadership"),
        ("Spring offer: 20% off everything this week only", "original", "promotional"),
        ("Worth a read https://example.org/a", "original", "curation"),
        ("Tip: use a timer to find standby loads", "original", "how-to"),
        ("Went to the lake with my kids today, lovely", "original", "personal"),
        ("What do you use to track your energy use?", "original", "conversational"),
        ("Great piece https://news.example/x", "quote", "curation"),
    ]
    got = classify_texts([c[0] for c in cases], [c[1] for c in cases], cues)
    assert got == [c[2] for c in cases]


def test_self_reply_is_classified_by_content_not_as_conversation():
    t = pa.table({"text": ["I think the real lesson of ITS is that history matters because it repeats",
                           "I think the real lesson of ITS is that history matters because it repeats"],
                  "kind": ["reply", "reply"], "self_reply": [True, False]})
    assert classify_table(t).column("class").to_pylist() == ["thought-leadership", "conversational"]


def test_own_domain_link_is_promotional_unless_it_teaches():
    cues = BrandCues((), ("shop.example",))
    got = classify_texts(["Back today https://shop.example/p/1", "How to pick a meter: https://shop.example/guide"],
                         None, cues)
    assert got == ["promotional", "how-to"]


# -- the store ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sim_store(tmp_path_factory):
    from socialleads.simulate import simulate
    from socialleads.sources.importer import import_path
    from socialleads.workspace.config import load_config

    out = tmp_path_factory.mktemp("sim_classes")
    simulate(out, posts=4000, seed=3)
    s = open_store(None)
    import_path(s, out)
    yield s, load_config(out / "leads.toml"), out
    s.close()


def test_simulated_owner_posts_against_ground_truth(sim_store):
    s, cfg, out = sim_store
    truth = [json.loads(line) for line in (out / "truth_owner_posts.jsonl").read_text().splitlines()]
    owners = sorted({r["post_key"] for r in truth})
    assert len(owners) >= 100
    classify_posts(s, cfg)
    got = dict(s.con.execute("SELECT post_key, class FROM post_classes").fetchall())
    gold = [r["class"] for r in truth]
    pred = [got[r["post_key"]] for r in truth]
    for c in CLASSES:
        tp = sum(g == c and p == c for g, p in zip(gold, pred, strict=True))
        n_pred, n_gold = sum(p == c for p in pred), sum(g == c for g in gold)
        if n_gold:
            assert tp / n_gold >= 0.9, (c, tp, n_gold)
            assert tp / max(n_pred, 1) >= 0.9, (c, tp, n_pred)


def test_classify_is_idempotent_and_covers_every_post(sim_store):
    s, cfg, _ = sim_store
    classify_posts(s, cfg)
    again = classify_posts(s, cfg)
    assert again["computed"] == 0
    n_posts = s.count("posts")
    assert s.con.execute("SELECT count(*), count(DISTINCT post_key) FROM post_classes").fetchall()[0] == (
        n_posts, n_posts)
    mix = class_mix(s)
    assert sum(m["posts"] for m in mix) <= n_posts
    for m in mix:
        assert abs(sum(m["shares"].values()) - 1.0) < 1e-3


def test_small_batches_and_progress_cover_every_post(sim_store):
    s, cfg, _ = sim_store
    seen: list[tuple[int, int]] = []
    run = classify_posts(s, cfg, batch=700, force=True, progress=lambda d, t: seen.append((d, t)))
    n_posts = s.count("posts")
    assert run["computed"] == n_posts and run["batches"] >= -(-n_posts // 700)
    assert seen[0] == (0, n_posts) and seen[-1] == (n_posts, n_posts)
    steps = [b[0] - a[0] for a, b in zip(seen, seen[1:], strict=False)]
    assert len(steps) == run["batches"] and all(0 < x <= 700 for x in steps)  # memory stays bounded by the batch
    assert s.con.execute("SELECT count(DISTINCT post_key) FROM post_classes").fetchall()[0][0] == n_posts


def test_owner_profile_against_a_slow_reference(sim_store):
    """owner_profile's one SQL aggregate against the rule worked out post by post in Python."""
    import numpy as np

    s, cfg, out = sim_store
    classify_posts(s, cfg)
    posts = s.con.execute("SELECT post_key, author_key, reply_to_key, quote_of_key FROM posts").fetchall()
    owner_posts = {json.loads(line)["post_key"] for line in (out / "truth_owner_posts.jsonl").read_text().splitlines()}
    owners = sorted({a for k, a, _, _ in posts if k in owner_posts})
    assert owners
    cls = dict(s.con.execute("SELECT post_key, class FROM post_classes").fetchall())
    author = {k: a for k, a, _, _ in posts}
    got: dict[str, set] = {}
    for k, a, rep, quo in posts:
        for target in {rep, quo} - {None}:
            if target in cls and a != author.get(target):
                got.setdefault(target, set()).add(k)
    snap: dict[str, tuple] = {}
    for k, t, n in s.con.execute("SELECT subject_key, observed_at, coalesce(replies, 0) + coalesce(quotes, 0) "
                                 "FROM metrics_snapshots WHERE subject_type = 'post'").fetchall():
        if k not in snap or t > snap[k][0]:
            snap[k] = (t, n)
    per: dict[str, list] = {}
    for k, c in cls.items():
        d = per.setdefault(author[k], [0, 0.0, Counter()])
        d[0] += 1
        d[1] += max(len(got.get(k, ())), snap.get(k, (None, 0))[1])
        d[2][c] += 1
    own_posts = sum(per[o][0] for o in owners if o in per)
    own_disc = sum(per[o][1] for o in owners if o in per)
    others = [round(d[1] / d[0], 4) for a, d in per.items() if a not in owners and d[0] >= 10]
    prof = owner_profile(s, owners)
    assert prof["posts"] == own_posts
    assert prof["discussion"] == pytest.approx(own_disc)
    assert prof["discussion_per_post"] == pytest.approx(round(own_disc / own_posts, 4))
    assert prof["median_discussion"] == pytest.approx(round(float(np.median(others)), 4))
    for c in CLASSES:
        assert prof["counts"][c] == sum(per[o][2][c] for o in owners if o in per)


def test_bad_batch_and_missing_table():
    s = open_store(None)
    try:
        with pytest.raises(ClassifyError, match="batch"):
            classify_posts(s, None, batch=0)
        run_sql(s.con, "DROP TABLE post_classes")
        with pytest.raises(ClassifyError, match="no post_classes table"):
            classify_posts(s, None)
    finally:
        s.close()


# -- profiles ----------------------------------------------------------------------------------------------

def test_profile_rule_by_hand():
    tl_heavy = {"thought-leadership": 0.4, "how-to": 0.1, "promotional": 0.1, "curation": 0.2,
                "conversational": 0.1, "personal": 0.1}
    sales = {"thought-leadership": 0.05, "how-to": 0.2, "promotional": 0.3, "curation": 0.2,
             "conversational": 0.1, "personal": 0.15}
    bullhorn = {"thought-leadership": 0.1, "how-to": 0.0, "promotional": 0.1, "curation": 0.6,
                "conversational": 0.05, "personal": 0.15}
    assert profile_rule(tl_heavy, 2.0, 1.0, 50)[0] == "leader"
    assert profile_rule(tl_heavy, 0.5, 1.0, 50)[0] == "broadcaster"  # opinions nobody discusses
    assert profile_rule(sales, 3.0, 1.0, 50)[0] == "manager"
    assert profile_rule(bullhorn, 0.1, 1.0, 50)[0] == "broadcaster"
    assert profile_rule(tl_heavy, 2.0, 1.0, 3)[0] == "undetermined"


def test_account_profiles_on_a_hand_made_store():
    s = open_store(None)
    try:
        rows, cls = [], []
        # leader L: 10 posts, 5 thought leadership, each TL post gets 2 replies from others (10 replies)
        # broadcaster B: 10 curation posts, 1 reply in all
        for i in range(10):
            rows.append((f"L{i}", "L", "original", None))
            cls.append((f"L{i}", "thought-leadership" if i < 5 else "personal"))
            rows.append((f"B{i}", "B", "original", None))
            cls.append((f"B{i}", "curation"))
        for i in range(5):
            for j in range(2):
                rows.append((f"rL{i}{j}", f"u{j}", "reply", f"L{i}"))
        rows.append(("rB0", "u0", "reply", "B0"))
        rows.append(("selfL", "L", "reply", "L0"))  # the author's own reply is not discussion
        for k, a, kind, parent in rows:
            run_sql(s.con, "INSERT INTO posts (post_key, platform, author_key, kind, reply_to_key, source) "
                           "VALUES (?, 'x', ?, ?, ?, 't')", [k, a, kind, parent])
        for k, c in cls:
            run_sql(s.con, "INSERT INTO post_classes VALUES (?, ?, 1.0, 'hand', NULL)", [k, c])
        prof = {p["account_key"]: p for p in account_profiles(s, ["L", "B"])}
        assert prof["L"]["discussion_per_post"] == pytest.approx(1.0)   # 10 replies / 10 posts
        assert prof["B"]["discussion_per_post"] == pytest.approx(0.1)
        assert prof["L"]["median_discussion"] == pytest.approx(0.55)
        assert prof["L"]["profile"] == "leader"
        assert prof["B"]["profile"] == "broadcaster"
    finally:
        s.close()
