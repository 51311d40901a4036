"""Damaged Mastodon archives (.tar.gz and folders): a tar bomb, a member cut off, a corrupt stream, one bad byte
in an outbox. What is valid is kept, the damage is named with its place, and the import says it is incomplete.
Expected counts come from the fixture files read here with plain json / zlib / tarfile, never from the
importer's output."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import tarfile
import zlib
from pathlib import Path

import pytest

from socialleads.sources import archive as A
from socialleads.sources.importer import import_path
from socialleads.store import open_store
from tests.test_platform_mastodon import all_items  # the independent read of every orderedItems array

FULL = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "mastodon" / "archive_dealingwith_full"
MEMBERS = ("actor.json", "outbox.json", "likes.json")
pytestmark = pytest.mark.skipif(not FULL.is_dir(), reason=f"shared fixtures not found at {FULL}")


def count(store, table: str) -> int:
    return store.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def quarantine(store) -> list[tuple]:
    return store.con.execute("SELECT file, place, reason FROM quarantine ORDER BY file, place").fetchall()


def counts(store) -> dict[str, int]:
    return {t: count(store, t) for t in ("posts", "interactions", "accounts", "quarantine")}


def tar_gz(dest: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(dest, "w:gz") as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return dest


def fixture_members() -> dict[str, bytes]:
    return {n: (FULL / n).read_bytes() for n in MEMBERS}


def offsets(path: Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(path) as t:
        return {m.name: m for m in t}


def whole_items(prefix: bytes) -> int:
    """How many items of the last orderedItems array are whole in a cut-off copy: plain json, item by item."""
    text = prefix.decode("utf-8", "ignore")
    pos = text.rindex('"orderedItems":[') + len('"orderedItems":[')
    dec, n = json.JSONDecoder(), 0
    while True:
        try:
            _, pos = dec.raw_decode(text, pos)
        except ValueError:
            return n
        n += 1
        pos += 1                                  # the ',' after it: the files are compact


def post_key(item: dict) -> str:
    return item["object"]["id"] if item["type"] == "Create" else item["id"]


def test_a_tar_gz_bomb_is_skipped_like_a_zip_bomb_and_the_rest_kept(tmp_path):
    """D1: a member inflating past MAX_RATIO times what it takes in the .tar.gz is refused before it is read (it
    was read whole, decoded and parsed: 10 GB of memory for a 9 MB archive, and the import said complete)."""
    members = fixture_members()
    head, tail = b'{"type":"OrderedCollection","orderedItems":[', b"]}"
    members["outbox.json"] = head + b" " * (64 << 20) + tail
    path = tar_gz(tmp_path / "bomb.tar.gz", members)
    assert path.stat().st_size < 1 << 20                  # 64 MiB in well under 1 MiB: over 200:1
    likes = set(json.loads(members["likes.json"])["orderedItems"])
    s = open_store(None)
    out = import_path(s, path)
    assert not out.refused and not out.complete and out.quarantined == 1
    ((file, _, reason),) = quarantine(s)
    assert file == f"{path}!outbox.json" and "looks like a zip bomb; skipped" in reason
    assert count(s, "posts") == 0
    assert count(s, "interactions WHERE type = 'like'") == len(likes) == 1115        # the member after it is kept
    assert count(s, "accounts WHERE is_owner") == 1
    # cut inside the bomb, it is weighed by what it inflates to before the cut: still never read
    raw = path.read_bytes()
    cut = tmp_path / "bomb_cut.tar.gz"
    cut.write_bytes(raw[:len(raw) * 3 // 4])
    with A.Archive(cut) as arch:
        assert arch.names() == ["actor.json"]
        assert any(n == "outbox.json" and "zip bomb" in r for n, r in arch.unsafe)


def inflated(stream: bytes) -> bytes:
    """What zlib can inflate of a gzip stream cut off or damaged (fed in small pieces: the output before an error
    is kept)."""
    d, out = zlib.decompressobj(wbits=31), []
    for i in range(0, len(stream), 1024):
        try:
            out.append(d.decompress(stream[i:i + 1024]))
        except zlib.error:
            break
    return b"".join(out)


@pytest.mark.parametrize("member", ["outbox.json", "likes.json"])
def test_a_member_cut_inside_a_tar_gz_keeps_its_items_before_the_cut(tmp_path, member):
    """D2: the bytes of a member read before the cut are read like a cut file in a folder (before: the whole member
    was lost, 0 posts or 0 of 1,115 likes); the cut is quarantined with the member's name and byte."""
    full = tar_gz(tmp_path / "m.tar.gz", fixture_members())
    info = offsets(full)[member]
    raw = full.read_bytes()
    lo, hi = 0, len(raw)                # the shortest cut that inflates to the middle of the member
    while lo < hi:
        mid = (lo + hi) // 2
        if len(inflated(raw[:mid])) < info.offset_data + info.size // 2:
            lo = mid + 1
        else:
            hi = mid
    cut = tmp_path / "m_cut.tar.gz"
    cut.write_bytes(raw[:lo])
    head = inflated(raw[:lo])
    kept = len(head) - info.offset_data                   # the member's bytes that can be inflated
    assert 0 < kept < info.size
    prefix = (FULL / member).read_bytes()[:kept]
    assert head[info.offset_data:] == prefix
    n = whole_items(prefix)
    folder = tmp_path / "folder"                          # the same cut in a folder, for comparison
    folder.mkdir()
    for name in MEMBERS[:MEMBERS.index(member)]:
        shutil.copyfile(FULL / name, folder / name)
    (folder / member).write_bytes(prefix)
    s, f = open_store(None), open_store(None)
    out = import_path(s, cut)
    import_path(f, folder)
    assert not out.refused and not out.complete
    if member == "outbox.json":
        assert count(s, "posts") == count(f, "posts") == n > 0
        assert count(s, "interactions") == count(f, "interactions") > 0
        assert count(s, "interactions WHERE type = 'like'") == 0          # likes.json comes after the cut
    else:
        assert count(s, "posts") == len(all_items(FULL / "outbox.json")) == 1586
        assert count(s, "interactions WHERE type = 'like'") == count(f, "interactions WHERE type = 'like'") == n > 0
    rows = quarantine(s)
    label = f"{cut}!{member}"
    assert (label, f"byte {kept}") in {(f, p) for f, p, _ in rows}
    assert any(f == label and p == f"item {n}" for f, p, _ in rows)      # the item the cut runs through
    assert any(f == f"{cut}!archive" and f"after member '{member}'" in r for f, _, r in rows)
    before = counts(s)
    import_path(s, cut)                                   # a re-import changes no count
    assert counts(s) == before


def test_a_corrupt_tar_gz_says_where_the_archive_breaks_off(tmp_path):
    """D3: one flipped byte in the compressed outbox garbles the stream after it: tarfile took the garbled header
    that follows for the end of the archive, and likes.json was dropped without a word."""
    full = tar_gz(tmp_path / "m.tar.gz", fixture_members())
    info = offsets(full)
    b = bytearray(full.read_bytes())
    b[len(b) // 2] ^= 0xFF
    path = tmp_path / "flip.tar.gz"
    path.write_bytes(bytes(b))
    # where the damage starts, by plain zlib: inside the outbox, so likes.json cannot be read
    good, bad = gzip.decompress(full.read_bytes()), inflated(bytes(b))
    first = next(i for i in range(0, len(good), 4096) if good[i:i + 4096] != bad[i:i + 4096])
    first += next(i for i, (x, y) in enumerate(zip(good[first:], bad[first:])) if x != y)
    outbox = info["outbox.json"]
    assert outbox.offset_data < first < outbox.offset_data + outbox.size < info["likes.json"].offset
    n = whole_items(good[outbox.offset_data:first])
    s = open_store(None)
    out = import_path(s, path)
    assert not out.refused and not out.complete
    rows = quarantine(s)
    assert any(f == f"{path}!archive" and "truncated or corrupt after member 'outbox.json', at byte" in r and
               "nothing after that point can be read" in r for f, _, r in rows)
    assert count(s, "accounts WHERE is_owner") == 1
    assert count(s, "posts") >= n > 0                     # the items before the damage are kept
    assert count(s, "interactions WHERE type = 'like'") == 0


@pytest.mark.parametrize("damage", ["flip", "cut_last"])
def test_one_bad_byte_in_an_outbox_costs_one_item(tmp_path, damage):
    """D9: a damaged item is quarantined and reading resumes at the next item (before: the 758 valid items after
    it were lost). Lost here: the quote opening a `"content"` key, which swaps what is string and what is not for
    the rest of that item. A cut inside the last item still quarantines it."""
    arch = tmp_path / "arch"
    shutil.copytree(FULL, arch)
    for p in arch.iterdir():
        p.chmod(0o644)
    items = all_items(FULL / "outbox.json")
    raw = (FULL / "outbox.json").read_bytes()
    k = next(j for j in range(len(items) // 2, len(items)) if items[j]["type"] == "Create") if damage == "flip" \
        else len(items) - 1
    start = raw.index(b'{"id":' + json.dumps(items[k]["id"]).encode())
    if damage == "flip":
        i = raw.index(b'"content"', start)
        assert i < raw.index(b'{"id":' + json.dumps(items[k + 1]["id"]).encode())
        (arch / "outbox.json").write_bytes(raw[:i] + b"x" + raw[i + 1:])
    else:
        (arch / "outbox.json").write_bytes(raw[:start + 100])
    want = {post_key(x) for j, x in enumerate(items) if j != k}
    likes = set(json.loads((FULL / "likes.json").read_text())["orderedItems"])
    s = open_store(None)
    out = import_path(s, arch)
    assert not out.refused and out.quarantined == 1
    ((file, place, _),) = quarantine(s)
    assert file == str(arch / "outbox.json") and place == f"item {k}"
    got = {r[0] for r in s.con.execute("SELECT post_key FROM posts").fetchall()}
    assert got == want and len(want) == len(items) - 1
    assert count(s, "interactions WHERE type = 'like'") == len(likes)
    before = counts(s)
    import_path(s, arch)                                  # a re-import changes no count
    assert counts(s) == before
