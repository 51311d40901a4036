"""The line splitter: any chunk size reproduces the file byte for byte with exact line numbers."""

from __future__ import annotations

import gzip
import random

import pytest

from socialleads.sources.lines import line_batches


@pytest.mark.parametrize("chunk", [7, 64, 1000, 1 << 20])
def test_chunks_reproduce_the_file(tmp_path, chunk):
    rnd = random.Random(chunk)
    pieces = [rnd.choice([b"abc\n", b"\n", b"x" * 100 + b"\n", b"\xff\xfe\n", b"{}\r\n"]) for _ in range(3000)]
    data = b"".join(pieces) + b"no newline at the end"
    p = tmp_path / "f.jsonl"
    p.write_bytes(b"\xef\xbb\xbf" + data)  # a BOM is dropped, not counted as text
    lines, numbers = [], []
    for t in line_batches(p, chunk):
        lines += t.column("raw").to_pylist()
        numbers += t.column("line_no").to_pylist()
    assert b"".join(lines) == data
    assert numbers == list(range(1, data.count(b"\n") + 2))
    assert lines[-1] == b"no newline at the end"


def test_gzip(tmp_path):
    p = tmp_path / "f.jsonl.gz"
    with gzip.open(p, "wb") as fh:
        fh.write(b"a\nb\nc\n")
    rows = [r for t in line_batches(p) for r in t.column("raw").to_pylist()]
    assert rows == [b"a\n", b"b\n", b"c\n"]
