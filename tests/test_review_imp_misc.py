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
