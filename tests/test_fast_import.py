"""The columnar import paths (sources/fast_jetstream.py) store exactly what the Python readers store.

Reference: the same import with the columnar path switched off (`importer._FAST = False`), i.e. the
platform reader's dicts through the generic staging. Every table's rows are compared (without the run
id and the import's own clock), plus the summary counts and the quarantine (file, place, reason, raw).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("libipld", reason="the bluesky readers need `atproto` (libipld)")

from socialleads.sources import fast_jetstream  # noqa: E402
from socialleads.sources import importer as I  # noqa: E402
from socialleads.store import open_store  # noqa: E402

FIX = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
JS = FIX / "bluesky" / "jetstream_corpus" / "expected_v1.jsonl"
pytestmark = pytest.mark.skipif(not JS.is_file(), reason=f"fixtures missing: {JS}")

# columns set from the clock or the run, not from the input
CLOCK = {"ingest_run_id", "run_id", "first_seen_at", "quarantined_at", "sort_at"}
TABLES = ("accounts", "posts", "interactions", "post_entities", "record_index", "quarantine", "follower_snapshots",
          "metrics_snapshots")


def _tables(store) -> dict[str, list[tuple]]:
    out = {}
    for t in TABLES:
        cols = [r[0] for r in store.con.execute(f"DESCRIBE {t}").fetchall() if r[0] not in CLOCK]
        rows = store.con.execute(f"SELECT {', '.join(cols)} FROM {t}").fetchall()
        out[t] = sorted(tuple((c, repr(v)) for c, v in zip(cols, r, strict=True)) for r in rows)
    return out


def _import_both(monkeypatch, paths: list[Path]) -> tuple[dict, dict, list, list]:
    got = []
    for fast in (True, False):
        monkeypatch.setattr(I, "_FAST", fast)
        store = open_store(None)
        sums = []
        for p in paths:
            s = I.import_path(store, p).to_json()
            sums.append({k: v for k, v in s.items() if k not in ("run_id", "run_ids", "seconds")})
        got.append((_tables(store), sums))
        store.close()
    (fast_t, fast_s), (slow_t, slow_s) = got
    return fast_t, slow_t, fast_s, slow_s


def _assert_same(fast_t: dict, slow_t: dict) -> None:
    for t in TABLES:
        assert len(fast_t[t]) == len(slow_t[t]), t
        for a, b in zip(fast_t[t], slow_t[t], strict=True):
            assert a == b, (t, a, b)


def test_jetstream_fixture_fast_equals_reader(monkeypatch):
    calls = []
    real = fast_jetstream.jetstream_sources
    monkeypatch.setattr(fast_jetstream, "jetstream_sources", lambda *a: calls.append(1) or real(*a))
    fast_t, slow_t, fast_s, slow_s = _import_both(monkeypatch, [JS])
    assert calls == [1]                       # the columnar path did run
    assert fast_s == slow_s
    _assert_same(fast_t, slow_t)
    # independent: the fixture's creates (README: 105 like, 17 post, 15 repost, 6 follow)
    kinds = {}
    for r in fast_t["interactions"]:
        d = dict(r)
        kinds[d["type"]] = kinds.get(d["type"], 0) + 1
    assert kinds.get("'like'") == 105 and kinds.get("'follow'") == 6


def _copies(tmp_path: Path, k: int, mutate=None) -> Path:
    """`k` copies of the fixture with new rkeys; copy i's deletes name copy i-1's creates (as the benchmark)."""
    base = [json.loads(x) for x in JS.read_text().splitlines() if x.strip()]
    first = {}
    for e in base:
        c = e.get("commit") or {}
        if c.get("operation") == "create":
            first.setdefault(c["collection"], e)
    lines = []
    for i in range(k):
        for e in base:
            e = json.loads(json.dumps(e))
            c = e.get("commit")
            if isinstance(c, dict):
                if c.get("operation") == "delete" and i > 0 and c.get("collection") in first:
                    e["did"] = first[c["collection"]]["did"]
                    c["rkey"] = f"{first[c['collection']]['commit']['rkey']}x{i - 1}"
                else:
                    c["rkey"] = f"{c['rkey']}x{i}"
            lines.append(json.dumps(e, separators=(",", ":")))
    if mutate:
        lines = mutate(lines)
    p = tmp_path / "capture.jsonl"
    p.write_text("\n".join(lines) + "\n")
    return p


def test_jetstream_many_batches_and_deletes_across_them(monkeypatch, tmp_path):
    p = _copies(tmp_path, 12)
    monkeypatch.setattr(fast_jetstream, "BATCH_BYTES", 20_000)   # many batches: deletes resolve across them
    fast_t, slow_t, fast_s, slow_s = _import_both(monkeypatch, [p])
    assert fast_s == slow_s
    _assert_same(fast_t, slow_t)
    # each later copy deletes the first follow and the first post of the copy before (made so above)
    assert sum(dict(r)["ended_at"] != "None" for r in fast_t["interactions"]) == 11
    assert sum(dict(r)["is_deleted"] == "True" for r in fast_t["posts"]) == 11


def test_jetstream_odd_lines_fall_back_and_stay_identical(monkeypatch, tmp_path):
    def mutate(lines: list[str]) -> list[str]:
        out = list(lines)
        out[3] = out[3][: len(out[3]) // 2]                             # cut JSON
        out[5] = out[5].replace('"createdAt":"', '"createdAt":"x', 1)  # not a time
        out[7] = out[7].replace('"did":"did:', '"did":"xid:', 1)       # no did
        out.insert(9, "")                                              # blank line
        out.insert(10, "   ")
        out.insert(11, '{"did":"did:plc:a","kind":"commit","commit":{"operation":"erase",'
                       '"collection":"app.bsky.feed.like","rkey":"r1"}}')
        out.insert(12, '{"did":"did:plc:a","kind":"commit","commit":{"operation":"create",'
                       '"collection":"app.bsky.feed.like","rkey":7,"record":{"subject":{"uri":"at://did:plc:b/'
                       'app.bsky.feed.post/p"},"createdAt":"2024-01-01T00:00:00+01:00"}}}')
        out.insert(13, '{"did":"did:plc:a","did":"did:plc:c","kind":"identity","identity":{"handle":"a.test"}}')
        out.insert(14, '{"did":"did:plc:a","kind":"identity","identity":{"handle":"a.test"}}')
        out.insert(15, '{"did":"did:plc:a","kind":"weird"}')
        out.insert(16, '{"did":"did:plc:a","kind":"commit","time_us":1.5,"commit":{"operation":"delete",'
                       '"collection":"app.bsky.feed.post","rkey":"gone"}}')
        out.insert(17, '{"did":"did:plc:a","kind":"commit","commit":{"operation":"create",'
                       '"collection":"app.bsky.feed.post","rkey":"p2","record":{"text":"hi","createdAt":'
                       '"2024-02-29T10:00:00.120Z","langs":[5],"reply":null}}}')
        out.insert(18, '{"did":"did:plc:a","kind":"commit","commit":{"operation":"create",'
                       '"collection":"app.bsky.feed.post","rkey":"p3","record":{"text":"hi","createdAt":'
                       '"2023-02-29T10:00:00.120Z"}}}')
        out.insert(19, "[1, 2]")
        out.insert(20, '{"did":"did:plc:a","kind":"commit","commit":{"operation":"create","cid":"",'
                       '"collection":"app.bsky.feed.repost","rkey":"r9","record":{"subject":{"uri":"nope"},'
                       '"createdAt":"2024-01-01T00:00:00.000Z"}}}')
        return out

    p = _copies(tmp_path, 3, mutate)
    with p.open("ab") as fh:
        fh.write(b'{"did":"did:plc:a","kind":"identity","identity":{"handle":"caf\xe9"}}\n')   # latin-1
    fast_t, slow_t, fast_s, slow_s = _import_both(monkeypatch, [p])
    assert fast_s == slow_s
    _assert_same(fast_t, slow_t)
    assert fast_s[0]["quarantined"] >= 8


def test_jetstream_reimport_over_an_earlier_import(monkeypatch, tmp_path):
    """A second capture whose deletes name creates of the first: resolved through record_index both ways."""
    a = _copies(tmp_path, 2)
    b_dir = tmp_path / "b"
    b_dir.mkdir()
    b = _copies(b_dir, 3)
    fast_t, slow_t, fast_s, slow_s = _import_both(monkeypatch, [a, b, a])
    assert fast_s == slow_s
    _assert_same(fast_t, slow_t)


def test_jetstream_file_of_no_events_is_refused_both_ways(monkeypatch, tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"time_us": 1, "kind": "commit", "did": 5}\n{"time_us": 1, "kind": "x"}\n')
    fast_t, slow_t, fast_s, slow_s = _import_both(monkeypatch, [p])
    assert fast_s == slow_s and fast_s[0]["refused"]
    _assert_same(fast_t, slow_t)


def _mutations():
    from hypothesis import strategies as st

    from tests.test_fuzz_importers import MUTATIONS  # the fuzz suite's mutations of real files
    return st.lists(MUTATIONS, min_size=1, max_size=3)


@pytest.mark.parametrize("seed", range(3))
def test_jetstream_mutated_fast_equals_reader(seed, tmp_path):
    """Byte flips, cuts, junk lines, repeated keys, lost braces, other encodings (the fuzz suite's mutations),
    several at once: the columnar path stores exactly what the reader stores."""
    from hypothesis import HealthCheck, given, settings

    from tests.test_fuzz_importers import _mutate

    @settings(max_examples=8, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(_mutations())
    def check(ms):
        data = JS.read_bytes() * (seed + 1)
        for m in ms:
            try:
                data = _mutate(data, m)[0] if data else data
            except UnicodeDecodeError:      # a re-encoding of bytes that are no longer UTF-8
                continue
        d = tmp_path / f"m{abs(hash(repr(ms)))}"
        d.mkdir()
        p = d / "capture.jsonl"
        p.write_bytes(data)
        with pytest.MonkeyPatch.context() as mp:
            fast_t, slow_t, fast_s, slow_s = _import_both(mp, [p])
        assert fast_s == slow_s, ms
        _assert_same(fast_t, slow_t)

    check()


# ------------------------------------------------------------------------------------------------ X archives

X_FIXTURES = sorted(p for p in (FIX / "twitter").iterdir() if p.is_dir()) if (FIX / "twitter").is_dir() else []
X_2026 = FIX / "twitter" / "x_archive_2026_tweets_js"


def _x_archive(tmp_path: Path, copies: int, src: Path = X_2026, edit=None) -> Path:
    """A folder archive as the benchmark makes it: the fixture's account / manifest / profile and a tweets.js
    of `copies` copies of its tweets with new ids (no note tweets, so the columnar path may take it)."""
    out = tmp_path / "archive"
    (out / "data").mkdir(parents=True)
    name = next(f for f in ("tweets.js", "tweet.js") if (src / "data" / f).is_file())
    text = (src / "data" / name).read_text()
    base = json.loads(text[text.index("=") + 1:].strip().rstrip(";"))
    for f in ("account.js", "manifest.js", "profile.js"):
        if (src / "data" / f).is_file():
            (out / "data" / f).write_text((src / "data" / f).read_text())
    items = []
    for k in range(copies):
        for i, item in enumerate(base):
            item = json.loads(json.dumps(item))
            t = item.get("tweet", item)
            t["id_str"] = t["id"] = str(1_500_000_000_000_000_000 + k * 1000 + i)
            items.append(item)
    if edit:
        items = edit(items)
    (out / "data" / name).write_text("window.YTD.tweets.part0 = " + json.dumps(items, indent=1))
    return out


def _spy_x(monkeypatch) -> list:
    from socialleads.sources import fast_x
    taken = []
    real = fast_x.part
    monkeypatch.setattr(fast_x, "part", lambda *a: taken.append(b := real(*a)) or b)
    return taken


@pytest.mark.parametrize("src", [X_2026, FIX / "twitter" / "x_archive_2020_tweet_js"], ids=lambda p: p.name)
def test_x_tweets_part_fast_equals_reader(monkeypatch, tmp_path, src):
    taken = _spy_x(monkeypatch)
    a = _x_archive(tmp_path, 3, src)
    fast_t, slow_t, fast_s, slow_s = _import_both(monkeypatch, [a])
    assert taken and taken[0] is not None          # the columnar path took the part
    assert fast_s == slow_s
    _assert_same(fast_t, slow_t)
    assert fast_s[0]["posts"] == 3 * len(json.loads(
        next((src / "data" / f) for f in ("tweets.js", "tweet.js") if (src / "data" / f).is_file())
        .read_text().split("=", 1)[1].strip().rstrip(";")))


@pytest.mark.parametrize("archive", X_FIXTURES, ids=lambda p: p.name)
def test_x_fixture_archives_fast_equals_reader(monkeypatch, archive):
    """Every X fixture (note tweets, deletes, likes, follows, Grailbird, CSV): the same store both ways."""
    fast_t, slow_t, fast_s, slow_s = _import_both(monkeypatch, [archive])
    assert fast_s == slow_s
    _assert_same(fast_t, slow_t)


def test_x_irregular_tweet_sends_the_part_to_the_reader(monkeypatch, tmp_path):
    def edit(items):
        items[2].get("tweet", items[2])["full_text"] += " &amp; more"     # an HTML escape: the reader's way
        return items
    taken = _spy_x(monkeypatch)
    a = _x_archive(tmp_path, 2, edit=edit)
    fast_t, slow_t, fast_s, slow_s = _import_both(monkeypatch, [a])
    assert taken == [None]
    assert fast_s == slow_s
    _assert_same(fast_t, slow_t)


def _x_case(monkeypatch, tmp_path, edit=None, text_edit=None, copies=2, imports=1):
    """An archive of `copies` copies of the 2026 fixture's tweets (`edit`: on the items, `text_edit`: on the
    tweets.js text), imported `imports` times with the columnar path and without: the same store."""
    taken = _spy_x(monkeypatch)
    a = _x_archive(tmp_path, copies, edit=edit)
    if text_edit:
        p = a / "data" / "tweets.js"
        p.write_text(text_edit(p.read_text()))
    fast_t, slow_t, fast_s, slow_s = _import_both(monkeypatch, [a] * imports)
    assert fast_s == slow_s
    _assert_same(fast_t, slow_t)
    return taken, fast_s


def _tw(item: dict) -> dict:
    return item.get("tweet", item)


def test_x_regular_variants_stay_columnar(monkeypatch, tmp_path):
    """Tweets the columnar path maps itself: bare (2019) items beside wrapped ones, counts and offsets as numbers
    or strings, escapes in texts, missing lists and fields, quotes, an empty hashtag, media ids."""
    def edit(items):
        _tw(items[0])["favorite_count"] = 7                      # a number, not a string
        _tw(items[0])["retweet_count"] = "012"
        _tw(items[1])["full_text"] = 'a "quoted" \\ back\\slash\ttab \u00e9 \U0001f600 \u2028 end'
        _tw(items[1])["entities"]["user_mentions"][0]["indices"] = [0, 10]
        items[2] = _tw(items[2])                                  # bare
        _tw(items[3]).pop("lang")
        _tw(items[3])["entities"].pop("hashtags")
        _tw(items[4])["entities"]["hashtags"].append({"text": "", "indices": ["1", "2"]})
        _tw(items[4])["entities"]["urls"] = [{"expanded_url": "https://twitter.com/a_b/status/12345?s=20",
                                             "url": "https://t.co/x", "indices": [1, 2]}]
        _tw(items[5]).pop("entities")
        _tw(items[6])["lang"] = None
        _tw(items[7]).pop("favorite_count")
        return items
    taken, s = _x_case(monkeypatch, tmp_path, edit)
    assert taken and taken[0] is not None
    assert s[0]["quarantined"] == 0


@pytest.mark.parametrize("case", [
    "mention_id_number", "screen_name_number", "indices_string", "indices_three", "count_float", "count_huge",
    "null_item", "empty_item", "string_item", "hashtag_not_object", "entities_list", "user", "retweeted_status",
    "full_text_missing", "html_escape", "dup_key_deep", "dup_tweet", "trailing_comma", "not_utf8",
])
def test_x_irregular_parts_go_to_the_reader(monkeypatch, tmp_path, case):
    """Each of these sends the whole part to the reader (which quarantines what it cannot read): the same store."""
    edits = {
        "mention_id_number": lambda t: t["entities"]["user_mentions"][0].__setitem__("id_str", 2253756806),
        "screen_name_number": lambda t: t["entities"]["user_mentions"][0].__setitem__("screen_name", 5),
        "indices_string": lambda t: t["entities"]["user_mentions"][0].__setitem__("indices", "3,10"),
        "indices_three": lambda t: t["entities"]["user_mentions"][0].__setitem__("indices", [0, 1, 2]),
        "count_float": lambda t: t.__setitem__("favorite_count", 1.5),
        "count_huge": lambda t: t.__setitem__("favorite_count", 123456789012345678901234567890),
        "hashtag_not_object": lambda t: t["entities"].__setitem__("hashtags", ["x"]),
        "entities_list": lambda t: t.__setitem__("entities", []),
        "user": lambda t: t.__setitem__("user", {"id_str": "1", "screen_name": "someone"}),
        "retweeted_status": lambda t: t.__setitem__("retweeted_status", {"id_str": "9"}),
        "full_text_missing": lambda t: t.pop("full_text"),
        "html_escape": lambda t: t.__setitem__("full_text", t["full_text"] + " &lt;3"),
    }

    def edit(items):
        if case in edits:
            edits[case](_tw(items[0]))
        elif case == "null_item":
            items.insert(1, None)
        elif case == "empty_item":
            items.insert(1, {})
        elif case == "string_item":
            items.insert(1, "tweet")
        elif case in ("dup_key_deep", "dup_tweet", "trailing_comma"):
            _tw(items[0])["entities"]["user_mentions"][0]["zz_mark"] = 1
        return items

    def text_edit(text):
        if case == "dup_key_deep":     # json.loads keeps the last, DuckDB the first
            return text.replace('"zz_mark": 1', '"zz_mark": 1, "id_str": "77"', 1)
        if case == "dup_tweet":
            return text.replace('{\n  "tweet": {', '{\n  "tweet": {"id_str": "5"},\n  "tweet": {', 1)
        if case == "trailing_comma":   # json.loads refuses it: the reader quarantines that item
            return text.replace('"zz_mark": 1', '"zz_mark": 1,', 1)
        return text

    if case == "not_utf8":
        taken = _spy_x(monkeypatch)
        a = _x_archive(tmp_path, 2)
        p = a / "data" / "tweets.js"
        p.write_bytes(p.read_bytes().replace(b'"full_text": "', b'"full_text": "caf\xe9 ', 1))
        fast_t, slow_t, fast_s, slow_s = _import_both(monkeypatch, [a])
        assert fast_s == slow_s
        _assert_same(fast_t, slow_t)
    else:
        taken, _ = _x_case(monkeypatch, tmp_path, edit, text_edit)
    assert taken == [None]


def test_x_parts_share_stubs_and_numbers(monkeypatch, tmp_path):
    """Two tweets parts (no manifest: globbed), the first read by the reader (an irregular tweet), the second
    by the columnar path: accounts mentioned in both are stubbed once, records numbered on across them."""
    a = _x_archive(tmp_path, 2)
    data = a / "data"
    (data / "manifest.js").unlink()
    text = (data / "tweets.js").read_text()
    (data / "tweets-part1.js").write_text(text.replace("part0", "part1").replace('"1500000000000000', '"1600000000000000'))
    (data / "tweets.js").write_text(text.replace('"full_text": "', '"full_text": "&amp; ', 1))
    taken = _spy_x(monkeypatch)
    fast_t, slow_t, fast_s, slow_s = _import_both(monkeypatch, [a])
    assert [b is None for b in taken] == [True, False]
    assert fast_s == slow_s
    _assert_same(fast_t, slow_t)


@pytest.mark.parametrize("form", ["empty", "bom_crlf_semicolon"])
def test_x_part_text_forms(monkeypatch, tmp_path, form):
    """An empty part, and one with a BOM, CRLF line ends and a trailing `;`: the same store both ways."""
    def text_edit(text):
        if form == "empty":
            return "window.YTD.tweets.part0 = [ ]\n"
        return "\ufeff" + text.replace("\n", "\r\n") + ";\r\n"
    taken, s = _x_case(monkeypatch, tmp_path, text_edit=text_edit)
    assert taken and taken[0] is not None
    assert s[0]["posts"] == (0 if form == "empty" else 14)


@pytest.mark.parametrize("nested", [False, True], ids=["cuts", "wrong_cuts"])
def test_x_part_read_in_pieces(monkeypatch, tmp_path, nested):
    """A large part is cut into pieces read in parallel: the same records, in the same order. A cut in the wrong
    place (a nested object whose first key is "tweet") fails to parse; the part is then read in one piece."""
    from socialleads.sources import fast_x
    monkeypatch.setattr(fast_x, "CHUNK_BYTES", 2500)

    def edit(items):
        for k, it in enumerate(items):
            if nested:
                _tw(it)["zz"] = [{"a": 1}, {"tweet": {"id_str": "1"}}, {"tweet": 2}]
            if k >= 14:   # the same tweets again, other texts: the first of each wins, so the order must hold
                _tw(it)["id_str"] = _tw(it)["id"] = _tw(items[k % 14])["id_str"]
                _tw(it)["full_text"] = f"later copy {k}"
        return items
    taken, s = _x_case(monkeypatch, tmp_path, edit, copies=6)
    assert taken and taken[0] is not None
    assert s[0]["posts"] == 14


def test_x_reimport_changes_nothing(monkeypatch, tmp_path):
    taken = _spy_x(monkeypatch)
    a = _x_archive(tmp_path, 3)
    monkeypatch.setattr(I, "_FAST", True)
    store = open_store(None)
    first = I.import_path(store, a).to_json()
    counts = store.counts()
    second = I.import_path(store, a).to_json()
    assert taken and all(b is not None for b in taken)
    assert {k: v for k, v in store.counts().items() if k != "ingest_runs"} == \
        {k: v for k, v in counts.items() if k != "ingest_runs"}
    assert second["new"] == {} and second["updated"] == {} and first["posts"] == second["posts"]
    store.close()


@pytest.mark.parametrize("seed", range(3))
def test_x_mutated_fast_equals_reader(seed, tmp_path, monkeypatch):
    """The fuzz suite's mutations of a tweets.js (flips, cuts, junk, repeated keys, lost braces, encodings),
    several at once: the columnar path stores exactly what the reader stores (read in one piece, or in many)."""
    from hypothesis import HealthCheck, given, settings

    from socialleads.sources import fast_x
    if seed == 2:
        monkeypatch.setattr(fast_x, "CHUNK_BYTES", 3000)

    from tests.test_fuzz_importers import _mutate

    base = _x_archive(tmp_path / "base", seed + 2)
    js = (base / "data" / "tweets.js").read_bytes()

    @settings(max_examples=8, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(_mutations())
    def check(ms):
        data = js
        for m in ms:
            try:
                data = _mutate(data, m)[0] if data else data
            except UnicodeDecodeError:
                continue
        d = tmp_path / f"m{abs(hash(repr(ms)))}"
        shutil.copytree(base, d)
        (d / "data" / "tweets.js").write_bytes(data)
        with pytest.MonkeyPatch.context() as mp:
            fast_t, slow_t, fast_s, slow_s = _import_both(mp, [d])
        assert fast_s == slow_s, ms
        _assert_same(fast_t, slow_t)

    check()
