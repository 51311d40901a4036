"""Review of the JSON-lines readers: one line cap for every reader (D5), one bad file of a twarc folder (D7),
repeated keys inside a Jetstream event (D8).

Inputs are built here from the real fixtures with plain Python; expected counts and values come from the
fixture lines read with plain json (json.loads: the last of a repeated key wins), never from the importer.
"""

from __future__ import annotations

import gzip
import json
import shutil
import tracemalloc
from pathlib import Path

import pytest

import socialleads.sources.lines as L
from socialleads.sources import importer as I
from socialleads.sources.importer import import_path
from socialleads.store import open_store

zstandard = pytest.importorskip("zstandard")

FIX = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
JS = FIX / "bluesky" / "jetstream_corpus" / "expected_v1.jsonl"
TW = FIX / "twitter" / "api_v2_twarc"
RC = FIX / "reddit" / "derived_ndjson" / "comments_from_api_listing.ndjson"
pytestmark = pytest.mark.skipif(not (JS.is_file() and TW.is_dir() and RC.is_file()),
                                reason=f"shared fixtures not found at {FIX}")

CAP = 4096          # the cap, made small so that the logic runs on small inputs


def _reason(nbytes: int, cap: int = CAP) -> str:
    return f"line longer than {cap:,} bytes ({nbytes:,} bytes): not read"


def _quarantine(store) -> list[tuple]:
    return store.con.execute("SELECT file, place, reason FROM quarantine ORDER BY file, place").fetchall()


def _zst(data: bytes, path: Path) -> Path:
    path.write_bytes(zstandard.ZstdCompressor(level=3).compress(data))
    return path


def count_posts(store) -> int:
    return store.con.execute("SELECT count(*) FROM posts").fetchall()[0][0]


def _col(store, sql: str) -> set:
    return {r[0] for r in store.con.execute(sql).fetchall()}


# ------------------------------------------------------------------------------------------- D5: the line cap

@pytest.mark.parametrize("where", ["first", "middle", "last", "last_no_newline", "two_in_a_row"])
def test_a_line_over_the_cap_inside_one_buffer_is_a_stand_in(tmp_path, monkeypatch, where):
    # before: a line over the cap that fitted in one read buffer (128 MiB) was handed on whole, and DuckDB ran
    # out of memory on a 40 MiB one (exit 70, nothing stored)
    monkeypatch.setattr(L, "MAX_LINE_BYTES", 100)
    long = b"x" * 1000
    ok = [b"a\n", b"b" * 100 + b"\n", b"c\n"]      # exactly at the cap is still a line
    lines = {"first": [long + b"\n", *ok], "middle": [ok[0], long + b"\n", *ok[1:]],
             "last": [*ok, long + b"\n"], "last_no_newline": [*ok, long],
             "two_in_a_row": [ok[0], long + b"\n", long + b"y\n", *ok[1:]]}[where]
    p = tmp_path / "f.jsonl"
    p.write_bytes(b"".join(lines))
    rows, numbers = [], []
    for t in L.line_batches(p):                     # the default buffer: the whole file in one
        rows += t.column("raw").to_pylist()
        numbers += t.column("line_no").to_pylist()
    assert numbers == list(range(1, len(lines) + 1))
    for got, line in zip(rows, lines, strict=True):
        if len(line.rstrip(b"\n")) > 100:
            assert got.decode() == f"{L.TOO_LONG}{_reason(len(line), 100)}\n"
        else:
            assert got == line


def _posts(n: int, prefix: str = "x:") -> list[str]:
    return [json.dumps({"record_type": "post", "platform": "x", "post_key": f"{prefix}{i}", "author_key": "x:1",
                        "created_at": "2025-01-01T00:00:00Z", "kind": "original", "text": f"post {i}"})
            for i in range(n)]


@pytest.mark.parametrize("gz", [False, True])
def test_generic_file_with_a_long_line_in_one_buffer_keeps_its_neighbours(tmp_path, monkeypatch, gz):
    monkeypatch.setattr(L, "MAX_LINE_BYTES", CAP)
    huge = json.dumps({"record_type": "post", "platform": "x", "post_key": "x:huge", "author_key": "x:1",
                       "created_at": "2025-01-01T00:00:00Z", "kind": "original", "text": "a" * 200_000})
    lines = _posts(300)
    data = ("\n".join([*lines[:100], huge, *lines[100:]]) + "\n").encode()
    p = tmp_path / ("posts.jsonl.gz" if gz else "posts.jsonl")
    p.write_bytes(gzip.compress(data) if gz else data)
    s = open_store(None)
    out = import_path(s, p)
    assert out.quarantined == 1 and not out.refused
    assert _col(s, "SELECT post_key FROM posts") == {json.loads(x)["post_key"] for x in lines}
    assert _quarantine(s) == [(str(p), "line 101", _reason(len(huge) + 1))]


def _jetstream_with(long_line: str) -> tuple[list[str], set[str], set[str]]:
    """The fixture capture with `long_line` after its 10th line; the AT-URIs of its post/repost creates and
    of its like/follow creates (plain json)."""
    src = JS.read_text().splitlines()
    posts, inter = set(), set()
    for x in src:
        e = json.loads(x)
        c = e.get("commit") or {}
        if c.get("operation") == "create":
            uri = f"at://{e['did']}/{c['collection']}/{c['rkey']}"
            if c["collection"] in ("app.bsky.feed.post", "app.bsky.feed.repost"):
                posts.add(uri)
            elif c["collection"] in ("app.bsky.feed.like", "app.bsky.graph.follow"):
                inter.add(uri)
    return [*src[:10], long_line, *src[10:]], posts, inter


@pytest.mark.parametrize("packed", [False, True])      # plain: the columnar path; .zst: the Python reader
def test_jetstream_long_line_is_quarantined_with_its_size_both_ways(tmp_path, monkeypatch, packed):
    # before: the plain capture handed the line to DuckDB (exit 70 at 40 MiB, "not JSON" at 150 MiB) and the
    # .zst reader had no cap at all
    monkeypatch.setattr(L, "MAX_LINE_BYTES", CAP)
    huge = json.dumps({"did": "did:plc:x", "time_us": 1, "kind": "commit", "commit": {
        "operation": "create", "collection": "app.bsky.feed.post", "rkey": "h",
        "record": {"text": "a" * 100_000, "createdAt": "2026-07-04T14:38:08.999Z"}}})
    lines, posts, inter = _jetstream_with(huge)
    data = ("\n".join(lines) + "\n").encode()
    p = _zst(data, tmp_path / "cap.jsonl.zst") if packed else tmp_path / "cap.jsonl"
    if not packed:
        p.write_bytes(data)
    s = open_store(None)
    out = import_path(s, p)
    assert not out.refused
    assert _col(s, "SELECT post_key FROM posts") == posts
    assert _col(s, "SELECT interaction_key FROM interactions WHERE type IN ('like', 'follow')") == inter
    assert (str(p), "line 11", _reason(len(huge) + 1)) in _quarantine(s)
    assert not any("not JSON" in r for _, _, r in _quarantine(s))


def test_jetstream_long_line_fast_path_equals_reader(tmp_path, monkeypatch):
    # the columnar path and the reader it stands for store the same quarantine row for the stand-in
    monkeypatch.setattr(L, "MAX_LINE_BYTES", CAP)
    long = '{"did":"did:plc:x","kind":"commit","junk":"' + "b" * 50_000 + '"}'
    lines, _, _ = _jetstream_with(long)
    p = tmp_path / "cap.jsonl"
    p.write_text("\n".join(lines) + "\n")
    got = []
    for fast in (True, False):
        monkeypatch.setattr(I, "_FAST", fast)
        s = open_store(None)
        import_path(s, p)
        got.append(s.con.execute("SELECT file, place, reason, raw FROM quarantine ORDER BY place").fetchall())
    assert got[0] == got[1]
    assert (str(p), "line 11", _reason(len(long) + 1), "") in got[0]


@pytest.mark.parametrize("packed", [False, True])
def test_reddit_long_line_is_quarantined_and_its_neighbours_kept(tmp_path, monkeypatch, packed):
    # before: a 60 MiB comment ran the store out of memory (exit 70); a 20 KB .zst of a 500 MiB line too
    monkeypatch.setattr(L, "MAX_LINE_BYTES", CAP)
    c = RC.read_bytes()
    huge = json.dumps({"id": "huge", "created_utc": 1420070400, "subreddit": "x", "parent_id": "t3_a",
                       "author": "a", "body": "a" * 100_000}).encode()
    other = c.replace(b'"id": "', b'"id": "z')
    data = c + huge + b"\n" + other
    p = _zst(data, tmp_path / "RC_x.ndjson.zst") if packed else tmp_path / "RC_x.ndjson"
    if not packed:
        p.write_bytes(data)
    ids = {"reddit:t1_" + json.loads(x)["id"] for x in (c + other).splitlines() if x.strip()}
    s = open_store(None)
    out = import_path(s, p)
    assert out.quarantined == 1 and not out.refused
    assert _col(s, "SELECT post_key FROM posts") == ids
    n = len(c.splitlines()) + 1
    assert _quarantine(s) == [(str(p), f"line {n}", _reason(len(huge) + 1))]


def _tweet_keys(*files: Path) -> set[str]:
    """'x:'+id of every tweet of the pages (data and includes.tweets) with an id, author and time."""
    out = set()
    for f in files:
        for line in f.read_bytes().splitlines():
            page = json.loads(line)
            data = page.get("data")
            for t in [*(data if isinstance(data, list) else [data]), *page.get("includes", {}).get("tweets", [])]:
                if isinstance(t, dict) and t.get("id") and t.get("author_id") and t.get("created_at"):
                    out.add("x:" + t["id"])
    return out


def test_twarc_page_over_the_cap_is_quarantined_and_the_other_pages_kept(tmp_path, monkeypatch):
    # before: twarc read its lines with no cap (a 500 MB line took 2.2 GB)
    monkeypatch.setattr(L, "MAX_LINE_BYTES", 1 << 20)
    page = json.loads((TW / "brexit.jsonl").read_bytes())
    big = dict(page["data"][0], id="1", text="a" * (1 << 20))
    huge = json.dumps({**page, "data": [big]}).encode()
    p = tmp_path / "tw.jsonl"
    p.write_bytes(b"\n".join([(TW / "brexit.jsonl").read_bytes().strip(), huge,
                              (TW / "kpop.jsonl").read_bytes().strip()]) + b"\n")
    s = open_store(None)
    out = import_path(s, p)
    assert out.quarantined == 1 and not out.refused
    assert _col(s, "SELECT post_key FROM posts") == _tweet_keys(TW / "brexit.jsonl", TW / "kpop.jsonl")
    assert _quarantine(s) == [(str(p), "line 2", _reason(len(huge) + 1, 1 << 20))]


def test_a_zst_of_one_enormous_line_is_read_in_bounded_memory(tmp_path):
    # before: a 20 KB .zst holding a 500 MiB line was decompressed in one piece (2.7 GB peak, exit 70)
    from socialleads.sources.platforms import reddit_dump

    size = 256 << 20
    p = tmp_path / "RC_big.ndjson.zst"
    piece = b"a" * (1 << 20)
    with p.open("wb") as fh, zstandard.ZstdCompressor(level=1).stream_writer(fh) as w:
        w.write(b'{"id": "a", "body": "')
        for _ in range(size >> 20):
            w.write(piece)
        w.write(b'"}\n{"id": "b"}\n')
    assert p.stat().st_size < 200_000
    tracemalloc.start()
    try:
        got = list(reddit_dump.read_lines(p))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100 << 20            # one bounded decompressed piece and one buffer, not the line
    assert [(n, problem) for n, _, problem in got] == [(1, None), (2, None)]
    assert L.too_long_reason(got[0][1]) == _reason(size + 24, L.MAX_LINE_BYTES)
    assert got[1][1] == b'{"id": "b"}'


def _worst_line(head: str, tail: str, size: int) -> str:
    """A line of exactly `size` bytes made of tiny JSON values (`[0,0,…]`): the costliest shape to parse."""
    n = (size - len(head) - len(tail) - 2) // 2
    line = head + "[" + ",".join(["0"] * n) + "]" + tail
    return line + " " * (size - len(line))


@pytest.mark.parametrize("kind", ["generic", "jetstream"])
def test_a_line_at_the_real_cap_imports_within_the_default_memory_limit(tmp_path, kind):
    # the cap is set so that any line under it imports with the store's default memory limit (lines.py has
    # the measurement); one byte more is quarantined with its size
    if kind == "generic":
        head = ('{"record_type":"post","platform":"x","post_key":"x:huge","author_key":"x:1",'
                '"created_at":"2025-01-01T00:00:00Z","kind":"original","junk":')
        tail, around, key = "}", _posts(20), "x:huge"
    else:
        head = ('{"did":"did:plc:x","time_us":1,"kind":"commit","commit":{"operation":"create",'
                '"collection":"app.bsky.feed.post","rkey":"h","record":{"text":"hi",'
                '"createdAt":"2026-07-04T14:38:08.999Z","junk":')
        tail, around, key = "}}}", JS.read_text().splitlines()[:20], "at://did:plc:x/app.bsky.feed.post/h"
    for size in (L.MAX_LINE_BYTES, L.MAX_LINE_BYTES + 1):
        line = _worst_line(head, tail, size)
        assert len(line.encode()) == size
        p = tmp_path / f"{size}.jsonl"
        p.write_text("\n".join([*around[:10], line, *around[10:]]) + "\n")
        s = open_store(None)               # the default memory limit
        out = import_path(s, p)
        assert not out.refused
        stored = key in _col(s, "SELECT post_key FROM posts")
        too_long = (str(p), "line 11", _reason(size + 1, L.MAX_LINE_BYTES)) in _quarantine(s)
        assert (stored, too_long) == ((True, False) if size == L.MAX_LINE_BYTES else (False, True))
        s.close()


# ----------------------------------------------------------------------------- D7: one bad file of a twarc folder

def test_a_twarc_folder_keeps_its_valid_files_when_one_is_not_twarc(tmp_path):
    # before: a file whose first line is not a twarc page ended the whole folder: 0 posts, exit 2
    d = tmp_path / "twf"
    d.mkdir()
    for f in ("brexit.jsonl", "kpop.jsonl"):
        shutil.copyfile(TW / f, d / f)
    bad = d / "a_first.jsonl"
    bad.write_bytes(b'{"hello": "world"}\n' + (TW / "cashtags.jsonl").read_bytes())
    s = open_store(None)
    out = import_path(s, d)
    assert not out.refused and out.quarantined == 1          # exit 3: incomplete, not refused
    assert _col(s, "SELECT post_key FROM posts") == _tweet_keys(TW / "brexit.jsonl", TW / "kpop.jsonl")
    ((file, place, reason),) = _quarantine(s)
    assert (file, place) == (str(bad), "file") and "not twarc output" in reason
    # given on its own, the same file is refused whole (as a single X archive file is), and so is a folder of
    # nothing else: nothing of it could be read
    alone = import_path(open_store(None), bad)
    assert alone.refused and "not twarc output" in alone.refused[0]
    (d / "brexit.jsonl").unlink()
    (d / "kpop.jsonl").unlink()
    shutil.copyfile(bad, d / "b_first.jsonl")
    s3 = open_store(None)
    none = import_path(s3, d)
    assert none.refused and "none of its 2 .jsonl file(s)" in none.refused[0] and count_posts(s3) == 0


# ------------------------------------------------------------------------ D8: repeated keys inside an event

_DUP = [
    # a like whose record repeats subject (json.loads keeps the last: did:plc:LAST's post)
    '{"did":"did:plc:aaa","time_us":1783175888085434,"kind":"commit","commit":{"rev":"r","operation":"create",'
    '"collection":"app.bsky.feed.like","rkey":"l1","record":{"$type":"app.bsky.feed.like",'
    '"createdAt":"2026-07-04T14:38:08.999Z","subject":{"cid":"c","uri":"at://did:plc:FIRST/app.bsky.feed.post/p1"},'
    '"subject":{"cid":"c","uri":"at://did:plc:LAST/app.bsky.feed.post/p2"}},"cid":"bafy1"}}',
    # a post repeating text and createdAt in its record
    '{"did":"did:plc:aaa","time_us":1783175888085435,"kind":"commit","commit":{"rev":"r","operation":"create",'
    '"collection":"app.bsky.feed.post","rkey":"p9","record":{"$type":"app.bsky.feed.post","text":"FIRST",'
    '"text":"LAST","createdAt":"2026-07-04T14:38:08.999Z","createdAt":"2020-01-01T00:00:00.000Z"},"cid":"bafy2"}}',
    # a follow repeating rkey in commit and subject in its record
    '{"did":"did:plc:aaa","time_us":1783175888085436,"kind":"commit","commit":{"rev":"r","operation":"create",'
    '"collection":"app.bsky.graph.follow","rkey":"f1","rkey":"f2","record":{"$type":"app.bsky.graph.follow",'
    '"createdAt":"2026-07-04T14:38:08.999Z","subject":"did:plc:first","subject":"did:plc:last"},"cid":"bafy3"}}',
    # a reply repeating uri in reply.parent, and another repeating parent in reply
    '{"did":"did:plc:bbb","time_us":1783175888085437,"kind":"commit","commit":{"operation":"create",'
    '"collection":"app.bsky.feed.post","rkey":"r1","record":{"text":"re","createdAt":"2026-07-04T14:38:08.999Z",'
    '"reply":{"parent":{"uri":"at://did:plc:FIRST/app.bsky.feed.post/a","uri":"at://did:plc:LAST/app.bsky.feed.'
    'post/b"},"root":{"uri":"at://did:plc:r/app.bsky.feed.post/r"}}},"cid":"bafy4"}}',
    '{"did":"did:plc:bbb","time_us":1783175888085438,"kind":"commit","commit":{"operation":"create",'
    '"collection":"app.bsky.feed.post","rkey":"r2","record":{"text":"re2","createdAt":"2026-07-04T14:38:08.999Z",'
    '"reply":{"parent":{"uri":"at://did:plc:FIRST/app.bsky.feed.post/c"},"root":{"uri":"at://did:plc:r/app.bsky.'
    'feed.post/r","uri":"at://did:plc:LAST/app.bsky.feed.post/root"},"parent":{"uri":"at://did:plc:LAST/app.bsky.'
    'feed.post/d"}}},"cid":"bafy5"}}',
    # an identity repeating its handle
    '{"did":"did:plc:ccc","time_us":1783175888085439,"kind":"identity","identity":{"did":"did:plc:ccc",'
    '"handle":"first.test","handle":"last.test","seq":1,"time":"2026-07-04T14:38:08.999Z"}}',
]


def _expected_dups() -> tuple[dict, dict, set]:
    """posts {key: (text, reply_to)}, interactions {key: (target post, target account)}, handles — json.loads."""
    posts, inter, handles = {}, {}, set()
    for x in _DUP:
        e = json.loads(x)
        if e["kind"] == "identity":
            handles.add((e["did"], e["identity"]["handle"]))
            continue
        c, r = e["commit"], e["commit"]["record"]
        uri = f"at://{e['did']}/{c['collection']}/{c['rkey']}"
        if c["collection"] == "app.bsky.feed.post":
            posts[uri] = (r["text"], r.get("reply", {}).get("parent", {}).get("uri"))
        elif c["collection"] == "app.bsky.feed.like":
            inter[uri] = (r["subject"]["uri"], r["subject"]["uri"].split("/")[2])
        else:
            inter[uri] = (None, r["subject"])
    return posts, inter, handles


def _dup_tables(store) -> tuple[dict, dict, set]:
    con = store.con
    posts = {k: (t, rt) for k, t, rt in con.execute(
        "SELECT post_key, text, reply_to_key FROM posts WHERE author_key LIKE 'did:plc:%'").fetchall()}
    inter = {k: (p, a) for k, p, a in con.execute(
        "SELECT interaction_key, target_post_key, target_account_key FROM interactions "
        "WHERE type IN ('like', 'follow')").fetchall()}
    handles = set(con.execute("SELECT account_key, handle FROM accounts WHERE handle IS NOT NULL").fetchall())
    return posts, inter, handles


def test_jetstream_repeated_nested_keys_give_the_same_records_plain_and_zst(tmp_path, monkeypatch):
    # before: the plain capture (columnar path, DuckDB keeps the first value) and the .zst one (json.loads keeps
    # the last) stored different records for one event; both imported: two follows for one event
    from socialleads.sources import fast_jetstream

    calls = []
    real = fast_jetstream.jetstream_sources
    monkeypatch.setattr(fast_jetstream, "jetstream_sources", lambda *a: calls.append(1) or real(*a))
    data = ("\n".join(_DUP) + "\n").encode()
    plain = tmp_path / "dupnested.jsonl"
    plain.write_bytes(data)
    packed = _zst(data, tmp_path / "dupnested.jsonl.zst")
    expected = _expected_dups()
    assert expected[0]["at://did:plc:aaa/app.bsky.feed.post/p9"][0] == "LAST"      # json.loads: the last wins
    got = []
    for p in (plain, packed):
        s = open_store(None)
        out = import_path(s, p)
        assert out.complete
        got.append(_dup_tables(s))
    assert calls == [1]                                   # the plain file went the columnar way
    assert got[0] == got[1] == expected
    both = open_store(None)
    import_path(both, plain)
    before = both.counts()
    import_path(both, packed)
    assert {k: v for k, v in both.counts().items() if k != "ingest_runs"} == \
        {k: v for k, v in before.items() if k != "ingest_runs"}
