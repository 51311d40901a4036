"""Reddit dumps: Pushshift (≤ 2023-03) and Arctic Shift (2023-04+) NDJSON, plain or zstandard (`.zst`).

CONNECTORS.md §4.2 is the specification. One JSON object per line; submissions (`t3_`) become posts of kind
original, comments (`t1_`) replies (`parent_id` → `reply_to_key` 'reddit:'+parent_id, `link_id` →
`thread_root_key`). Authors are 'reddit:'+author_fullname, else 'reddit:name:'+author; the `[deleted]`
author (the account was deleted) is one shared unknown account, 'reddit:name:[deleted]', with no
account record of its own. `created_utc` may be a number or a string. `score`, `num_comments` and
`upvote_ratio` become a metrics snapshot observed at `_meta.retrieved_2nd_on` (Arctic Shift's second
read), else `retrieved_on` / `retrieved_utc`; a line without a retrieval time gives no snapshot, since
the time of the counts is unknown. Votes, follows and likes are not in dumps (§6.3).

`.zst` files are streamed with `max_window_size=2**31` (the dumps need the long window), frame by frame;
a file that ends inside a frame is reported as truncated and every whole line before the cut is kept.
Lines are split by sources/lines.py (`numbered_lines`), so a line longer than its cap (MAX_LINE_BYTES) is
quarantined with its size and its neighbours are read, plain or compressed.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from socialleads.errors import FormatError
from socialleads.sources.formats import FileFormat, Record, Reject, register
from socialleads.sources.lines import TruncatedInput, numbered_lines, too_long_reason

PLATFORM = "reddit"
SUFFIXES = (".ndjson", ".jsonl", ".json", ".zst", ".ndjson.zst", ".jsonl.zst")
DELETED_AUTHOR = "reddit:name:[deleted]"
_READ = 1 << 20
# compressed bytes per decompress call: a zstd block (≥ 4 bytes of input) gives at most 128 KiB, so one call
# gives at most ~32 MiB whatever the ratio (a 20 KB file held a 500 MiB line, decompressed in one piece
# before); measured: no slower than feeding 1 MiB at a time (0.13-0.16 s for 112 MB of dump lines)
_FEED = 1 << 10


def _zstd():
    try:
        import zstandard
    except ImportError:  # pragma: no cover - depends on the environment
        raise FormatError("reading .zst files needs the `zstandard` package "
                          "(pip install 'socialleads[reddit]' or pip install zstandard==0.25.0)") from None
    return zstandard


def _is_zst(path: Path, head: bytes = b"") -> bool:
    return path.name.lower().endswith(".zst") or head[:4] == b"\x28\xb5\x2f\xfd"


def _zst_chunks(fh: BinaryIO) -> Iterator[bytes]:
    """Decompressed chunks of a (multi-frame) zstd stream; raises ValueError when it is cut or corrupt."""
    zstd = _zstd()
    dctx = zstd.ZstdDecompressor(max_window_size=2**31)
    dec = dctx.decompressobj()
    pending = False                      # bytes fed to a frame that has not ended
    while True:
        block = fh.read(_READ)
        if not block:
            break
        for at in range(0, len(block), _FEED):
            data = block[at:at + _FEED]
            while data:
                try:
                    out = dec.decompress(data)
                except zstd.ZstdError as exc:
                    raise ValueError(f"corrupt zstd data ({exc})") from None
                pending = not dec.eof
                if out:
                    yield out
                data = dec.unused_data if dec.eof else b""
                if dec.eof:
                    dec = dctx.decompressobj()
    if pending:
        raise ValueError("the zstd stream ends inside a frame (truncated file)")


def read_lines(path: Path) -> Iterator[tuple[int, bytes | None, str | None]]:
    """(line number, line bytes, problem) for a plain or `.zst` file of lines; a line longer than the cap comes
    as its stand-in (`lines.too_long_reason`); a truncated or corrupt compressed file ends with one
    (n, None, problem) after its whole lines (the cut last line is dropped)."""
    n = 0
    with path.open("rb") as fh:
        zst = _is_zst(path, fh.read(4))
        fh.seek(0)
        try:
            for n, line in numbered_lines(path, _READ, stream=ZstReader(fh) if zst else None):
                yield n, line, None
        except TruncatedInput as exc:
            yield n + 1, None, str(exc)


class ZstReader:
    """A read(n) / read1(n) file object over `_zst_chunks` (raises ValueError when the stream is cut or corrupt).
    Memory: one decompressed chunk (at most ~32 MiB, see `_FEED`), handed out in slices."""

    def __init__(self, fh: BinaryIO) -> None:
        self._chunks = _zst_chunks(fh)
        self._buf = b""
        self._at = 0

    def read1(self, n: int) -> bytes:
        """At most n bytes (fewer at the end of a chunk), b"" at the end of the stream."""
        while self._at >= len(self._buf):
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._buf, self._at = chunk, 0
        out = self._buf[self._at:self._at + n]
        self._at += len(out)
        return out

    def read(self, n: int) -> bytes:
        parts = []
        while n > 0:
            piece = self.read1(n)
            if not piece:
                break
            parts.append(piece)
            n -= len(piece)
        return b"".join(parts)


HEAD_LINES = 20          # detection decides from the JSON objects among the first non-blank lines ...
HEAD_BYTES = 4 << 20     # ... of at most this much of the (decompressed) file
_SURE = 3                # ... stopping early after this many dump items and nothing else
_PUSHSHIFT_NAME = re.compile(r"R[CS]_\d{4}-\d{2}(?:-\d{2})?")   # RC_2015-01: a dump decompressed as named


def _head_lines(path: Path) -> Iterator[tuple[bytes, bool]]:
    """(line, cut) for the first non-blank lines of the plain or decompressed file, reading at most
    HEAD_BYTES of it; `cut` is True for a line the cap cut off. Nothing when a .zst does not decompress."""
    with path.open("rb") as fh:
        zst = _is_zst(path, fh.read(4))
        fh.seek(0)
        try:
            src: Any = _zstd().ZstdDecompressor(max_window_size=2**31).stream_reader(
                fh, read_size=65536, read_across_frames=True) if zst else fh
            step = 1 << 18                     # decompressed output comes in bounded reads too
            buf, total, n = b"", 0, 0
            while n < HEAD_LINES:
                more = src.read(min(step, HEAD_BYTES - total)) if total < HEAD_BYTES else b""
                total += len(more)
                buf += more
                *lines, buf = buf.split(b"\n")
                if not more:                    # end of file or of the budget: the rest is one last line
                    lines.append(buf)
                for i, line in enumerate(lines):
                    if line.strip():
                        n += 1
                        yield line, not more and total >= HEAD_BYTES and i == len(lines) - 1
                if not more:
                    return
        except Exception:  # noqa: BLE001 - not zstd after all (or cut inside its head): what came is all
            return


def _is_dump_item(obj: Any) -> bool:
    return (isinstance(obj, dict) and "record_type" not in obj and "id" in obj and "created_utc" in obj
            and any(isinstance(k, str) and k.startswith("subreddit") for k in obj))


def _is_dump_start(line: bytes) -> bool:
    """A line longer than the cap: judged by its start."""
    head = line.lstrip()
    return (head.startswith(b"{") and b'"subreddit' in head and b'"created_utc"' in head
            and b'"id"' in head and b'"record_type"' not in head)


def _named_like_dump(path: Path) -> bool:
    return path.name.lower().endswith(SUFFIXES) or _PUSHSHIFT_NAME.fullmatch(path.name) is not None


def _detect_file(path: Path) -> bool:
    """Most JSON objects among the first lines are submissions or comments and none is a generic record:
    a bad or cut line among them does not decide."""
    if not path.is_file() or not _named_like_dump(path):
        return False
    hits = others = 0
    for line, cut in _head_lines(path):
        try:
            obj = json.loads(line.decode("utf-8-sig"))   # bytes would let json guess UTF-16: dumps are UTF-8
        except ValueError:                      # includes UnicodeDecodeError
            if cut and _is_dump_start(line):
                hits += 1
            continue
        if not isinstance(obj, dict):
            continue
        if "record_type" in obj:
            return False
        if _is_dump_item(obj):
            hits += 1
            if hits >= _SURE and not others:
                break
        else:
            others += 1
    return hits > 0 and hits >= others


def _files(path: Path) -> list[Path]:
    return [p for p in sorted(path.iterdir()) if p.is_file() and not p.name.startswith(".")
            and _named_like_dump(p)]


def detect(path: Path) -> bool:
    """A dump file, or a folder whose data files are all dump files."""
    if path.is_dir():
        files = _files(path)
        return bool(files) and all(_detect_file(p) for p in files)
    return _detect_file(path)


def _utc(value: Any) -> str | None:
    """Epoch seconds (int, float or numeric string) → RFC 3339 UTC."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        secs = int(float(value))
        return dt.datetime.fromtimestamp(secs, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _author_key(item: dict[str, Any]) -> str:
    author = item.get("author")
    if not isinstance(author, str) or author in ("", "[deleted]"):
        return DELETED_AUTHOR
    full = item.get("author_fullname")
    if isinstance(full, str) and full.startswith("t2_"):
        return "reddit:" + full
    return f"reddit:name:{author}"


def _int(v: Any) -> int | None:
    return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def map_item(item: dict[str, Any]) -> list[Record]:
    """Generic records for one dump object (submission or comment); raises ValueError with the reason."""
    rid = item.get("id")
    if not isinstance(rid, str) or not rid:
        raise ValueError("no id")
    name = item.get("name")
    is_comment = ("parent_id" in item or "body" in item) if not isinstance(name, str) else name.startswith("t1_")
    full = ("t1_" if is_comment else "t3_") + rid
    key = "reddit:" + full
    created = _utc(item.get("created_utc"))
    if created is None:
        raise ValueError(f"{full}: created_utc {str(item.get('created_utc'))[:30]!r} is not an epoch time")
    author_key = _author_key(item)
    out: list[Record] = []
    author = item.get("author")
    if author_key != DELETED_AUTHOR:
        acc = {"record_type": "account", "platform": PLATFORM, "account_key": author_key, "handle": author,
               "url": f"https://www.reddit.com/user/{author}"}
        if isinstance(item.get("author_fullname"), str):
            acc["source_ids"] = {"reddit": item["author_fullname"]}
        out.append(acc)
    edited = item.get("edited")
    meta = item.get("_meta") if isinstance(item.get("_meta"), dict) else {}
    permalink = item.get("permalink")
    post: Record = {"record_type": "post", "platform": PLATFORM, "post_key": key, "author_key": author_key,
                    "created_at": created, "source_ids": {"reddit": full},
                    "url": "https://www.reddit.com" + permalink if isinstance(permalink, str) and
                    permalink.startswith("/") else None,
                    "edited_at": _utc(edited) if not isinstance(edited, bool) else None}
    if isinstance(item.get("subreddit"), str):
        post["subreddit"] = item["subreddit"]          # kept in the post's extra
    if is_comment:
        parent, link = item.get("parent_id"), item.get("link_id")
        if not isinstance(parent, str) or not parent.startswith(("t1_", "t3_")):
            raise ValueError(f"{full}: comment without a t1_/t3_ parent_id")
        body = item.get("body")
        post.update(kind="reply", reply_to_key="reddit:" + parent,
                    thread_root_key="reddit:" + link if isinstance(link, str) and link.startswith("t3_") else None,
                    text=body if isinstance(body, str) else None)
        gone = body in ("[deleted]", "[removed]")
    else:
        title = item.get("title") if isinstance(item.get("title"), str) else ""
        selftext = item.get("selftext") if isinstance(item.get("selftext"), str) else ""
        gone = selftext in ("[deleted]", "[removed]")
        text = title if not selftext or gone else f"{title}\n\n{selftext}"
        post.update(kind="original", text=text or None)
    if gone or meta.get("was_deleted_later"):
        post["is_deleted"] = True
    out.append({k: v for k, v in post.items() if v is not None})
    observed = _utc(meta.get("retrieved_2nd_on")) or _utc(item.get("retrieved_on")) or _utc(item.get("retrieved_utc"))
    if observed:
        snap = {"record_type": "metrics_snapshot", "subject_key": key, "subject_type": "post",
                "observed_at": observed, "score": _int(item.get("score")),
                "replies": None if is_comment else _int(item.get("num_comments")),
                "upvote_ratio": item.get("upvote_ratio") if isinstance(item.get("upvote_ratio"), (int, float))
                and not isinstance(item.get("upvote_ratio"), bool) else None}
        if any(snap[k] is not None for k in ("score", "replies", "upvote_ratio")):
            out.append({k: v for k, v in snap.items() if v is not None})
    return out


def json_lines(path: Path, reject: Reject) -> Iterator[tuple[str, Any, bytes]]:
    """(place, parsed value, line bytes) for each non-blank line of a plain or `.zst` JSON lines file
    that parses; a line that does not is rejected with its place, and a cut file stops with one reject."""
    file = str(path)
    for n, line, problem in read_lines(path):
        place = f"line {n}"
        if problem:
            reject(file, place, problem, None)
            break
        assert line is not None
        if not line.strip():
            continue
        too_long = too_long_reason(line)
        if too_long:
            reject(file, place, too_long, None)
            continue
        try:
            value = json.loads(line)
        except (ValueError, UnicodeDecodeError) as exc:
            reject(file, place, f"not JSON ({str(exc)[:80]})", line[:2000].decode("utf-8", "replace"))
            continue
        yield place, value, line


def _read_file(path: Path, reject: Reject) -> Iterator[Record]:
    file = str(path)
    authors: set[str] = set()
    good = 0
    for place, item, line in json_lines(path, reject):
        if not isinstance(item, dict):
            reject(file, place, "not a JSON object", line[:2000].decode("utf-8", "replace"))
            continue
        try:
            recs = map_item(item)
        except ValueError as exc:
            reject(file, place, str(exc), line[:2000].decode("utf-8", "replace"))
            continue
        good += 1
        for r in recs:
            if r["record_type"] == "account":
                if r["account_key"] in authors:
                    continue
                authors.add(r["account_key"])
            yield r
    if good == 0 and path.stat().st_size > 0 and not _detect_file(path):
        raise FormatError(f"{path}: not a Reddit dump (expected JSON lines of submissions or comments)")


def read(path: Path, reject: Reject) -> Iterator[Record]:
    if path.is_dir():
        for p in _files(path):
            yield from _read_file(p, reject)
    else:
        yield from _read_file(path, reject)


def _detect(path: Path) -> bool:
    try:
        return detect(path)
    except (OSError, ValueError):
        return False


REDDIT_DUMP = register(FileFormat(
    "reddit_dump", "Reddit Pushshift / Arctic Shift dump: NDJSON of submissions or comments, plain or .zst",
    _detect, read))
