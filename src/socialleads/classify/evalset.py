"""The labelled evaluation set of content classes (docs/content-classes-labelling.md).

The repository holds only ``tests/data/content_classes_eval.csv`` (source_file, item_id, label,
note); the texts stay in ``../shared``. :func:`load_evalset` reads each item's text (and the
kind of post: original / reply / repost / quote, and whether it carries a link) from the shared
file by its id, so the classifier can be measured on the real posts.

Item ids by format:

* X/Twitter archive ``tweet.js`` / ``tweets.js``: the tweet ``id_str``;
* twarc API v2 pages (``*.jsonl``): the tweet ``id`` (data of every page; flattened lines too);
* Mastodon ``outbox.json``: the status number (last segment of the object / activity id);
* Bluesky Jetstream ``*.jsonl``: ``<did>/<rkey>`` of an ``app.bsky.feed.post`` commit;
* Reddit NDJSON: the thing ``id`` (submissions: title + selftext; comments: body);
* tweet_topic_xl ``*.jsonl``: the ``id`` field;
* TweetEval-style ``*_text.txt``: the 1-based line number.
"""

from __future__ import annotations

import csv
import html
import json
import re
from functools import lru_cache
from pathlib import Path

import pyarrow as pa

from socialleads.errors import LeadsError

CLASSES = ("thought-leadership", "how-to", "promotional", "curation", "conversational", "personal")

_TAG = re.compile(r"<[^>]+>")
_BR = re.compile(r"<br\s*/?>|</p>\s*<p>", re.I)


class EvalSetError(LeadsError):
    """The evaluation set names an item that cannot be found, or an unknown label."""


def shared_root() -> Path:
    """``../shared`` next to the repository (…/main/../shared)."""
    return Path(__file__).resolve().parents[3] / ".." / "shared"


def _html_text(s: str | None) -> str:
    if not s:
        return ""
    return html.unescape(_TAG.sub("", _BR.sub("\n", s))).strip()


def _item(text: str, kind: str, has_link: bool, links: str = "", self_reply: bool = False) -> dict:
    return {"text": text, "kind": kind, "has_link": bool(has_link), "links": links, "self_reply": bool(self_reply)}


def _account_id(path: Path) -> str | None:
    """The archive owner's account id from a sibling account.js (None when there is none)."""
    acc = path.parent / "account.js"
    if not acc.is_file():
        return None
    raw = acc.read_text(encoding="utf-8")
    m = re.search(r'"accountId"\s*:\s*"(\d+)"', raw)
    return m.group(1) if m else None


def _x_archive(path: Path) -> dict[str, dict]:
    raw = path.read_text(encoding="utf-8")
    raw = raw[raw.index("=") + 1:] if raw.lstrip().startswith("window.") else raw
    owner = _account_id(path)
    out = {}
    for rec in json.loads(raw):
        t = rec.get("tweet", rec)
        text = t.get("full_text") or t.get("text") or ""
        urls = (t.get("entities") or {}).get("urls") or []
        links = " ".join(u.get("expanded_url") or u.get("url") or "" for u in urls)
        to_user = t.get("in_reply_to_user_id_str")
        if text.startswith("RT @"):
            kind = "repost"
        elif t.get("in_reply_to_status_id_str") or to_user:
            kind = "reply"
        elif t.get("quoted_status_id_str") or t.get("is_quote_status") in (True, "true"):
            kind = "quote"
        else:
            kind = "original"
        # a reply in the author's own thread: to the archive's own account, or (no account.js) not
        # opening with a mention — X puts the addressee's @handle first in replies to others
        self_reply = kind == "reply" and (to_user == owner if owner else not text.startswith("@"))
        out[str(t.get("id_str") or t.get("id"))] = _item(html.unescape(text), kind, bool(urls), links, self_reply)
    return out


def _twarc_tweet(t: dict) -> dict:
    refs = {r.get("type") for r in t.get("referenced_tweets") or []}
    kind = ("repost" if "retweeted" in refs else "reply" if "replied_to" in refs
            else "quote" if "quoted" in refs else "original")
    urls = (t.get("entities") or {}).get("urls") or []
    links = " ".join(u.get("expanded_url") or u.get("url") or "" for u in urls)
    self_reply = kind == "reply" and t.get("in_reply_to_user_id") == t.get("author_id")
    return _item(t.get("text") or "", kind, bool(urls), links, self_reply)


def _twarc(path: Path) -> dict[str, dict]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            page = json.loads(line)
        except json.JSONDecodeError:
            continue
        tweets = page.get("data") if isinstance(page.get("data"), list) else [page]
        for t in tweets:
            if isinstance(t, dict) and "text" in t and "id" in t:
                out[str(t["id"])] = _twarc_tweet(t)
    return out


def _mastodon(path: Path) -> dict[str, dict]:
    out = {}
    for act in json.loads(path.read_text(encoding="utf-8")).get("orderedItems", []):
        obj = act.get("object")
        if act.get("type") == "Announce":
            sid = act["id"].rstrip("/").removesuffix("/activity").rsplit("/", 1)[-1]
            out[sid] = _item("", "repost", True)
        elif act.get("type") == "Create" and isinstance(obj, dict):
            sid = obj["id"].rstrip("/").rsplit("/", 1)[-1]
            content = obj.get("content") or ""
            kind = "reply" if obj.get("inReplyTo") else "quote" if obj.get("quoteUrl") else "original"
            links = re.findall(r'href="(https?://(?![^"]*/tags/)(?![^"]*/@)[^"]+)"', content)
            self_reply = kind == "reply" and str(obj.get("inReplyTo")).startswith(str(act.get("actor")) + "/")
            out[sid] = _item(_html_text(content), kind, bool(links), " ".join(links), self_reply)
    return out


def _jetstream(path: Path) -> dict[str, dict]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        ev = json.loads(line)
        c = ev.get("commit") or {}
        if c.get("collection") != "app.bsky.feed.post" or c.get("operation") != "create":
            continue
        r = c.get("record") or {}
        embed = r.get("embed") or {}
        et = embed.get("$type", "")
        kind = "reply" if r.get("reply") else "quote" if "record" in et else "original"
        links = [f.get("uri", "") for fc in r.get("facets") or [] for f in fc.get("features", [])
                 if f.get("$type", "").endswith("#link")]
        if "external" in et:
            links.append((embed.get("external") or {}).get("uri", ""))
        parent = ((r.get("reply") or {}).get("parent") or {}).get("uri", "")
        self_reply = kind == "reply" and parent.startswith(f"at://{ev['did']}/")
        out[f"{ev['did']}/{c['rkey']}"] = _item(r.get("text") or "", kind, bool(links), " ".join(links), self_reply)
    return out


def _reddit(path: Path) -> dict[str, dict]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        if "body" in d:
            out[d["id"]] = _item(d.get("body") or "", "reply", "http" in (d.get("body") or ""))
        else:
            text = (d.get("title") or "") + ("\n" + d["selftext"] if d.get("selftext") else "")
            out[d["id"]] = _item(text, "original", not d.get("is_self", True))
    return out


def _topic_xl(path: Path) -> dict[str, dict]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        text = d.get("text") or ""
        kind = "reply" if text.startswith("@") else "repost" if text.startswith("RT ") else "original"
        out[str(d["id"])] = _item(text, kind, "{{URL}}" in text or "http" in text)
    return out


def _lines(path: Path) -> dict[str, dict]:
    out = {}
    for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        kind = "reply" if text.startswith("@") else "original"
        out[str(n)] = _item(text, kind, "http" in text)
    return out


def _reader(rel: str):
    name = rel.rsplit("/", 1)[-1]
    if name in ("tweet.js", "tweets.js"):
        return _x_archive
    if name == "outbox.json":
        return _mastodon
    if "jetstream" in rel:
        return _jetstream
    if "reddit" in rel:
        return _reddit
    if "tweet_topic" in rel:
        return _topic_xl
    if name.endswith("_text.txt"):
        return _lines
    if "twarc" in rel and name.endswith(".jsonl"):
        return _twarc
    raise EvalSetError(f"{rel}: no reader for this kind of file")


@lru_cache(maxsize=64)
def read_items(rel: str, root: str | None = None) -> dict[str, dict]:
    """All items of one shared file: ``{item_id: {"text", "kind", "has_link"}}``."""
    base = Path(root) if root else shared_root()
    path = base / rel
    if not path.is_file():
        raise EvalSetError(f"{rel}: not found under {base}")
    return _reader(rel)(path)


def read_labels(csv_path: str | Path) -> list[dict]:
    """The labels file as rows; unknown labels are an error naming the row."""
    rows = []
    with open(csv_path, newline="", encoding="utf-8") as f:
        for n, row in enumerate(csv.DictReader(f), 2):
            if row["label"] not in CLASSES:
                raise EvalSetError(f"{csv_path}: row {n}: unknown label {row['label']!r}")
            rows.append(row)
    return rows


def load_evalset(csv_path: str | Path, root: str | Path | None = None) -> pa.Table:
    """The labelled items with their texts from ``../shared``.

    Columns: source_file, item_id, label, text, kind (original / reply / repost / quote), has_link,
    links (the post's link targets, space separated), self_reply (a reply in the author's own thread). Raises :class:`EvalSetError`
    naming the row when an item cannot be resolved.
    """
    rows = read_labels(csv_path)
    cols: dict[str, list] = {k: [] for k in ("source_file", "item_id", "label", "text", "kind", "has_link",
                                             "links", "self_reply")}
    for n, row in enumerate(rows, 2):
        items = read_items(row["source_file"], str(root) if root else None)
        it = items.get(row["item_id"])
        if it is None:
            raise EvalSetError(f"{csv_path}: row {n}: item {row['item_id']} not in {row['source_file']}")
        for k in ("source_file", "item_id", "label"):
            cols[k].append(row[k])
        for k in ("text", "kind", "has_link", "links", "self_reply"):
            cols[k].append(it[k])
    return pa.table(cols)
