"""Folders of several exports, streams, and damaged parts of an input: what was valid is kept, the bad part is
named in quarantine, and the exit code says the import was not complete. Expected counts are read from the
fixture files here with plain json / zlib, never from the importer's output."""

from __future__ import annotations

import gzip
import json
import os
import random
import shutil
import zipfile
import zlib
from pathlib import Path

import pytest

from socialleads.errors import FormatError
from socialleads.simulate import simulate
from socialleads.sources.importer import import_path, plan_folder
from socialleads.store import open_store

SHARED = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
X = SHARED / "twitter"
pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared fixtures not found at {SHARED}")


def js(path: Path) -> list:
    text = path.read_text(encoding="utf-8-sig")
    return json.loads(text[text.index("=") + 1:].strip().rstrip(";"))


def count(store, table: str) -> int:
    return store.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def quarantine(store) -> list[tuple]:
    return store.con.execute("SELECT file, place, reason FROM quarantine ORDER BY file, place").fetchall()


def copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    for p in [dst, *dst.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    return dst


def test_a_folder_of_an_archive_and_its_follower_lists_imports_both():
    # archive_larsbrinkhoff/ holds archive_2021-03-22/ (an X archive) and follower_snapshots/ (dated lists):
    # neither format takes the whole folder, so each part is imported on its own (before: nothing, exit 0)
    lars = X / "archive_larsbrinkhoff"
    tweets = js(lars / "archive_2021-03-22" / "data" / "tweet.js")
    snaps = {p.name: {i["follower"]["accountId"] for i in js(p)}
             for p in (lars / "follower_snapshots").glob("follower_*.js")}
    kinds = sorted(f.name for f, _ in plan_folder(lars)[0])
    assert kinds == ["x_archive", "x_follower_snapshots"]
    s = open_store(None)
    out = import_path(s, lars)
    assert out.complete and len(out.runs) == 1           # two ingest runs, one summary
    assert count(s, "posts") == len(tweets) == 1827      # README: 1,827 tweets
    assert count(s, "follower_snapshots") == sum(len(v) for v in snaps.values())
    assert [Path(f).name for f in out.skipped] == ["README.txt"]


def test_exports_of_two_platforms_side_by_side_are_both_imported(tmp_path):
    # the Mastodon detector looks into subfolders: it must not swallow the X archive beside it
    x, masto = X / "archive_rtiatmla", SHARED / "mastodon" / "archive_export"
    both = tmp_path / "exports"
    copy(x, both / "x")
    copy(masto, both / "masto")
    alone = []
    for p in (x, masto):
        s = open_store(None)
        import_path(s, p)
        alone.append((count(s, "posts"), count(s, "interactions")))
    s = open_store(None)
    out = import_path(s, both)
    assert out.complete and len(out.files) == 2
    assert (count(s, "posts"), count(s, "interactions")) == tuple(map(sum, zip(*alone, strict=True)))
    assert count(s, "posts") == len(js(x / "data" / "tweet.js")) + 7 and alone[1][0] == 7   # README: 7 posts


def test_a_pipe_is_refused_with_one_line(tmp_path):
    fifo = tmp_path / "stream.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(FormatError, match="not a regular file or folder"):
        import_path(open_store(None), fifo)             # refused before anything opens it: no hang


def test_a_truncated_gzip_keeps_the_lines_before_the_cut(tmp_path):
    world = tmp_path / "w"
    simulate(world, posts=4_000, seed=5)
    whole = gzip.compress((world / "posts-0001.jsonl").read_bytes())
    cut = whole[:len(whole) // 2]
    (tmp_path / "in").mkdir()
    src = tmp_path / "in" / "posts.jsonl.gz"
    src.write_bytes(cut)
    # independent: the complete lines of what zlib can inflate from the cut stream
    head = zlib.decompressobj(wbits=31).decompress(cut)
    lines = head[:head.rfind(b"\n") + 1].count(b"\n")
    s = open_store(None)
    out = import_path(s, src)
    assert not out.complete and out.quarantined == 1
    assert count(s, "posts") == lines > 0
    ((file, place, reason),) = quarantine(s)
    assert file == str(src) and place == f"line {lines + 1}" and "ends early" in reason


def test_damaged_parquet_pages_are_quarantined_and_the_other_files_kept(tmp_path):
    world = tmp_path / "w"
    simulate(world, posts=500, seed=3, fmt="parquet")
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(world / "accounts.parquet", d)
    b = bytearray((world / "posts-0001.parquet").read_bytes())
    rnd = random.Random(3)
    for i in rnd.sample(range(8, len(b) // 2), 10):
        b[i] ^= 0xFF
    (d / "posts.parquet").write_bytes(bytes(b))
    accounts = open_store(None)
    import_path(accounts, d / "accounts.parquet")
    s = open_store(None)
    out = import_path(s, d)                               # before: an internal error, nothing stored
    assert not out.complete and not out.refused
    assert count(s, "accounts") == count(accounts, "accounts") > 0
    assert [(Path(f).name, r.split(",")[0]) for f, _, r in quarantine(s)] == [("posts.parquet", "damaged Parquet data")]


def test_a_garbage_member_of_an_x_archive_is_quarantined_and_the_rest_kept(tmp_path):
    arch = copy(X / "archive_rtiatmla", tmp_path / "arch")
    (arch / "data" / "like.js").write_text("window.YTD.like.part0 = garbage")
    s = open_store(None)
    out = import_path(s, arch)                            # before: the whole archive refused
    assert not out.refused and out.quarantined == 1
    assert count(s, "posts") == len(js(X / "archive_rtiatmla" / "data" / "tweet.js")) == 70
    followers = {i["follower"]["accountId"] for i in js(X / "archive_rtiatmla" / "data" / "follower.js")}
    assert count(s, "interactions WHERE type = 'follow'") >= len(followers) > 0
    ((file, place, reason),) = quarantine(s)
    assert file.endswith("like.js") and place == "file" and "not an X archive data file" in reason


def test_one_damaged_follower_list_keeps_the_other_dates(tmp_path):
    lars = copy(X / "archive_larsbrinkhoff", tmp_path / "lars")
    bad = lars / "follower_snapshots" / "follower_2022-04-29.js"
    bad.write_text("garbage")
    want = sum(len({i["follower"]["accountId"] for i in js(p)})
               for p in (X / "archive_larsbrinkhoff" / "follower_snapshots").glob("follower_*.js") if p.name != bad.name)
    s = open_store(None)
    out = import_path(s, lars / "follower_snapshots")
    assert not out.refused and out.quarantined == 1
    assert count(s, "follower_snapshots") == want
    assert count(s, "follower_snapshots WHERE observed_at = TIMESTAMP '2022-04-29'") == 0


@pytest.mark.parametrize("content", ["", "window.YTD.tweet.part0 = "])
def test_an_empty_tweet_file_is_named_not_ignored(tmp_path, content):
    """A 0-byte tweet.js (or one cut right after '=') is a damaged copy: the archive's other data is kept and the
    file is named in quarantine (before: ignored silently, the import 'complete' with no tweets)."""
    arch = copy(X / "archive_rtiatmla", tmp_path / "arch")
    (arch / "data" / "tweet.js").write_text(content)
    s = open_store(None)
    out = import_path(s, arch)
    assert not out.refused and not out.complete
    assert count(s, "posts") == 0
    followers = {i["follower"]["accountId"] for i in js(X / "archive_rtiatmla" / "data" / "follower.js")}
    assert count(s, "interactions WHERE type = 'follow'") >= len(followers) > 0
    ((file, place, reason),) = quarantine(s)
    assert file.endswith("tweet.js") and place == "file" and reason.startswith("empty")
    empty = copy(X / "x_archive_2026_tweets_js", tmp_path / "ok")     # `= [ ]` (its note-tweet.js) is no fault
    out = import_path(s, empty)
    assert out.complete


@pytest.mark.parametrize("damage", ["cut", "entry_without_id"])
def test_a_partial_follower_list_is_not_stored_as_a_snapshot(tmp_path, damage):
    """A list cut short (or with an unreadable entry) stored as a snapshot would count the followers it misses as
    lost: that date is not stored at all, the others are, and the fault is named."""
    lars = copy(X / "archive_larsbrinkhoff", tmp_path / "lars")
    files = sorted((lars / "follower_snapshots").glob("follower_*.js"))
    bad = files[-1]
    date = bad.stem.split("_", 1)[1]
    text = bad.read_text(encoding="utf-8-sig")
    full = js(bad)
    assert len(full) > 2
    if damage == "cut":                  # a truncated download: the array ends in the middle of an entry
        cut = text.index('"accountId"', text.index('"accountId"') + 1)
        bad.write_text(text[:cut])
    else:
        full[1]["follower"].pop("accountId")
        bad.write_text("window.YTD.follower.part0 = " + json.dumps(full))
    want = sum(len({i["follower"]["accountId"] for i in js(p)})
               for p in (X / "archive_larsbrinkhoff" / "follower_snapshots").glob("follower_*.js") if p.name != bad.name)
    s = open_store(None)
    out = import_path(s, lars / "follower_snapshots")
    assert not out.refused and not out.complete
    assert count(s, f"follower_snapshots WHERE observed_at = TIMESTAMP '{date}'") == 0
    assert count(s, "follower_snapshots") == want > 0
    rows = quarantine(s)
    assert any(f.endswith(bad.name) and p == "file" and f"the {date} snapshot is not stored" in r for f, p, r in rows)
    assert any(f.endswith(bad.name) and p.startswith("item ") for f, p, r in rows)
    before = count(s, "quarantine")
    import_path(s, lars / "follower_snapshots")                      # a re-import changes no count
    assert count(s, "quarantine") == before and count(s, "follower_snapshots") == want


def test_a_zip_bomb_in_a_truncated_zip_is_not_inflated(tmp_path):
    data = X / "x_archive_2026_tweets_js" / "data"
    tw = (data / "tweets.js").read_bytes()
    i = tw.index(b"[") + 1
    full = tmp_path / "bomb.zip"
    with zipfile.ZipFile(full, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("data/account.js", (data / "account.js").read_bytes())
        z.writestr("data/tweets.js", tw[:i] + b" " * (60 << 20) + tw[i:])
    raw = full.read_bytes()
    cut = tmp_path / "bomb_cut.zip"
    cut.write_bytes(raw[:raw.find(b"PK\x01\x02")])          # no central directory: the salvage path
    s = open_store(None)
    out = import_path(s, cut, fmt="x_archive")
    assert count(s, "posts") == 0 and out.quarantined >= 1
    assert any("zip bomb" in r for _, _, r in quarantine(s))


def test_the_same_file_under_another_spelling_is_the_same_file(tmp_path, monkeypatch):
    d = tmp_path / "m"
    d.mkdir()
    good = {"record_type": "post", "platform": "x", "post_key": "x:1", "author_key": "x:9",
            "created_at": "2025-01-01T00:00:00Z", "kind": "original", "text": "hello"}
    (d / "posts.jsonl").write_text(json.dumps(good) + '\n{"record_type": "post", "post_key": "x:2", broken\n')
    s = open_store(None)
    monkeypatch.chdir(tmp_path)
    for p in (Path("m/posts.jsonl"), d / "posts.jsonl", Path("m/../m/posts.jsonl")):
        import_path(s, p)
    assert count(s, "quarantine") == 1 and count(s, "posts") == 1


def test_a_truncated_x_zip_whose_first_member_is_not_data_is_still_an_x_archive(tmp_path):
    # the archive X sends starts with "Your archive.html" / README: a cut download has no central directory,
    # and detection must find the data files' names in the local headers (before: "not in the generic format")
    from socialleads.sources import formats as F
    src = X / "archive_rtiatmla"
    full = tmp_path / "x.zip"
    with zipfile.ZipFile(full, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("Your archive.html", "<html>" + "x" * 5000 + "</html>")
        for p in sorted((src / "data").rglob("*")):
            if p.is_file():
                z.write(p, f"data/{p.relative_to(src / 'data')}")
    raw = full.read_bytes()
    cut = tmp_path / "x_cut.zip"
    cut.write_bytes(raw[:raw.find(b"PK\x01\x02") - 10])   # the central directory and the last member's end gone
    assert F.detect(cut).name == "x_archive"
    s = open_store(None)
    out = import_path(s, cut)
    assert not out.refused and out.quarantined >= 1 and count(s, "interactions") > 0   # tweet.js, last, is cut


def test_an_unterminated_csv_quote_says_how_many_lines_it_swallowed(tmp_path):
    world = tmp_path / "w"
    simulate(world, posts=2_000, seed=1)
    rows = (world / "clicks.csv").read_text().splitlines()
    bad = 'cbad,2025-11-17T12:04:36Z,"https://unterminated,v1,x:1,ref'
    d = tmp_path / "in"
    d.mkdir()
    (d / "clicks.csv").write_text("\n".join([*rows[:5], bad, *rows[5:]]) + "\n")
    s = open_store(None)
    out = import_path(s, d / "clicks.csv")
    assert out.quarantined == 1 and count(s, "clicks") == 4            # the four rows before the bad one
    ((_, place, reason),) = quarantine(s)
    swallowed = 1 + len(rows) - 5                                       # the bad line and every line after it
    assert place == "line 6" and f"spans {swallowed} lines" in reason


def test_a_cut_tar_gz_keeps_the_members_before_the_cut(tmp_path):
    import tarfile
    src = SHARED / "mastodon" / "archive_dealingwith_full"
    full = tmp_path / "m.tar.gz"
    with tarfile.open(full, "w:gz") as t:
        for name in ("actor.json", "outbox.json", "README.txt", "likes.json", "bookmarks.json"):
            if (src / name).is_file():
                t.add(src / name, name)
    raw = full.read_bytes()
    cut = tmp_path / "m_cut.tar.gz"
    cut.write_bytes(raw[:len(raw) * 95 // 100])       # actor and outbox whole, the end gone
    whole = open_store(None)
    import_path(whole, src)
    s = open_store(None)
    out = import_path(s, cut)                            # before: refused whole
    assert not out.refused and out.quarantined >= 1
    assert count(s, "posts") == count(whole, "posts") > 0
    assert any("truncated or corrupt after member" in r for _, _, r in quarantine(s))


def test_a_line_too_long_to_read_is_quarantined_and_its_neighbours_kept(tmp_path, monkeypatch):
    # before: a 150 MB line ran DuckDB out of its memory limit and nothing of the file was kept (exit 70)
    import socialleads.sources.lines as L
    monkeypatch.setattr(L, "MAX_LINE_BYTES", 4096)
    world = tmp_path / "w"
    simulate(world, posts=300, seed=2)
    lines = (world / "posts-0001.jsonl").read_text().splitlines()
    huge = json.dumps({"record_type": "post", "platform": "x", "post_key": "x:huge", "author_key": "x:1",
                       "created_at": "2025-01-01T00:00:00Z", "kind": "original", "text": "a" * 200_000})
    d = tmp_path / "in"
    d.mkdir()
    (d / "posts.jsonl").write_text("\n".join([*lines[:100], huge, *lines[100:]]) + "\n")
    monkeypatch.setattr(L, "CHUNK_BYTES", 64 << 10)       # buffers smaller than the line
    s = open_store(None)
    out = import_path(s, d / "posts.jsonl")
    assert out.quarantined == 1 and count(s, "posts") == len(lines)
    ((_, place, reason),) = quarantine(s)
    assert place == "line 101" and reason == f"line longer than 4,096 bytes ({len(huge) + 1:,} bytes): not read"
