"""Bluesky files: repository exports (CAR), Jetstream v1 captures, raw firehose frames, saved XRPC JSON.

CONNECTORS.md §1 is the specification. Every mode feeds one mapper, `bsky_record(did, collection, rkey,
record, cid)` (§6.4): a CAR block, a Jetstream `commit.record`, a firehose op's block and an XRPC
`listRecords.value` / `postView.record` / notification `record` all become the same generic records:

* `app.bsky.feed.post` → a post keyed by its AT-URI; kind reply (`reply.parent`), quote (`embed.record` /
  `recordWithMedia` pointing at a post; a reply may quote too) or original; facets → entities with
  UTF-8 byte offsets (`idx_unit` 'utf8_byte').
* `app.bsky.feed.repost` → a post of kind repost (the importer derives the repost interaction from it).
* `app.bsky.feed.like`, `app.bsky.graph.follow` → interactions keyed by the record's AT-URI, timed by the
  record's `createdAt`.
* `app.bsky.actor.profile` → the account (display name); a CAR's own DID is the owner (`is_owner`).
* Other collections (blocks, lists, statuses, third-party lexicons) are not modelled and are skipped.

Deletes (Jetstream, firehose) name only `(did, collection, rkey)`. A delete whose create came earlier in
the same input is applied (the post is marked deleted, the like/follow gets `ended_at`); the reader keeps
no store, so a delete of anything else cannot be resolved (that needs `record_index`, §1.5) and is
**rejected** with a reason naming the AT-URI: it is counted in quarantine, nothing is invented.
Deletes of unmodelled collections are skipped.

CAR and DAG-CBOR decoding use `libipld` (the decoder under the `atproto` SDK's `CAR.from_bytes`, installed
with `atproto`); the SDK has no MST walker, so `_mst_walk` is ours. A truncated CAR is read block by block
as far as it goes: the records reachable from what survived are kept, the rest is one reject each.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from socialleads.errors import FormatError
from socialleads.sources.formats import FileFormat, Record, Reject, register
from socialleads.sources.platforms.reddit_dump import ZstReader, json_lines
from socialleads.sources.records import PendingDelete

PLATFORM = "bluesky"
POST = "app.bsky.feed.post"
LIKE = "app.bsky.feed.like"
REPOST = "app.bsky.feed.repost"
FOLLOW = "app.bsky.graph.follow"
PROFILE = "app.bsky.actor.profile"
MODELLED = frozenset((POST, LIKE, REPOST, FOLLOW, PROFILE))
MAX_CAR_BYTES = 2 << 30
MAX_JSON_BYTES = 512 << 20
DELETE_INDEX_MAX = 200_000       # creates remembered per read to resolve later deletes (bounded memory)
_HEAD = 8192
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class BadItem(ValueError):
    """One source item that cannot be mapped; the message is the reject reason."""


def _libipld():
    try:
        import libipld
    except ImportError:  # pragma: no cover - depends on the environment
        raise FormatError("reading Bluesky CAR / firehose files needs the `atproto` package "
                          "(pip install 'socialleads[bluesky]' or pip install atproto==0.0.73)") from None
    return libipld


def _zstd():
    try:
        import zstandard
    except ImportError:  # pragma: no cover
        raise FormatError("reading .zst files needs the `zstandard` package "
                          "(pip install 'socialleads[bluesky]' or pip install zstandard==0.25.0)") from None
    return zstandard


# ---------------------------------------------------------------------------------------------------
# small helpers

_TIME_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?\s*(Z|z|[+-]\d{2}:?\d{2})?$")


def bsky_time(value: Any) -> str | None:
    """An ISO 8601 / RFC 3339 time as an RFC 3339 UTC string (`…Z`); a time without offset is UTC.
    None when absent or unparseable."""
    if not isinstance(value, str):
        return None
    if len(value) == 24 and value[19] == "." and value[23] == "Z" and value[10] == "T" and value[20:23].isdigit():
        try:  # the common lexicon form `YYYY-MM-DDTHH:MM:SS.mmmZ` (fast path, same result as below)
            dt.datetime.fromisoformat(value[:19])
        except ValueError:
            pass
        else:
            frac = value[20:23].rstrip("0")
            return value[:19] + ("." + frac if frac else "") + "Z"
    m = _TIME_RE.match(value.strip())
    if not m:
        return None
    date, hh, mm, ss, frac, off = m.groups()
    try:
        t = dt.datetime.fromisoformat(f"{date}T{hh}:{mm}:{ss}").replace(tzinfo=dt.UTC)
    except ValueError:
        return None
    micro = int((frac or "0")[:6].ljust(6, "0"))
    t = t.replace(microsecond=micro)
    if off and off not in ("Z", "z"):
        sign = 1 if off[0] == "+" else -1
        digits = off[1:].replace(":", "")
        t -= sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    s = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        s += f".{t.microsecond:06d}".rstrip("0")
    return s + "Z"


def _us_time(time_us: Any) -> str | None:
    if not isinstance(time_us, int) or isinstance(time_us, bool):
        return None
    t = dt.datetime.fromtimestamp(time_us / 1_000_000, dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def cid_str(raw: Any) -> str | None:
    """A CID as its base32 string: from raw binary CID bytes (DAG-CBOR links), a `{"$link": …}` or a str."""
    if isinstance(raw, (bytes, bytearray)):
        b = bytes(raw)
        if b[:1] == b"\x00":      # a multibase identity prefix, as in CBOR tag 42
            b = b[1:]
        return "b" + base64.b32encode(b).decode().lower().rstrip("=")
    if isinstance(raw, dict) and isinstance(raw.get("$link"), str):
        return raw["$link"]
    if isinstance(raw, str):
        return raw
    return None


def at_uri(did: str, collection: str, rkey: str) -> str:
    return f"at://{did}/{collection}/{rkey}"


def split_at_uri(uri: Any) -> tuple[str, str, str] | None:
    """`at://did/collection/rkey` → (did, collection, rkey), or None."""
    if not isinstance(uri, str) or not uri.startswith("at://"):
        return None
    parts = uri[5:].split("/")
    if len(parts) != 3 or not all(parts):
        return None
    return parts[0], parts[1], parts[2]


def _uri_did(uri: Any) -> str | None:
    p = split_at_uri(uri)
    return p[0] if p and p[0].startswith("did:") else None


def _ref_uri(ref: Any) -> str | None:
    if isinstance(ref, dict) and isinstance(ref.get("uri"), str) and ref["uri"].startswith("at://"):
        return ref["uri"]
    return None


def _post_url(did: str, rkey: str) -> str:
    return f"https://bsky.app/profile/{did}/post/{rkey}"


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    """Drop absent fields; an interaction keeps `created_at` (null: the source has no time)."""
    keep = d.get("record_type") == "interaction"
    return {k: v for k, v in d.items() if v is not None or (keep and k == "created_at")}


# ---------------------------------------------------------------------------------------------------
# the one record mapper (§6.4)

def _quote_uri(embed: Any) -> str | None:
    if not isinstance(embed, dict):
        return None
    t = embed.get("$type", "")
    uri = None
    if t.startswith("app.bsky.embed.recordWithMedia"):
        inner = embed.get("record")
        uri = _ref_uri(inner.get("record")) if isinstance(inner, dict) else None
    elif t.startswith("app.bsky.embed.record"):
        uri = _ref_uri(embed.get("record"))
    p = split_at_uri(uri)
    return uri if p and p[1] == POST else None   # a feed, list or starter pack is no quote


def _media_entities(media: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if not isinstance(media, dict):
        return out
    t = media.get("$type", "")
    if t.startswith("app.bsky.embed.external"):
        ext = media.get("external")
        if isinstance(ext, dict) and isinstance(ext.get("uri"), str):
            out.append({"etype": "link", "value": ext["uri"]})
    elif t.startswith(("app.bsky.embed.images", "app.bsky.embed.gallery")):
        for img in media.get("images") or media.get("items") or []:
            blob = img.get("image") if isinstance(img, dict) else None
            ref = cid_str(blob.get("ref")) if isinstance(blob, dict) else None
            if ref:
                out.append({"etype": "media", "value": ref})
    elif t.startswith("app.bsky.embed.video"):
        blob = media.get("video")
        ref = cid_str(blob.get("ref")) if isinstance(blob, dict) else None
        if ref:
            out.append({"etype": "media", "value": ref})
    return out


def _entities(record: dict[str, Any], text: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    raw = text.encode("utf-8")
    for facet in record.get("facets") or []:
        if not isinstance(facet, dict):
            continue
        index = facet.get("index") or {}
        start, end = index.get("byteStart"), index.get("byteEnd")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start <= end <= len(raw)):
            start = end = None
        span = raw[start:end].decode("utf-8", "replace") if start is not None else None
        for feat in facet.get("features") or []:
            if not isinstance(feat, dict):
                continue
            t = feat.get("$type", "")
            pos = {"start_idx": start, "end_idx": end, "idx_unit": "utf8_byte" if start is not None else None}
            if t.endswith("#mention") or (not t and "did" in feat):
                out.append({"etype": "mention", "value": span or feat.get("did"),
                            "target_account_key": feat.get("did"), **pos})
            elif t.endswith("#link") or (not t and "uri" in feat):
                out.append({"etype": "link", "value": feat.get("uri"), **pos})
            elif t.endswith("#tag") or (not t and "tag" in feat):
                out.append({"etype": "hashtag", "value": feat.get("tag"), **pos})
    for tag in record.get("tags") or []:
        if isinstance(tag, str):
            out.append({"etype": "hashtag", "value": tag})
    if not record.get("facets"):       # deprecated pre-facet entities
        for ent in record.get("entities") or []:
            if not isinstance(ent, dict):
                continue
            idx = ent.get("index") or {}
            pos = {"start_idx": idx.get("start"), "end_idx": idx.get("end"), "idx_unit": "utf8_byte"}
            value = ent.get("value")
            if ent.get("type") == "mention":
                out.append({"etype": "mention", "value": value,
                            "target_account_key": value if isinstance(value, str) and value.startswith("did:")
                            else None, **pos})
            elif ent.get("type") == "link":
                out.append({"etype": "link", "value": value, **pos})
    embed = record.get("embed")
    if isinstance(embed, dict):
        out += _media_entities(embed.get("media") if "recordWithMedia" in embed.get("$type", "") else embed)
    return [_clean(e) for e in out if e.get("value") is not None]


def bsky_record(did: str, collection: str, rkey: str, record: Any, cid: Any) -> list[Record]:
    """Generic records for one repository record; [] for collections that are not modelled.
    Raises BadItem (the reject reason) for a modelled record that lacks what its lexicon requires."""
    if collection not in MODELLED:
        return []
    if not isinstance(record, dict):
        raise BadItem(f"{collection} record is not an object")
    uri = at_uri(did, collection, rkey)
    cid_s = cid_str(cid)
    source_ids = {"cid": cid_s} if cid_s else None
    created_raw = record.get("createdAt")
    created = bsky_time(created_raw)
    if created_raw is not None and created is None:
        raise BadItem(f"{uri}: createdAt {str(created_raw)[:40]!r} is not a time")
    if collection == POST:
        text = record.get("text")
        if not isinstance(text, str):
            raise BadItem(f"{uri}: post without text")
        if created is None:
            raise BadItem(f"{uri}: post without createdAt")
        kind, parent, root = "original", None, None
        reply = record.get("reply")
        if reply is not None:
            parent = _ref_uri(reply.get("parent")) if isinstance(reply, dict) else None
            if parent is None:
                raise BadItem(f"{uri}: reply without reply.parent.uri")
            root = _ref_uri(reply.get("root"))
            kind = "reply"
        quote = _quote_uri(record.get("embed"))
        if kind == "original" and quote:
            kind = "quote"
        langs = record.get("langs")
        return [_clean({
            "record_type": "post", "platform": PLATFORM, "post_key": uri, "author_key": did,
            "created_at": created, "kind": kind, "text": text,
            "lang": langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None,
            "reply_to_key": parent, "thread_root_key": root, "quote_of_key": quote,
            "url": _post_url(did, rkey), "entities": _entities(record, text) or None, "source_ids": source_ids,
        })]
    if collection == REPOST:
        subject = _ref_uri(record.get("subject"))
        if subject is None:
            raise BadItem(f"{uri}: repost without subject.uri")
        if created is None:
            raise BadItem(f"{uri}: repost without createdAt")
        return [_clean({"record_type": "post", "platform": PLATFORM, "post_key": uri, "author_key": did,
                        "created_at": created, "kind": "repost", "repost_of_key": subject,
                        "source_ids": source_ids})]
    if collection == LIKE:
        subject = _ref_uri(record.get("subject"))
        if subject is None:
            raise BadItem(f"{uri}: like without subject.uri")
        return [_clean({"record_type": "interaction", "platform": PLATFORM, "type": "like",
                        "interaction_key": uri, "actor_key": did, "target_post_key": subject,
                        "target_account_key": _uri_did(subject), "created_at": created,
                        "time_precision": "exact" if created else "unknown"})]
    if collection == FOLLOW:
        subject = record.get("subject")
        if not isinstance(subject, str) or not subject.startswith("did:"):
            raise BadItem(f"{uri}: follow without a subject DID")
        return [_clean({"record_type": "interaction", "platform": PLATFORM, "type": "follow",
                        "interaction_key": uri, "actor_key": did, "target_account_key": subject,
                        "created_at": created, "time_precision": "exact" if created else "unknown"})]
    # profile
    name = record.get("displayName")
    return [_clean({"record_type": "account", "platform": PLATFORM, "account_key": did,
                    "display_name": name if isinstance(name, str) and name else None, "created_at": created})]


class _Deletes:
    """Creates seen in this input (bounded), so that a later delete of the same AT-URI can be applied."""

    def __init__(self) -> None:
        self.seen: dict[str, list[Record]] = {}

    def remember(self, uri: str, records: list[Record]) -> None:
        if not records or records[0]["record_type"] == "account":
            return
        if len(self.seen) >= DELETE_INDEX_MAX:
            self.seen.pop(next(iter(self.seen)))
        self.seen[uri] = records

    def apply(self, did: str, collection: str, rkey: str, when: str | None) -> list[Record] | None:
        """The records that mark the deletion, [] for an unmodelled collection, None when unresolvable."""
        if collection not in MODELLED or collection == PROFILE:
            return []
        created = self.seen.pop(at_uri(did, collection, rkey), None)
        if created is None:
            return None
        out = []
        for r in created:
            r = dict(r)
            if r["record_type"] == "post":
                r["is_deleted"] = True
                if when:
                    r["deleted_at"] = when  # the importer's record_index keeps it (not a post field)
            elif when:
                r["ended_at"] = when
            out.append(r)
        return out


def _unresolved(uri: str) -> str:
    return (f"delete of {uri}: its create is not in this input, so what it removed is unknown "
            "(needs record_index); not applied")


def _emit_op(did: str, action: str, collection: str, rkey: str, record: Any, cid: Any, when: str | None,
             deletes: _Deletes, file: str, place: str, raw: Callable[[], str], reject: Reject) -> Iterator[Record]:
    if action in ("create", "update"):
        try:
            recs = bsky_record(did, collection, rkey, record, cid)
        except BadItem as exc:
            reject(file, place, str(exc), raw())
            return
        deletes.remember(at_uri(did, collection, rkey), recs)
        yield from recs
    elif action == "delete":
        done = deletes.apply(did, collection, rkey, when)
        if done is None:
            uri = at_uri(did, collection, rkey)  # the importer applies it if record_index knows the create
            reject(file, place, PendingDelete(_unresolved(uri), uri, when), raw())
        else:
            yield from done
    else:
        reject(file, place, f"unknown operation {str(action)[:20]!r}", raw())


# ---------------------------------------------------------------------------------------------------
# file heads (cheap detection)

def _head(path: Path, n: int = _HEAD) -> bytes:
    if not path.is_file():
        return b""
    with path.open("rb") as fh:
        data = fh.read(n)
        if not (path.name.lower().endswith(".zst") or data[:4] == ZSTD_MAGIC):
            return data
        fh.seek(0)
        try:  # a bounded read of the decompressed stream (a decompressobj fed 8 KiB of a 500 MiB run of one byte
            # returned all of it at once: 582 MB); zstd emits nothing before a whole block (<= 128 KiB) is in
            with _zstd().ZstdDecompressor(max_window_size=2**31).stream_reader(
                    fh, read_size=32768, read_across_frames=True, closefd=False) as r:
                out = b""
                while len(out) < n and fh.tell() < (1 << 20):
                    more = r.read(n - len(out))
                    if not more:
                        break
                    out += more
            return out[:n]
        except Exception:  # noqa: BLE001 - a head that does not decompress is just "not ours"
            return b""


def _varint(buf: bytes | memoryview, i: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        if i >= len(buf) or shift > 63:
            raise ValueError("truncated varint")
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        if not b & 0x80:
            return n, i
        shift += 7


# ---------------------------------------------------------------------------------------------------
# CAR (§1.7)

def _detect_car(path: Path) -> bool:
    head = _head(path, 256)
    if len(head) < 12:
        return False
    try:
        n, i = _varint(head, 0)
    except ValueError:
        return False
    hdr = head[i:i + n]
    return 0 < n < 4096 and hdr[:1] in (b"\xa2", b"\xa3") and b"roots" in hdr and b"version" in hdr


def _cid_len(buf: bytes, i: int) -> int:
    """Length of the binary CID at buf[i:] (v0: a bare sha2-256 multihash; v1: version, codec, multihash)."""
    if buf[i:i + 2] == b"\x12\x20":
        return 34
    j = i
    _, j = _varint(buf, j)        # version
    _, j = _varint(buf, j)        # codec
    _, j = _varint(buf, j)        # hash code
    dlen, j = _varint(buf, j)     # digest length
    return j + dlen - i


def _salvage_car(data: bytes, libipld: Any) -> tuple[dict[str, Any], dict[bytes, Any], str | None]:
    """Header and blocks of a damaged CAR, block by block as far as it reads; the problem, if any."""
    n, i = _varint(data, 0)
    header = libipld.decode_dag_cbor(data[i:i + n])
    i += n
    blocks: dict[bytes, Any] = {}
    while i < len(data):
        start = i
        try:
            size, i = _varint(data, i)
            end = i + size
            if end > len(data):
                return header, blocks, f"truncated at byte {start} (a block of {size} bytes is cut off)"
            clen = _cid_len(data, i)
            cid = data[i:i + clen]
            blocks[cid] = libipld.decode_dag_cbor(data[i + clen:end])
        except (ValueError, IndexError) as exc:
            return header, blocks, f"unreadable block at byte {start} ({exc})"
        i = end
    return header, blocks, None


def _mst_walk(blocks: dict[bytes, Any], root: bytes, missing: list[str]) -> Iterator[tuple[str, bytes]]:
    """In-order walk of the Merkle Search Tree: (key 'collection/rkey', record CID bytes)."""
    stack: list[tuple[str, Any]] = [("node", root)]
    while stack:
        what, item = stack.pop()
        if what == "leaf":
            yield item
            continue
        node = blocks.get(item)
        if not isinstance(node, dict) or not isinstance(node.get("e"), list):
            missing.append(cid_str(item) or "?")
            continue
        todo: list[tuple[str, Any]] = []
        if node.get("l"):
            todo.append(("node", node["l"]))
        prev = b""
        for e in node["e"]:
            if not isinstance(e, dict) or not isinstance(e.get("k"), bytes) or not isinstance(e.get("p"), int):
                missing.append(f"a malformed entry in node {cid_str(item)}")
                break
            key = prev[:e["p"]] + e["k"]
            prev = key
            todo.append(("leaf", (key.decode("utf-8", "replace"), e.get("v"))))
            if e.get("t"):
                todo.append(("node", e["t"]))
        stack.extend(reversed(todo))


def _read_car(path: Path, reject: Reject) -> Iterator[Record]:
    libipld = _libipld()
    file = str(path)
    if path.stat().st_size > MAX_CAR_BYTES:
        raise FormatError(f"{path}: CAR larger than {MAX_CAR_BYTES >> 20} MiB; refused")
    data = path.read_bytes()
    problem = None
    try:
        header, blocks = libipld.decode_car(data)
    except ValueError as exc:
        try:
            header, blocks, problem = _salvage_car(data, libipld)
        except (ValueError, IndexError):
            raise FormatError(f"{path}: not a readable CAR file ({exc})") from None
        problem = problem or str(exc)
    roots = header.get("roots") if isinstance(header, dict) else None
    if not roots:
        raise FormatError(f"{path}: CAR file without a root commit")
    if problem:
        reject(file, "car", f"the CAR file is damaged: {problem}; records in the lost blocks are missing", None)
    commit = blocks.get(roots[0])
    if not isinstance(commit, dict) or not isinstance(commit.get("did"), str) or "data" not in commit:
        raise FormatError(f"{path}: the CAR's root commit block is missing or not a repo commit")
    did = commit["did"]
    yield {"record_type": "account", "platform": PLATFORM, "account_key": did, "is_owner": True,
           "source_ids": {"rev": commit.get("rev")} if commit.get("rev") else None}
    missing: list[str] = []
    for key, vcid in _mst_walk(blocks, commit["data"], missing):
        collection, _, rkey = key.partition("/")
        place = f"record {key}"
        record = blocks.get(vcid) if isinstance(vcid, bytes) else None
        if record is None:
            if collection in MODELLED:
                reject(file, place, f"record block {cid_str(vcid)} is missing from the CAR", None)
            continue
        try:
            recs = bsky_record(did, collection, rkey, record, vcid)
        except BadItem as exc:
            reject(file, place, str(exc), json.dumps(record, default=cid_str)[:2000])
            continue
        for r in recs:
            if r["record_type"] == "account" and r["account_key"] == did:
                r["is_owner"] = True
            yield r
    for m in missing:
        reject(file, f"mst node {m}", "MST node missing or malformed; the records below it are missing", None)


# ---------------------------------------------------------------------------------------------------
# Jetstream v1 JSON lines (§1.5)

def _detect_jetstream(path: Path) -> bool:
    name = path.name.lower()
    if not path.is_file() or not name.endswith((".jsonl", ".ndjson", ".json", ".jsonl.zst", ".ndjson.zst")):
        return False
    head = _head(path).lstrip()
    first = head.split(b"\n", 1)[0]
    return (first.startswith(b"{") and b'"time_us"' in first and b'"kind"' in first and b'"did"' in first
            and b'"record_type"' not in first)


def jetstream_event(ev: Any) -> tuple[bool, Any]:
    """What one parsed Jetstream line is: (is it an event (has a did), what): `what` is a reject reason
    (str), None (nothing to store), ("identity", did, handle) or ("op", did, operation, collection, rkey,
    record, cid, when) for `_emit_op`. Shared by the reader and the columnar path (sources/fast_jetstream.py)."""
    did = ev.get("did") if isinstance(ev, dict) else None
    if not isinstance(did, str) or not did.startswith("did:"):
        return False, "not a Jetstream event (no did)"
    kind = ev.get("kind")
    if kind == "commit":
        c = ev.get("commit")
        if not isinstance(c, dict) or not isinstance(c.get("collection"), str) or not c.get("rkey"):
            return True, "commit event without commit.collection / rkey"
        op = c.get("operation")  # the event time is only used by deletes
        return True, ("op", did, op, c["collection"], str(c["rkey"]), c.get("record"), c.get("cid"),
                      _us_time(ev.get("time_us")) if op == "delete" else None)
    if kind == "identity":
        ident = ev.get("identity") or {}
        handle = ident.get("handle") if isinstance(ident, dict) else None
        return True, ("identity", did, handle) if isinstance(handle, str) and handle else None
    if kind == "account":
        return True, None
    return True, f"unknown event kind {str(kind)[:20]!r}"


def _read_jetstream(path: Path, reject: Reject) -> Iterator[Record]:
    file = str(path)
    deletes = _Deletes()
    handles: set[tuple[str, str]] = set()
    good = 0
    for place, ev, line in json_lines(path, reject):
        raw = lambda line=line: line[:2000].decode("utf-8", "replace")  # noqa: E731
        is_event, what = jetstream_event(ev)
        good += is_event
        if isinstance(what, str):
            reject(file, place, what, raw())
        elif what is None:
            continue
        elif what[0] == "identity":
            _, did, handle = what
            if (did, handle) not in handles:
                handles.add((did, handle))
                yield {"record_type": "account", "platform": PLATFORM, "account_key": did, "handle": handle}
        else:
            _, did, op, collection, rkey, record, cid, when = what
            yield from _emit_op(did, op, collection, rkey, record, cid, when, deletes, file, place, raw, reject)
    if good == 0 and path.stat().st_size > 0:
        raise FormatError(f"{path}: no Jetstream events in it (expected JSON lines with did, time_us, kind)")


# ---------------------------------------------------------------------------------------------------
# firehose frames (§1.6): zstd([u32 LE len][frame])… , or a JSON #commit event as indigo saves them

_EVENT_TYPES = (b"#commit", b"#identity", b"#account", b"#sync", b"#info")


def _detect_firehose(path: Path) -> bool:
    if not path.is_file():
        return False
    name = path.name.lower()
    if name.endswith(".json"):
        return _is_commit_json(_head(path, 4096))
    head = _head(path, 64)
    return len(head) > 8 and head[4:5] == b"\xa2" and any(t in head[5:48] for t in _EVENT_TYPES)


def _is_commit_json(head: bytes) -> bool:
    """A JSON #commit event (keys sorted, so `blocks` and its base64 may come before `ops` and `repo`)."""
    if not head.lstrip().startswith(b"{") or b'"blocks"' not in head:
        return False
    return (b'"ops"' in head and b'"repo"' in head) or re.search(rb'"blocks"\s*:\s*\{\s*"\$bytes"', head) is not None


def _cid_bytes(link: dict) -> bytes | None:
    """The bytes of a JSON CID link {"$link": "b…"} (multibase base32), or None when it is not one."""
    text = cid_str(link)
    if not isinstance(text, str) or not text.startswith("b"):
        return None
    try:
        return base64.b32decode(text[1:].upper() + "=" * (-(len(text) - 1) % 8))
    except (binascii.Error, ValueError):
        return None


def _commit_records(body: dict[str, Any], blocks: dict[bytes, Any], when: str | None, deletes: _Deletes,
                    file: str, place: str, reject: Reject) -> Iterator[Record]:
    did = body.get("repo")
    if not isinstance(did, str):
        reject(file, place, "#commit without repo", None)
        return
    for k, op in enumerate(body.get("ops") or []):
        path_ = op.get("path") if isinstance(op, dict) else None
        if not isinstance(path_, str) or "/" not in path_:
            reject(file, f"{place} op {k}", "op without a collection/rkey path", None)
            continue
        collection, _, rkey = path_.partition("/")
        action = op.get("action")
        record = None
        cid = op.get("cid")
        if action in ("create", "update"):
            if isinstance(cid, dict):                                # JSON form: {"$link": …}
                cid = _cid_bytes(cid)
                if cid is None:
                    reject(file, f"{place} op {k}", f"{path_}: the op's cid is not a base32 CID link", None)
                    continue
            record = blocks.get(cid) if isinstance(cid, bytes) else None
            if record is None and collection in MODELLED:
                reject(file, f"{place} op {k}", f"{path_}: record block not in the commit's blocks", None)
                continue
        yield from _emit_op(did, action, collection, rkey, record, cid, when, deletes, file,
                            f"{place} op {k}", lambda: "", reject)


def _read_firehose(path: Path, reject: Reject) -> Iterator[Record]:
    libipld = _libipld()
    file = str(path)
    deletes = _Deletes()
    if path.name.lower().endswith(".json"):
        try:
            ev = json.loads(path.read_bytes())
            blocks_b64 = ev["blocks"]["$bytes"]
            car = base64.b64decode(blocks_b64 + "=" * (-len(blocks_b64) % 4))
            _, blocks = libipld.decode_car(car)
        except (ValueError, KeyError, TypeError) as exc:
            raise FormatError(f"{path}: not a readable firehose #commit event ({str(exc)[:80]})") from None
        yield from _commit_records(ev, blocks, bsky_time(ev.get("time")), deletes, file, "event", reject)
        return
    with path.open("rb") as raw_fh:
        fh: Any = ZstReader(raw_fh) if raw_fh.read(4) == ZSTD_MAGIC else raw_fh
        raw_fh.seek(0)
        k = 0
        while True:
            place = f"frame {k}"
            try:
                hdr = fh.read(4)
                if not hdr:
                    break
                if len(hdr) < 4:
                    reject(file, place, "truncated frame length; the rest of the file is lost", None)
                    break
                size = struct.unpack("<I", hdr)[0]
                frame = fh.read(size)
            except Exception as exc:  # noqa: BLE001 - zstd errors
                reject(file, place, f"the compressed file is truncated or corrupt ({exc}); frames after lost", None)
                break
            if len(frame) < size:
                reject(file, place, f"truncated frame ({len(frame)} of {size} bytes); the rest is lost", None)
                break
            try:
                parts = libipld.decode_dag_cbor_multi(frame)
                header, body = parts[0], parts[1]
            except (ValueError, IndexError) as exc:
                reject(file, place, f"frame is not two DAG-CBOR objects ({str(exc)[:80]})", None)
                k += 1
                continue
            t = header.get("t") if isinstance(header, dict) else None
            if not isinstance(header, dict) or header.get("op") != 1:
                reject(file, place, f"error frame {str(body)[:100]}", None)
            elif t == "#commit" and isinstance(body, dict):
                try:
                    _, blocks = libipld.decode_car(body.get("blocks") or b"")
                except ValueError as exc:
                    reject(file, place, f"#commit blocks are not a readable CAR slice ({exc})", None)
                    blocks = {}
                yield from _commit_records(body, blocks, bsky_time(body.get("time")), deletes, file, place, reject)
            elif t == "#identity" and isinstance(body, dict):
                if isinstance(body.get("handle"), str) and isinstance(body.get("did"), str):
                    yield {"record_type": "account", "platform": PLATFORM, "account_key": body["did"],
                           "handle": body["handle"]}
            k += 1


# ---------------------------------------------------------------------------------------------------
# saved XRPC JSON responses (§1.3)

_XRPC_KEYS = ("thread", "feed", "posts", "follows", "followers", "likes", "repostedBy", "notifications",
              "records", "profiles")


def _detect_xrpc(path: Path) -> bool:
    if not path.is_file() or not path.name.lower().endswith(".json"):
        return False
    head = _head(path, 4096)
    if not head.lstrip().startswith(b"{") or b'"record_type"' in head:
        return False
    if _is_commit_json(head):
        return False                                  # a firehose event
    return (b'"at://' in head or b'"did:' in head) and (
        any(f'"{k}"'.encode() in head for k in _XRPC_KEYS) or (b'"uri"' in head and b'"value"' in head)
        or (b'"did"' in head and b'"handle"' in head))


class _Xrpc:
    def __init__(self, file: str, reject: Reject) -> None:
        self.file, self.reject = file, reject
        self.accounts: set[str] = set()

    def account(self, view: Any) -> Iterator[Record]:
        if not isinstance(view, dict) or not isinstance(view.get("did"), str):
            return
        did = view["did"]
        if did in self.accounts:
            return
        self.accounts.add(did)
        yield _clean({"record_type": "account", "platform": PLATFORM, "account_key": did,
                      "handle": view.get("handle") if view.get("handle") != "handle.invalid" else None,
                      "display_name": view.get("displayName") or None, "created_at": bsky_time(view.get("createdAt")),
                      "url": f"https://bsky.app/profile/{did}"})

    def record(self, uri: Any, value: Any, cid: Any, place: str) -> Iterator[Record]:
        p = split_at_uri(uri)
        if p is None:
            self.reject(self.file, place, f"uri {str(uri)[:80]!r} is not an AT-URI", None)
            return
        try:
            yield from bsky_record(p[0], p[1], p[2], value, cid)
        except BadItem as exc:
            self.reject(self.file, place, str(exc), json.dumps(value)[:2000])

    def post_view(self, view: Any, place: str) -> Iterator[Record]:
        if not isinstance(view, dict) or "record" not in view:
            return                                       # notFoundPost / blockedPost
        yield from self.account(view.get("author"))
        yield from self.record(view.get("uri"), view.get("record"), view.get("cid"), place)

    def thread(self, node: Any, place: str) -> Iterator[Record]:
        stack = [(node, place)]
        while stack:
            n, pl = stack.pop()
            if not isinstance(n, dict):
                continue
            yield from self.post_view(n.get("post"), pl)
            if n.get("parent"):
                stack.append((n["parent"], pl + ".parent"))
            for i, r in enumerate(n.get("replies") or []):
                stack.append((r, f"{pl}.replies[{i}]"))

    def feed_item(self, item: Any, place: str) -> Iterator[Record]:
        if not isinstance(item, dict):
            self.reject(self.file, place, "feed item is not an object", None)
            return
        post = item.get("post")
        yield from self.post_view(post, place)
        reply = item.get("reply")
        if isinstance(reply, dict):
            for k in ("root", "parent"):
                yield from self.post_view(reply.get(k), f"{place}.reply.{k}")
        reason = item.get("reason")
        if isinstance(reason, dict) and reason.get("$type", "").endswith("#reasonRepost") and isinstance(post, dict):
            by = reason.get("by") or {}
            p = split_at_uri(reason.get("uri"))
            created = bsky_time(reason.get("indexedAt"))
            if p and p[1] == REPOST and created and isinstance(post.get("uri"), str):
                yield from self.account(by)
                yield {"record_type": "post", "platform": PLATFORM, "post_key": reason["uri"], "author_key": p[0],
                       "created_at": created, "kind": "repost", "repost_of_key": post["uri"]}

    def read(self, doc: dict[str, Any]) -> Iterator[Record]:
        f = self.file
        if "thread" in doc:
            yield from self.thread(doc["thread"], "thread")
        elif isinstance(doc.get("feed"), list):
            for i, item in enumerate(doc["feed"]):
                yield from self.feed_item(item, f"feed[{i}]")
        elif isinstance(doc.get("posts"), list):
            for i, v in enumerate(doc["posts"]):
                yield from self.post_view(v, f"posts[{i}]")
        elif isinstance(doc.get("notifications"), list):
            for i, nt in enumerate(doc["notifications"]):
                if not isinstance(nt, dict):
                    self.reject(f, f"notifications[{i}]", "notification is not an object", None)
                    continue
                yield from self.account(nt.get("author"))
                yield from self.record(nt.get("uri"), nt.get("record"), nt.get("cid"), f"notifications[{i}]")
        elif isinstance(doc.get("records"), list):
            for i, r in enumerate(doc["records"]):
                if isinstance(r, dict):
                    yield from self.record(r.get("uri"), r.get("value"), r.get("cid"), f"records[{i}]")
        elif "uri" in doc and "value" in doc:
            yield from self.record(doc.get("uri"), doc.get("value"), doc.get("cid"), "record")
        elif isinstance(doc.get("follows"), list) or isinstance(doc.get("followers"), list):
            yield from self.follows(doc)
        elif isinstance(doc.get("likes"), list):
            target = doc.get("uri")
            for i, like in enumerate(doc["likes"]):
                actor = like.get("actor") if isinstance(like, dict) else None
                if not isinstance(actor, dict) or not isinstance(actor.get("did"), str) or not _ref_uri(doc):
                    self.reject(f, f"likes[{i}]", "like without actor.did or the response's uri", None)
                    continue
                yield from self.account(actor)
                created = bsky_time(like.get("createdAt"))
                yield _clean({"record_type": "interaction", "platform": PLATFORM, "type": "like",
                              "actor_key": actor["did"], "target_post_key": target,
                              "target_account_key": _uri_did(target), "created_at": created,
                              "time_precision": "exact" if created else "unknown"})
        elif isinstance(doc.get("repostedBy"), list):
            target = doc.get("uri")
            for i, actor in enumerate(doc["repostedBy"]):
                if not isinstance(actor, dict) or not isinstance(actor.get("did"), str) or not _ref_uri(doc):
                    self.reject(f, f"repostedBy[{i}]", "repost without actor did or the response's uri", None)
                    continue
                yield from self.account(actor)
                yield {"record_type": "interaction", "platform": PLATFORM, "type": "repost",
                       "actor_key": actor["did"], "target_post_key": target,
                       "target_account_key": _uri_did(target), "created_at": None, "time_precision": "unknown"}
        elif isinstance(doc.get("profiles"), list):
            for v in doc["profiles"]:
                yield from self.account(v)
        elif isinstance(doc.get("did"), str) and isinstance(doc.get("handle"), str):
            yield from self.account(doc)
        else:
            raise FormatError(f"{f}: JSON of no known Bluesky XRPC response shape")

    def follows(self, doc: dict[str, Any]) -> Iterator[Record]:
        subject = doc.get("subject")
        if not isinstance(subject, dict) or not isinstance(subject.get("did"), str):
            raise FormatError(f"{self.file}: follows/followers page without subject.did")
        yield from self.account(subject)
        outbound = isinstance(doc.get("follows"), list)
        key = "follows" if outbound else "followers"
        for i, v in enumerate(doc[key]):
            if not isinstance(v, dict) or not isinstance(v.get("did"), str):
                self.reject(self.file, f"{key}[{i}]", "profile without did", None)
                continue
            yield from self.account(v)
            actor, target = (subject["did"], v["did"]) if outbound else (v["did"], subject["did"])
            # The viewer's own follow-record URI is the follow's real key when the viewer is the actor.
            viewer = v.get("viewer") if isinstance(v.get("viewer"), dict) else {}
            uri = viewer.get("following") if outbound else viewer.get("followedBy")
            p = split_at_uri(uri)
            yield _clean({"record_type": "interaction", "platform": PLATFORM, "type": "follow",
                          "interaction_key": uri if p and p[0] == actor and p[1] == FOLLOW else None,
                          "actor_key": actor, "target_account_key": target, "created_at": None,
                          "time_precision": "unknown"})


def xrpc_records(doc: dict[str, Any], file: str, reject: Reject) -> Iterator[Record]:
    """Records of one XRPC response object (a saved file's content or a live page; `file` names it in
    rejects). Used by the live client (sources/live/bluesky.py)."""
    yield from _Xrpc(file, reject).read(doc)


def _read_xrpc(path: Path, reject: Reject) -> Iterator[Record]:
    if path.stat().st_size > MAX_JSON_BYTES:
        raise FormatError(f"{path}: JSON larger than {MAX_JSON_BYTES >> 20} MiB; refused")
    try:
        doc = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise FormatError(f"{path}: not JSON ({str(exc)[:80]})") from None
    if not isinstance(doc, dict):
        raise FormatError(f"{path}: not a Bluesky XRPC response (top level is not an object)")
    yield from _Xrpc(str(path), reject).read(doc)


def _guard(detect: Callable[[Path], bool]) -> Callable[[Path], bool]:
    def run(path: Path) -> bool:
        try:
            return detect(path)
        except (OSError, ValueError):
            return False
    return run


BSKY_CAR = register(FileFormat(
    "bsky_car", "Bluesky repository export (.car from getRepo or the app's Export my data)",
    _guard(_detect_car), _read_car))
BSKY_JETSTREAM = register(FileFormat(
    "bsky_jetstream", "Bluesky Jetstream v1 capture (JSON lines of commit/identity/account events, or .zst)",
    _guard(_detect_jetstream), _read_jetstream))
BSKY_FIREHOSE = register(FileFormat(
    "bsky_firehose", "Bluesky relay firehose frames (zstd of [u32 LE length][frame]…) or a JSON #commit event",
    _guard(_detect_firehose), _read_firehose))
BSKY_XRPC = register(FileFormat(
    "bsky_xrpc", "saved Bluesky XRPC JSON (getAuthorFeed, getPostThread, getFollows/Followers, getLikes, "
                 "getRepostedBy, listNotifications, listRecords, getPosts)",
    _guard(_detect_xrpc), _read_xrpc))
