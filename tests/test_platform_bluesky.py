"""Bluesky files (bsky_car, bsky_jetstream, bsky_firehose, bsky_xrpc) against the real fixtures.

Expectations come from the fixtures themselves (car_expected_records.tsv made by indigo's `goat repo ls`,
car_expected_commit.txt, the Jetstream lines read with plain json, the XRPC JSON) and from
CONNECTORS.md §6.5 (counts by kind over CAR + Jetstream + the getPostThread fixture).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

pytest.importorskip("libipld", reason="the bluesky readers need `atproto` (libipld)")
zstandard = pytest.importorskip("zstandard")

from socialleads.errors import FormatError  # noqa: E402
from socialleads.sources import formats as F  # noqa: E402
from socialleads.sources.importer import import_path  # noqa: E402
from socialleads.sources.platforms import bluesky_files as B  # noqa: E402
from socialleads.store import open_store  # noqa: E402

FIX = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "bluesky"
JS = FIX / "jetstream_corpus"
SDK = FIX / "atproto_sdk_test_data"
pytestmark = pytest.mark.skipif(not FIX.is_dir(), reason=f"fixtures missing: {FIX} (../shared/fixtures)")

MODELLED = {"app.bsky.feed.post", "app.bsky.feed.like", "app.bsky.feed.repost", "app.bsky.graph.follow"}


def _read(fmt: str, path: Path) -> tuple[list[dict], list[tuple]]:
    rejects: list[tuple] = []
    recs = list(F.formats()[fmt].read(path, lambda *a: rejects.append(a)))
    return recs, rejects


def _kinds(recs: list[dict]) -> Counter:
    return Counter((r["record_type"], r.get("kind") or r.get("type")) for r in recs
                   if r["record_type"] in ("post", "interaction"))


def _jetstream_lines() -> list[dict]:
    return [json.loads(line) for line in JS.joinpath("expected_v1.jsonl").read_text().splitlines() if line.strip()]


# --------------------------------------------------------------------------------------------- detection

def test_each_fixture_is_detected_as_its_format(tmp_path):
    expect = {JS / "repo.car": "bsky_car", FIX / "indigo" / "bnewbold.robocracy.org.20250310005405.car": "bsky_car",
              JS / "expected_v1.jsonl": "bsky_jetstream", JS / "frames.bin.zst": "bsky_firehose",
              SDK / "thread_view_post_with_embed_media.json": "bsky_xrpc", SDK / "get_follows.json": "bsky_xrpc",
              SDK / "post_record.json": "bsky_xrpc", SDK / "like_record.json": "bsky_xrpc"}
    for p in sorted((FIX / "indigo").glob("firehose_commit_*.json")):
        expect[p] = "bsky_firehose"
    for path, name in expect.items():
        fmt = F.detect(path)
        assert fmt is not None and fmt.name == name, path
    for p in (JS / "manifest.json", JS / "car_expected_records.tsv", JS / "README.md"):
        assert F.detect(p) is None or not F.detect(p).name.startswith("bsky_"), p
    # never a generic-format file or folder
    (tmp_path / "posts.jsonl").write_text(json.dumps({
        "record_type": "post", "platform": "bluesky", "post_key": "at://did:plc:a/app.bsky.feed.post/1",
        "author_key": "did:plc:a", "created_at": "2026-01-01T00:00:00Z", "kind": "original", "did": "did:plc:a",
        "time_us": 1, "kind2": "commit"}) + "\n")
    (tmp_path / "resp.json").write_text(json.dumps({"record_type": "account", "account_key": "did:plc:a",
                                                    "handle": "a", "did": "did:plc:a"}))
    for p in (tmp_path, tmp_path / "posts.jsonl", tmp_path / "resp.json"):
        fmt = F.detect(p)
        assert fmt is None or not fmt.name.startswith("bsky_"), p


# --------------------------------------------------------------------------------------------- CAR

def test_car_lists_exactly_the_records_of_goat_repo_ls():
    import libipld

    expected = dict(line.split("\t") for line in JS.joinpath("car_expected_records.tsv").read_text().splitlines())
    header, blocks = libipld.decode_car(JS.joinpath("repo.car").read_bytes())
    commit = blocks[header["roots"][0]]
    missing: list[str] = []
    walked = {key: B.cid_str(cid) for key, cid in B._mst_walk(blocks, commit["data"], missing)}
    assert not missing
    assert walked == expected
    info = dict(line.split(": ", 1) for line in JS.joinpath("car_expected_commit.txt").read_text().splitlines())
    assert commit["did"] == info["DID"] and commit["rev"] == info["Revision"]
    assert B.cid_str(commit["data"]) == info["Data CID"]


def test_car_records_map_to_posts_and_interactions_keyed_by_at_uri():
    expected = [line.split("\t")[0] for line in JS.joinpath("car_expected_records.tsv").read_text().splitlines()]
    did = JS.joinpath("car_expected_commit.txt").read_text().split("DID: ")[1].split()[0]
    recs, rejects = _read("bsky_car", JS / "repo.car")
    assert rejects == []
    by_coll = Counter(k.split("/")[0] for k in expected)
    kinds = _kinds(recs)
    assert kinds[("interaction", "like")] == by_coll["app.bsky.feed.like"]
    assert kinds[("interaction", "follow")] == by_coll["app.bsky.graph.follow"]
    assert kinds[("post", "repost")] == by_coll["app.bsky.feed.repost"]
    posts = [r for r in recs if r["record_type"] == "post" and r["kind"] != "repost"]
    assert len(posts) == by_coll["app.bsky.feed.post"]
    keys = {r.get("post_key") or r.get("interaction_key") for r in recs if r["record_type"] != "account"}
    assert keys == {f"at://{did}/{k}" for k in expected if not k.startswith("app.bsky.actor.profile")}
    owner = [r for r in recs if r["record_type"] == "account" and r.get("is_owner")]
    assert {r["account_key"] for r in owner} == {did}
    assert all(r["author_key"] == did for r in recs if r["record_type"] == "post")
    assert all(r["created_at"].endswith("Z") for r in recs if r["record_type"] in ("post", "interaction"))
    # the reply with a mention facet quoted in CONNECTORS.md §1.4
    mention = [r for r in posts if r.get("text") == "@calabro.io 222"]
    assert mention and mention[0]["entities"][0] == {
        "etype": "mention", "value": "@calabro.io", "target_account_key": mention[0]["entities"][0]["target_account_key"],
        "start_idx": 0, "end_idx": 11, "idx_unit": "utf8_byte"}
    assert mention[0]["entities"][0]["target_account_key"].startswith("did:plc:4uz2")


def test_truncated_or_garbage_car(tmp_path):
    data = JS.joinpath("repo.car").read_bytes()
    cut = tmp_path / "cut.car"
    cut.write_bytes(data[: len(data) * 2 // 3])
    recs, rejects = _read("bsky_car", cut)
    full, _ = _read("bsky_car", JS / "repo.car")
    assert rejects and any("damaged" in r[2] for r in rejects)
    assert all(r[0] == str(cut) for r in rejects)
    assert 0 < len([r for r in recs if r["record_type"] != "account"]) < len(full)   # what survived is kept
    junk = tmp_path / "junk.car"
    junk.write_bytes(b"\x0a\xa2eroots\x80gversion\x01" + b"\xff" * 40)
    with pytest.raises(FormatError, match="junk.car"):
        _read("bsky_car", junk)


# --------------------------------------------------------------------------------------------- Jetstream

def test_jetstream_counts_match_an_independent_read():
    lines = _jetstream_lines()
    creates = Counter(e["commit"]["collection"] for e in lines
                      if e["kind"] == "commit" and e["commit"]["operation"] == "create")
    assert (creates["app.bsky.feed.like"], creates["app.bsky.feed.post"], creates["app.bsky.feed.repost"],
            creates["app.bsky.graph.follow"]) == (105, 17, 15, 6)            # the numbers
    recs, rejects = _read("bsky_jetstream", JS / "expected_v1.jsonl")
    kinds = _kinds(recs)
    assert kinds[("interaction", "like")] == creates["app.bsky.feed.like"]
    assert kinds[("interaction", "follow")] == creates["app.bsky.graph.follow"]
    assert kinds[("post", "repost")] == creates["app.bsky.feed.repost"]
    assert sum(v for (t, k), v in kinds.items() if t == "post" and k != "repost") == creates["app.bsky.feed.post"]
    replies = sum(1 for e in lines if e["kind"] == "commit" and e["commit"]["operation"] == "create"
                  and e["commit"]["collection"] == "app.bsky.feed.post" and "reply" in e["commit"]["record"])
    assert kinds[("post", "reply")] == replies
    # deletes of modelled records whose create is not in the capture: rejected, counted, at their line
    delete_lines = [f"line {i}" for i, e in enumerate(lines, 1) if e["kind"] == "commit"
                    and e["commit"]["operation"] == "delete" and e["commit"]["collection"] in MODELLED]
    assert len(delete_lines) == 4
    assert [r[1] for r in rejects] == delete_lines
    assert all("record_index" in r[2] for r in rejects)
    # like keys and times come from the records
    first_like = next(e for e in lines if e["kind"] == "commit" and e["commit"]["collection"] == "app.bsky.feed.like")
    uri = f"at://{first_like['did']}/app.bsky.feed.like/{first_like['commit']['rkey']}"
    like = next(r for r in recs if r.get("interaction_key") == uri)
    assert like["target_post_key"] == first_like["commit"]["record"]["subject"]["uri"]
    assert like["created_at"] == first_like["commit"]["record"]["createdAt"].replace(".999Z", ".999Z")
    assert like["target_account_key"] == first_like["commit"]["record"]["subject"]["uri"].split("/")[2]


def test_jetstream_facets_keep_utf8_byte_offsets():
    recs, _ = _read("bsky_jetstream", JS / "expected_v1.jsonl")
    by_key = {r["post_key"]: r for r in recs if r["record_type"] == "post"}
    n = 0
    for e in _jetstream_lines():
        c = e.get("commit") or {}
        rec = c.get("record") or {}
        if c.get("collection") != "app.bsky.feed.post" or not rec.get("facets"):
            continue
        post = by_key[f"at://{e['did']}/app.bsky.feed.post/{c['rkey']}"]
        spans = {(f["index"]["byteStart"], f["index"]["byteEnd"]) for f in rec["facets"]}
        got = {(x["start_idx"], x["end_idx"]) for x in post["entities"] if x.get("idx_unit") == "utf8_byte"}
        assert spans == got
        raw = rec["text"].encode()
        for x in post["entities"]:
            if x["etype"] == "mention":
                assert x["value"] == raw[x["start_idx"]:x["end_idx"]].decode()
        n += 1
    assert n > 0


def test_jetstream_delete_after_create_is_applied_and_bad_lines_are_rejected(tmp_path):
    lines = JS.joinpath("expected_v1.jsonl").read_text().splitlines()
    like = json.loads(next(line for line in lines if '"app.bsky.feed.like"' in line))
    post = json.loads(next(line for line in lines if '"app.bsky.feed.post"' in line and '"create"' in line))
    extra = [
        json.dumps({"did": like["did"], "time_us": 1783175999000000, "kind": "commit",
                    "commit": {"rev": "x", "operation": "delete", "collection": "app.bsky.feed.like",
                               "rkey": like["commit"]["rkey"]}}),
        json.dumps({"did": post["did"], "time_us": 1783175999000000, "kind": "commit",
                    "commit": {"rev": "x", "operation": "delete", "collection": "app.bsky.feed.post",
                               "rkey": post["commit"]["rkey"]}}),
        '{"did": "did:plc:x", "time_us": 1, "kind": "commit", "commit": {',              # malformed JSON
        json.dumps({"did": "did:plc:x", "time_us": 1, "kind": "commit", "commit": {
            "operation": "create", "collection": "app.bsky.feed.like", "rkey": "r1",
            "record": {"createdAt": "2026-01-01T00:00:00Z"}}}),                             # like without subject
    ]
    f = tmp_path / "capture.jsonl"
    f.write_bytes(("\n".join(lines + extra) + "\n").encode() + b"\xff\xfe not utf-8\n")
    recs, rejects = _read("bsky_jetstream", f)
    like_uri = f"at://{like['did']}/app.bsky.feed.like/{like['commit']['rkey']}"
    ended = [r for r in recs if r.get("interaction_key") == like_uri and r.get("ended_at")]
    assert ended and ended[0]["ended_at"].startswith("2026-07-04T14:39:59")
    post_uri = f"at://{post['did']}/app.bsky.feed.post/{post['commit']['rkey']}"
    assert any(r.get("post_key") == post_uri and r.get("is_deleted") for r in recs)
    n = len(lines)
    places = {r[1]: r[2] for r in rejects}
    assert "not JSON" in places[f"line {n + 3}"]
    assert "subject" in places[f"line {n + 4}"]
    assert "not JSON" in places[f"line {n + 5}"]
    assert len(_kinds(recs)) > 0


# --------------------------------------------------------------------------------------------- firehose

def test_firehose_frames_give_the_same_records_as_jetstream():
    fh, fh_rej = _read("bsky_firehose", JS / "frames.bin.zst")
    js, js_rej = _read("bsky_jetstream", JS / "expected_v1.jsonl")
    canon = lambda rs: sorted(json.dumps(r, sort_keys=True) for r in rs)  # noqa: E731
    assert canon(fh) == canon(js)
    assert [r[2] for r in fh_rej] == [r[2] for r in js_rej]
    assert all(r[1].startswith("frame ") for r in fh_rej)


def test_truncated_frames_file_keeps_the_frames_before_the_cut(tmp_path):
    raw = zstandard.ZstdDecompressor().stream_reader(JS.joinpath("frames.bin.zst").open("rb")).read()
    # re-compress in small frames so a cut keeps whole earlier frames decodable
    blob = b"".join(zstandard.ZstdCompressor().compress(raw[i:i + 65536]) for i in range(0, len(raw), 65536))
    cut = tmp_path / "frames.bin.zst"
    cut.write_bytes(blob[: len(blob) // 2])
    recs, rejects = _read("bsky_firehose", cut)
    full, _ = _read("bsky_firehose", JS / "frames.bin.zst")
    assert 0 < len(recs) < len(full)
    assert any("truncated" in r[2] for r in rejects)


def test_indigo_firehose_commit_events():
    for p in sorted((FIX / "indigo").glob("firehose_commit_*.json")):
        ev = json.loads(p.read_text())
        want = Counter(op["path"].split("/")[0] for op in ev["ops"]
                       if op["action"] in ("create", "update") and op["path"].split("/")[0] in MODELLED)
        recs, rejects = _read("bsky_firehose", p)
        got = Counter()
        for r in recs:
            key = r.get("post_key") or r.get("interaction_key")
            if key:
                assert key.startswith(f"at://{ev['repo']}/")
                got[key.split("/")[3]] += 1
        assert got == want, p.name
        deletes = [op for op in ev["ops"] if op["action"] == "delete" and op["path"].split("/")[0] in MODELLED]
        assert len(rejects) == len(deletes)


# --------------------------------------------------------------------------------------------- XRPC JSON

def test_thread_view_gives_the_quote_post():
    doc = json.loads(SDK.joinpath("thread_view_post_with_embed_media.json").read_text())
    recs, rejects = _read("bsky_xrpc", SDK / "thread_view_post_with_embed_media.json")
    assert rejects == []
    posts = [r for r in recs if r["record_type"] == "post"]
    assert len(posts) == 1
    p = posts[0]
    assert p["post_key"] == doc["thread"]["post"]["uri"] and p["kind"] == "quote"
    assert p["quote_of_key"] == doc["thread"]["post"]["record"]["embed"]["record"]["record"]["uri"]
    assert p["author_key"] == doc["thread"]["post"]["author"]["did"]
    acc = [r for r in recs if r["record_type"] == "account"]
    assert acc[0]["handle"] == doc["thread"]["post"]["author"]["handle"]
    assert any(e["etype"] == "media" for e in p["entities"])


def test_follows_page_and_single_records():
    doc = json.loads(SDK.joinpath("get_follows.json").read_text())
    recs, rejects = _read("bsky_xrpc", SDK / "get_follows.json")
    assert rejects == []
    follows = [r for r in recs if r["record_type"] == "interaction"]
    assert len(follows) == len(doc["follows"])
    assert {r["target_account_key"] for r in follows} == {f["did"] for f in doc["follows"]}
    assert {r["actor_key"] for r in follows} == {doc["subject"]["did"]}
    assert all(r["created_at"] is None and r["time_precision"] == "unknown" for r in follows)
    handles = {r["account_key"]: r.get("handle") for r in recs if r["record_type"] == "account"}
    assert all(handles[f["did"]] == f["handle"] for f in doc["follows"])

    like = json.loads(SDK.joinpath("like_record.json").read_text())
    recs, _ = _read("bsky_xrpc", SDK / "like_record.json")
    assert recs == [{"record_type": "interaction", "platform": "bluesky", "type": "like",
                     "interaction_key": like["uri"], "actor_key": like["uri"].split("/")[2],
                     "target_post_key": like["value"]["subject"]["uri"],
                     "target_account_key": like["value"]["subject"]["uri"].split("/")[2],
                     "created_at": "2023-08-26T12:56:31.04424Z", "time_precision": "exact"}]
    post = json.loads(SDK.joinpath("post_record.json").read_text())
    recs, _ = _read("bsky_xrpc", SDK / "post_record.json")
    assert recs[0]["post_key"] == post["uri"] and recs[0]["text"] == post["value"]["text"]
    assert recs[0]["created_at"] == "2024-02-22T19:58:13.903293Z"


def test_xrpc_bad_input(tmp_path):
    bad = tmp_path / "feed.json"
    bad.write_text(json.dumps({"feed": [
        {"post": {"uri": "at://did:plc:a/app.bsky.feed.post/1", "cid": "bafy", "author": {"did": "did:plc:a"},
                  "record": {"text": "hi", "createdAt": "yesterday"}}},
        "not an item",
        {"post": {"uri": "at://did:plc:a/app.bsky.feed.post/2", "author": {"did": "did:plc:a", "handle": "a.b"},
                  "record": {"text": "ok", "createdAt": "2026-01-01T10:00:00+02:00"}},
         "reason": {"$type": "app.bsky.feed.defs#reasonRepost", "by": {"did": "did:plc:b"},
                    "uri": "at://did:plc:b/app.bsky.feed.repost/9", "indexedAt": "2026-01-02T00:00:00Z"}},
    ]}))
    recs, rejects = _read("bsky_xrpc", bad)
    assert [r[1] for r in rejects] == ["feed[0]", "feed[1]"]
    posts = {r["post_key"]: r for r in recs if r["record_type"] == "post"}
    assert posts["at://did:plc:a/app.bsky.feed.post/2"]["created_at"] == "2026-01-01T08:00:00Z"
    assert posts["at://did:plc:b/app.bsky.feed.repost/9"]["repost_of_key"] == "at://did:plc:a/app.bsky.feed.post/2"
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"hello": "did:plc:x"}))
    with pytest.raises(FormatError, match="other.json"):
        _read("bsky_xrpc", other)


# --------------------------------------------------------------------------------------------- the store

def test_import_counts_match_connectors_6_5_and_reimport_changes_nothing():
    store = open_store(None)
    inputs = [JS / "repo.car", JS / "expected_v1.jsonl", SDK / "thread_view_post_with_embed_media.json"]
    summaries = [import_path(store, p) for p in inputs]
    con = store.con
    posts = dict(con.execute("SELECT kind, count(*) FROM posts WHERE platform = 'bluesky' GROUP BY kind").fetchall())
    assert posts == {"original": 14, "reply": 9, "repost": 18, "quote": 1}
    inter = dict(con.execute("SELECT type, count(*) FROM interactions GROUP BY type").fetchall())
    assert inter == {"like": 115, "follow": 9, "repost": 18, "reply": 9, "mention": 2, "quote": 1}
    assert con.execute("SELECT count(*) FROM interactions WHERE created_at IS NULL").fetchall()[0][0] == 0
    assert summaries[1].quarantined == 4                                   # the Jetstream deletes
    owner = con.execute("SELECT account_key FROM accounts WHERE is_owner").fetchall()
    assert owner == [("did:plc:53iucmf5ldftgqyf2ac7hmhd",)]
    assert con.execute("SELECT count(*) FROM post_entities WHERE idx_unit = 'utf8_byte'").fetchall()[0][0] > 0
    before = store.counts()
    for p in inputs:
        import_path(store, p)
    after = store.counts()
    assert {k: v for k, v in after.items() if k != "ingest_runs"} == \
           {k: v for k, v in before.items() if k != "ingest_runs"}
    # the firehose frames hold the same events as the Jetstream capture: nothing new but its own rejects
    s = import_path(store, JS / "frames.bin.zst")
    assert s.quarantined == 4 and not s.new.get("posts") and not s.new.get("interactions")
    again = store.counts()
    assert {k: v for k, v in again.items() if k not in ("ingest_runs", "quarantine")} == \
           {k: v for k, v in before.items() if k not in ("ingest_runs", "quarantine")}
