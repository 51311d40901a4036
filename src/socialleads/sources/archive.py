"""Safe reading of exports that arrive as a folder, a .zip or a .tar.gz (X, Mastodon archives).

Hostile input is expected input: a member with `..` or an absolute path is skipped and reported, a
member that decompresses past the cap (a zip bomb) is refused, a truncated or corrupt archive is one
FormatError naming the file. Members are streamed; nothing is extracted to disk.
"""

from __future__ import annotations

import io
import os
import posixpath
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from socialleads.errors import FormatError

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


class _Capped(io.RawIOBase):
    """A reader that refuses to return more than `limit` bytes (decompression bombs)."""

    def __init__(self, raw: BinaryIO, limit: int, label: str, archive: Archive) -> None:
        self.raw, self.limit, self.label, self.archive = raw, limit, label, archive
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        try:
            data = self.raw.read(len(b))
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
            raise FormatError(f"{self.label}: the archive is truncated or corrupt ({exc})") from None
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
                    self._add(info.filename, info)
            elif name.endswith((".tar.gz", ".tgz", ".tar")) or tarfile.is_tarfile(path):
                self._tar = tarfile.open(path, "r:*")
                last = None
                try:
                    for m in self._tar:                    # not getmembers(): a cut archive keeps what came before
                        if m.isfile():
                            self._add(m.name, m)
                        elif not m.isdir():
                            self.unsafe.append((m.name, "not a regular file (link or device)"))
                        last = m.name
                except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
                    if not self._members:
                        raise
                    self.unsafe.append(("archive", f"truncated or corrupt after member {last!r} ({exc}); the "
                                                   "members before it are read"))
            elif name.endswith(".zip"):
                raise FormatError(f"{path}: not a readable zip archive (truncated or corrupt)")
            else:
                raise FormatError(f"{path}: not a folder, .zip or .tar.gz archive")
        except (zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
            raise FormatError(f"{path}: the archive is truncated or corrupt ({exc})") from None

    def _add(self, raw_name: str, ref: object) -> None:
        safe = _safe_name(raw_name)
        if safe is None:
            self.unsafe.append((raw_name, "member path escapes the archive (.. or absolute); skipped"))
            return
        if isinstance(ref, zipfile.ZipInfo) and ref.file_size > 10 << 20 and \
                ref.file_size > MAX_RATIO * max(ref.compress_size, 1):
            self.unsafe.append((raw_name, f"compression ratio {ref.file_size // max(ref.compress_size, 1)}:1 "
                                          "looks like a zip bomb; skipped"))
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
                raw: BinaryIO = ref.open("rb")
            elif self._zip is not None:
                raw = self._zip.open(ref)  # type: ignore[arg-type]
            else:
                assert self._tar is not None
                f = self._tar.extractfile(ref)  # type: ignore[arg-type]
                if f is None:
                    raise FormatError(f"{label}: cannot be read")
                raw = f  # type: ignore[assignment]
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
        with self.open(name, limit) as fh:
            return fh.read()

    def iter_members(self) -> Iterator[str]:
        yield from self.names()

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
        if self._tar is not None:
            self._tar.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
