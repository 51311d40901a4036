"""Safe archive reading: traversal, bombs and corruption are refused with one clear message."""

from __future__ import annotations

import io
import tarfile
import zipfile

import pytest

from socialleads.errors import FormatError
from socialleads.sources import archive as A


def test_folder_zip_and_tar_give_the_same_members(tmp_path):
    d = tmp_path / "d"
    (d / "data").mkdir(parents=True)
    (d / "data" / "tweets.js").write_text("x")
    (d / "actor.json").write_text("{}")
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as z:
        z.writestr("data/tweets.js", "x")
        z.writestr("actor.json", "{}")
    with tarfile.open(tmp_path / "a.tar.gz", "w:gz") as t:
        for name, data in (("data/tweets.js", b"x"), ("actor.json", b"{}")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    for p in (d, tmp_path / "a.zip", tmp_path / "a.tar.gz"):
        with A.Archive(p) as a:
            assert a.names() == ["actor.json", "data/tweets.js"]
            assert a.find("tweets.js") == ["data/tweets.js"]
            assert a.read_bytes("actor.json") == b"{}"


def test_traversal_members_are_skipped_and_reported(tmp_path):
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as z:
        z.writestr("../../etc/passwd", "root")
        z.writestr("/abs/path", "x")
        z.writestr("ok.json", "{}")
    with A.Archive(tmp_path / "evil.zip") as a:
        assert a.names() == ["ok.json"]
        assert {n for n, _ in a.unsafe} == {"../../etc/passwd", "/abs/path"}


def test_zip_bomb_is_refused(tmp_path, monkeypatch):
    with zipfile.ZipFile(tmp_path / "bomb.zip", "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("big.json", b"0" * (30 << 20))   # 30 MiB of zeros, ~30 KiB compressed
    with A.Archive(tmp_path / "bomb.zip") as a:
        assert a.names() == [] and "zip bomb" in a.unsafe[0][1]
    monkeypatch.setattr(A, "MAX_RATIO", 10**9)        # past the ratio check, the size cap still holds
    with A.Archive(tmp_path / "bomb.zip") as a:
        with pytest.raises(FormatError, match="decompresses to more than"):
            a.read_bytes("big.json", limit=1 << 20)


def test_truncated_archive_is_one_format_error(tmp_path):
    with zipfile.ZipFile(tmp_path / "a.zip", "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("data.json", b"x" * 100000)
    data = (tmp_path / "a.zip").read_bytes()
    (tmp_path / "cut.zip").write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError, match="cut.zip.*(truncated or corrupt)"):
        with A.Archive(tmp_path / "cut.zip") as a:
            a.read_bytes("data.json")
    (tmp_path / "cut.tar.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(FormatError, match="cut.tar.gz"):
        A.Archive(tmp_path / "cut.tar.gz")
