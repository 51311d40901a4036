"""Fast, deterministic JSON-lines output: each line is assembled column-wise with pyarrow string kernels
and the string array's data buffer is written as is (no per-row Python, no JSON encoder).

Every text piece that reaches a line is produced by this package from fixed vocabularies that need no
JSON escaping (text.py checks this), so concatenation yields valid JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

Piece = pa.Array | str


def cat(*pieces: Piece) -> pa.Array:
    """Concatenate pieces row-wise; null pieces are skipped (used for optional fields).

    The leading scalar "" works around a pyarrow 26 bug: with only array arguments and
    null_handling="skip" the result can come out shorter than the inputs."""
    return pc.binary_join_element_wise("", *pieces, "", null_handling="skip")


def opt(prefix: str, values: pa.Array, suffix: str = '"') -> pa.Array:
    """``prefix + value + suffix`` where value is not null, else null (an absent optional field)."""
    return pc.binary_join_element_wise(prefix, values, suffix, "")


def ts(t: np.ndarray) -> pa.Array:
    """RFC 3339 UTC timestamps (``2026-03-06T13:02:05Z``) of integer epoch seconds (years 0001-9999).

    A naive timestamp cast to string (``2026-03-06 13:02:05``) with the ``T`` and ``Z`` patched in is
    about 7x faster than ``pc.strftime`` or a cast from a time-zone-aware timestamp."""
    s = pc.cast(pa.array(np.asarray(t, np.int64), pa.timestamp("s")), pa.string())
    return pc.binary_replace_slice(pc.binary_replace_slice(s, 19, 19, "Z"), 10, 11, "T")


def scatter(values: pa.Array, where: np.ndarray) -> pa.Array:
    """A full-length array holding ``values`` at the True rows of ``where`` and null elsewhere."""
    pos = np.cumsum(where) - 1
    return values.take(pa.array(pos, mask=~where))


def nulls(n: int) -> pa.Array:
    return pa.nulls(n, pa.string())


def write_lines(f: IO[bytes], lines: pa.Array) -> None:
    """Write a string array whose values each end with a newline: its data buffer is the file text."""
    if len(lines) == 0:
        return
    if isinstance(lines, pa.ChunkedArray):
        for chunk in lines.chunks:
            write_lines(f, chunk)
        return
    if lines.null_count:
        raise ValueError("null line")
    width = np.int64 if pa.types.is_large_string(lines.type) else np.int32
    _, offsets, data = lines.buffers()
    size = np.dtype(width).itemsize
    offs = np.frombuffer(offsets, dtype=width, count=len(lines) + 1, offset=lines.offset * size)
    f.write(memoryview(data)[int(offs[0]):int(offs[-1])])


class PartWriter:
    """Appends lines to ``stem-0001.jsonl``, ``stem-0002.jsonl``, … with at most ``max_lines`` each."""

    def __init__(self, out_dir: Path, stem: str, max_lines: int) -> None:
        self.out_dir, self.stem, self.max_lines = out_dir, stem, max_lines
        self.part = 0
        self.in_part = 0
        self.lines = 0
        self.f: IO[bytes] | None = None
        self.files: list[str] = []

    def _open(self) -> IO[bytes]:
        if self.f is None or self.in_part >= self.max_lines:
            if self.f is not None:
                self.f.close()
            self.part += 1
            name = f"{self.stem}-{self.part:04d}.jsonl"
            self.files.append(name)
            self.f = open(self.out_dir / name, "wb")  # noqa: SIM115 - closed in close()/rotation
            self.in_part = 0
        return self.f

    def write(self, lines: pa.Array) -> None:
        done = 0
        while done < len(lines):
            f = self._open()
            take = min(len(lines) - done, self.max_lines - self.in_part)
            write_lines(f, lines.slice(done, take))
            done += take
            self.in_part += take
            self.lines += take

    def close(self) -> None:
        if self.f is not None:
            self.f.close()
            self.f = None
        elif not self.files:  # always leave one (possibly empty) part
            self._open()
            self.close()
