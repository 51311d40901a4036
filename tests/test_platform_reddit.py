"""Reddit dumps (reddit_dump): NDJSON of submissions and comments, plain or .zst, against the real fixtures.

Expected values come from the fixture lines read with plain json in the test, from CONNECTORS.md §6.5
(reddit original 8 / reply 8, reply interactions 8) and from the real RC_2015-01 line quoted in §4.3.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest

zstandard = pytest.importorskip("zstandard")

from socialleads.sources import formats as F  # noqa: E402
from socialleads.sources.importer import import_path  # noqa: E402
from socialleads.store import open_store  # noqa: E402

FIX = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "reddit" / "derived_ndjson"
COMMENTS = FIX / "comments_from_api_listing.ndjson"
SUBMISSIONS = FIX / "submissions_from_api_listing.ndjson"
pytestmark = pytest.mark.skipif(not FIX.is_dir(), reason=f"fixtures missing: {FIX} (../shared/fixtures)")

# A real RC_2015-01 line (CONNECTORS.md §4.3): string created_utc, retrieved_on.
RC_2015 = ('{"score_hidden":false,"name":"t1_cnas8zv","link_id":"t3_2qyr1a","body":"Most of us have some family '
           'members like this.","downs":0,"created_utc":"1420070400","score":14,"author":"YoungModern",'
           '"distinguished":null,"id":"cnas8zv","archived":false,"parent_id":"t3_2qyr1a","subreddit":"exmormon",'
           '"author_flair_css_class":null,"author_flair_text":null,"gilded":0,"retrieved_on":1425124282,"ups":14,'
           '"controversiality":0,"subreddit_id":"t5_2r0gj","edited":false}')


def _read(path: Path) -> tuple[list[dict], list[tuple]]:
    rejects: list[tuple] = []
    recs = list(F.formats()["reddit_dump"].read(path, lambda *a: rejects.append(a)))
    return recs, rejects


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def _utc(secs) -> str:
    return dt.datetime.fromtimestamp(int(float(secs)), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_detection(tmp_path):
    for p in (COMMENTS, SUBMISSIONS, FIX):
        fmt = F.detect(p)
        assert fmt is not None and fmt.name == "reddit_dump", p
    (tmp_path / "posts.jsonl").write_text(json.dumps({"record_type": "post", "platform": "reddit", "id": "x",
                                                      "subreddit": "a", "created_utc": 1}) + "\n")
    for p in (tmp_path, tmp_path / "posts.jsonl"):
        fmt = F.detect(p)
        assert fmt is None or fmt.name != "reddit_dump"


def test_submissions_and_comments_map_as_the_fixture_says():
    subs, comments = _lines(SUBMISSIONS), _lines(COMMENTS)
    recs, rejects = _read(FIX)
    assert rejects == []
    posts = {r["post_key"]: r for r in recs if r["record_type"] == "post"}
    assert Counter(p["kind"] for p in posts.values()) == {"original": 8, "reply": 8}    # §6.5
    for s in subs:
        p = posts["reddit:t3_" + s["id"]]
        assert p["kind"] == "original" and p["created_at"] == _utc(s["created_utc"])
        assert p["text"].startswith(s["title"])
        assert p["author_key"] == ("reddit:" + s["author_fullname"] if s.get("author_fullname")
                                   else "reddit:name:" + s["author"])
    for c in comments:
        p = posts["reddit:t1_" + c["id"]]
        assert p["kind"] == "reply" and p["text"] == c["body"]
        assert p["reply_to_key"] == "reddit:" + c["parent_id"]
        assert p["thread_root_key"] == "reddit:" + c["link_id"]
    handles = {r["account_key"]: r["handle"] for r in recs if r["record_type"] == "account"}
    assert set(handles.values()) == {x["author"] for x in subs + comments if x["author"] != "[deleted]"}


def test_string_timestamps_fullnames_deleted_authors_and_metrics(tmp_path):
    line = json.loads(RC_2015)
    arctic = {"id": "abc", "name": "t3_abc", "title": "T", "selftext": "[removed]", "author": "[deleted]",
              "created_utc": 1700000000, "subreddit": "x", "score": 41, "num_comments": 7, "upvote_ratio": 0.93,
              "retrieved_on": 1700000100, "_meta": {"retrieved_2nd_on": 1700129600, "was_deleted_later": True}}
    full = {"id": "def", "parent_id": "t1_zzz", "link_id": "t3_abc", "body": "hi u/someone", "author": "alice",
            "author_fullname": "t2_a1", "created_utc": 1700000200.0, "subreddit": "x", "score": 3}
    f = tmp_path / "RC_mixed.ndjson"
    f.write_text("\n".join([RC_2015, json.dumps(arctic), json.dumps(full)]) + "\n")
    recs, rejects = _read(f)
    assert rejects == []
    posts = {r["post_key"]: r for r in recs if r["record_type"] == "post"}
    p = posts["reddit:t1_cnas8zv"]
    assert p["created_at"] == "2015-01-01T00:00:00Z" and p["author_key"] == "reddit:name:YoungModern"
    snaps = {r["subject_key"]: r for r in recs if r["record_type"] == "metrics_snapshot"}
    assert snaps["reddit:t1_cnas8zv"] == {"record_type": "metrics_snapshot", "subject_key": "reddit:t1_cnas8zv",
                                          "subject_type": "post", "observed_at": _utc(line["retrieved_on"]),
                                          "score": 14}
    a = posts["reddit:t3_abc"]
    assert a["author_key"] == "reddit:name:[deleted]" and a["is_deleted"] is True
    assert snaps["reddit:t3_abc"]["observed_at"] == _utc(arctic["_meta"]["retrieved_2nd_on"])
    assert (snaps["reddit:t3_abc"]["score"], snaps["reddit:t3_abc"]["replies"],
            snaps["reddit:t3_abc"]["upvote_ratio"]) == (41, 7, 0.93)
    assert posts["reddit:t1_def"]["author_key"] == "reddit:t2_a1"
    assert "reddit:t1_def" not in snaps                       # no retrieval time: the counts' time is unknown
    accounts = {r["account_key"] for r in recs if r["record_type"] == "account"}
    assert accounts == {"reddit:name:YoungModern", "reddit:t2_a1"}


def test_zst_reads_like_plain_and_a_truncated_zst_keeps_the_lines_before_the_cut(tmp_path):
    data = COMMENTS.read_bytes()
    z = tmp_path / "askreddit_comments.zst"
    z.write_bytes(zstandard.ZstdCompressor(level=3).compress(data))
    assert F.detect(z).name == "reddit_dump"
    plain, _ = _read(COMMENTS)
    packed, rejects = _read(z)
    assert packed == plain and rejects == []
    # a multi-frame file (one frame per line, as streaming writers make) cut inside its last frame
    lines = data.splitlines(keepends=True)
    frames = [zstandard.ZstdCompressor().compress(x) for x in lines]
    cut = tmp_path / "RC_cut.zst"
    cut.write_bytes(b"".join(frames[:-1]) + frames[-1][: len(frames[-1]) // 2])
    recs, rejects = _read(cut)
    posts = [r for r in recs if r["record_type"] == "post"]
    assert len(posts) == len(lines) - 1
    assert len(rejects) == 1 and "truncated" in rejects[0][2] and rejects[0][0] == str(cut)
    assert rejects[0][1] == f"line {len(lines)}"


def test_bad_lines_are_rejected_with_their_place(tmp_path):
    lines = COMMENTS.read_bytes().splitlines()
    f = tmp_path / "comments.ndjson"
    bad = [b'{"id": "x1", "body": "no time", "parent_id": "t3_a", "subreddit": "a", "created_utc": "soon"}',
           b'{"id": "x2", "body": "cut',
           b'\xff\xfe{"id": 1}',
           b'[1, 2]']
    f.write_bytes(b"\n".join(lines[:3] + bad + lines[3:]) + b"\n")
    recs, rejects = _read(f)
    assert sum(r["record_type"] == "post" for r in recs) == len(lines)
    assert [r[1] for r in rejects] == ["line 4", "line 5", "line 6", "line 7"]
    assert "created_utc" in rejects[0][2] and "not JSON" in rejects[1][2]


def test_import_gives_reply_interactions_and_reimport_changes_nothing():
    store = open_store(None)
    s = import_path(store, FIX)
    assert s.quarantined == 0 and not s.refused
    con = store.con
    assert dict(con.execute("SELECT kind, count(*) FROM posts GROUP BY kind").fetchall()) == \
        {"original": 8, "reply": 8}
    assert dict(con.execute("SELECT type, count(*) FROM interactions GROUP BY type").fetchall()) == {"reply": 8}
    before = store.counts()
    import_path(store, FIX)
    import_path(store, COMMENTS)
    after = store.counts()
    assert {k: v for k, v in after.items() if k != "ingest_runs"} == \
           {k: v for k, v in before.items() if k != "ingest_runs"}
