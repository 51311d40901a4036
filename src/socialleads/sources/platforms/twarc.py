"""Twitter API v2 JSON lines as written by twarc2 (CONNECTORS.md §5.2, §6; fixtures twitter/api_v2_twarc).

Each line is one API response page: `{"data": [tweets] | tweet, "includes": {"users", "tweets", "media",
"places", "polls"}, "meta", "errors", "__twarc": {"url", "version", "retrieved_at"}}` (search and timeline
pages hold a list, the filtered stream one tweet per line). `twarc2 flatten` output (one tweet per line,
`author` embedded, no `data`) is read too. A user lookup page (`data` = users) gives accounts.

Mapping (keys as §6.1/§6.2 for X: `'x:'+id`, all ids strings):
* tweets of `data` and of `includes.tweets` (the referenced context) → posts. `referenced_tweets`:
  `retweeted` → kind repost (`repost_of_key`), else `replied_to` → reply (`reply_to_key`, thread root
  from `conversation_id`), else `quoted` → quote; a reply that also quotes keeps `quote_of_key`. The API
  says so explicitly, so `kind_confidence` is 'exact'.
* `entities` → mentions (target `'x:'+id` when the page gives the id), hashtags, cashtags, urls (the
  expanded URL); `start`/`end` are code points of `text` (`idx_unit` 'codepoint').
* edits: every version is its own tweet id in v2; a later version (its id is not the first of
  `edit_history_tweet_ids`) gets `edited_at` = its `created_at` and the history in `source_ids`.
* `withheld` tweets are kept as they come (the API still gives their text for other countries).
* users of `includes.users` (and `author` in flattened lines) → accounts (handle, display name,
  created_at); their `public_metrics` → an account `metrics_snapshot` (followers, following, posts) and a
  tweet's `public_metrics` → a post `metrics_snapshot` (likes, reposts, replies, quotes, bookmarks),
  both observed at the page's `__twarc.retrieved_at`. Without a retrieval time no snapshot is made:
  a count without a time is not a series point.
* `errors` (tweets not found, suspended users) and `meta` are API bookkeeping, not data: ignored.

Bad input: a line that is not JSON (the fixture's stream capture ends with a cut line), a page whose
`data` is neither tweets nor users (e.g. Lists), a tweet without id, author or time, a line longer than
the JSON-lines cap (sources/lines.py MAX_LINE_BYTES, with its size) → `reject` with the line number (and
the item's index); the rest is read. A folder is read when every `.jsonl` at its top is a twarc file; a
file of it that turns out not to be twarc output (its first JSON object is not a page) or cannot be read is
quarantined by name and the other files are read (a single such file given on its own, or a folder of
nothing else, is refused).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from socialleads.errors import FormatError
from socialleads.sources.formats import FileFormat, Record, Reject, register
from socialleads.sources.lines import TruncatedInput, numbered_lines, too_long_reason

PLATFORM = "x"
SUFFIXES = (".jsonl", ".ndjson", ".json")


def _iso(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        t = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _id(v: Any) -> str | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str) and v.strip().isdigit():
        return v.strip()
    return None


def _key(v: Any) -> str | None:
    i = _id(v)
    return f"x:{i}" if i else None


def _int(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, str) and v.strip().lstrip("-").isdigit():
        return int(v)
    return None


# ----------------------------------------------------------------------------- detection

LINE_CAP = 4 << 20       # detection reads at most this much of a file (a longer first page: judged by its start)
HEAD_LINES = 20          # ... and decides from the JSON objects among its first non-blank lines
_SURE = 3                # ... stopping early after this many twarc pages and nothing else
_BIG_PAGE = {"data": [], "__twarc": {}}


def _big_page(line: bytes) -> bool:
    """Does the start of a page cut by the cap look like twarc's? (twarc writes `data` first)"""
    head = line[:65536].lstrip(b"\xef\xbb\xbf \t")
    return head.startswith((b'{"data": [', b'{"data": {')) and (b'"author_id"' in head or b'"username"' in head)


def _head_objects(path: Path) -> list[dict[str, Any]]:
    """The JSON objects among the first HEAD_LINES non-blank lines, reading at most LINE_CAP bytes. A line
    that is not a JSON object (a cut or corrupt line) is passed over: one bad line does not decide."""
    out: list[dict[str, Any]] = []
    left, seen = LINE_CAP, 0
    with path.open("rb") as fh:
        for _ in range(HEAD_LINES * 50):       # blank lines are bounded too: never scan the file
            if left <= 0 or seen >= HEAD_LINES:
                break
            line = fh.readline(left)
            if not line:
                break
            left -= len(line)
            if not line.strip():
                continue
            seen += 1
            try:
                obj = json.loads(line.decode("utf-8-sig"))
            except (ValueError, UnicodeDecodeError):
                if left <= 0 and not line.endswith(b"\n") and _big_page(line):
                    out.append(_BIG_PAGE)      # a page longer than the cap
                continue
            if not isinstance(obj, dict):
                continue
            out.append(obj)
            if "record_type" in obj or (len(out) >= _SURE and all(_is_twarc_line(o) for o in out)):
                break
    return out


def _is_twarc_file(path: Path) -> bool:
    """Most JSON objects of the file's head are twarc pages and none is a generic record."""
    objs = _head_objects(path)
    if any("record_type" in o for o in objs):
        return False
    hits = sum(1 for o in objs if _is_twarc_line(o))
    return hits > 0 and 2 * hits >= len(objs)


def _is_twarc_line(obj: dict[str, Any] | None) -> bool:
    if not obj or "record_type" in obj:
        return False
    if "data" in obj and ("includes" in obj or "__twarc" in obj):
        return True
    # `twarc2 flatten`: one tweet per line, with twarc's own metadata
    return "__twarc" in obj and "id" in obj and "text" in obj and "author_id" in obj


def _jsonl_files(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in (".jsonl", ".ndjson"))


def detect(path: Path) -> bool:
    if path.is_dir():
        files = _jsonl_files(path)
        return bool(files) and all(_is_twarc_file(f) for f in files[:200])
    if not path.is_file() or path.suffix.lower() not in SUFFIXES:
        return False
    return _is_twarc_file(path)


# ----------------------------------------------------------------------------- mapping

class _Reader:
    def __init__(self, reject: Reject) -> None:
        self.reject = reject
        self.accounts: set[str] = set()
        self.snapshots: set[tuple[str, str]] = set()

    def user(self, u: Any, observed: str | None) -> Iterator[Record]:
        if not isinstance(u, dict):
            return
        key = _key(u.get("id"))
        if not key:
            return
        if key not in self.accounts:
            self.accounts.add(key)
            name = u.get("username") if isinstance(u.get("username"), str) else None
            yield {"record_type": "account", "platform": PLATFORM, "account_key": key, "handle": name,
                   "display_name": u.get("name") if isinstance(u.get("name"), str) else None,
                   "url": f"https://twitter.com/{name}" if name else None, "created_at": _iso(u.get("created_at"))}
        pm = u.get("public_metrics")
        if observed and isinstance(pm, dict) and (key, observed) not in self.snapshots:
            self.snapshots.add((key, observed))
            yield {"record_type": "metrics_snapshot", "subject_key": key, "subject_type": "account",
                   "observed_at": observed, "followers": _int(pm.get("followers_count")),
                   "following": _int(pm.get("following_count")), "posts": _int(pm.get("tweet_count"))}

    def tweet(self, t: dict[str, Any], observed: str | None, file: str, place: str) -> Iterator[Record]:
        key, author = _key(t.get("id")), _key(t.get("author_id"))
        created = _iso(t.get("created_at"))
        if not key or not author or not created:
            missing = [n for n, v in (("id", key), ("author_id", author), ("created_at", created)) if not v]
            self.reject(file, place, f"tweet without a valid {', '.join(missing)}",
                        json.dumps(t, ensure_ascii=False)[:2000])
            return
        refs: dict[str, str] = {}
        for r in t.get("referenced_tweets") or []:
            if isinstance(r, dict) and isinstance(r.get("type"), str) and _key(r.get("id")):
                refs.setdefault(r["type"], _key(r.get("id")))  # type: ignore[arg-type]
        rec: Record = {"record_type": "post", "platform": PLATFORM, "post_key": key, "author_key": author,
                       "created_at": created, "text": t.get("text") if isinstance(t.get("text"), str) else None,
                       "lang": t.get("lang") if isinstance(t.get("lang"), str) else None,
                       "url": f"https://twitter.com/i/web/status/{key[2:]}", "kind_confidence": "exact"}
        if "retweeted" in refs:
            rec.update(kind="repost", repost_of_key=refs["retweeted"])
        elif "replied_to" in refs:
            rec.update(kind="reply", reply_to_key=refs["replied_to"])
            root = _key(t.get("conversation_id"))
            if root:
                rec["thread_root_key"] = root
        elif "quoted" in refs:
            rec["kind"] = "quote"
        else:
            rec["kind"] = "original"
        if "quoted" in refs and rec["kind"] != "repost":
            rec["quote_of_key"] = refs["quoted"]
        history = [h for h in (_id(x) for x in t.get("edit_history_tweet_ids") or []) if h]
        if len(history) > 1:
            rec["source_ids"] = {"edit_history_tweet_ids": history}
            if history[0] != key[2:]:
                rec["edited_at"] = created
        entities: list[dict[str, Any]] = []
        ents = t.get("entities") if isinstance(t.get("entities"), dict) else {}
        for etype, field, value_of in (("mention", "mentions", "username"), ("hashtag", "hashtags", "tag"),
                                       ("cashtag", "cashtags", "tag"), ("link", "urls", "expanded_url")):
            for e in ents.get(field) or []:
                if not isinstance(e, dict):
                    continue
                value = e.get(value_of) or (e.get("url") if etype == "link" else None)
                if not isinstance(value, str):
                    continue
                target = _key(e.get("id")) if etype == "mention" else None
                entities.append({"etype": etype, "value": value, "target_account_key": target,
                                 "start_idx": _int(e.get("start")), "end_idx": _int(e.get("end")),
                                 "idx_unit": "codepoint"})
                if target and target not in self.accounts:
                    self.accounts.add(target)
                    yield {"record_type": "account", "platform": PLATFORM, "account_key": target, "handle": value}
        if entities:
            rec["entities"] = entities
        if isinstance(t.get("author"), dict):                   # flattened lines embed the author
            yield from self.user(t["author"], observed)
        yield rec
        pm = t.get("public_metrics")
        if observed and isinstance(pm, dict) and (key, observed) not in self.snapshots:
            self.snapshots.add((key, observed))
            yield {"record_type": "metrics_snapshot", "subject_key": key, "subject_type": "post",
                   "observed_at": observed, "likes": _int(pm.get("like_count")),
                   "reposts": _int(pm.get("retweet_count")), "replies": _int(pm.get("reply_count")),
                   "quotes": _int(pm.get("quote_count")), "bookmarks": _int(pm.get("bookmark_count"))}

    def page(self, obj: dict[str, Any], file: str, n: int) -> Iterator[Record]:
        meta = obj.get("__twarc") if isinstance(obj.get("__twarc"), dict) else {}
        observed = _iso(meta.get("retrieved_at"))
        if "data" not in obj:                                   # a flattened tweet
            yield from self.tweet(obj, observed, file, f"line {n}")
            for i, r in enumerate(obj.get("referenced_tweets") or []):
                if isinstance(r, dict) and "text" in r:
                    yield from self.tweet(r, observed, file, f"line {n} referenced_tweets[{i}]")
            return
        inc = obj.get("includes") if isinstance(obj.get("includes"), dict) else {}
        for u in inc.get("users") or []:
            yield from self.user(u, observed)
        data = obj["data"]
        items = data if isinstance(data, list) else [data]
        for i, item in enumerate(items):
            place = f"line {n} data[{i}]" if isinstance(data, list) else f"line {n}"
            if isinstance(item, dict) and "text" in item and "id" in item:
                yield from self.tweet(item, observed, file, place)
            elif isinstance(item, dict) and "username" in item and "id" in item:
                yield from self.user(item, observed)
            else:
                self.reject(file, place, "neither a tweet nor a user (e.g. a List); not imported",
                            json.dumps(item, ensure_ascii=False)[:2000])
        for i, t in enumerate(inc.get("tweets") or []):
            if isinstance(t, dict):
                yield from self.tweet(t, observed, file, f"line {n} includes.tweets[{i}]")


def _read_file(path: Path, rd: _Reader, reject: Reject) -> Iterator[Record]:
    """The records of one file; raises FormatError when its first JSON object is not a twarc page."""
    file = str(path)
    first = True
    for n, raw in numbered_lines(path):        # lines over the cap come as a stand-in (`too_long_reason`)
        if not raw.strip():
            continue
        too_long = too_long_reason(raw)
        if too_long:
            reject(file, f"line {n}", too_long, None)
            continue
        try:
            text = raw.decode("utf-8-sig" if n == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            reject(file, f"line {n}", f"not valid UTF-8 (byte {exc.start} of the line)",
                   raw[:2000].decode("utf-8", "replace"))
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            reject(file, f"line {n}", f"malformed JSON ({exc.msg} at column {exc.colno})", text[:2000])
            continue
        if not isinstance(obj, dict):
            reject(file, f"line {n}", "a line must be a JSON object (an API response page)", text[:2000])
            continue
        if first and not _is_twarc_line(obj):
            raise FormatError(f"{path}: not twarc output (the first line has no data/includes/__twarc)")
        first = False
        yield from rd.page(obj, file, n)


def read(path: Path, reject: Reject) -> Iterator[Record]:
    rd = _Reader(reject)
    if not path.is_dir():
        yield from _read_file(path, rd, reject)
        return
    files = _jsonl_files(path)
    if not files:
        raise FormatError(f"{path}: no .jsonl files of twarc output in this folder")
    failed = 0
    for f in files:
        # one file of the folder that is not twarc output, or cannot be read, is named in quarantine and the
        # others are read (as an X archive's unreadable member is); the records it gave before are kept
        try:
            yield from _read_file(f, rd, reject)
            continue
        except FormatError as exc:          # TruncatedInput (a damaged .gz) is one too
            why, place = str(exc), exc.place if isinstance(exc, TruncatedInput) else "file"
        except OSError as exc:
            why, place = f"{f}: cannot be read ({exc.strerror or type(exc).__name__})", "file"
        reject(str(f), place, why, None)
        failed += 1
    if failed == len(files):                # nothing of the folder was read: refused, as a single file is
        raise FormatError(f"{path}: none of its {failed:,} .jsonl file(s) could be read as twarc output")


register(FileFormat("twarc", "Twitter API v2 JSON lines as written by twarc2 (pages with data/includes, "
                             "stream lines, or twarc2 flatten output)", detect=detect, read=read))
