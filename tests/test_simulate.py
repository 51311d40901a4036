"""socialleads.simulate: determinism, format, and ground truth checked by a slow, obvious re-reading."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import tracemalloc
from collections import defaultdict
from pathlib import Path

import pytest

from socialleads.simulate import Limits, simulate
from socialleads.workspace.config import load_config

N = 20_000
REQUIRED = {
    "account": ("account_key", "platform"),
    "post": ("post_key", "platform", "author_key", "created_at", "kind"),
    "interaction": ("platform", "type", "actor_key"),
    "follow": ("platform", "actor_key", "target_account_key"),
}


def _t(s: str) -> int:
    return int(dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC).timestamp())


def _hashes(d: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.iterdir())}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    d = tmp_path_factory.mktemp("sim")
    seen: list[tuple[int, int]] = []
    truth = simulate(d, N, seed=7, progress=lambda a, b: seen.append((a, b)))
    assert seen and seen[-1] == (N, N)
    assert [a for a, _ in seen] == sorted(a for a, _ in seen)
    return d, truth


def _records(d: Path, prefix: str):
    for p in sorted(d.glob(f"{prefix}*.jsonl")):
        with open(p, encoding="utf-8") as f:
            for line in f:
                yield json.loads(line)


def test_deterministic(world: tuple[Path, dict], tmp_path: Path) -> None:
    d, _ = world
    simulate(tmp_path / "a", N, seed=7)
    assert _hashes(tmp_path / "a") == _hashes(d)
    simulate(tmp_path / "b", N, seed=8)
    other = _hashes(tmp_path / "b")
    assert other["posts-0001.jsonl"] != _hashes(d)["posts-0001.jsonl"]


def test_lines_are_valid_records(world: tuple[Path, dict]) -> None:
    d, truth = world
    kinds = defaultdict(int)
    for prefix, rtype in (("accounts", "account"), ("posts", "post"), ("interactions", "interaction"),
                          ("follows", "follow")):
        for r in _records(d, prefix):
            assert r["record_type"] == rtype
            for k in REQUIRED[rtype]:
                assert isinstance(r[k], str) and r[k], (k, r)
            for k in ("created_at", "ended_at"):
                if k in r:
                    _t(r[k])
            if rtype == "post":
                kinds[r["kind"]] += 1
                ref = {"reply": "reply_to_key", "repost": "repost_of_key", "quote": "quote_of_key"}.get(r["kind"])
                if ref:
                    assert r[ref]
                for e in r.get("entities", []):
                    assert e["etype"] in ("mention", "hashtag", "link")
                    if e["etype"] == "mention":
                        assert e["target_account_key"]
    assert sum(kinds.values()) == N == truth["posts"]
    assert all(kinds[k] == truth["counts"][k] for k in ("original", "reply", "repost", "quote"))
    with open(d / "clicks.csv", encoding="utf-8") as f:
        clicks = list(csv.DictReader(f))
    assert len(clicks) == truth["counts"]["clicks"] > 0
    assert all("utm_content=" in c["url"] and c["visitor_key"] for c in clicks)
    with open(d / "conversions.csv", encoding="utf-8") as f:
        conv = list(csv.DictReader(f))
    assert len(conv) == truth["counts"]["conversions"]
    assert {c["visitor_key"] for c in conv} <= {c["visitor_key"] for c in clicks}


def test_no_records_the_importer_would_collapse(world: tuple[Path, dict]) -> None:
    """One like per (actor, post), as a platform allows and as the importer keys likes (no time); unique
    post keys; one mention of an account per post; unique follow keys. truth.json counts what is written."""
    d, truth = world
    likes: dict[tuple[str, str, str], int] = defaultdict(int)
    n_likes = 0
    for r in _records(d, "interactions"):
        if r["type"] == "like":
            n_likes += 1
            likes[(r["platform"], r["actor_key"], r["target_post_key"])] += 1
    assert n_likes == truth["counts"]["likes"] > 0
    assert max(likes.values()) == 1
    post_keys: set[str] = set()
    for r in _records(d, "posts"):
        assert r["post_key"] not in post_keys
        post_keys.add(r["post_key"])
        mentioned = [e["target_account_key"] for e in r.get("entities", []) if e["etype"] == "mention"]
        assert len(mentioned) == len(set(mentioned)), r
    follows = [(r["platform"], r["actor_key"], r["target_account_key"], r["created_at"]) for r in _records(d, "follows")]
    assert len(follows) == len(set(follows)) == truth["counts"]["follows"]


def test_leads_toml_loads(world: tuple[Path, dict]) -> None:
    d, truth = world
    cfg = load_config(d / "leads.toml")
    assert [a.key for a in cfg.owner] == truth["owner_keys"]
    assert len(cfg.competitors) == 3 and len(cfg.brand.principles) >= 3 and cfg.brand.domains


def test_truth_matches_a_slow_rereading(world: tuple[Path, dict]) -> None:
    """An independent, obvious implementation of docs/audience-definitions.md over the written files."""
    d, truth = world
    O = set(truth["owner_keys"])
    author: dict[str, str] = {}
    actions: list[tuple[str, int]] = []       # (actor, t) actions on O
    by_owner: list[tuple[str, int]] = []      # (account acted on by O, t)
    t_end = 0
    posts = list(_records(d, "posts"))
    for r in posts:
        author[r["post_key"]] = r["author_key"]
    for r in posts:
        t = _t(r["created_at"])
        t_end = max(t_end, t)
        targets = []
        for k in ("reply_to_key", "repost_of_key", "quote_of_key"):
            if k in r:
                targets.append(("post", r[k]))
        for e in r.get("entities", []):
            if e["etype"] == "mention":
                targets.append(("account", e["target_account_key"]))
        for what, key in targets:
            acc = author.get(key) if what == "post" else key
            if r["author_key"] in O:
                if acc is not None:
                    by_owner.append((acc, t))
            elif acc in O:
                actions.append((r["author_key"], t))
    for r in _records(d, "interactions"):
        t = _t(r["created_at"])
        t_end = max(t_end, t)
        acc = author.get(r["target_post_key"], r.get("target_account_key"))
        if r["actor_key"] in O:
            by_owner.append((acc, t))
        elif acc in O or r.get("target_account_key") in O:
            actions.append((r["actor_key"], t))
    follows = [r for r in _records(d, "follows") if r["target_account_key"] in O]
    for r in follows:
        t_end = max(t_end, _t(r["created_at"]))
    t_start = t_end - 90 * 86400
    assert truth["t_end"] == dt.datetime.fromtimestamp(t_end, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def F(t: int) -> set[str]:
        return {r["actor_key"] for r in follows if _t(r["created_at"]) <= t
                and ("ended_at" not in r or _t(r["ended_at"]) > t)}

    f_start, f_end = F(t_start), F(t_end)
    E = {a for a, t in actions if t_start <= t <= t_end}
    assert truth["followers_start"] == len(f_start)
    assert truth["followers_end"] == len(f_end)
    assert truth["gained"] == sum(1 for r in follows if t_start < _t(r["created_at"]) <= t_end)
    assert truth["lost"] == sum(1 for r in follows if "ended_at" in r and t_start < _t(r["ended_at"]) <= t_end)
    assert truth["net_growth"] == len(f_end) - len(f_start) == truth["gained"] - truth["lost"]
    assert truth["passive_share"] == pytest.approx(1 - len(E & f_end) / len(f_end), abs=1e-12)
    assert truth["reactivity"] == pytest.approx(len(E & f_start) / len(f_start), abs=1e-12)
    assert truth["active_followers"] == len(E & f_end)
    received = {a for a, t in by_owner if t_start <= t <= t_end and a not in O}
    assert truth["hidden_network"] == len(E & received) > 0

    # week-4 retention: Monday weeks, cohort = week of the first action, defined when week k+4 has ended
    def week(t: int) -> int:
        day = dt.datetime.fromtimestamp(t, dt.UTC).date()
        return (day - dt.timedelta(days=day.weekday())).toordinal() // 7

    weeks: dict[str, set[int]] = defaultdict(set)
    for a, t in actions:
        weeks[a].add(week(t))
    cohorts: dict[int, list[str]] = defaultdict(list)
    for a, ws in weeks.items():
        cohorts[min(ws)].append(a)
    end_day = dt.datetime.fromtimestamp(t_end, dt.UTC)
    rates = []
    for k in sorted(cohorts):
        monday = dt.datetime.fromordinal((k + 4) * 7).replace(tzinfo=dt.UTC)
        if monday + dt.timedelta(days=7) <= end_day:
            rates.append(sum(1 for a in cohorts[k] if k + 4 in weeks[a]) / len(cohorts[k]))
    assert truth["week4_retention"] == pytest.approx(sum(rates) / len(rates), abs=1e-12)


def test_crisis_is_in_the_data(world: tuple[Path, dict]) -> None:
    d, truth = world
    c0, c1 = _t(truth["crisis"]["start"]), _t(truth["crisis"]["end"])
    O = set(truth["owner_keys"])
    neg = ("disappointed", "terrible", "broken", "awful", "worst", "useless", "outage", "refund", "furious")
    inside = before = 0
    for r in _records(d, "posts"):
        text = r.get("text", "").lower()
        if r["author_key"] in O or not any(w in text for w in neg):
            continue
        t = _t(r["created_at"])
        if c0 <= t <= c1:
            inside += 1
        elif c0 - 30 * 86400 <= t < c0:
            before += 1
    hours = (c1 - c0) / 3600
    assert inside >= truth["crisis"]["negative_posts"] * 0.9
    assert inside / hours > 10 * (before + 1) / (30 * 24)


def _peak(d: Path, posts: int) -> int:
    tracemalloc.start()
    simulate(d, posts, seed=1, days=60, limits=Limits(max_world=2_000, chunk_posts=5_000, ring=5_000,
                                                      inbound_ring=1_000, max_owner_posts=300))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_memory_is_bounded(tmp_path: Path) -> None:
    """With the world size capped and equal chunks (5 k posts), 5x the posts must not need more memory."""
    small = _peak(tmp_path / "s", 60_000)
    big = _peak(tmp_path / "b", 300_000)
    assert big < 1.5 * small, (small, big)


@pytest.mark.parametrize(("posts", "days"), [(100, 7), (100, 365)])
def test_tiny_world(tmp_path: Path, posts: int, days: int) -> None:
    """The smallest worlds (days without posts on a platform, maybe no click or conversion) still work."""
    truth = simulate(tmp_path, posts, seed=0, days=days)
    assert sum(1 for _ in _records(tmp_path, "posts")) == posts == truth["posts"]
    assert sum(1 for _ in _records(tmp_path, "interactions")) == truth["counts"]["likes"]
    with open(tmp_path / "conversions.csv", encoding="utf-8") as f:
        assert len(list(csv.DictReader(f))) == truth["counts"]["conversions"]
