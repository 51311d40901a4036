"""The line splitter: any chunk size reproduces the file byte for byte with exact line numbers."""

from __future__ import annotations

import gzip
import random
import tracemalloc

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


def test_a_file_that_grows_while_read_is_read_whole(tmp_path):
    # the buffers are sized from the file's size when it is opened; a capture still being written keeps going
    p = tmp_path / "live.jsonl"
    p.write_bytes(b"a\n" * 10)
    rows = []
    for t in line_batches(p, 8):
        rows += t.column("raw").to_pylist()
        if len(rows) == 4:
            with p.open("ab") as fh:
                fh.write(b"b\n" * 5 + b"tail")
    assert rows == [b"a\n"] * 10 + [b"b\n"] * 5 + [b"tail"]


def test_a_small_file_is_not_given_a_big_buffer(tmp_path):
    # one chunk for a few lines: the buffer behind the batch is the file's size (+1 to see its end), not 128 MiB
    p = tmp_path / "small.jsonl"
    p.write_bytes(b'{"a": 1}\n' * 3)
    tracemalloc.start()
    try:
        (t,) = list(line_batches(p))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert t.column("line_no").to_pylist() == [1, 2, 3]
    assert peak < 1 << 20        # was 2 x 128 MiB (zero-filled: ~0.4 s for any JSON-lines file)


@pytest.mark.parametrize("chunk", [64, 1000, 5000])     # the long line begins a buffer / ends one / fits in one
@pytest.mark.parametrize("tail", [b"after\n", b""])
def test_a_line_longer_than_a_buffer_is_passed_over_with_a_stand_in(tmp_path, monkeypatch, tail, chunk):
    # a line that does not fit a buffer is never handed on whole (DuckDB ran out of memory on a 150 MB
    # line and nothing of the file was kept): a one-line stand-in takes its place and number
    import socialleads.sources.lines as L

    monkeypatch.setattr(L, "MAX_LINE_BYTES", 100)
    long = b"x" * 1000 + (b"\n" if tail else b"")
    p = tmp_path / "f.jsonl"
    p.write_bytes(b"one\ntwo\n" + long + tail)
    rows, numbers = [], []
    for t in L.line_batches(p, chunk):
        rows += t.column("raw").to_pylist()
        numbers += t.column("line_no").to_pylist()
    assert rows[:2] == [b"one\n", b"two\n"] and rows[3:] == ([b"after\n"] if tail else [])
    assert numbers == list(range(1, len(rows) + 1))
    # a line over the cap is stood in for whether it spans buffers or fits in one (DuckDB's JSON functions run out
    # of the default memory limit on lines of ~8 MiB of small values)
    assert rows[2].decode() == f"{L.TOO_LONG}line longer than 100 bytes ({len(long):,} bytes): not read\n"
