"""X / Twitter account archives of every generation (CONNECTORS.md §3, §6), and dated follower lists.

Format `x_archive` reads an archive as a `.zip`, an unpacked folder or one of its data files:

* YTD archives (2019 →): `data/manifest.js` (`window.__THAR_CONFIG = {…}`) lists every part of every
  data type; without it the parts are globbed (`tweet.js`, `tweets.js`, `tweets-part*.js`, …). Items are
  `{"tweet": {…}}` or bare tweet objects (2019). Read: tweets (and `community-tweet.js`), `note-tweet.js`
  (long posts, joined to their truncated tweet on the creation second), `deleted-tweets.js` (posts with
  `is_deleted`), `like.js`, `follower.js`, `following.js` (interactions without time), and the archive's own
  account from `account.js` or the manifest's `userInfo` (an account with `is_owner`). Files holding personal
  data (DMs, IP audits, e-mail, ads, …) are never opened.
* Grailbird archives (2012–2018): `data/js/tweets/YYYY_MM.js` (`Grailbird.data.tweets_YYYY_MM = […]`,
  API v1.1 objects with `retweeted_status`), `data/js/user_details.js`, `payload_details.js`, or the
  `tweets.csv` of the same archive (read only when there are no JS months).

JS files are never evaluated: the JSON is the text after the first `=` (a trailing `;` dropped). A file
that does not parse whole is split into its top-level items, so one malformed or truncated item is
quarantined (`item N`) and the others are kept; a file that is not UTF-8 has its undecodable items
quarantined. A `.zip` whose central directory is missing (a truncated download) is salvaged from its
local headers: complete members are read, the cut one is reported.

Kinds (CONNECTORS.md §3.2): a Grailbird retweet (`retweeted_status`, CSV `retweeted_status_id`) is an
exact repost; a YTD `RT @…` post is a repost with `kind_confidence` 'heuristic', its target being the
media's `source_status_id_str` when there is one, else unknown. An unknown target gets the placeholder
post key `x:unknown-rt:<id of the retweet>` (the generic format requires `repost_of_key`); the reposted
account (`user_mentions[0]`) is kept on the repost interaction. A status URL in `entities.urls` makes a
quote (heuristic; a reply keeps kind reply and also gets `quote_of_key`). Replies come from
`in_reply_to_status_id_str`; their interaction carries `in_reply_to_user_id_str` as the target account.
Texts are stored HTML-unescaped (`&amp;`, `&lt;`, `&gt;`), with entity offsets moved to match (code points).

Format `x_follower_snapshots` reads a folder of dated follower lists (`follower_2021-03-22.js`, the
YTD `follower.js` of archives taken at different dates) into `follower_snapshot` records of the archive
owner, found in an `account.js` / `manifest.js` in the folder, its parent or a sibling archive folder.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
import json
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from socialleads.errors import FormatError
from socialleads.sources.archive import MAX_MEMBER_BYTES, MAX_RATIO, Archive, _safe_name
from socialleads.sources.formats import FileFormat, Record, Reject, register

NAME = "x_archive"
SNAPSHOTS = "x_follower_snapshots"
PLATFORM = "x"

# Data types read from a YTD archive: manifest type → (glob stems, item wrapper key).
TWEET_TYPES = ("tweets", "tweet", "communityTweet")
YTD_TYPES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "account": (("account",), "account"),
    "tweets": (("tweets", "tweet"), "tweet"),
    "tweet": ((), "tweet"),                      # 2019–2022 manifests name the type "tweet"
    "communityTweet": (("community-tweet",), "tweet"),
    "deletedTweets": (("deleted-tweets",), "tweet"),
    "noteTweet": (("note-tweet",), "noteTweet"),
    "like": (("like",), "like"),
    "follower": (("follower",), "follower"),
    "following": (("following",), "following"),
}
_STEM_TYPE = {stem: t for t, (stems, _) in YTD_TYPES.items() for stem in stems}
_PART_RE = re.compile(r"^(?P<stem>[a-z-]+?)(?:-part(?P<part>\d+))?\.js$")
_GRAILBIRD_MONTH_RE = re.compile(r"(?:^|/)data/js/tweets/(\d{4})_(\d{2})\.js$")
_SNAPSHOT_RE = re.compile(r"^(?P<kind>followers?)[_-](?P<date>\d{4}-\d{2}-\d{2})\.js$")
_STATUS_URL_RE = re.compile(
    r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/(?:#!/)?(?:[A-Za-z0-9_]{1,50}|i/web|i)/status(?:es)?/"
    r"(\d{1,25})/?(?:[?#].*)?$")
_ESCAPE_RE = re.compile(r"&(amp|lt|gt);")
_ESCAPES = {"amp": "&", "lt": "<", "gt": ">"}
_CSV_HEADER = ("tweet_id", "in_reply_to_status_id", "in_reply_to_user_id", "timestamp")
_HASHTAG_RE = re.compile(r"(?<![\w&])[#＃](\w+)")
_MENTION_RE = re.compile(r"(?<![\w@])@(\w{1,15})")
_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                                       "Nov", "Dec"), 1)}
_RECORD_RAW_LIMIT = 4000


# --- small helpers --------------------------------------------------------------------------------

def _key(native_id: Any) -> str | None:
    """'x:' + id as a string; None for an empty, missing or non-numeric id."""
    if native_id is None or isinstance(native_id, bool):
        return None
    s = str(native_id).strip()
    return "x:" + s if s.isdigit() else None


def _rfc3339(d: dt.datetime) -> str:
    return d.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(s: Any) -> str | None:
    """An X time (`Fri Mar 06 13:02:05 +0000 2026`, `2015-08-22 22:45:29 +0000`, ISO) as RFC 3339 UTC."""
    if not isinstance(s, str) or not s.strip():
        return None
    s = s.strip()
    p = s.split()
    try:
        if len(p) == 6 and p[4] == "+0000" and p[1] in _MONTHS:          # the common case, fast
            hh, mm, ss = p[3].split(":")
            return _rfc3339(dt.datetime(int(p[5]), _MONTHS[p[1]], int(p[2]), int(hh), int(mm), int(ss),
                                        tzinfo=dt.UTC))
        for fmt in ("%a %b %d %H:%M:%S %z %Y", "%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S"):
            try:
                d = dt.datetime.strptime(s, fmt)
                return _rfc3339(d if d.tzinfo else d.replace(tzinfo=dt.UTC))
            except ValueError:
                continue
        d = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
        return _rfc3339(d if d.tzinfo else d.replace(tzinfo=dt.UTC))
    except (ValueError, OverflowError):
        return None


def _int(v: Any) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def _unescape(text: str) -> tuple[str, list[tuple[int, int]]]:
    """Text without X's HTML escapes, and (escaped position, shift) steps to move offsets with it."""
    if "&" not in text:
        return text, []
    out: list[str] = []
    steps: list[tuple[int, int]] = []
    last = shift = 0
    for m in _ESCAPE_RE.finditer(text):
        out.append(text[last:m.start()])
        out.append(_ESCAPES[m.group(1)])
        shift += len(m.group(0)) - 1
        steps.append((m.end(), shift))
        last = m.end()
    out.append(text[last:])
    return "".join(out), steps


def _moved(i: int | None, steps: list[tuple[int, int]]) -> int | None:
    if i is None or not steps:
        return i
    shift = 0
    for end, s in steps:
        if end <= i:
            shift = s
        else:
            break
    return i - shift


def _raw(obj: Any) -> str:
    try:
        return json.dumps(obj, ensure_ascii=False)[:_RECORD_RAW_LIMIT]
    except (TypeError, ValueError):
        return repr(obj)[:_RECORD_RAW_LIMIT]


# --- reading JS data files without eval -------------------------------------------------------------

_TOKEN_RE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)


def _decode(data: bytes) -> tuple[str, bool]:
    """UTF-8 text (BOM dropped); `False` when some bytes were not UTF-8 and were replaced."""
    try:
        return data.decode("utf-8-sig"), True
    except UnicodeDecodeError:
        return data.decode("utf-8-sig", errors="replace"), False


def js_items(data: bytes, label: str, reject: Reject) -> Iterator[tuple[int, Any]]:
    """(index, item) of the JSON array assigned in a YTD / Grailbird JS file; bad items are rejected."""
    text, clean = _decode(data)
    eq = text.find("=")
    body = text[eq + 1:] if eq >= 0 else text
    body = body.strip().rstrip(";").rstrip()
    if not clean:
        reject(label, "file", "not UTF-8 text: undecodable bytes; the items holding them are quarantined", None)
    if not body:      # 0 bytes, or nothing after '=': a damaged copy (an archive with no items writes `= [ ]`)
        reject(label, "file", "empty: no list of items in it (a damaged or cut-off copy of the file?)", None)
        return
    items = _loads(body) if clean else _BAD
    if items is _BAD:
        yield from _split_items(body, label, reject, clean)
        return
    if isinstance(items, dict):           # `var user_details = {…}` style
        yield 0, items
        return
    if not isinstance(items, list):
        raise FormatError(f"{label}: not an X archive data file (the value after '=' is not a list)")
    yield from enumerate(items)


_BAD = object()


def _loads(body: str) -> Any:
    """json.loads of a whole file, or _BAD; the cyclic GC is paused (it costs ~half the parse on big files)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return json.loads(body)
    except ValueError:
        return _BAD
    finally:
        if enabled:
            gc.enable()


def _split_items(body: str, label: str, reject: Reject, clean: bool) -> Iterator[tuple[int, Any]]:
    """Top-level items of a damaged array, found by bracket depth (strings skipped)."""
    first = body.lstrip()[:1]
    if first == "{":                       # a single object that does not parse
        reject(label, "item 0", "malformed JSON", body[:_RECORD_RAW_LIMIT])
        return
    if first != "[":
        raise FormatError(f"{label}: not an X archive data file (no JSON array after '=')")
    depth = 0
    start = -1
    index = 0
    for m in _TOKEN_RE.finditer(body):
        tok = m.group(0)
        if tok[0] == '"':
            continue
        if tok in "[{":
            depth += 1
            if depth == 2:
                start = m.start()
        else:
            depth -= 1
            if depth == 1 and start >= 0:
                chunk = body[start:m.end()]
                start = -1
                yield from _one_item(chunk, index, label, reject, clean)
                index += 1
            elif depth <= 0:
                return
    if start >= 0:
        reject(label, f"item {index}", "truncated: the file ends inside this item", body[start:][:_RECORD_RAW_LIMIT])


def _one_item(chunk: str, index: int, label: str, reject: Reject, clean: bool) -> Iterator[tuple[int, Any]]:
    if not clean and "\ufffd" in chunk:
        reject(label, f"item {index}", "not UTF-8 text", chunk[:_RECORD_RAW_LIMIT])
        return
    try:
        yield index, json.loads(chunk)
    except ValueError as exc:
        reject(label, f"item {index}", f"malformed JSON ({exc.msg} at char {exc.pos})", chunk[:_RECORD_RAW_LIMIT])


# --- where the members come from --------------------------------------------------------------------

class _Members:
    """A folder / zip / tar (through Archive), one data file, or a salvaged truncated zip."""

    def __init__(self, path: Path, reject: Reject) -> None:
        self.path = path
        self.archive: Archive | None = None
        self.files: dict[str, bytes | Path] = {}
        if path.is_file() and not zipfile.is_zipfile(path) and path.suffix.lower() in (".js", ".csv"):
            self.files[path.name] = path
            for sib in ("account.js", "manifest.js", "user_details.js", "payload_details.js"):
                p = path.parent / sib
                if p.is_file() and p != path:
                    self.files.setdefault(sib, p)
            self.single = path.name
            return
        self.single = None
        try:
            self.archive = Archive(path)
        except FormatError:
            if not (path.is_file() and path.read_bytes()[:4] == b"PK\x03\x04"):
                raise
            self.files = _salvage_zip(path, reject)
            if not self.files:
                raise
            return
        for name, reason in self.archive.unsafe:
            reject(str(path), name, reason, None)

    def names(self) -> list[str]:
        if self.archive is not None:
            return self.archive.names()
        return sorted(self.files)

    def label(self, name: str) -> str:
        if self.archive is not None:
            return self.archive.label(name)
        if self.single is not None:
            ref = self.files[name]
            return str(ref) if isinstance(ref, Path) else name
        return f"{self.path}!{name}"

    def read(self, name: str) -> bytes:
        if self.archive is not None:
            return self.archive.read_bytes(name)
        ref = self.files[name]
        if isinstance(ref, Path):
            if ref.stat().st_size > MAX_MEMBER_BYTES:
                raise FormatError(f"{ref}: larger than {MAX_MEMBER_BYTES >> 20} MiB; refused")
            return ref.read_bytes()
        return ref

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()


def _salvage_zip(path: Path, reject: Reject) -> dict[str, bytes]:
    """Members of a zip without a central directory, read from their local headers (truncated download)."""
    data = path.read_bytes()
    out: dict[str, bytes] = {}
    pos = 0
    total = 0
    while data[pos:pos + 4] == b"PK\x03\x04":
        if len(data) < pos + 30:
            reject(str(path), f"byte {pos}", "truncated zip: a member header is cut off", None)
            break
        (_, _, flags, method, _, _, _, csize, usize, nlen, xlen) = struct.unpack("<IHHHHHIIIHH", data[pos:pos + 30])
        raw_name = data[pos + 30:pos + 30 + nlen].decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
        start = pos + 30 + nlen + xlen
        try:
            if method == 0 and not flags & 0x08:
                body = data[start:start + csize]
                if len(body) < csize:
                    raise EOFError
                end = start + csize
            elif method == 8:
                # at most MAX_RATIO times the compressed bytes left (the rule Archive applies to a whole zip's
                # members over 10 MB): a bomb in a truncated zip is never inflated
                rest = len(data) - start
                cap = min(MAX_MEMBER_BYTES, max(10 << 20, MAX_RATIO * rest))
                d = zlib.decompressobj(-15)
                body = d.decompress(memoryview(data)[start:], cap + 1)
                used = rest - len(d.unused_data) - len(d.unconsumed_tail)
                if len(body) > 10 << 20 and (len(body) > cap or len(body) > MAX_RATIO * max(used, 1)):
                    reject(str(path), raw_name, f"compression ratio over {MAX_RATIO}:1 looks like a zip bomb; "
                                                "stopped", None)
                    break
                if not d.eof:
                    raise EOFError
                end = len(data) - len(d.unused_data)
            else:
                reject(str(path), raw_name, f"truncated zip: compression method {method} cannot be salvaged", None)
                break
        except (EOFError, zlib.error):
            reject(str(path), raw_name, "truncated zip: this member is cut off; skipped", None)
            break
        if flags & 0x08:                              # data descriptor after the data
            if data[end:end + 4] == b"PK\x07\x08":
                end += 16
            else:
                end += 12
        total += len(body)
        if total > MAX_MEMBER_BYTES * 4:
            reject(str(path), raw_name, "truncated zip: salvaged data too large; stopped", None)
            break
        safe = _safe_name(raw_name)
        if safe is None:
            reject(str(path), raw_name, "member path escapes the archive (.. or absolute); skipped", None)
        elif not raw_name.endswith("/"):
            out[safe] = body
        pos = end
    if out:
        reject(str(path), "zip", f"truncated or corrupt zip (no central directory); {len(out)} complete "
                                 "member(s) salvaged", None)
    return out


# --- the archive's layout -------------------------------------------------------------------------

def _root_of(name: str, tail: str) -> str:
    return name[: len(name) - len(tail)]


class _Layout:
    """Which member holds what: YTD parts per data type (manifest first), Grailbird months, tweets.csv."""

    def __init__(self, m: _Members, reject: Reject) -> None:
        self.parts: dict[str, list[str]] = {}
        self.manifest: dict[str, Any] | None = None
        self.grailbird: list[str] = []
        self.csv: str | None = None
        self.user_details: str | None = None
        self.payload_details: str | None = None
        names = m.names()
        present = set(names)
        manifests = [n for n in names if n == "manifest.js" or n.endswith("data/manifest.js")
                     or (m.single is not None and n == "manifest.js")]
        if manifests:
            mf = min(manifests, key=len)
            label = m.label(mf)
            try:
                items = list(js_items(m.read(mf), label, reject))
                if items and isinstance(items[0][1], dict):
                    self.manifest = items[0][1]
            except FormatError as exc:
                reject(label, "file", f"manifest unreadable ({exc}); the data files are globbed", None)
            if self.manifest is not None and m.single is None:
                root = _root_of(mf, "data/manifest.js") if mf.endswith("data/manifest.js") else ""
                types = self.manifest.get("dataTypes") or {}
                for t in YTD_TYPES:
                    files = (types.get(t) or {}).get("files") or []
                    listed = [root + str(f.get("fileName", "")) for f in files if isinstance(f, dict)]
                    found = [n for n in listed if n in present]
                    if found:
                        self.parts.setdefault("tweets" if t == "tweet" else t, []).extend(found)
        # glob what the manifest did not list (or everything, without a manifest)
        globbed: dict[str, list[tuple[int, str]]] = {}
        for n in names:
            base = n.rsplit("/", 1)[-1]
            mm = _PART_RE.match(base)
            if mm:
                t = _STEM_TYPE.get(mm.group("stem"))
                if t is not None and (m.single is not None or "/" not in n or n.startswith("data/")
                                      or "/data/" in n):
                    globbed.setdefault(t, []).append((int(mm.group("part") or 0), n))
            if _GRAILBIRD_MONTH_RE.search(n):
                self.grailbird.append(n)
            elif n == m.single and not mm and base.endswith(".js") and _is_grailbird_js(m, n):
                self.grailbird.append(n)
            if base == "user_details.js":
                self.user_details = n
            if base == "payload_details.js":
                self.payload_details = n
            if base == "tweets.csv" and self.csv is None:
                self.csv = n
        for t, lst in globbed.items():
            if t not in self.parts:
                self.parts[t] = [n for _, n in sorted(lst)]
        self.grailbird.sort(reverse=True)       # newest month first, as the archive lists them

    @property
    def empty(self) -> bool:
        return not (self.parts or self.grailbird or self.csv)


def _is_grailbird_js(m: _Members, name: str) -> bool:
    head = m.read(name)[:200].lstrip(b"\xef\xbb\xbf \r\n\t")
    return head.startswith(b"Grailbird.data.")


# --- owner ------------------------------------------------------------------------------------------

class _Owner:
    def __init__(self) -> None:
        self.id: str | None = None
        self.handle: str | None = None
        self.name: str | None = None
        self.created_at: str | None = None
        self.generated_at: str | None = None
        self.placeholder = False

    @property
    def key(self) -> str | None:
        return _key(self.id) if not self.placeholder else f"x:unknown-owner-of:{self.id}"

    def record(self) -> Record:
        rec: Record = {"record_type": "account", "platform": PLATFORM, "account_key": self.key,
                       "is_owner": True}
        if self.handle:
            rec["handle"] = self.handle
            rec["url"] = f"https://x.com/{self.handle}"
        if self.name:
            rec["display_name"] = self.name
        if self.created_at:
            rec["created_at"] = self.created_at
        if self.id and not self.placeholder:
            rec["source_ids"] = {"x": self.id}
        return rec


def _owner_from(m: _Members, lay: _Layout, reject: Reject) -> _Owner:
    o = _Owner()
    info = (lay.manifest or {}).get("userInfo") or {}
    if isinstance(info, dict) and _key(info.get("accountId")):
        o.id, o.handle, o.name = str(info["accountId"]), info.get("userName"), info.get("displayName")
    arch = (lay.manifest or {}).get("archiveInfo") or {}
    if isinstance(arch, dict):
        o.generated_at = parse_time(arch.get("generationDate"))
    for name in lay.parts.get("account", []):
        for _, item in _items_of(m, name, reject):
            acc = item.get("account", item) if isinstance(item, dict) else None
            if isinstance(acc, dict) and _key(acc.get("accountId")):
                # never `email`, `createdVia` (PII / not needed)
                o.id = str(acc["accountId"])
                o.handle = acc.get("username") or o.handle
                o.name = acc.get("accountDisplayName") or o.name
                o.created_at = parse_time(acc.get("createdAt")) or o.created_at
    if o.id is None and lay.user_details:
        for _, ud in _items_of(m, lay.user_details, reject):
            if isinstance(ud, dict) and _key(ud.get("id")):
                o.id, o.handle, o.name = str(ud["id"]), ud.get("screen_name"), ud.get("full_name")
                o.created_at = parse_time(ud.get("created_at"))
    if lay.payload_details and o.generated_at is None:
        for _, pd in _items_of(m, lay.payload_details, reject):
            if isinstance(pd, dict):
                o.generated_at = parse_time(pd.get("created_at"))
    return o


def _items_of(m: _Members, name: str, reject: Reject) -> Iterator[tuple[int, Any]]:
    label = m.label(name)
    try:
        data = m.read(name)
    except FormatError as exc:
        reject(label, "file", str(exc), None)
        return
    except OSError as exc:                      # e.g. a member without read permission: named, the rest kept
        reject(label, "file", f"cannot be read ({exc.strerror or type(exc).__name__})", None)
        return
    yield from _file_items(m, data, label, reject)


def _file_items(m: _Members, data: bytes, label: str, reject: Reject) -> Iterator[tuple[int, Any]]:
    """`js_items` of one member. A member that is not a data file at all (garbage after '=') is quarantined by
    name and the archive's other files are read; only a single file given on its own is refused whole."""
    if m.single is not None:
        yield from js_items(data, label, reject)
        return
    try:
        yield from js_items(data, label, reject)
    except FormatError as exc:
        reject(label, "file", str(exc), None)


# --- tweets -----------------------------------------------------------------------------------------

class _Notes:
    """Long posts of note-tweet.js, by creation second (CONNECTORS.md §3.2: noteTweetId ≠ tweet id)."""

    def __init__(self) -> None:
        self.by_second: dict[str, list[dict[str, Any]]] = {}
        self.joined = 0

    def add(self, note: dict[str, Any]) -> bool:
        t = parse_time(note.get("createdAt"))
        core = note.get("core")
        if t is None or not isinstance(core, dict) or not isinstance(core.get("text"), str):
            return False
        self.by_second.setdefault(t, []).append(note)
        return True

    def match(self, created_at: str, text: str) -> dict[str, Any] | None:
        cands = self.by_second.get(created_at)
        if not cands:
            return None
        if len(cands) > 1:
            head = text.split("…", 1)[0].rstrip()
            best = [n for n in cands if n["core"]["text"].startswith(head)]
            if not best:
                return None
            cands = best
        note = cands.pop(0)
        self.joined += 1
        return note


class _Reader:
    def __init__(self, reject: Reject, owner: _Owner) -> None:
        self.reject = reject
        self.owner = owner
        self.notes = _Notes()
        self.seen_accounts: set[str] = set()

    # account stubs with the handles the tweets show (first seen wins; archives list newest first)
    def account(self, id_str: Any, handle: Any, name: Any) -> Iterator[Record]:
        k = _key(id_str)
        if k is None or k in self.seen_accounts or k == self.owner.key:
            return
        self.seen_accounts.add(k)
        rec: Record = {"record_type": "account", "platform": PLATFORM, "account_key": k}
        if isinstance(handle, str) and handle:
            rec["handle"] = handle
            rec["url"] = f"https://x.com/{handle}"
        if isinstance(name, str) and name:
            rec["display_name"] = name
        yield rec

    def tweet(self, t: Any, label: str, place: str, *, deleted: bool = False,
              grailbird: bool = False, escaped: bool = True) -> Iterator[Record]:
        if not isinstance(t, dict):
            self.reject(label, place, "not a tweet object", _raw(t))
            return
        if "tweet" in t and isinstance(t["tweet"], dict):
            t = t["tweet"]
        id_str = t.get("id_str") or (str(t["id"]) if isinstance(t.get("id"), (int, str)) else None)
        post_key = _key(id_str)
        if post_key is None:
            self.reject(label, place, "no tweet id (id_str)", _raw(t))
            return
        created = parse_time(t.get("created_at"))
        if created is None:
            self.reject(label, place, f"created_at {str(t.get('created_at'))[:40]!r} is not an X time", _raw(t))
            return
        raw_text = t.get("full_text") if isinstance(t.get("full_text"), str) else t.get("text")
        if not isinstance(raw_text, str):
            raw_text = ""
        text, steps = _unescape(raw_text) if escaped else (raw_text, [])
        ents = t.get("entities") if isinstance(t.get("entities"), dict) else {}
        author = self.owner.key
        user = t.get("user")
        if isinstance(user, dict) and _key(user.get("id_str") or user.get("id")):
            author = _key(user.get("id_str") or user.get("id"))
        rec: Record = {"record_type": "post", "platform": PLATFORM, "post_key": post_key, "author_key": author,
                       "created_at": created, "kind": "original"}
        pre: list[Record] = []
        mentions = [u for u in (ents.get("user_mentions") or []) if isinstance(u, dict)]
        for u in mentions:
            pre.extend(self.account(u.get("id_str") or u.get("id"), u.get("screen_name"), u.get("name")))

        # kind
        rt = t.get("retweeted_status")
        reply_to = _key(t.get("in_reply_to_status_id_str") or t.get("in_reply_to_status_id"))
        if isinstance(rt, dict) and _key(rt.get("id_str") or rt.get("id")):
            rec["kind"] = "repost"
            rec["repost_of_key"] = _key(rt.get("id_str") or rt.get("id"))
            ru = rt.get("user") if isinstance(rt.get("user"), dict) else {}
            target_acc = _key(ru.get("id_str") or ru.get("id"))
            pre.extend(self.account(ru.get("id_str") or ru.get("id"), ru.get("screen_name"), ru.get("name")))
            pre.append(self._interaction("repost", rec, rec["repost_of_key"], target_acc))
        elif raw_text.startswith("RT @") and not grailbird:
            rec["kind"] = "repost"
            rec["kind_confidence"] = "heuristic"
            src = None
            src_user = None
            for md in (ents.get("media") or []):
                if isinstance(md, dict) and _key(md.get("source_status_id_str")):
                    src, src_user = _key(md["source_status_id_str"]), _key(md.get("source_user_id_str"))
                    break
            rec["repost_of_key"] = src or f"x:unknown-rt:{id_str}"
            if src_user is None:
                first = next((u for u in mentions if _int((u.get("indices") or [None])[0]) == 3), None)
                src_user = _key(first.get("id_str") or first.get("id")) if first else None
            pre.append(self._interaction("repost", rec, rec["repost_of_key"], src_user))
        elif reply_to is not None:
            rec["kind"] = "reply"
            rec["reply_to_key"] = reply_to
            to_user = _key(t.get("in_reply_to_user_id_str") or t.get("in_reply_to_user_id"))
            pre.append(self._interaction("reply", rec, reply_to, to_user))
        if rec["kind"] in ("original", "reply"):
            quoted = None
            for u in (ents.get("urls") or []):
                mm = _STATUS_URL_RE.match(str(u.get("expanded_url") or "")) if isinstance(u, dict) else None
                if mm and mm.group(1) != id_str and "x:" + mm.group(1) != reply_to:
                    quoted = "x:" + mm.group(1)           # the last one wins (CONNECTORS.md §3.2)
            if quoted:
                rec["quote_of_key"] = quoted
                if rec["kind"] == "original":
                    rec["kind"] = "quote"
                    rec["kind_confidence"] = "heuristic"

        # entities (code points of the unescaped text)
        entities: list[dict[str, Any]] = []

        def span(ix: Any) -> tuple[int | None, int | None]:
            if isinstance(ix, list) and len(ix) == 2:
                return _moved(_int(ix[0]), steps), _moved(_int(ix[1]), steps)
            return None, None

        for u in mentions:
            s, e = span(u.get("indices"))
            entities.append({"etype": "mention", "value": u.get("screen_name"),
                             "target_account_key": _key(u.get("id_str") or u.get("id")),
                             "start_idx": s, "end_idx": e, "idx_unit": "codepoint"})
        for h in (ents.get("hashtags") or []):
            if isinstance(h, dict) and h.get("text"):
                s, e = span(h.get("indices"))
                entities.append({"etype": "hashtag", "value": h["text"], "start_idx": s, "end_idx": e,
                                 "idx_unit": "codepoint"})
        for c in (ents.get("symbols") or []):
            if isinstance(c, dict) and c.get("text"):
                s, e = span(c.get("indices"))
                entities.append({"etype": "cashtag", "value": c["text"], "start_idx": s, "end_idx": e,
                                 "idx_unit": "codepoint"})
        for u in (ents.get("urls") or []):
            if isinstance(u, dict) and (u.get("expanded_url") or u.get("url")):
                s, e = span(u.get("indices"))
                entities.append({"etype": "link", "value": u.get("expanded_url") or u.get("url"),
                                 "start_idx": s, "end_idx": e, "idx_unit": "codepoint"})
        media = (t.get("extended_entities") or {}).get("media") if isinstance(t.get("extended_entities"), dict) \
            else None
        for md in (media or ents.get("media") or []):
            if isinstance(md, dict) and (md.get("media_url_https") or md.get("media_url")):
                s, e = span(md.get("indices"))
                entities.append({"etype": "media", "value": md.get("media_url_https") or md.get("media_url"),
                                 "start_idx": s, "end_idx": e, "idx_unit": "codepoint"})

        note = self.notes.match(created, text) if self.notes.by_second else None
        if note is not None:
            text, entities = self._note_text(note, entities)
            rec["source_ids"] = {"x_note_tweet": str(note.get("noteTweetId"))}
        rec["text"] = text
        if isinstance(t.get("lang"), str):
            rec["lang"] = t["lang"]
        handle = (user or {}).get("screen_name") if isinstance(user, dict) else None
        handle = handle or (self.owner.handle if author == self.owner.key else None)
        rec["url"] = f"https://x.com/{handle}/status/{id_str}" if handle else f"https://x.com/i/web/status/{id_str}"
        if deleted:
            rec["is_deleted"] = True
        if entities:
            rec["entities"] = entities
        yield from pre
        yield rec
        if self.owner.generated_at and rec["kind"] != "repost" and not deleted:
            likes, reposts = _int(t.get("favorite_count")), _int(t.get("retweet_count"))
            if likes is not None or reposts is not None:
                yield {"record_type": "metrics_snapshot", "subject_key": post_key, "subject_type": "post",
                       "observed_at": self.owner.generated_at, "likes": likes, "reposts": reposts}

    def _interaction(self, kind: str, post: Record, target_post: str, target_account: str | None) -> Record:
        """The interaction the importer also derives from the post, with the target account it cannot know.

        Same fields, hence the same interaction_key (a hash for replies, the post's key for reposts);
        yielded before the post so that it wins the merge."""
        rec: Record = {"record_type": "interaction", "platform": PLATFORM, "type": kind,
                       "actor_key": post["author_key"], "via_post_key": post["post_key"],
                       "target_post_key": target_post, "created_at": post["created_at"],
                       "time_precision": "exact"}
        if kind == "repost":   # the importer keys a repost by the repost's own key (importer.py flush)
            rec["interaction_key"] = post["post_key"]
        if target_account:
            rec["target_account_key"] = target_account
        return rec

    def _note_text(self, note: dict[str, Any], tweet_ents: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
        core = note["core"]
        text = core["text"]
        by_handle = {str(e.get("value") or "").lower(): e.get("target_account_key")
                     for e in tweet_ents if e["etype"] == "mention"}
        ents: list[dict[str, Any]] = []
        for mn in core.get("mentions") or []:
            if isinstance(mn, dict) and mn.get("screenName"):
                ents.append({"etype": "mention", "value": mn["screenName"],
                             "target_account_key": by_handle.get(str(mn["screenName"]).lower()),
                             "start_idx": _int(mn.get("fromIndex")), "end_idx": _int(mn.get("toIndex")),
                             "idx_unit": "codepoint"})
        for h in core.get("hashtags") or []:
            if isinstance(h, dict) and h.get("text"):
                ents.append({"etype": "hashtag", "value": h["text"], "start_idx": _int(h.get("fromIndex")),
                             "end_idx": _int(h.get("toIndex")), "idx_unit": "codepoint"})
        for c in core.get("cashtags") or []:
            if isinstance(c, dict) and c.get("text"):
                ents.append({"etype": "cashtag", "value": c["text"], "start_idx": _int(c.get("fromIndex")),
                             "end_idx": _int(c.get("toIndex")), "idx_unit": "codepoint"})
        note_urls = set()
        for u in core.get("urls") or []:
            if isinstance(u, dict) and (u.get("expandedUrl") or u.get("shortUrl")):
                note_urls.add(u.get("expandedUrl") or u.get("shortUrl"))
                ents.append({"etype": "link", "value": u.get("expandedUrl") or u.get("shortUrl"),
                             "start_idx": _int(u.get("fromIndex")), "end_idx": _int(u.get("toIndex")),
                             "idx_unit": "codepoint"})
        # what only the tweet has (leading reply mentions, a quoted post's URL, media): offsets unknown
        in_note = {(e["etype"], str(e.get("value")).lower()) for e in ents}
        for e in tweet_ents:
            if (e["etype"], str(e.get("value")).lower()) not in in_note:
                ents.append({**e, "start_idx": None, "end_idx": None, "idx_unit": None})
        return text, ents

    # likes and follows: no time (CONNECTORS.md §3.2)
    def like(self, item: Any, label: str, place: str) -> Iterator[Record]:
        like = item.get("like", item) if isinstance(item, dict) else None
        target = _key(like.get("tweetId")) if isinstance(like, dict) else None
        if target is None:
            self.reject(label, place, "like without a tweetId", _raw(item))
            return
        yield {"record_type": "interaction", "platform": PLATFORM, "type": "like", "actor_key": self.owner.key,
               "target_post_key": target, "created_at": None, "time_precision": "unknown"}

    def follow(self, item: Any, wrapper: str, label: str, place: str) -> Iterator[Record]:
        f = item.get(wrapper, item) if isinstance(item, dict) else None
        other = _key(f.get("accountId")) if isinstance(f, dict) else None
        if other is None:
            self.reject(label, place, f"{wrapper} entry without an accountId", _raw(item))
            return
        actor, target = (other, self.owner.key) if wrapper == "follower" else (self.owner.key, other)
        yield {"record_type": "follow", "platform": PLATFORM, "actor_key": actor, "target_account_key": target,
               "created_at": None, "time_precision": "unknown"}


def _csv_tweets(m: _Members, name: str, r: _Reader) -> Iterator[Record]:
    """Grailbird tweets.csv (`2015-08-22 22:45:29 +0000`; multi-line quoted fields)."""
    label = m.label(name)
    try:
        data = m.read(name)
    except FormatError as exc:
        r.reject(label, "file", str(exc), None)
        return
    text, clean = _decode(data)
    if not clean:
        r.reject(label, "file", "not UTF-8 text: undecodable bytes; the rows holding them are quarantined", None)
    rows = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(rows)
    except (StopIteration, csv.Error):
        return
    if tuple(h.strip() for h in header[:4]) != _CSV_HEADER:
        raise FormatError(f"{label}: not a Grailbird tweets.csv (header {','.join(header[:4])[:60]!r})")
    col = {h.strip(): i for i, h in enumerate(header)}
    line = rows.line_num + 1
    while True:
        start = line
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:
            r.reject(label, f"line {start}", f"malformed CSV ({exc})", None)
            line = rows.line_num + 1
            continue
        line = rows.line_num + 1
        if not row or not any(row):
            continue
        raw = ",".join(row)[:_RECORD_RAW_LIMIT]
        if not clean and "\ufffd" in raw:
            r.reject(label, f"line {start}", "not UTF-8 text", raw)
            continue

        def get(c: str, row: list[str] = row) -> str:
            i = col.get(c)
            return row[i].strip() if i is not None and i < len(row) else ""

        tid = get("tweet_id")
        t: dict[str, Any] = {"id_str": tid, "created_at": get("timestamp"), "text": get("text"),
                             "in_reply_to_status_id_str": get("in_reply_to_status_id") or None,
                             "in_reply_to_user_id_str": get("in_reply_to_user_id") or None}
        if _key(tid) is None:
            r.reject(label, f"line {start}", "no tweet_id", raw)
            continue
        if get("retweeted_status_id"):
            t["retweeted_status"] = {"id_str": get("retweeted_status_id"),
                                     "user": {"id_str": get("retweeted_status_user_id")}}
        body = t["text"]
        ents: dict[str, list[dict[str, Any]]] = {"user_mentions": [], "hashtags": [], "urls": []}
        for mm in _MENTION_RE.finditer(body):
            ents["user_mentions"].append({"screen_name": mm.group(1), "indices": [mm.start(), mm.end()]})
        for mm in _HASHTAG_RE.finditer(body):
            ents["hashtags"].append({"text": mm.group(1), "indices": [mm.start(), mm.end()]})
        for u in dict.fromkeys(x.strip() for x in get("expanded_urls").split(",") if x.strip()):
            ents["urls"].append({"expanded_url": u})
        t["entities"] = ents
        yield from r.tweet(t, label, f"line {start}", grailbird=True, escaped=False)


def read_archive(path: Path, reject: Reject, fast_part: Any = None) -> Iterator[Record]:
    """The archive's records. `fast_part(data, label, reader)` (sources/fast_x.py) may take a tweets part whole:
    it returns an object that the importer stages in its place (the same records, made in SQL), or None."""
    m = _Members(path, reject)
    try:
        lay = _Layout(m, reject)
        if lay.empty:
            raise FormatError(f"{path}: not an X/Twitter archive (no data/manifest.js, tweet.js, tweets.js, "
                              "like.js, follower.js, Grailbird data/js/tweets/*.js or tweets.csv)")
        owner = _owner_from(m, lay, reject)
        r = _Reader(reject, owner)
        if owner.id is None:
            first = _first_tweet_id(m, lay, reject)
            if first is None and (lay.parts.get("like") or lay.parts.get("follower") or lay.parts.get("following")):
                raise FormatError(f"{path}: cannot tell whose archive this is (no account.js, manifest.js or "
                                  "user_details.js next to the data files)")
            owner.id, owner.placeholder = first or "0", True
            reject(str(path), "owner", f"no account.js, manifest.js or user_details.js: the owner's X id is unknown; "
                                       f"the posts are attributed to {owner.key}", None)
        yield owner.record()
        r.seen_accounts.add(owner.key or "")
        for name in lay.parts.get("noteTweet", []):
            label = m.label(name)
            for i, item in _items_of(m, name, reject):
                note = item.get("noteTweet", item) if isinstance(item, dict) else None
                if not isinstance(note, dict) or not r.notes.add(note):
                    reject(label, f"item {i}", "not a noteTweet with createdAt and core.text", _raw(item))
        for t in TWEET_TYPES:
            for name in lay.parts.get(t, []):
                label = m.label(name)
                block, data = _fast_block(fast_part, m, name, label, r)
                if block is not None:
                    yield block
                    continue
                items = _file_items(m, data, label, reject) if data is not None else _items_of(m, name, reject)
                for i, item in items:
                    yield from r.tweet(item, label, f"item {i}")
        for name in lay.parts.get("deletedTweets", []):
            label = m.label(name)
            for i, item in _items_of(m, name, reject):
                yield from r.tweet(item, label, f"item {i}", deleted=True)
        if lay.grailbird:
            for name in lay.grailbird:
                label = m.label(name)
                for i, item in _items_of(m, name, reject):
                    yield from r.tweet(item, label, f"item {i}", grailbird=True)
        elif lay.csv:
            yield from _csv_tweets(m, lay.csv, r)
        for name in lay.parts.get("like", []):
            label = m.label(name)
            for i, item in _items_of(m, name, reject):
                yield from r.like(item, label, f"item {i}")
        for wrapper in ("follower", "following"):
            for name in lay.parts.get(wrapper, []):
                label = m.label(name)
                for i, item in _items_of(m, name, reject):
                    yield from r.follow(item, wrapper, label, f"item {i}")
    finally:
        m.close()


def _fast_block(fast_part: Any, m: _Members, name: str, label: str, r: _Reader) -> tuple[Any, bytes | None]:
    """(the block `fast_part` makes of a tweets part, or None; the part's bytes, for the item loop not to read
    the file again: None when unread)."""
    if fast_part is None:
        return None, None
    try:
        data = m.read(name)
    except (FormatError, OSError):
        return None, None    # the item loop reports it
    return fast_part(data, label, r), data


def _first_tweet_id(m: _Members, lay: _Layout, reject: Reject) -> str | None:
    """For an archive without its owner's id: the first tweet's id makes a stable placeholder owner key."""
    silent: Reject = lambda *a: None  # noqa: E731 - the real pass reports
    for t in (*TWEET_TYPES, "deletedTweets"):
        for name in lay.parts.get(t, []):
            for _, item in _items_of(m, name, silent):
                tw = item.get("tweet", item) if isinstance(item, dict) else None
                if isinstance(tw, dict) and _key(tw.get("id_str")):
                    return str(tw["id_str"])
    for name in lay.grailbird:
        for _, item in _items_of(m, name, silent):
            if isinstance(item, dict) and _key(item.get("id_str")):
                return str(item["id_str"])
    if lay.csv:
        try:
            text, _ = _decode(m.read(lay.csv))
        except FormatError:
            return None
        for row in csv.DictReader(io.StringIO(text, newline="")):
            if _key(row.get("tweet_id")):
                return str(row["tweet_id"]).strip()
    return None


# --- detection --------------------------------------------------------------------------------------

_YTD_MARKERS = ("data/manifest.js", "data/tweet.js", "data/tweets.js", "data/tweets-part1.js",
                "data/tweet-part1.js", "data/account.js", "data/js/tweet_index.js", "data/js/user_details.js")


def _head(p: Path, n: int = 256) -> bytes:
    with p.open("rb") as fh:
        return fh.read(n).lstrip(b"\xef\xbb\xbf \r\n\t")


def _is_grailbird_csv(p: Path) -> bool:
    head = _head(p, 200).decode("utf-8", errors="replace").splitlines()
    if not head:
        return False
    cols = [c.strip().strip('"') for c in head[0].split(",")]
    return tuple(cols[:4]) == _CSV_HEADER


def _folder_is_archive(p: Path) -> bool:
    if any((p / mk).is_file() for mk in _YTD_MARKERS) or (p / "data" / "js" / "tweets").is_dir():
        return True
    return (p / "tweets.csv").is_file() and _is_grailbird_csv(p / "tweets.csv")


def detect_archive(path: Path) -> bool:
    if path.is_dir():
        if _folder_is_archive(path):
            return True
        subs = [c for c in path.iterdir() if not c.name.startswith(".")]
        # an archive unpacked into one folder of its own
        return len(subs) == 1 and subs[0].is_dir() and _folder_is_archive(subs[0])
    if not path.is_file():
        return False
    name = path.name.lower()
    if name.endswith(".zip") or zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
        except (zipfile.BadZipFile, OSError):
            # a truncated download (no central directory): its local headers name the members; the data files
            # may come after "Your archive.html" and assets/, so the first MiBs are searched for their names
            if not (name.endswith(".zip") and _head(path, 4) == b"PK\x03\x04"):
                return False
            head = _head(path, 8 << 20)
            return any(mk.encode() in head for mk in _YTD_MARKERS)
        return any(n.endswith(mk) for n in names[:5000] for mk in _YTD_MARKERS) or \
            any(_GRAILBIRD_MONTH_RE.search(n) for n in names[:5000])
    if name.endswith(".js"):
        head = _head(path, 64)
        return head.startswith((b"window.YTD.", b"Grailbird.data.tweets_", b"window.__THAR_CONFIG"))
    if name.endswith(".csv"):
        return _is_grailbird_csv(path)
    return False


register(FileFormat(
    NAME,
    "X/Twitter account archive (.zip or folder): YTD data/*.js (tweet.js, tweets.js, tweets-part*.js, "
    "note-tweet.js, deleted-tweets.js, like.js, follower.js, following.js, account.js, manifest.js) or "
    "Grailbird (data/js/tweets/YYYY_MM.js, tweets.csv)",
    detect=detect_archive,
    read=read_archive,
))


# --- dated follower lists -----------------------------------------------------------------------------

def _snapshot_files(path: Path) -> list[tuple[str, Path]]:
    out = []
    for p in sorted(path.iterdir()):
        mm = _SNAPSHOT_RE.match(p.name)
        if mm and p.is_file():
            out.append((mm.group("date"), p))
    return out


def detect_snapshots(path: Path) -> bool:
    return path.is_dir() and bool(_snapshot_files(path))


def _owner_near(path: Path, reject: Reject) -> _Owner:
    """The archive owner: account.js / manifest.js in the folder, its data/, the parent or a sibling archive."""
    cands: list[Path] = []
    for base in (path, path.parent):
        for rel in ("account.js", "manifest.js", "data/account.js", "data/manifest.js"):
            cands.append(base / rel)
    for sib in sorted(path.parent.iterdir()):
        if sib.is_dir() and sib != path:
            cands += [sib / "data" / "account.js", sib / "data" / "manifest.js",
                      sib / "account.js", sib / "manifest.js"]
    owners: dict[str, _Owner] = {}
    for c in cands:
        if not c.is_file():
            continue
        try:
            items = list(js_items(c.read_bytes(), str(c), reject))
        except FormatError:
            continue
        for _, item in items[:1]:
            if not isinstance(item, dict):
                continue
            info = item.get("account") or item.get("userInfo") or {}
            if isinstance(info, dict) and _key(info.get("accountId")):
                o = owners.setdefault(str(info["accountId"]), _Owner())
                o.id = str(info["accountId"])
                o.handle = o.handle or info.get("username") or info.get("userName")
                o.name = o.name or info.get("accountDisplayName") or info.get("displayName")
    if len(owners) != 1:
        why = "none" if not owners else "several: " + ", ".join(sorted(owners))
        raise FormatError(f"{path}: cannot tell whose follower lists these are (account.js / manifest.js "
                          f"in the folder, its parent or a sibling archive: {why})")
    return next(iter(owners.values()))


def read_snapshots(path: Path, reject: Reject) -> Iterator[Record]:
    if not detect_snapshots(path):
        raise FormatError(f"{path}: not a folder of dated follower lists (follower_YYYY-MM-DD.js)")
    owner = _owner_near(path, reject)
    yield owner.record()
    for date, p in _snapshot_files(path):
        observed = f"{date}T00:00:00Z"
        try:
            dt.date.fromisoformat(date)
        except ValueError:
            reject(str(p), "file name", f"{date!r} is not a date", None)
            continue
        # A snapshot is the whole list or nothing: a list cut short (a truncated download) or with an entry that
        # cannot be read would count the followers it misses as lost (churn) and lower the growth; so a damaged
        # list is not stored at all, its faults named, and the other dates are kept.
        faults: list[tuple[str, str, str, str | None]] = []
        keep: Reject = lambda *a, faults=faults: faults.append(a)  # type: ignore[misc]  # noqa: E731
        try:
            items = list(js_items(p.read_bytes(), str(p), keep))
        except (FormatError, OSError) as exc:   # one damaged or unreadable list: named, the other dates kept
            reject(str(p), "file", str(exc) if isinstance(exc, FormatError) else
                   f"cannot be read ({exc.strerror or type(exc).__name__})", None)
            continue
        keys: dict[str, None] = {}
        for i, item in items:
            f = item.get("follower", item) if isinstance(item, dict) else None
            k = _key(f.get("accountId")) if isinstance(f, dict) else None
            if k is None:
                faults.append((str(p), f"item {i}", "follower entry without an accountId", _raw(item)))
            else:
                keys[k] = None
        if faults:
            for fault in faults:
                reject(*fault)
            reject(str(p), "file", f"damaged follower list ({len(faults):,} fault(s)): the {date} snapshot is not "
                                   f"stored ({len(keys):,} follower(s) read); a partial list would count the "
                                   "followers it misses as lost", None)
            continue
        for k in keys:
            yield {"record_type": "follower_snapshot", "account_key": owner.key, "observed_at": observed,
                   "follower_key": k}


register(FileFormat(
    SNAPSHOTS,
    "X/Twitter follower lists at several dates: a folder of follower_YYYY-MM-DD.js (YTD follower.js of "
    "archives taken at those dates) → follower snapshots of the archive owner (growth and churn)",
    detect=detect_snapshots,
    read=read_snapshots,
))
