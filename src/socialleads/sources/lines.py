"""Split a (possibly gzipped) text file into Arrow batches of raw lines with exact line numbers.

No Python loop per line: newlines are found with numpy in fixed-size chunks and each chunk becomes a
zero-copy Arrow binary array, so memory is bounded by the chunk size whatever the file size. Lines
keep their trailing newline (the SQL side trims it) so that the offsets stay contiguous.

Every JSON-lines reader reads its lines here (the generic importer and the Jetstream columnar path by
batches, the Python readers of Reddit dumps, Jetstream .zst captures and twarc files by `numbered_lines`),
so one cap holds for all of them: a line longer than MAX_LINE_BYTES is never handed on; a one-line
stand-in takes its place and number, and every reader quarantines it with the reason it carries.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import queue
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa

from socialleads.errors import FormatError

CHUNK_BYTES = 128 << 20  # ≥ 2 x 122,880 lines, so that DuckDB scans a batch on both cores
# The longest line handed on (bytes, without its newline). Measured with the store's default memory limit
# (1280 MB), 2 cores, the largest single line that still imported, beside a full batch of ordinary lines:
# Jetstream 6-7 MiB when the line is made of tiny values (`"x":[0,0,…]`, parsed by several JSON functions on
# the columnar path; a 24 MiB text still passed), generic 7 MiB likewise (a 64 MiB text passed), Reddit
# ~44 MiB (one big body: plain or .zst), twarc over 64 MiB (its records are small; its Python parse is the
# cost); 8 MiB of tiny values ran out of memory on both columnar paths. 4 MiB keeps a margin of 1.5-2x below
# that and is still 2x the largest real line seen (a twarc page of 500 tweets with includes, ~2 MB; Bluesky
# records are at most ~1 MB, Reddit items ~100 KB).
MAX_LINE_BYTES = 4 << 20
_BOM = b"\xef\xbb\xbf"


def open_binary(path: Path) -> BinaryIO:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


_SCAN_BLOCK = 8 << 20  # newline search in cache-sized blocks (measured 5x faster than one 64 MiB pass)


def _table(body: memoryview, offsets: np.ndarray, first_line: int) -> pa.Table:
    """Lines `body[offsets[i]:offsets[i + 1]]`, numbered from `first_line` (zero-copy)."""
    n = len(offsets) - 1
    raw = pa.Array.from_buffers(pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(body)])
    line_no = np.arange(first_line, first_line + n, dtype=np.int64)
    # from buffers: pa.table(dict) and pa.array(numpy) import pandas (0.2 s) to ask whether it is a frame
    nums = pa.Array.from_buffers(pa.int64(), n, [None, pa.py_buffer(line_no)])
    return pa.Table.from_arrays([nums, raw], names=["line_no", "raw"])


def _batches(body: memoryview, first_line: int) -> Iterator[pa.Table]:
    """The lines of `body` as one table, or, when some are longer than MAX_LINE_BYTES (rare), as several: the
    lines between them zero-copy and a stand-in for each long one (one table each, so that nothing is copied)."""
    buf = np.frombuffer(body, dtype=np.uint8)
    parts = [np.flatnonzero(buf[i:i + _SCAN_BLOCK] == 10) + i for i in range(0, len(buf), _SCAN_BLOCK)]
    ends = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
    if len(ends) == 0 or ends[-1] != len(buf) - 1:  # the last line of a file may lack its newline
        ends = np.append(ends, len(buf) - 1)
    offsets = np.empty(len(ends) + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = ends + 1
    if len(buf) <= MAX_LINE_BYTES:
        yield _table(body, offsets, first_line)
        return
    sizes = np.diff(offsets)                      # with the newline; the last line may have none
    long = np.flatnonzero(sizes - (buf[ends] == 10) > MAX_LINE_BYTES)
    lo = 0                                        # the first line not handed on yet
    for i in long.tolist():
        if i > lo:
            yield _table(body[offsets[lo]:offsets[i]], offsets[lo:i + 1] - offsets[lo], first_line + lo)
        yield _too_long(first_line + i, int(sizes[i]))
        lo = i + 1
    if lo == 0:
        yield _table(body, offsets, first_line)
    elif lo < len(ends):
        yield _table(body[offsets[lo]:], offsets[lo:] - offsets[lo], first_line + lo)


def _size(fh: BinaryIO) -> int | None:
    try:
        return os.fstat(fh.fileno()).st_size
    except (OSError, AttributeError, ValueError):
        return None


class TruncatedInput(FormatError):
    """A compressed file ends early or is damaged: the lines before the break were read; `place` is where the
    break is ("line N"), for the quarantine row that reports it."""

    def __init__(self, message: str, place: str) -> None:
        super().__init__(message)
        self.place = place


_GZ_STEP = 64 << 10


def _fill(fh: BinaryIO, view: memoryview, compressed: bool) -> tuple[int, BaseException | None]:
    """readinto that keeps what was read when a compressed stream breaks off (a truncated or damaged .gz, or
    .zst: its reader raises ValueError): (bytes read, the error that stopped it or None)."""
    if not compressed:
        return fh.readinto(view) or 0, None  # type: ignore[attr-defined]
    got = 0
    while got < len(view):
        try:       # read1: one decompressed piece at a time (readinto loses a piece read before the error)
            piece = fh.read1(min(_GZ_STEP, len(view) - got))  # type: ignore[attr-defined]
        except (EOFError, OSError, ValueError, zlib.error) as exc:
            return got, exc
        if not piece:
            break
        view[got:got + len(piece)] = piece
        got += len(piece)
    return got, None


# the stand-in for a line too long to read: not JSON (so any reader quarantines it), and the generic
# importer's quarantine gives its text as the reason (the Python readers: `too_long_reason`)
TOO_LONG = "⟨leads⟩ "
_TOO_LONG_B = TOO_LONG.encode()


def _too_long(line_no: int, nbytes: int) -> pa.Table:
    text = f"{TOO_LONG}line longer than {MAX_LINE_BYTES:,} bytes ({nbytes:,} bytes): not read\n".encode()
    return _table(memoryview(text), np.array([0, len(text)], dtype=np.int64), line_no)


def too_long_reason(line: bytes) -> str | None:
    """The quarantine reason of a stand-in line ("line longer than N bytes (M bytes): not read"), else None."""
    if not line.startswith(_TOO_LONG_B):
        return None
    return line[len(_TOO_LONG_B):].decode("utf-8", "replace").rstrip("\r\n")


def line_batches(path: Path, chunk_bytes: int | None = None, *, stream: BinaryIO | None = None) -> Iterator[pa.Table]:
    """Yield tables (line_no int64, raw large_binary incl. newline); line numbers are 1-based.

    Each chunk is read into a fresh buffer (the Arrow arrays point into it, so it is never reused) and
    only the partial last line is copied forward. A line longer than MAX_LINE_BYTES, within a buffer or
    across several, comes as its stand-in (`TOO_LONG` …). `stream`: the file's bytes from an open reader
    instead of `path` (a .zst file decompressed by its reader: `read1(n)`, ValueError when it is damaged);
    a compressed input that breaks off raises TruncatedInput after the lines before the break.
    """
    size = chunk_bytes or CHUNK_BYTES
    next_line = 1
    carry = b""
    first = True
    skipping = 0    # > 0: inside a line longer than a buffer, this many of its bytes passed over (never handed on)
    with open_binary(path) if stream is None else contextlib.nullcontext(stream) as fh:
        # a plain file's buffers are no larger than what is left of it (+1 byte to see its end in the same
        # read): a fresh buffer is zero-filled, and 128 MiB cost ~0.2 s for a file of a few lines
        compressed = stream is not None or path.name.endswith(".gz")
        left = None if compressed else _size(fh)
        while True:
            rem = None if left is None else left - fh.tell()
            want = size if rem is None or rem < 0 else min(size, rem + 1)     # rem < 0: the file grew
            buf = bytearray(len(carry) + want)
            buf[: len(carry)] = carry
            n, broken = _fill(fh, memoryview(buf)[len(carry):], compressed)
            if first:
                first = False
                if buf.startswith(_BOM):
                    del buf[: len(_BOM)]
                    n -= len(_BOM)
            end = len(carry) + n
            lo = 0                      # where this buffer's own lines start
            if skipping and n:
                nl = buf.find(b"\n", 0, end)
                skipping += end if nl < 0 else nl + 1
                if nl >= 0:             # the over-long line ends here: one stand-in line is handed on for it
                    yield _too_long(next_line, skipping)
                    next_line += 1
                    skipping = 0
                    lo = nl + 1
                elif broken is None:
                    carry = b""
                    continue
            if broken is not None:
                # the complete lines read before the break are kept; the cut one and the rest are not
                cut = buf.rfind(b"\n", lo, end)
                if cut >= lo and not skipping:
                    for tbl in _batches(memoryview(buf)[lo: cut + 1], next_line):
                        next_line += tbl.num_rows
                        yield tbl
                why = str(broken) or type(broken).__name__
                raise TruncatedInput(f"{path}: the compressed data ends early or is damaged after line "
                                     f"{next_line - 1:,} ({why}); the lines before it are kept", f"line {next_line}")
            if n == 0:
                break
            cut = buf.rfind(b"\n", lo, end)
            if cut < lo:
                if end - lo > MAX_LINE_BYTES:
                    # a line longer than a buffer is not handed on (DuckDB would run out of memory on it): its
                    # bytes are passed over up to its newline and a stand-in line says so (quarantined)
                    skipping, carry = end - lo, b""
                else:
                    carry = bytes(buf[lo:end])
                continue
            if end - cut - 1 > MAX_LINE_BYTES and not (left is not None and fh.tell() >= left):
                skipping, carry = end - cut - 1, b""    # the unfinished last line is already too long
            else:
                carry = bytes(buf[cut + 1: end])
            for tbl in _batches(memoryview(buf)[lo: cut + 1], next_line):
                next_line += tbl.num_rows
                yield tbl
    if skipping:
        yield _too_long(next_line, skipping)
    elif carry:
        yield from _batches(memoryview(carry), next_line)


def numbered_lines(path: Path, chunk_bytes: int = 1 << 20, *,
                   stream: BinaryIO | None = None) -> Iterator[tuple[int, bytes]]:
    """(line number, line without its newline) one by one, for the readers that parse lines in Python: the
    lines of `line_batches` (so a line over the cap comes as its stand-in: `too_long_reason`), read in small
    buffers (a Python reader holds one line at a time)."""
    for tbl in line_batches(path, chunk_bytes, stream=stream):
        n = int(tbl.column("line_no")[0].as_py())
        for raw in tbl.column("raw").to_pylist():
            yield n, raw[:-1] if raw.endswith(b"\n") else raw
            n += 1


def head_lines(path: Path, limit: int = 20, max_bytes: int = 1 << 20) -> list[bytes]:
    """The first non-blank lines of a file (for format detection)."""
    with open_binary(path) as fh:
        buf = bytearray(max_bytes)
        n, broken = _fill(fh, memoryview(buf), path.name.endswith(".gz"))
        if broken is not None and n == 0:
            raise OSError(f"cannot read: {broken}") from broken
        data = bytes(buf[:n])     # a truncated .gz: its head is still looked at
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    out = [ln.strip() for ln in data.split(b"\n")]
    return [ln for ln in out if ln][:limit]


def prefetch(it: Iterator[pa.Table], depth: int = 1) -> Iterator[pa.Table]:
    """Read the next batch in a thread while DuckDB works on this one (both release the GIL)."""
    q: queue.Queue[object] = queue.Queue(maxsize=depth)
    done = object()

    def produce() -> None:
        try:
            for item in it:
                q.put(item)
            q.put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            q.put(exc)

    threading.Thread(target=produce, daemon=True).start()
    while True:
        item = q.get()
        if item is done:
            return
        if isinstance(item, BaseException):
            raise item
        yield item  # type: ignore[misc]
