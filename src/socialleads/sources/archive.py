"""Safe reading of exports that arrive as a folder, a .zip or a .tar.gz (X, Mastodon archives).

Hostile input is expected input: a member with `..` or an absolute path is skipped and reported, a
member that decompresses past the cap or past MAX_RATIO times its compressed size (a zip or tar bomb) is
refused, an archive unreadable from its start is one FormatError naming the file, damage after that is
reported in `unsafe` with the place where reading stopped, and a member cut off by it raises `Truncated`
holding the bytes read before the damage. Members are streamed; nothing is extracted to disk.
"""

from __future__ import annotations

import bz2  # noqa: F401 - bz2 / lzma: the errors of a damaged .tar.bz2 / .tar.xz (tarfile opens both)
import io
import lzma
import os
import posixpath
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from socialleads.errors import FormatError

# What reading a damaged archive raises: zip, tar, gzip (zlib / EOFError / OSError "not a gzipped file"),
# xz (lzma.LZMAError) and bz2 (OSError) streams.
DAMAGED = (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, OSError)

MAX_MEMBER_BYTES = 2 << 30      # one decompressed member
MAX_TOTAL_BYTES = 8 << 30       # all members read from one archive
MAX_RATIO = 200                 # decompressed / compressed, for members over 10 MB


def _safe_name(name: str) -> str | None:
    """A normalized relative POSIX path, or None when the name escapes the archive."""
    n = name.replace("\\", "/")
    if n.startswith("/") or (len(n) > 1 and n[1] == ":"):
        return None
    norm = posixpath.normpath(n)
    if norm == ".." or norm.startswith("../") or "/../" in f"/{norm}/":
        return None
    return norm


class Truncated(FormatError):
    """A member whose reading broke off (a truncated or corrupt archive): `offset` of its bytes were read, and
    `Archive.read_bytes` puts them in `data` so that a reader can keep what came before the damage."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset
        self.data = b""


class _TarData:
    """A tar member's bytes read straight from the archive's decompressed stream. tarfile's own member reader
    drops the bytes of its last read when the stream breaks; `read1` hands over all it inflated, so a member
    cut off keeps everything before the cut. The stream is shared by the members: each read seeks first."""

    def __init__(self, stream: io.BufferedIOBase, start: int, size: int) -> None:
        self.stream, self.start, self.size, self.pos = stream, start, size, 0

    def read1(self, n: int) -> bytes:
        if self.pos >= self.size:
            return b""
        self.stream.seek(self.start + self.pos)
        data = self.stream.read1(min(n, self.size - self.pos))
        if not data:
            raise EOFError("the archive ends inside this member")
        self.pos += len(data)
        return data

    def close(self) -> None:
        pass                                    # the stream is the archive's, closed with it


class _Capped(io.RawIOBase):
    """A reader that refuses to return more than `limit` bytes (decompression bombs)."""

    def __init__(self, raw: io.BufferedIOBase | _TarData, limit: int, label: str, archive: Archive) -> None:
        self.raw, self.limit, self.label, self.archive = raw, limit, label, archive
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        try:
            data = self.raw.read1(len(b))         # one read: what it inflated before a failure is kept
        except DAMAGED as exc:
            raise Truncated(f"{self.label}: the archive is truncated or corrupt at byte {self.count:,} of this "
                            f"member ({exc})", self.count) from None
        n = len(data)
        self.count += n
        self.archive.total += n
        if self.count > self.limit or self.archive.total > MAX_TOTAL_BYTES:
            raise FormatError(f"{self.label}: decompresses to more than {self.limit >> 20} MiB; refused "
                              "(a zip bomb, or raise socialleads.sources.archive.MAX_MEMBER_BYTES)")
        b[:n] = data
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


class Archive:
    """Members of a folder, .zip, .tar.gz / .tgz / .tar, by relative POSIX path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.total = 0
        self.unsafe: list[tuple[str, str]] = []        # (member name, reason) skipped
        self._zip: zipfile.ZipFile | None = None
        self._tar: tarfile.TarFile | None = None
        self._raw: BinaryIO | None = None          # a tar's compressed file: its position weighs each member
        self._members: dict[str, object] = {}
        name = path.name.lower()
        try:
            if path.is_dir():
                for p in sorted(path.rglob("*")):
                    if p.is_file():
                        self._members[p.relative_to(path).as_posix()] = p
            elif zipfile.is_zipfile(path):
                self._zip = zipfile.ZipFile(path)
                for info in self._zip.infolist():
                    if info.is_dir():
                        continue
                    self._add(info.filename, info, info.file_size, info.compress_size)
            elif name.endswith((".tar.gz", ".tgz", ".tar")) or tarfile.is_tarfile(path):
                self._raw = path.open("rb")
                self._tar = tarfile.open(fileobj=self._raw, mode="r:*")
                self._scan_tar()
            elif name.endswith(".zip"):
                raise FormatError(f"{path}: not a readable zip archive (truncated or corrupt)")
            else:
                raise FormatError(f"{path}: not a folder, .zip or .tar.gz archive")
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, lzma.LZMAError) as exc:
            self.close()
            raise FormatError(f"{path}: the archive is truncated or corrupt ({exc})") from None
        except BaseException:                     # a FormatError, or anything unforeseen: the file is not left open
            self.close()
            raise

    def _scan_tar(self) -> None:
        """Index a tar's members in one pass (not getmembers(): a cut archive keeps what came before). Each
        member's data is inflated now, as tarfile would to reach the next header, to weigh it against the
        compressed bytes it took: a bomb is skipped like a zip's. The pass then reads on to the end of the
        stream, because tarfile takes a damaged header for the end of the archive and would drop every later
        member without a word, and because a gzip stream's checksum is only verified at its end."""
        assert self._tar is not None and self._raw is not None
        tar, raw = self._tar, self._raw
        data: io.BufferedIOBase = tar.fileobj  # type: ignore[assignment]
        plain = data is raw                        # an uncompressed tar: no bomb to weigh, no data to read
        file_size = os.fstat(raw.fileno()).st_size
        last, at = None, 0                         # at: how far the unpacked stream was read, for messages
        try:
            for m in tar:
                last = m.name
                if not m.isfile() or m.issparse():
                    if not m.isdir():
                        self.unsafe.append((m.name, "not a regular file (link, device or sparse file)"))
                    continue
                packed, at, end = raw.tell(), m.offset_data, m.offset_data + m.size
                if plain:                          # its bytes are on disk as they are: a cut one ends at the file's end
                    at = min(end, file_size)
                    self._add(m.name, m, at - m.offset_data, at - m.offset_data)
                    continue
                try:                               # read1, not seek: an exact count even when the stream breaks
                    while at < end and (chunk := data.read1(min(end - at, 1 << 20))):
                        at += len(chunk)
                finally:                           # a member cut off is kept: the bytes before the cut are read
                    self._add(m.name, m, at - m.offset_data, raw.tell() - packed)
            at = tar.offset                        # the end-of-archive blocks, or a header tarfile could not read
            data.seek(at)
            while block := data.read(tarfile.BLOCKSIZE):
                if block.strip(b"\0"):
                    self._damaged(last, at, "not a tar header")
                    return
                at += len(block)
            if at == tar.offset:
                self._damaged(last, at, "no end-of-archive blocks: cut off")
        except DAMAGED as exc:
            self._damaged(last, at, exc)

    def _damaged(self, last: str | None, at: int, why: object) -> None:
        if not self._members:
            raise FormatError(f"{self.path}: the archive is truncated or corrupt ({why})")
        self.unsafe.append(("archive", f"truncated or corrupt after member {last!r}, at byte {at:,} of the unpacked "
                                       f"archive ({why}); nothing after that point can be read"))

    def _add(self, raw_name: str, ref: object, size: int, packed: int) -> None:
        """Index a member of `size` bytes that took `packed` compressed bytes in the archive."""
        safe = _safe_name(raw_name)
        if safe is None:
            self.unsafe.append((raw_name, "member path escapes the archive (.. or absolute); skipped"))
            return
        if size > 10 << 20 and size > MAX_RATIO * max(packed, 1):
            self.unsafe.append((raw_name, f"compression ratio {size // max(packed, 1)}:1 looks like a zip bomb; "
                                          "skipped"))
            return
        self._members[safe] = ref

    def names(self) -> list[str]:
        return sorted(self._members)

    def find(self, suffix: str) -> list[str]:
        """Members whose path ends with `suffix` (e.g. 'data/tweets.js', 'outbox.json')."""
        return [n for n in self.names() if n == suffix or n.endswith("/" + suffix)]

    def label(self, name: str) -> str:
        """How a member is named in messages and quarantine: `folder/member` or `archive.zip!member`."""
        return f"{self.path}/{name}" if self.path.is_dir() else f"{self.path}!{name}"

    def open(self, name: str, limit: int = MAX_MEMBER_BYTES) -> BinaryIO:
        ref = self._members[name]
        label = self.label(name)
        try:
            if isinstance(ref, Path):
                raw: io.BufferedIOBase | _TarData = ref.open("rb")
            elif self._zip is not None:
                raw = self._zip.open(ref)  # type: ignore[arg-type]
            else:
                assert self._tar is not None
                m: tarfile.TarInfo = ref  # type: ignore[assignment]
                raw = _TarData(self._tar.fileobj, m.offset_data, m.size)  # type: ignore[arg-type]
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, RuntimeError) as exc:
            raise FormatError(f"{label}: cannot be read ({exc})") from None
        return io.BufferedReader(_Capped(raw, limit, label, self), buffer_size=1 << 20)  # type: ignore[return-value]

    def read_bytes(self, name: str, limit: int = MAX_MEMBER_BYTES) -> bytes:
        ref = self._members[name]
        if isinstance(ref, Path):
            # a folder's file: one read of its known size (through `open`, 8 KiB reads and copies: 0.3 s for
            # 145 MB), under the same caps and with the same messages
            with ref.open("rb") as fh:
                if os.fstat(fh.fileno()).st_size <= limit:
                    try:
                        data = fh.read()
                    except OSError as exc:
                        raise FormatError(f"{self.label(name)}: the archive is truncated or corrupt ({exc})") from None
                    if len(data) <= limit and self.total + len(data) <= MAX_TOTAL_BYTES:
                        self.total += len(data)
                        return data
            raise FormatError(f"{self.label(name)}: decompresses to more than {limit >> 20} MiB; refused "
                              "(a zip bomb, or raise socialleads.sources.archive.MAX_MEMBER_BYTES)")
        parts: list[bytes] = []
        with self.open(name, limit) as fh:
            try:
                while chunk := fh.read1(1 << 20):  # type: ignore[attr-defined]
                    parts.append(chunk)
            except Truncated as exc:
                exc.data = b"".join(parts)
                raise
        return b"".join(parts)

    def iter_members(self) -> Iterator[str]:
        yield from self.names()

    def close(self) -> None:
        for f in (self._zip, self._tar, self._raw):     # the tar before the file it reads
            if f is not None:
                f.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
