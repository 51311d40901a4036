"""Mastodon archives (masto_archive) and the follows CSV (masto_follows_csv) against the real fixtures.

Expected values come from CONNECTORS.md §6.5 and from plain-json / csv reads of the fixture files done
here, never from the reader's own output."""

from __future__ import annotations

import collections
import csv
import io
import json
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest

from socialleads.sources import formats as F
from socialleads.sources.importer import import_path
from socialleads.sources.platforms import mastodon_archive as M
from socialleads.store import open_store

FIX = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "mastodon"
EXCERPT = FIX / "archive_export"
FULL = FIX / "archive_dealingwith_full"
FOLLOWS = FIX / "following_csv" / "following_accounts.csv"
OWNER = "https://indieweb.social/users/dealingwith"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"

pytestmark = pytest.mark.skipif(not FIX.is_dir(), reason=f"fixtures missing: {FIX} (../shared/fixtures)")


def all_items(path: Path) -> list:
    """Every orderedItems array of the file, by an independent read (the file repeats the key)."""
    arrays: list = []

    def hook(pairs):
        arrays.extend(v for k, v in pairs if k == "orderedItems")
        return dict(pairs)

    json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=hook)
    return [x for a in arrays for x in a]


def visibility(o: dict) -> str:
    if PUBLIC in o["to"]:
        return "public"
    if PUBLIC in o["cc"]:
        return "unlisted"
    if any(x.endswith("/followers") for x in o["to"]):
        return "private"
    return "direct"


def run(path: Path, fmt: str | None = None):
    store = open_store(None)
    summary = import_path(store, path, fmt=fmt)
    return store, summary


def q(store, sql: str, *args):
    return store.con.execute(sql, list(args)).fetchall()


def test_detect_is_specific(tmp_path):
    assert F.detect(EXCERPT).name == "masto_archive"
    assert F.detect(FULL).name == "masto_archive"
    assert F.detect(FOLLOWS).name == "masto_follows_csv"
    assert M._detect_archive(FOLLOWS.parent) is False
    gen = tmp_path / "gen"
    gen.mkdir()
    (gen / "posts.jsonl").write_text('{"record_type":"post"}\n')
    (gen / "accounts.csv").write_text("account_key,platform\n")
    assert F.detect(gen) is None
    assert F.detect(gen / "accounts.csv") is None
    assert not M._detect_archive(gen / "posts.jsonl")


def test_excerpt_matches_the_spec_counts():
    store, s = run(EXCERPT)
    assert s.complete and s.quarantined == 0
    # CONNECTORS.md §6.5: mastodon original 5 (including 1 direct) / reply 1 / repost 1
    kinds = dict(q(store, "SELECT kind, count(*) FROM posts GROUP BY 1"))
    assert kinds == {"original": 5, "reply": 1, "repost": 1}
    assert q(store, "SELECT count(*) FROM posts WHERE visibility = 'direct' AND kind = 'original'") == [(1,)]
    # interactions: like 5 (no timestamp), mention 2, reply 1, repost 1
    inter = {t: (n, t_) for t, n, t_ in q(store, "SELECT type, count(*), count(created_at) FROM interactions GROUP BY 1")}
    assert inter == {"like": (5, 0), "mention": (2, 2), "reply": (1, 1), "repost": (1, 1)}
    assert q(store, "SELECT DISTINCT time_precision FROM interactions WHERE type = 'like'") == [("unknown",)]
    likes = json.loads((EXCERPT / "likes.json").read_text())["orderedItems"]
    assert sorted(r[0] for r in q(store, "SELECT target_post_key FROM interactions WHERE type='like'")) == sorted(likes)
    actor = json.loads((EXCERPT / "actor.json").read_text())
    owner = q(store, "SELECT account_key, handle, display_name, is_owner FROM accounts WHERE is_owner")
    assert owner == [(actor["id"], f"{actor['preferredUsername']}@indieweb.social", actor["name"], True)]


def test_excerpt_post_fields():
    store, _ = run(EXCERPT)
    items = all_items(EXCERPT / "outbox.json")
    announce = next(i for i in items if i["type"] == "Announce")
    assert q(store, "SELECT kind, repost_of_key, author_key, text FROM posts WHERE post_key = ?", announce["id"]) == \
        [("repost", announce["object"], OWNER, None)]
    reply = next(i["object"] for i in items if i["type"] == "Create" and i["object"]["inReplyTo"])
    row = q(store, "SELECT reply_to_key, text, text_html, lang FROM posts WHERE post_key = ?", reply["id"])[0]
    assert row[0] == reply["inReplyTo"]
    assert "<" not in row[1] and row[2] == reply["content"] and row[3] == next(iter(reply["contentMap"]))
    mention = next(t for t in reply["tag"] if t["type"] == "Mention")
    assert q(store, "SELECT target_account_key FROM post_entities WHERE post_key = ? AND etype = 'mention'",
             reply["id"]) == [(mention["href"],)]
    tagged = [(i["object"]["id"], t["name"].lstrip("#")) for i in items if i["type"] == "Create"
              for t in i["object"]["tag"] if t["type"] == "Hashtag"]
    assert tagged and sorted(tagged) == sorted(q(store, "SELECT post_key, value FROM post_entities "
                                                        "WHERE etype = 'hashtag'"))
    edited = next(i["object"] for i in items if i["type"] == "Create" and "updated" in i["object"])
    assert q(store, "SELECT edited_at IS NOT NULL FROM posts WHERE post_key = ?", edited["id"]) == [(True,)]
    # a direct post is a private message: kept (who wrote to whom) without its text
    direct = next(i["object"] for i in items if i["type"] == "Create" and visibility(i["object"]) == "direct")
    assert q(store, "SELECT text, text_html, visibility FROM posts WHERE post_key = ?", direct["id"]) == \
        [(None, None, "direct")]


def test_full_archive_reads_every_repeated_ordered_items():
    items = all_items(FULL / "outbox.json")
    doc = json.loads((FULL / "outbox.json").read_text())
    assert len(items) == 1586 and doc["totalItems"] == 1557 and len(doc["orderedItems"]) == 1586
    store, s = run(FULL)
    assert s.complete and s.quarantined == 0 and not s.refused
    assert q(store, "SELECT count(*) FROM posts") == [(len(items),)]
    creates = [i["object"] for i in items if i["type"] == "Create"]
    want = collections.Counter(
        "repost" if i["type"] == "Announce" else "reply" if i["object"]["inReplyTo"] else "original" for i in items)
    assert dict(q(store, "SELECT kind, count(*) FROM posts GROUP BY 1")) == dict(want)
    assert want["reply"] == 422 and want["repost"] == 326           # fixture README
    vis = collections.Counter(visibility(i["object"] if i["type"] == "Create" else i) for i in items)
    assert dict(q(store, "SELECT visibility, count(*) FROM posts GROUP BY 1")) == dict(vis)
    assert vis["public"] == 1495 and vis["unlisted"] == 16                # fixture README
    assert vis["private"] + vis["direct"] == 75                           # the README's "followers-only"
    likes = json.loads((FULL / "likes.json").read_text())["orderedItems"]
    assert q(store, "SELECT count(*) FROM interactions WHERE type = 'like'") == [(len(set(likes)),)]
    assert len(likes) == 1115
    mentions = {(o["id"], t["href"]) for o in creates for t in o["tag"] if t["type"] == "Mention"}
    assert q(store, "SELECT count(*) FROM interactions WHERE type = 'mention'") == [(len(mentions),)]
    # bookmarks are counted, not imported (no bookmark type in the data model), and not rejected
    bookmarks = json.loads((FULL / "bookmarks.json").read_text())["orderedItems"]
    assert M.bookmark_count(FULL) == len(bookmarks) == 865
    assert q(store, "SELECT DISTINCT type FROM interactions ORDER BY 1") == \
        [("like",), ("mention",), ("reply",), ("repost",)]
    assert q(store, "SELECT count(*) FROM posts WHERE text LIKE '%<p>%'") == [(0,)]
    assert q(store, "SELECT count(*) FROM posts WHERE author_key <> ?", OWNER) == [(0,)]
    # re-import changes no count
    before = store.counts()
    s2 = import_path(store, FULL)
    assert s2.new == {} and {k: v for k, v in store.counts().items() if k != "ingest_runs"} == \
        {k: v for k, v in before.items() if k != "ingest_runs"}


def _zip(src: Path, dest: Path, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(src.iterdir()):
            if f.suffix == ".json":
                z.write(f, f.name)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return dest


def test_zip_and_tar_gz_give_the_same_records(tmp_path):
    ref, _ = run(EXCERPT)
    want = {k: v for k, v in ref.counts().items() if k != "ingest_runs"}
    z = _zip(EXCERPT, tmp_path / "archive-20240723000000-0123456789abcdef0123456789abcdef.zip",
             {"../evil.json": b"{}", "media_attachments/files/1/original/a.jpg": b"\xff\xd8"})
    t = tmp_path / "archive.tar.gz"
    with tarfile.open(t, "w:gz") as tar:
        for f in sorted(EXCERPT.iterdir()):
            tar.add(f, arcname=f"archive/{f.name}")
    for path in (z, t):
        assert F.detect(path).name == "masto_archive"
        store, s = run(path)
        got = {k: v for k, v in store.counts().items() if k not in ("ingest_runs", "quarantine")}
        assert got == {k: v for k, v in want.items() if k != "quarantine"}
        if path is z:
            assert s.quarantined == 1
            (place, reason), = q(store, "SELECT place, reason FROM quarantine")
            assert place == "archive" and "escapes" in reason
        else:
            assert s.complete


def test_truncated_zip_is_refused_with_one_line(tmp_path):
    z = _zip(EXCERPT, tmp_path / "a.zip")
    cut = tmp_path / "cut.zip"
    cut.write_bytes(z.read_bytes()[: z.stat().st_size // 2])
    store, s = run(cut, fmt="masto_archive")
    assert s.refused and str(cut) in s.refused[0] and "\n" not in s.refused[0]
    assert q(store, "SELECT count(*) FROM posts") == [(0,)]


def _copy(tmp_path: Path) -> Path:
    d = tmp_path / "arch"
    shutil.copytree(EXCERPT, d)
    for f in d.iterdir():
        f.chmod(0o644)
    return d


def test_truncated_outbox_keeps_items_before_the_damage(tmp_path):
    d = _copy(tmp_path)
    raw = (d / "outbox.json").read_bytes()
    items = all_items(EXCERPT / "outbox.json")
    cut_at = raw.index(items[4]["id"].encode()) + 20            # inside item 4
    (d / "outbox.json").write_bytes(raw[:cut_at])
    store, s = run(d)
    assert q(store, "SELECT count(*) FROM posts") == [(4,)]
    assert q(store, "SELECT place FROM quarantine") == [("item 4",)] and s.quarantined == 1
    assert q(store, "SELECT count(*) FROM interactions WHERE type = 'like'") == [(5,)]   # other files still read


def test_malformed_items_and_wrong_encoding(tmp_path):
    d = _copy(tmp_path)
    doc = json.loads((d / "outbox.json").read_text())
    n = len(doc["orderedItems"])
    doc["orderedItems"] += [
        {"type": "Announce", "id": "https://x.example/a/1"},                       # no object, no published
        "not an activity",
        {"type": "Delete", "id": "https://x.example/d/1", "object": "https://x.example/s/1"},
        {"type": "Create", "object": {"type": "Note", "id": "https://x.example/s/2", "published": "yesterday"}},
    ]
    text = json.dumps(doc, ensure_ascii=False).replace("Twitter crashes", "Twitter cr\udcffashes")
    (d / "outbox.json").write_bytes(text.encode("utf-8", "surrogateescape"))  # one byte 0xff: not UTF-8
    (d / "likes.json").write_text(json.dumps({"orderedItems": ["https://x.example/s/9", 42]}))
    store, s = run(d)
    assert q(store, "SELECT count(*) FROM posts") == [(n,)]
    rows = q(store, "SELECT file, place, reason FROM quarantine ORDER BY file, place")
    places = [(Path(f).name, p) for f, p, _ in rows]
    assert places == [("likes.json", "item 1")] + [("outbox.json", p) for p in
                                                   sorted(["byte " + str(text.encode("utf-8", "surrogateescape")
                                                                         .index(b"\xff")),
                                                           f"item {n}", f"item {n + 1}", f"item {n + 2}",
                                                           f"item {n + 3}"])]
    assert all(r and "\n" not in r for _, _, r in rows)
    assert q(store, "SELECT count(*) FROM posts WHERE text LIKE '%Twitter cr\ufffdashes%'") == [(1,)]
    assert q(store, "SELECT count(*) FROM interactions WHERE type = 'like'") == [(1,)]


def _csv_rows() -> list[str]:
    with FOLLOWS.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][0] == "Account address"
    return [r[0].strip() for r in rows[1:] if r and r[0].strip()]


def test_follows_csv_needs_its_owner(tmp_path):
    store, s = run(FOLLOWS)
    assert s.refused and "actor.json" in s.refused[0] and str(FOLLOWS) in s.refused[0]
    assert q(store, "SELECT count(*) FROM interactions") == [(0,)]
    # with the archive's actor.json beside it, the owner is known
    d = tmp_path / "f"
    d.mkdir()
    shutil.copy(FOLLOWS, d / FOLLOWS.name)
    shutil.copy(EXCERPT / "actor.json", d / "actor.json")
    store, s = run(d / FOLLOWS.name)
    want = {"acct:" + a.split("@")[0] + "@" + a.split("@")[1].lower() for a in _csv_rows()}
    assert len(_csv_rows()) == 471
    assert s.complete
    got = q(store, "SELECT actor_key, target_account_key, created_at, time_precision FROM interactions "
                   "WHERE type = 'follow'")
    assert {r[1] for r in got} == want and len(got) == len(want)
    assert {(r[0], r[2], r[3]) for r in got} == {(OWNER, None, "unknown")}
    first = _csv_rows()[0]
    assert q(store, "SELECT handle FROM accounts WHERE account_key = ?", "acct:" + first) == [(first,)]
    assert q(store, "SELECT account_key FROM accounts WHERE is_owner") == [(OWNER,)]


def test_follows_csv_inside_the_archive_and_bad_rows(tmp_path):
    d = _copy(tmp_path)
    text = FOLLOWS.read_text(encoding="utf-8") + "not-an-address, true\n@someone@Example.ORG,false\n"
    (d / "following_accounts.csv").write_text(text, encoding="utf-8")
    store, s = run(d)
    n = len(_csv_rows())
    assert q(store, "SELECT count(*) FROM interactions WHERE type = 'follow'") == [(n + 1,)]
    assert q(store, "SELECT count(*) FROM interactions WHERE target_account_key = 'acct:someone@example.org'") == \
        [(1,)]
    assert q(store, "SELECT place FROM quarantine") == [(f"line {len(io.StringIO(text).readlines()) - 1}",)]
    assert q(store, "SELECT count(*) FROM posts") == [(7,)]
