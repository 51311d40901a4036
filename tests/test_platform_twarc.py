"""Twitter API v2 JSON lines written by twarc2 (format `twarc`) against the real fixtures.

Expected values come from the fixture README and from plain-json reads done here, never from the
reader's output."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest

from socialleads.sources import formats as F
from socialleads.sources.importer import import_path
from socialleads.sources.platforms import twarc as T
from socialleads.store import open_store

FIX = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "twitter" / "api_v2_twarc"

pytestmark = pytest.mark.skipif(not FIX.is_dir(), reason=f"fixtures missing: {FIX} (../shared/fixtures)")


def lines(path: Path) -> list[dict]:
    out = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(raw))
        except json.JSONDecodeError:
            pass
    return out


def tweets_of(page: dict) -> tuple[list[dict], list[dict]]:
    """(collected tweets, context tweets) of one line, read independently."""
    if "data" not in page:
        return [page], [r for r in page.get("referenced_tweets", []) if "text" in r]
    data = page["data"] if isinstance(page["data"], list) else [page["data"]]
    return [t for t in data if "text" in t], page.get("includes", {}).get("tweets", [])


def kind(t: dict) -> str:
    types = {r["type"] for r in t.get("referenced_tweets", [])}
    return ("repost" if "retweeted" in types else "reply" if "replied_to" in types
            else "quote" if "quoted" in types else "original")


def run(path: Path, fmt: str | None = None):
    store = open_store(None)
    return store, import_path(store, path, fmt=fmt)


def q(store, sql: str, *args):
    return store.con.execute(sql, list(args)).fetchall()


def test_detect(tmp_path):
    for f in FIX.glob("*.jsonl"):
        assert T.detect(f), f
    assert F.detect(FIX / "brexit.jsonl").name == "twarc"
    (tmp_path / "posts.jsonl").write_text('{"record_type":"post","data":1,"__twarc":{}}\n')
    (tmp_path / "other.jsonl").write_text('{"data": [1]}\n')
    (tmp_path / "bad.jsonl").write_bytes(b"\xff\xfe garbage\n")
    for f in ("posts.jsonl", "other.jsonl", "bad.jsonl"):
        assert not T.detect(tmp_path / f)
    assert not T.detect(tmp_path)                   # a folder with non-twarc .jsonl files
    assert F.detect(tmp_path / "posts.jsonl") is None


def test_detect_a_page_longer_than_the_cap(monkeypatch):
    monkeypatch.setattr(T, "LINE_CAP", 4096)
    assert T.detect(FIX / "brexit.jsonl")


def test_brexit_page_kinds_users_and_metrics():
    page, = lines(FIX / "brexit.jsonl")
    store, s = run(FIX / "brexit.jsonl")
    assert s.complete
    data = page["data"]
    want = collections.Counter(kind(t) for t in data)
    assert len(data) == 100 and want["repost"] == 67 and want["reply"] == 10 and want["quote"] == 11  # README
    keys = ["x:" + t["id"] for t in data]
    got = dict(q(store, f"SELECT kind, count(*) FROM posts WHERE post_key IN ({','.join('?' * len(keys))}) "
                        "GROUP BY 1", *keys))
    assert got == dict(want)
    ctx = {t["id"] for t in page["includes"]["tweets"]} | {t["id"] for t in data}
    assert q(store, "SELECT count(*) FROM posts") == [(len(ctx),)]
    rt = next(t for t in data if kind(t) == "repost")
    target = next(r["id"] for r in rt["referenced_tweets"] if r["type"] == "retweeted")
    assert q(store, "SELECT repost_of_key, author_key, kind_confidence FROM posts WHERE post_key = ?",
             "x:" + rt["id"]) == [("x:" + target, "x:" + rt["author_id"], "exact")]
    users = page["includes"]["users"]
    assert len(users) == 177
    observed = page["__twarc"]["retrieved_at"].replace("+00:00", "")
    u = users[0]
    assert q(store, "SELECT handle, display_name FROM accounts WHERE account_key = ?", "x:" + u["id"]) == \
        [(u["username"], u["name"])]
    snap = q(store, "SELECT strftime(observed_at, '%Y-%m-%dT%H:%M:%S'), followers, following, posts "
                    "FROM metrics_snapshots WHERE subject_key = ?", "x:" + u["id"])
    pm = u["public_metrics"]
    assert snap == [(observed, pm["followers_count"], pm["following_count"], pm["tweet_count"])]
    assert q(store, "SELECT count(*) FROM metrics_snapshots WHERE subject_type = 'account'") == \
        [(len({x["id"] for x in users if "public_metrics" in x}),)]
    t = data[0]
    assert q(store, "SELECT likes, reposts, replies, quotes FROM metrics_snapshots WHERE subject_key = ?",
             "x:" + t["id"]) == [tuple(t["public_metrics"][k] for k in
                                       ("like_count", "retweet_count", "reply_count", "quote_count"))]


def test_whole_folder_every_tweet_once_and_reimport_is_idempotent():
    ids: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    for f in FIX.glob("*.jsonl"):
        for page in lines(f):
            got, ctx = tweets_of(page)
            for t in got + ctx:
                ids.add(t["id"])
                pairs |= {(t["id"], m["id"]) for m in t.get("entities", {}).get("mentions", []) if "id" in m}
    store, s = run(FIX)
    assert q(store, "SELECT count(*) FROM posts") == [(len(ids),)]
    assert q(store, "SELECT count(*) FROM interactions WHERE type = 'mention'") == [(len(pairs),)]
    # the stream capture's cut line, and the List objects of lists.jsonl, are quarantined with their place
    rows = q(store, "SELECT file, place, reason FROM quarantine ORDER BY file, place")
    bad = [(Path(f).name, p) for f, p, _ in rows]
    n_lines = len((FIX / "streaming_output_with_error.jsonl").read_text().splitlines())
    assert ("streaming_output_with_error.jsonl", f"line {n_lines}") in bad
    n_lists = sum(len(p["data"]) for p in lines(FIX / "lists.jsonl"))
    assert sum(1 for f, _ in bad if f == "lists.jsonl") == n_lists
    assert len(bad) == n_lists + 1 and s.quarantined == len(bad)
    before = store.counts()
    s2 = import_path(store, FIX)
    assert s2.new == {}
    assert {k: v for k, v in store.counts().items() if k not in ("ingest_runs", "quarantine")} == \
        {k: v for k, v in before.items() if k not in ("ingest_runs", "quarantine")}


def test_stream_lines_and_the_malformed_line():
    path = FIX / "streaming_output_with_error.jsonl"
    good = lines(path)
    store, s = run(path)
    assert s.quarantined == 1 and not s.complete
    (place, reason), = q(store, "SELECT place, reason FROM quarantine")
    assert place == f"line {len(path.read_text().splitlines())}" and "malformed JSON" in reason
    for page in good:
        assert q(store, "SELECT count(*) FROM posts WHERE post_key = ?", "x:" + page["data"]["id"]) == [(1,)]


def test_edits_and_entity_offsets():
    before, = lines(FIX / "edited_before.jsonl")
    after, = lines(FIX / "edited_after.jsonl")
    store = open_store(None)
    for f in ("edited_before.jsonl", "edited_after.jsonl", "entities_test.jsonl"):
        import_path(store, FIX / f)
    hist = after["data"][0]["edit_history_tweet_ids"]
    assert len(hist) == 2 and after["data"][0]["id"] == hist[1] and before["data"][0]["id"] == hist[0]
    assert q(store, "SELECT edited_at IS NOT NULL FROM posts WHERE post_key = ?", "x:" + hist[1]) == [(True,)]
    assert q(store, "SELECT edited_at FROM posts WHERE post_key = ?", "x:" + hist[0]) == [(None,)]
    # offsets are code points of text (checked on texts with characters outside the BMP)
    rows = q(store, "SELECT p.text, e.value, e.start_idx, e.end_idx FROM post_entities e JOIN posts p "
                    "USING (post_key) WHERE e.etype = 'mention' AND e.idx_unit = 'codepoint'")
    astral = [r for r in rows if any(ord(c) > 0xFFFF for c in r[0])]
    assert astral and all(t[a:b].lower() == "@" + v.lower() for t, v, a, b in astral)


def test_bad_lines_are_quarantined_and_the_rest_kept(tmp_path):
    page, = lines(FIX / "two_tweets.jsonl")
    t = page["data"][0]
    no_author = {k: v for k, v in t.items() if k != "author_id"} | {"id": "1"}
    other = dict(t, id="2")
    f = tmp_path / "capture.jsonl"
    f.write_bytes(b"\n".join([
        json.dumps(page).encode(),
        b'{"data": [',                                              # cut line
        json.dumps({"data": [no_author, other], "__twarc": page["__twarc"]}).encode(),
        b'{"data": [], "includes": {"users": [{"id": "5", "username": "caf\xe9"}]}}',  # Latin-1 byte
        b"[1, 2]",
    ]) + b"\n")
    store, s = run(f)
    places = sorted(r[0] for r in q(store, "SELECT place FROM quarantine"))
    assert places == ["line 2", "line 3 data[0]", "line 4", "line 5"]
    assert {r[0] for r in q(store, "SELECT post_key FROM posts")} >= {"x:" + t["id"], "x:2"}
    assert q(store, "SELECT count(*) FROM posts WHERE post_key = 'x:1'") == [(0,)]


def test_not_twarc_is_refused(tmp_path):
    f = tmp_path / "x.jsonl"
    f.write_text('{"hello": 1}\n')
    store, s = run(f, fmt="twarc")
    assert s.refused and str(f) in s.refused[0] and "not twarc" in s.refused[0]
