"""Review of the non-X importers (session 6): damaged containers named as damaged, a bad CID in a saved firehose
commit, the follows CSV beside its actor.json, the format list's text. Inputs are built from the real fixtures;
expected counts are read from them here with plain csv / json."""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from socialleads.sources.importer import import_path
from socialleads.store import open_store
from tests.conftest import leads

SHARED = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared fixtures not found at {SHARED}")
MASTO = SHARED / "mastodon"
BSKY = SHARED / "bluesky"


def count(store, table: str) -> int:
    return store.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def test_damaged_containers_are_named_as_damaged(tmp_path):
    """A cut .zip, .zst or .car was refused as 'not in the generic format (expected JSON lines, CSV or Parquet)'."""
    zstandard = pytest.importorskip("zstandard")
    src = MASTO / "archive_dealingwith_full"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n in ("actor.json", "outbox.json", "likes.json"):
            z.writestr(n, (src / n).read_bytes())
    data = buf.getvalue()
    (tmp_path / "archive-cut.zip").write_bytes(data[:int(len(data) * 0.95)])
    cap = zstandard.ZstdCompressor().compress((BSKY / "jetstream_corpus" / "expected_v1.jsonl").read_bytes())
    (tmp_path / "capture-cut.jsonl.zst").write_bytes(cap[:int(len(cap) * 0.99)])
    (tmp_path / "repo-cut.car").write_bytes((BSKY / "jetstream_corpus" / "repo.car").read_bytes()[:30])
    ws = tmp_path / "ws"
    assert leads("init", str(ws)).returncode == 0
    for name, what in (("archive-cut.zip", "a ZIP archive that cannot be opened"),
                       ("capture-cut.jsonl.zst", "zstd-compressed data"), ("repo-cut.car", "not a CAR file")):
        r = leads("import", str(tmp_path / name), "-w", str(ws))
        assert r.returncode == 2, r.stderr
        assert what in r.stderr and "cut off or corrupt" in r.stderr, r.stderr
        assert "expected JSON lines, CSV or Parquet" not in r.stderr and "Traceback" not in r.stderr
    # named with --format, the reader's refusal keeps what it met (before: "no Jetstream events in it", and the
    # truncation it had quarantined was dropped)
    r = leads("import", str(tmp_path / "capture-cut.jsonl.zst"), "--format", "bsky_jetstream", "-w", str(ws))
    assert r.returncode == 2 and "no Jetstream events" in r.stderr and "truncated" in r.stderr, r.stderr


def test_a_commit_op_with_a_bad_cid_is_quarantined(tmp_path):
    """A saved #commit event whose op cid is not a base32 CID link: 'internal error', exit 70, before."""
    event = json.loads((BSKY / "indigo" / "firehose_commit_4621332152.json").read_text())
    ops = event["ops"]
    ops[0]["cid"] = {"$link": "bnot-base32!"}
    f = tmp_path / "commit.json"
    f.write_text(json.dumps(event))
    s = open_store(None)
    out = import_path(s, f)
    assert not out.refused and out.quarantined >= 1
    (place, reason), = s.con.execute("SELECT place, reason FROM quarantine WHERE reason LIKE '%cid%'").fetchall()
    assert place.endswith("op 0") and "not a base32 CID link" in reason
    ws = tmp_path / "ws"
    assert leads("init", str(ws)).returncode == 0
    r = leads("import", str(f), "-w", str(ws))
    assert r.returncode == 3 and "internal error" not in r.stderr, r.stderr


def test_follows_csv_beside_its_actor_json_is_one_import(tmp_path):
    """The refusal for a lone follows CSV asks for actor.json beside it; a folder holding both then exited 2
    ('actor.json: not in the generic format') although the follows were imported."""
    folder = tmp_path / "follows"
    folder.mkdir()
    shutil.copy(MASTO / "following_csv" / "following_accounts.csv", folder)
    shutil.copy(MASTO / "archive_dealingwith_full" / "actor.json", folder)
    with (folder / "following_accounts.csv").open(newline="") as fh:
        want = len({row["Account address"] for row in csv.DictReader(fh)})
    s = open_store(None)
    out = import_path(s, folder)
    assert not out.refused and out.complete, (out.refused, out.quarantined)
    assert count(s, "interactions WHERE type = 'follow'") == want > 0
    assert count(s, "accounts WHERE is_owner") == 1


def test_list_formats_prints_the_descriptions_whole():
    r = leads("import", "--list-formats")
    assert r.returncode == 0
    assert "[u32 LE length][frame]" in r.stdout, r.stdout


def test_a_damaged_tar_xz_is_named_not_internal_error(tmp_path):
    """A .tar.xz with one flipped byte raised a bare LZMAError (exit 70)."""
    import lzma
    import tarfile

    src = MASTO / "archive_dealingwith_full"
    p = tmp_path / "archive.tar.xz"
    with tarfile.open(p, "w:xz") as t:
        for n in ("actor.json", "outbox.json", "likes.json"):
            t.add(src / n, arcname=n)
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0xFF
    p.write_bytes(bytes(data))
    with pytest.raises(lzma.LZMAError):                     # the damage is real: lzma refuses the stream
        lzma.decompress(bytes(data))
    ws = tmp_path / "ws"
    assert leads("init", str(ws)).returncode == 0
    r = leads("import", str(p), "-w", str(ws))
    assert r.returncode in (2, 3) and "internal error" not in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_a_plain_tar_is_not_read_whole_to_be_opened(tmp_path, monkeypatch):
    """An uncompressed tar (its bytes on disk as they are: nothing to weigh for a bomb) is indexed by seeking,
    not by reading every member (a Mastodon tar full of media was read whole before anything was imported)."""
    import tarfile

    from socialleads.sources.archive import Archive

    src = MASTO / "archive_dealingwith_full"
    p = tmp_path / "archive.tar"
    big = tmp_path / "media.bin"
    big.write_bytes(b"\0" * (20 << 20))
    with tarfile.open(p, "w") as t:
        t.add(big, arcname="media_attachments/big.bin")
        for n in ("actor.json", "outbox.json", "likes.json"):
            t.add(src / n, arcname=n)
    read = {"n": 0}
    real_open = Path.open

    class Counting:
        def __init__(self, fh):
            self.fh = fh

        def read(self, *a):
            out = self.fh.read(*a)
            read["n"] += len(out)
            return out

        def read1(self, *a):
            out = self.fh.read1(*a)
            read["n"] += len(out)
            return out

        def __getattr__(self, name):
            return getattr(self.fh, name)

    monkeypatch.setattr(Path, "open", lambda self, *a, **k: Counting(real_open(self, *a, **k)) if self == p
                        else real_open(self, *a, **k))
    with Archive(p) as a:
        assert {"actor.json", "outbox.json", "likes.json"} <= set(a.names())
    assert read["n"] < (2 << 20), read
    monkeypatch.undo()
    s = open_store(None)
    out = import_path(s, p)
    assert out.complete and count(s, "posts") > 0


def test_a_zstd_file_with_a_large_window_is_not_called_damaged(tmp_path):
    """A valid .zst made with a long window (e.g. `zstd --long=31` Reddit dumps) was 'cut off or corrupt'."""
    zstandard = pytest.importorskip("zstandard")
    from socialleads.sources.generic import unknown_file_reason

    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=28)
    p = tmp_path / "data.zst"
    with p.open("wb") as fh, zstandard.ZstdCompressor(compression_params=params).stream_writer(fh) as w:
        w.write(b"hello\n" * 1000)               # streamed: the frame declares its 256 MiB window
    assert zstandard.get_frame_parameters(p.read_bytes()).window_size > 128 << 20
    reason = unknown_file_reason(p)
    assert "cannot be decompressed" not in reason and "zstd-compressed data in no format" in reason, reason
