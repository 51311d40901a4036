"""Mastodon / ActivityPub account archives and the follows CSV (CONNECTORS.md §2.6, §2.8, §6).

Two formats:

`masto_archive` — the "Request your archive" export as a `.zip`, `.tar.gz` or unpacked folder
(recognised by `outbox.json` next to `actor.json`, at the top or one folder down):

* `actor.json` → the owner account (`id`, `preferredUsername@host`, `name`; `is_owner` true).
* `outbox.json` → posts. `Create` → a post keyed by the object's status URI (HTML `content` → plain
  `text`, the HTML kept in `text_html`; `inReplyTo` → reply; `quote`/`quoteUri`/`_misskey_quote` →
  quote, also on replies), `Announce` → a repost keyed by the activity id whose `repost_of_key` is the
  bare URI it boosts. Entities: `tag[type=Mention]` (target = its `href`), `tag[type=Hashtag]`, links
  of the HTML and attachments (media). Visibility from `to`/`cc` as §2.6 says (public, unlisted,
  private, direct). Direct posts are kept (their mentions are the ego network) but without their text:
  they are private messages.
  The real sample repeats the `orderedItems` key (`"orderedItems":[],"orderedItems":[…]`) and misstates
  `totalItems`: every `orderedItems` array is read and `totalItems` is ignored. A truncated or
  malformed outbox rejects the damaged item with its place and keeps every other item (below).
* `likes.json` → `like` interactions by the owner, with no time (`created_at` null, `time_precision`
  'unknown'): the archive has none.
* `bookmarks.json` → **skipped**, not rejected: the data model has no bookmark type (and a bookmark is
  private, not an interaction anyone sees). `bookmark_count(path)` gives their number for reports.
* `following_accounts.csv`, if present inside the archive or folder, is read as below.
* Media files and everything else are left alone; unsafe members (`..`, absolute paths, links, zip
  bombs) are reported through `reject`. A member cut off by a truncated or corrupt archive is rejected
  at the byte where it breaks off, and the items before that byte are read as from a cut file.

`masto_follows_csv` — Mastodon's follows export `following_accounts.csv` (header `Account address,
Show boosts,…`): one `follow` by the owner per row, without a time. The CSV does not say whose follows
they are, so the owner comes from the archive's `actor.json` lying **beside the CSV** (same folder);
without it the file is refused with one line saying so (put `actor.json` beside it, or drop the CSV into
the unpacked archive folder and import the folder). The followed accounts are known only by their
address `user@host`, and resolving it to an actor URI needs the network (WebFinger), so they are keyed
`acct:user@host` (RFC 7565, host lower-cased) with `handle` `user@host`; the same account met elsewhere
under its URI is a different key until a resolver links the two.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from socialleads.errors import FormatError
from socialleads.sources.archive import DAMAGED, Archive, Truncated
from socialleads.sources.formats import FileFormat, Record, Reject, register

PLATFORM = "mastodon"
PUBLIC = {"https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"}
FOLLOWS_CSV = "following_accounts.csv"
CSV_HEADER = "account address"
POST_TYPES = {"Note", "Question", "Article", "Page", "Event", "Video", "Audio", "Image"}
_ACCT = re.compile(r"^@?([^@\s/]+)@([^@\s/]+\.[^@\s/]+)$")


# ----------------------------------------------------------------------------- helpers

def _iso(value: Any) -> str | None:
    """RFC 3339 UTC (`Z`) from an ActivityPub timestamp; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    import datetime as dt
    s = value.strip()
    try:
        t = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    t = t.astimezone(dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{t.microsecond:06d}".rstrip("0") if t.microsecond else "") + "Z"


def _host(uri: Any) -> str | None:
    if not isinstance(uri, str):
        return None
    try:
        return urlsplit(uri).hostname
    except ValueError:
        return None


def _as_list(v: Any) -> list[Any]:
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def _uri(v: Any) -> str | None:
    """An object reference: a string, or an object with `id` (or `href`)."""
    if isinstance(v, str) and v:
        return v
    if isinstance(v, dict):
        for k in ("id", "href"):
            if isinstance(v.get(k), str) and v[k]:
                return v[k]
    return None


def _url(v: Any) -> str | None:
    """`url` may be a string, a Link object or a list of either (other AP servers)."""
    for item in _as_list(v):
        u = _uri(item)
        if u:
            return u
    return None


class _Html(HTMLParser):
    """Plain text of Mastodon's HTML content, and the hrefs of its ordinary links."""

    BLOCK = {"p", "div", "blockquote", "li", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in self.BLOCK and self.parts and not "".join(self.parts[-2:]).endswith("\n\n"):
            self.parts.append("\n\n")
        if tag == "a":
            a = dict(attrs)
            classes = (a.get("class") or "").split()
            href = a.get("href")
            if href and "mention" not in classes and "hashtag" not in classes and a.get("rel") != "tag":
                self.links.append(href)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html: str) -> tuple[str, list[str]]:
    p = _Html()
    p.feed(html)
    p.close()
    return "".join(p.parts).strip(), p.links


def _collect_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json object hook: a repeated key whose values are lists keeps all their items (the real
    outbox says `"orderedItems":[],"orderedItems":[…]`); otherwise the last value wins as in json."""
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out and isinstance(out[k], list) and isinstance(v, list):
            out[k] = out[k] + v
        else:
            out[k] = v
    return out


def _decode(data: bytes, label: str, reject: Reject) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        reject(label, f"byte {exc.start}", "not valid UTF-8; undecodable bytes replaced by U+FFFD",
               data[max(0, exc.start - 40):exc.start + 40].decode("utf-8", "replace"))
        return data.decode("utf-8", "replace")


_ITEMS = re.compile(r'"orderedItems"\s*:\s*\[')
_WS = re.compile(r"\s*")
_COMMA = re.compile(r",\s*")
_PROBE = 1 << 16          # chars a candidate item is first tried in (below)
_BAD = object()


def _skip_ws(text: str, pos: int) -> int:
    return _WS.match(text, pos).end()  # type: ignore[union-attr]  # `\s*` always matches


def _value(dec: json.JSONDecoder, text: str, pos: int) -> tuple[Any, int]:
    """The array item at `pos` and where the ',' or ']' after it is (the end of the text when cut there);
    JSONDecodeError when it is damaged, or followed by anything else (a value closed early by the damage)."""
    item, end = dec.raw_decode(text, pos)
    end = _skip_ws(text, end)
    if text[end:end + 1] not in (",", "]", ""):
        raise json.JSONDecodeError("Expecting ',' delimiter", text, end)
    return item, end


def _kind(item: Any) -> tuple[str, Any, Any]:
    """What an item looks like: its JSON type and, for an object, its first key and its `type`. Resuming after a
    damaged item only on a kind already seen tells the next item from an object nested in the damaged one (a
    tag, an attachment, an emoji), which counting brackets cannot: a damaged quote swaps what is string and what
    is not for the rest of the item."""
    if not isinstance(item, dict):
        return type(item).__name__, None, None
    kind = item.get("type")
    return "dict", next(iter(item), None), kind if isinstance(kind, str) else None


def _probe(dec: json.JSONDecoder, text: str, q: int) -> Any:
    """The whole item at `q`, or _BAD. Tried on the next _PROBE chars first: json counts the lines before an
    error, so a failure on the whole text costs its length, and a damaged stretch can hold thousands of
    candidates. Only a verdict the window's end may have caused is asked of the whole text."""
    part = text[q:q + _PROBE]
    try:
        item, near = _value(dec, part, 0)
    except json.JSONDecodeError as exc:
        item, near = _BAD, len(part) if exc.msg.startswith("Unterminated") else exc.pos
    if len(part) == _PROBE and near > _PROBE - 16:
        try:
            item, _ = _value(dec, text, q)
        except json.JSONDecodeError:
            return _BAD
    return item


def _resume(dec: json.JSONDecoder, text: str, pos: int, kinds: set[tuple[str, Any, Any]]) -> int | None:
    """Where the item after a damaged one at `pos` starts: after the first ',' followed by an item of a kind
    seen before (of any kind when none was); None when there is none (cut inside this item, or the last)."""
    for c in _COMMA.finditer(text, pos + 1):
        item = _probe(dec, text, c.end())
        if item is not _BAD and (not kinds or _kind(item) in kinds):
            return c.end()
    return None


def _salvage_items(text: str, label: str, reject: Reject) -> list[tuple[int, Any]]:
    """(position, item) of the items of every `orderedItems` array of a damaged collection: a damaged item is
    rejected with its position and reading resumes at the next item, so one bad byte costs one item."""
    dec = json.JSONDecoder(object_pairs_hook=_collect_pairs)
    items: list[tuple[int, Any]] = []
    n = 0                                            # the next item's position, damaged ones counted
    kinds: set[tuple[str, Any, Any]] = set()        # what the good items look like
    m = _ITEMS.search(text)
    while m:
        pos = _skip_ws(text, m.end())
        while text[pos:pos + 1] != "]":
            try:
                item, end = _value(dec, text, pos)
            except json.JSONDecodeError as exc:
                nxt = _resume(dec, text, pos, kinds)
                then = f"read on from char {nxt}" if nxt is not None else "no item after it can be read"
                reject(label, f"item {n}", f"truncated or malformed JSON at char {exc.pos} ({exc.msg}); {then}",
                       text[pos:pos + 200])
                n += 1
                if nxt is None:
                    return items
                pos = nxt
                continue
            items.append((n, item))
            kinds.add(_kind(item))
            n += 1
            if end == len(text):
                reject(label, f"item {n}", "truncated: the array ends without ']'", None)
                return items
            pos = _skip_ws(text, end + 1) if text[end] == "," else end
        m = _ITEMS.search(text, pos)
    return items


def read_collection(data: bytes, label: str, reject: Reject) -> list[tuple[int, Any]]:
    """(position, item) of all `orderedItems` of an ActivityStreams OrderedCollection file, tolerant of damage."""
    text = _decode(data, label, reject)
    try:
        doc = json.loads(text, object_pairs_hook=_collect_pairs)
    except json.JSONDecodeError:
        if not _ITEMS.search(text):
            reject(label, "file", "not JSON, or truncated before its orderedItems", text[:200])
            return []
        return _salvage_items(text, label, reject)
    if not isinstance(doc, dict) or not isinstance(doc.get("orderedItems", []), list):
        reject(label, "file", "not an OrderedCollection (no orderedItems list)", text[:200])
        return []
    return list(enumerate(doc.get("orderedItems", [])))


# ----------------------------------------------------------------------------- archive

def _top(arch: Archive, name: str) -> str | None:
    """The shallowest member called `name` (the archive's own file, not one in a subfolder's copy)."""
    found = arch.find(name)
    return min(found, key=lambda n: (n.count("/"), n)) if found else None


def _detect_archive(path: Path) -> bool:
    if path.is_dir():
        for d in [path, *(p for p in path.iterdir() if p.is_dir())][:50]:
            if (d / "outbox.json").is_file() and (d / "actor.json").is_file():
                return True
        return False
    name = path.name.lower()
    if not path.is_file() or not name.endswith((".zip", ".tar.gz", ".tgz", ".tar")):
        return False
    import tarfile
    import zipfile
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                names = {n.rsplit("/", 1)[-1] for n in z.namelist() if n.count("/") <= 1}
        else:
            names = set()
            with tarfile.open(path, "r:*") as t:
                for i, m in enumerate(t):          # the first members only: cheap on a big archive
                    if m.name.count("/") <= 1:
                        names.add(m.name.rsplit("/", 1)[-1])
                    if {"outbox.json", "actor.json"} <= names or i > 20:
                        break
    except DAMAGED:
        return False
    return {"outbox.json", "actor.json"} <= names


def _owner(actor: dict[str, Any]) -> Record | None:
    key = actor.get("id")
    if not isinstance(key, str) or not key:
        return None
    user = actor.get("preferredUsername")
    host = _host(key)
    return {"record_type": "account", "platform": PLATFORM, "account_key": key,
            "handle": f"{user}@{host}" if user and host else user, "display_name": actor.get("name") or None,
            "url": _url(actor.get("url")), "created_at": _iso(actor.get("published")), "is_owner": True}


def _load_actor(data: bytes, label: str, reject: Reject) -> dict[str, Any] | None:
    try:
        actor = json.loads(_decode(data, label, reject))
    except json.JSONDecodeError as exc:
        reject(label, "file", f"not JSON ({exc.msg} at char {exc.pos})", data[:200].decode("utf-8", "replace"))
        return None
    if not isinstance(actor, dict) or not isinstance(actor.get("id"), str):
        reject(label, "file", "not an ActivityPub actor (no id)", json.dumps(actor)[:200])
        return None
    return actor


def _visibility(act: dict[str, Any], obj: dict[str, Any], followers: str | None) -> str:
    to = [x for x in _as_list(obj.get("to", act.get("to"))) if isinstance(x, str)]
    cc = [x for x in _as_list(obj.get("cc", act.get("cc"))) if isinstance(x, str)]
    if PUBLIC & set(to):
        return "public"
    if PUBLIC & set(cc):
        return "unlisted"
    if any(x == followers or x.endswith("/followers") for x in to):
        return "private"
    return "direct"


class _Outbox:
    def __init__(self, owner_key: str | None, followers: str | None, label: str, reject: Reject) -> None:
        self.owner_key, self.followers, self.label, self.reject = owner_key, followers, label, reject
        self.owner_host = _host(owner_key)
        self.accounts: set[str] = set()

    def item(self, i: int, act: Any) -> Iterator[Record]:
        place = f"item {i}"
        if not isinstance(act, dict):
            self.reject(self.label, place, "an activity must be an object", json.dumps(act)[:500])
            return
        typ = act.get("type")
        raw = json.dumps(act, ensure_ascii=False)
        if typ == "Announce":
            key, target = _uri(act.get("id")), _uri(act.get("object"))
            created = _iso(act.get("published"))
            author = _uri(act.get("actor")) or self.owner_key
            if not key or not target or not created or not author:
                self.reject(self.label, place, "Announce without id, object, actor or a valid published time",
                            raw)
                return
            yield {"record_type": "post", "platform": PLATFORM, "post_key": key, "author_key": author,
                   "created_at": created, "kind": "repost", "repost_of_key": target,
                   "visibility": _visibility(act, {}, self.followers)}
            return
        if typ != "Create":
            self.reject(self.label, place, f"unsupported activity type {typ!r}", raw)
            return
        obj = act.get("object")
        if not isinstance(obj, dict):
            self.reject(self.label, place, "Create whose object is not embedded", raw)
            return
        if obj.get("type") not in POST_TYPES:
            self.reject(self.label, place, f"Create of an unsupported object type {obj.get('type')!r}", raw)
            return
        key = _uri(obj.get("id"))
        created = _iso(obj.get("published")) or _iso(act.get("published"))
        author = _uri(obj.get("attributedTo")) or _uri(act.get("actor")) or self.owner_key
        if not key or not created or not author:
            self.reject(self.label, place, "post without id, author or a valid published time", raw)
            return
        html = obj.get("content") if isinstance(obj.get("content"), str) else None
        cmap = obj.get("contentMap") if isinstance(obj.get("contentMap"), dict) else {}
        if html is None and cmap:
            html = next((v for v in cmap.values() if isinstance(v, str)), None)
        text, links = html_to_text(html) if html else ("", [])
        entities: list[dict[str, Any]] = []
        for t in _as_list(obj.get("tag")):
            if not isinstance(t, dict):
                continue
            name = t.get("name") if isinstance(t.get("name"), str) else ""
            if t.get("type") == "Mention":
                href = _uri(t.get("href"))
                handle = name.lstrip("@")
                if handle and "@" not in handle and _host(href):
                    handle = f"{handle}@{_host(href)}"
                entities.append(_entity("mention", handle or href, href))
                if href and href not in self.accounts:
                    self.accounts.add(href)
                    yield {"record_type": "account", "platform": PLATFORM, "account_key": href,
                           "handle": handle or None}
            elif t.get("type") == "Hashtag" and name:
                entities.append(_entity("hashtag", name.lstrip("#"), None))
        for href in dict.fromkeys(links):
            entities.append(_entity("link", href, None))
        for a in _as_list(obj.get("attachment")):
            u = _url(a.get("url")) if isinstance(a, dict) else None
            if u:
                entities.append(_entity("media", u, None))
        reply_to = _uri(obj.get("inReplyTo"))
        quote = next((q for q in (_uri(obj.get(k)) for k in ("quote", "quoteUri", "_misskey_quote")) if q), None)
        kind = "reply" if reply_to else "quote" if quote else "original"
        visibility = _visibility(act, obj, self.followers)
        private = visibility == "direct"           # a private message: keep who, not what
        rec: Record = {"record_type": "post", "platform": PLATFORM, "post_key": key, "author_key": author,
                       "created_at": created, "kind": kind, "visibility": visibility,
                       "text": None if private else text, "text_html": None if private else html,
                       "lang": next(iter(cmap), None), "url": _url(obj.get("url")),
                       "edited_at": _iso(obj.get("updated")),
                       "entities": [e for e in entities if not private or e["etype"] == "mention"]}
        if reply_to:
            rec["reply_to_key"] = reply_to
        if quote:
            rec["quote_of_key"] = quote
        yield rec


def _entity(etype: str, value: str | None, target: str | None) -> dict[str, Any]:
    return {"etype": etype, "value": value, "target_account_key": target,
            "start_idx": None, "end_idx": None, "idx_unit": None}


def _likes(arch: Archive, name: str, owner_key: str | None, reject: Reject) -> Iterator[Record]:
    label = arch.label(name)
    data = _member(arch, name, reject)
    items = read_collection(data, label, reject) if data is not None else []
    if items and not owner_key:
        reject(label, "file", "likes without an owner: actor.json is missing or unreadable", None)
        return
    for i, uri in items:
        target = _uri(uri)
        if not target:
            reject(label, f"item {i}", "a liked item must be a status URI", json.dumps(uri)[:500])
            continue
        yield {"record_type": "interaction", "platform": PLATFORM, "type": "like", "actor_key": owner_key,
               "target_post_key": target, "created_at": None, "time_precision": "unknown"}


def bookmark_count(path: Path) -> int:
    """How many bookmarks an archive holds (they are not imported; see the module docstring)."""
    with Archive(path) as arch:
        name = _top(arch, "bookmarks.json")
        if not name:
            return 0
        return len(read_collection(arch.read_bytes(name), arch.label(name), lambda *a: None))


def _member(arch: Archive, name: str, reject: Reject) -> bytes | None:
    """A member's bytes, or None when it cannot be read (too large, a bomb): that member is quarantined by name and
    the archive's other members are still read. One cut off in a truncated or corrupt archive is quarantined at
    the byte where it breaks off, and its bytes before are returned: their items are read as from a cut file."""
    try:
        return arch.read_bytes(name)
    except Truncated as exc:
        reject(arch.label(name), f"byte {exc.offset}", str(exc), None)
        return exc.data
    except FormatError as exc:
        reject(arch.label(name), "file", str(exc), None)
        return None


def read_archive(path: Path, reject: Reject) -> Iterator[Record]:
    with Archive(path) as arch:
        for member, reason in arch.unsafe:
            reject(arch.label(member), "archive", reason, None)
        actor_name, outbox_name = _top(arch, "actor.json"), _top(arch, "outbox.json")
        if not outbox_name and not actor_name:
            raise FormatError(f"{path}: not a Mastodon archive (no outbox.json or actor.json)")
        owner_key = followers = None
        if actor_name:
            data = _member(arch, actor_name, reject)
            actor = _load_actor(data, arch.label(actor_name), reject) if data is not None else None
            if actor is not None:
                owner = _owner(actor)
                if owner:
                    owner_key = owner["account_key"]
                    followers = actor.get("followers") if isinstance(actor.get("followers"), str) else None
                    yield owner
        else:
            reject(arch.label("actor.json"), "file", "missing: the owner account is unknown", None)
        if outbox_name:
            label = arch.label(outbox_name)
            ob = _Outbox(owner_key, followers, label, reject)
            data = _member(arch, outbox_name, reject)
            for i, act in read_collection(data, label, reject) if data is not None else []:
                yield from ob.item(i, act)
        likes = _top(arch, "likes.json")
        if likes:
            yield from _likes(arch, likes, owner_key, reject)
        # bookmarks.json is deliberately not read: no bookmark type in the data model (docstring).
        csv_name = _top(arch, FOLLOWS_CSV)
        if csv_name:
            label = arch.label(csv_name)
            if owner_key:
                data = _member(arch, csv_name, reject)
                if data is not None:
                    yield from _follows(data, label, owner_key, reject)
            else:
                reject(label, "file", "follows without an owner: actor.json is missing or unreadable", None)


# ----------------------------------------------------------------------------- follows CSV

def _first_line(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(256)
    return head.decode("utf-8-sig", "replace").splitlines()[0] if head else ""


def _detect_csv(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() == ".csv" and \
        _first_line(path).strip().lower().startswith(CSV_HEADER)


def acct_key(address: str) -> tuple[str, str] | None:
    """(account_key, handle) for `user@host` (a leading @ is allowed), or None when malformed."""
    m = _ACCT.match(address.strip())
    if not m:
        return None
    handle = f"{m.group(1)}@{m.group(2).lower()}"
    return f"acct:{handle}", handle


def _follows(data: bytes, label: str, owner_key: str, reject: Reject) -> Iterator[Record]:
    text = _decode(data, label, reject)
    rows = csv.reader(io.StringIO(text, newline=""))
    header = next(rows, None)
    if not header or header[0].strip().lower() != CSV_HEADER:
        reject(label, "line 1", "not a Mastodon follows CSV (the header must start with 'Account address')",
               ",".join(header or [])[:200])
        return
    seen: set[str] = set()
    for n, row in enumerate(rows, start=2):
        if not row or not "".join(row).strip():
            continue
        got = acct_key(row[0])
        if got is None:
            reject(label, f"line {n}", f"not an account address user@host: {row[0]!r}", ",".join(row)[:500])
            continue
        key, handle = got
        if key in seen:
            continue
        seen.add(key)
        yield {"record_type": "account", "platform": PLATFORM, "account_key": key, "handle": handle}
        yield {"record_type": "follow", "platform": PLATFORM, "actor_key": owner_key, "target_account_key": key,
               "created_at": None, "time_precision": "unknown"}


def read_follows_csv(path: Path, reject: Reject) -> Iterator[Record]:
    if not _detect_csv(path):
        raise FormatError(f"{path}: not a Mastodon follows CSV (the header must start with 'Account address')")
    actor_path = path.parent / "actor.json"
    if not actor_path.is_file():
        raise FormatError(f"{path}: a follows CSV does not say whose follows they are; put the archive's "
                          "actor.json beside it, or import the archive folder with the CSV inside")
    actor = _load_actor(actor_path.read_bytes(), str(actor_path), reject)
    owner = _owner(actor) if actor else None
    if owner is None:
        raise FormatError(f"{actor_path}: unreadable, so the owner of {path.name} is unknown")
    yield owner
    yield from _follows(path.read_bytes(), str(path), owner["account_key"], reject)


register(FileFormat("masto_archive",
                    "Mastodon / ActivityPub account archive (.zip, .tar.gz or folder: outbox, actor, likes; "
                    "bookmarks are counted, not imported)",
                    detect=_detect_archive, read=read_archive))
register(FileFormat("masto_follows_csv",
                    "Mastodon follows export following_accounts.csv (owner from actor.json beside it)",
                    detect=_detect_csv, read=read_follows_csv, companions=("actor.json",)))
