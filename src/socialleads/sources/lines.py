"""Split a (possibly gzipped) text file into Arrow batches of raw lines with exact line numbers.

No Python loop per line: newlines are found with numpy in fixed-size chunks and each chunk becomes a
zero-copy Arrow binary array, so memory is bounded by the chunk size whatever the file size. Lines
keep their trailing newline (the SQL side trims it) so that the offsets stay contiguous.
"""

from __future__ import annotations

import gzip
import os
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa

CHUNK_BYTES = 128 << 20  # ≥ 2 x 122,880 lines, so that DuckDB scans a batch on both cores
MAX_LINE_BYTES = 64 << 20
_BOM = b"\xef\xbb\xbf"


def open_binary(path: Path) -> BinaryIO:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


_SCAN_BLOCK = 8 << 20  # newline search in cache-sized blocks (measured 5x faster than one 64 MiB pass)


def _batch(body: memoryview, first_line: int) -> pa.Table:
    buf = np.frombuffer(body, dtype=np.uint8)
    parts = [np.flatnonzero(buf[i:i + _SCAN_BLOCK] == 10) + i for i in range(0, len(buf), _SCAN_BLOCK)]
    ends = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
    if len(ends) == 0 or ends[-1] != len(buf) - 1:  # the last line of a file may lack its newline
        ends = np.append(ends, len(buf) - 1)
    offsets = np.empty(len(ends) + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = ends + 1
    raw = pa.Array.from_buffers(pa.large_binary(), len(ends), [None, pa.py_buffer(offsets), pa.py_buffer(body)])
    line_no = np.arange(first_line, first_line + len(ends), dtype=np.int64)
    # from buffers: pa.table(dict) and pa.array(numpy) import pandas (0.2 s) to ask whether it is a frame
    nums = pa.Array.from_buffers(pa.int64(), len(ends), [None, pa.py_buffer(line_no)])
    return pa.Table.from_arrays([nums, raw], names=["line_no", "raw"])


def _size(fh: BinaryIO) -> int | None:
    try:
        return os.fstat(fh.fileno()).st_size
    except (OSError, AttributeError, ValueError):
        return None


def line_batches(path: Path, chunk_bytes: int | None = None) -> Iterator[pa.Table]:
    """Yield tables (line_no int64, raw large_binary incl. newline); line numbers are 1-based.

    Each chunk is read into a fresh buffer (the Arrow arrays point into it, so it is never reused) and
    only the partial last line is copied forward.
    """
    size = chunk_bytes or CHUNK_BYTES
    next_line = 1
    carry = b""
    first = True
    with open_binary(path) as fh:
        # a plain file's buffers are no larger than what is left of it (+1 byte to see its end in the same
        # read): a fresh buffer is zero-filled, and 128 MiB cost ~0.2 s for a file of a few lines
        left = None if path.name.endswith(".gz") else _size(fh)
        while True:
            rem = None if left is None else left - fh.tell()
            want = size if rem is None or rem < 0 else min(size, rem + 1)     # rem < 0: the file grew
            buf = bytearray(len(carry) + want)
            buf[: len(carry)] = carry
            n = fh.readinto(memoryview(buf)[len(carry):]) or 0  # type: ignore[attr-defined]
            if first:
                first = False
                if buf.startswith(_BOM):
                    del buf[: len(_BOM)]
                    n -= len(_BOM)
            end = len(carry) + n
            if n == 0:
                break
            cut = buf.rfind(b"\n", 0, end)
            if cut < 0:
                if end > MAX_LINE_BYTES:
                    # A "line" this long is not JSON lines; hand it on whole and let it be quarantined.
                    tbl = _batch(memoryview(buf)[:end], next_line)
                    next_line += tbl.num_rows
                    carry = b""
                    yield tbl
                else:
                    carry = bytes(buf[:end])
                continue
            carry = bytes(buf[cut + 1: end])
            tbl = _batch(memoryview(buf)[: cut + 1], next_line)
            next_line += tbl.num_rows
            yield tbl
    if carry:
        yield _batch(memoryview(carry), next_line)


def head_lines(path: Path, limit: int = 20, max_bytes: int = 1 << 20) -> list[bytes]:
    """The first non-blank lines of a file (for format detection)."""
    with open_binary(path) as fh:
        try:
            data = fh.read(max_bytes)
        except (OSError, EOFError) as exc:
            raise OSError(f"cannot read: {exc}") from exc
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
