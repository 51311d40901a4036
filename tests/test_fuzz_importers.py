"""Fuzzing the platform readers with mutated real files (issue 3, "bad input is expected input").

Each example mutates a real fixture (byte flips, truncation, garbage lines, re-encoding, duplicated keys,
deleted braces; hostile zip members; a zip bomb; a cut or bit-flipped CAR), imports it with
`import_path` into an in-memory store and checks:
  * nothing but a LeadsError escapes, and its message is one line naming the file;
  * no partial write: every stored post / interaction row equals the row an import of the unmutated
    file stores (for structure-only mutations), or at least has a key that import stores;
  * a second import of the same mutated input changes no count.
Derandomized so that CI is reproducible; small example counts keep the file under a minute.
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
import zipfile
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialleads.errors import LeadsError
from socialleads.sources import archive as A
from socialleads.sources.importer import import_path
from socialleads.store import open_store

FIX = Path(__file__).parents[1] / ".." / "shared" / "fixtures"
JETSTREAM = FIX / "bluesky" / "jetstream_corpus" / "expected_v1.jsonl"
CAR = FIX / "bluesky" / "jetstream_corpus" / "repo.car"
X_DIR = FIX / "twitter" / "x_archive_2026_tweets_js"
X_TWEETS = "data/tweets.js"

FUZZ = settings(max_examples=6, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

POST_COLS = "post_key, author_key, kind, created_at, text, reply_to_key, repost_of_key, quote_of_key"
# target_account_key is left out: a reply's target author is filled from the target post when that post
# is stored too, so a cut input may lawfully leave it unknown
INTER_COLS = "interaction_key, type, actor_key, target_post_key, created_at"


def _rows(store) -> tuple[set, set]:
    con = store.con
    return (set(con.execute(f"SELECT {POST_COLS} FROM posts").fetchall()),
            set(con.execute(f"SELECT {INTER_COLS} FROM interactions").fetchall()))


def _import(path: Path, fmt: str):
    """(store, summary or None): only a LeadsError with a one-line message naming the file may escape."""
    store = open_store(None)
    try:
        summary = import_path(store, path, fmt=fmt)
    except LeadsError as exc:
        msg = str(exc)
        assert "\n" not in msg and path.name in msg, msg
        return store, None
    for msg in summary.refused:
        assert "\n" not in msg and path.name in msg, msg
    bad = store.con.execute("SELECT count(*) FROM quarantine WHERE file IS NULL OR coalesce(place, '') = '' "
                            "OR reason IS NULL").fetchall()[0][0]
    assert bad == 0
    return store, summary


@cache
def _baseline(kind: str) -> tuple[frozenset, frozenset]:
    path, fmt = {"jetstream": (JETSTREAM, "bsky_jetstream"), "car": (CAR, "bsky_car"),
                 "x": (X_DIR, "x_archive")}[kind]
    store, summary = _import(path, fmt)
    assert summary is not None
    posts, inters = _rows(store)
    assert posts or inters
    return frozenset(posts), frozenset(inters)


def _check(kind: str, path: Path, fmt: str, *, exact: bool) -> None:
    store, summary = _import(path, fmt)
    posts, inters = _rows(store)
    base_posts, base_inters = _baseline(kind)
    if exact:  # structure-only mutations: each stored row is a row of the unmutated import
        assert posts <= base_posts, sorted(posts - base_posts)[:2]
        assert inters <= base_inters, sorted(inters - base_inters)[:2]
    else:      # content mutations (a flipped byte may make a different valid value): no more items
        assert len(posts) <= len(base_posts) and len(inters) <= len(base_inters)
    if summary is None:
        return
    before = store.counts()
    import_path(store, path, fmt=fmt)
    after = store.counts()
    assert {k: v for k, v in after.items() if k != "ingest_runs"} == \
           {k: v for k, v in before.items() if k != "ingest_runs"}


# ------------------------------------------------------------------------------------------ mutations

def _flip(data: bytes, at: int, bit: int) -> bytes:
    at %= len(data)
    return data[:at] + bytes([data[at] ^ (1 << bit)]) + data[at + 1:]


def _cut(data: bytes, at: int) -> bytes:
    return data[:at % len(data)]


def _garbage(data: bytes, at: int, junk: bytes) -> bytes:
    lines = data.split(b"\n")
    i = at % (len(lines) + 1)
    return b"\n".join(lines[:i] + [junk.replace(b"\n", b" ")] + lines[i:])


_PAIR = re.compile(rb'"[A-Za-z_]+"\s*:\s*"[^"\\\n]*"')


def _dup_key(data: bytes, at: int) -> bytes:
    """Repeat one `"key": "value"` pair verbatim (same value: the JSON means the same)."""
    pairs = list(_PAIR.finditer(data))
    m = pairs[at % len(pairs)]
    return data[:m.end()] + b", " + m.group() + data[m.end():]


def _del_brace(data: bytes, at: int) -> bytes:
    braces = [i for i, b in enumerate(data) if b in b"{}"]
    i = braces[at % len(braces)]
    return data[:i] + data[i + 1:]


def _reencode(data: bytes, enc: str) -> bytes:
    return data.decode("utf-8").encode(enc, errors="replace")


MUTATIONS = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 1 << 20), st.integers(0, 7)),
    st.tuples(st.just("cut"), st.integers(0, 1 << 20)),
    st.tuples(st.just("garbage"), st.integers(0, 1 << 12), st.binary(min_size=1, max_size=80)),
    st.tuples(st.just("dup_key"), st.integers(0, 1 << 12)),
    st.tuples(st.just("del_brace"), st.integers(0, 1 << 16)),
    st.tuples(st.just("encoding"), st.sampled_from(["latin-1", "utf-16"])),
)


def _mutate(data: bytes, m: tuple) -> tuple[bytes, bool]:
    """The mutated bytes, and whether every surviving item must equal an unmutated one exactly."""
    op = m[0]
    if op == "flip":
        return _flip(data, m[1], m[2]), False
    if op == "cut":
        return _cut(data, m[1]), True
    if op == "garbage":
        return _garbage(data, m[1], m[2]), True
    if op == "dup_key":
        return _dup_key(data, m[1]), True
    if op == "del_brace":
        return _del_brace(data, m[1]), True
    return _reencode(data, m[1]), False  # '?' replaces what latin-1 cannot hold: texts may differ


# ------------------------------------------------------------------------------------------ readers

@FUZZ
@given(MUTATIONS)
def test_jetstream_capture_survives_mutation(m):
    data, exact = _mutate(JETSTREAM.read_bytes(), m)
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "capture.jsonl"
        p.write_bytes(data)
        _check("jetstream", p, "bsky_jetstream", exact=exact)


@FUZZ
@given(MUTATIONS)
def test_x_archive_tweets_js_survives_mutation(m):
    data, exact = _mutate((X_DIR / X_TWEETS).read_bytes(), m)
    with tempfile.TemporaryDirectory() as d:
        root = Path(d) / "archive"
        shutil.copytree(X_DIR, root)
        (root / X_TWEETS).chmod(0o644)
        (root / X_TWEETS).write_bytes(data)
        _check("x", root, "x_archive", exact=exact)


@FUZZ
@given(st.one_of(st.tuples(st.just("cut"), st.integers(0, 1 << 16)),
                 st.tuples(st.just("flip"), st.integers(0, 1 << 16), st.integers(0, 7))))
def test_car_file_survives_truncation_and_bit_flips(m):
    data, exact = _mutate(CAR.read_bytes(), m)
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "repo.car"
        p.write_bytes(data)
        _check("car", p, "bsky_car", exact=exact)


# ------------------------------------------------------------------------------------------ archives

def _zip_of(folder: Path, rename: dict[str, str] | None = None, extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                name = f.relative_to(folder).as_posix()
                z.writestr((rename or {}).get(name, name), f.read_bytes())
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buf.getvalue()


@FUZZ
@given(st.sampled_from(["data/like.js", "data/follower.js", "data/tweets.js", "data/account.js"]),
       st.sampled_from(["../x", "../../data/like.js", "/etc/x.js", "/data/tweets.js", "C:/x.js", "data/../../x"]))
def test_zip_members_that_escape_are_skipped(member, new_name):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "archive.zip"
        p.write_bytes(_zip_of(X_DIR, rename={member: new_name}))
        _check("x", p, "x_archive", exact=True)
        with A.Archive(p) as arc:
            assert [u[0] for u in arc.unsafe] == [new_name]
            assert all(not n.startswith(("/", "..")) for n in arc.names())


def test_zip_bomb_is_refused_and_the_rest_is_kept(tmp_path):
    bomb = b" " * (40 << 20)  # 40 MiB of spaces: deflates about 1000:1
    p = tmp_path / "archive.zip"
    p.write_bytes(_zip_of(X_DIR, extra={"data/tweets-part1.js": b"window.YTD.tweets.part1 = [" + bomb + b"]"}))
    assert p.stat().st_size < 1 << 20
    with A.Archive(p) as arc:
        assert any("zip bomb" in why for _, why in arc.unsafe)
    _check("x", p, "x_archive", exact=True)
    store, _ = _import(p, "x_archive")
    assert _rows(store) == tuple(set(x) for x in _baseline("x"))   # the archive's own tweets all kept


def test_member_past_the_decompression_cap_is_one_error(tmp_path, monkeypatch):
    monkeypatch.setattr(A, "MAX_MEMBER_BYTES", 4096)
    p = tmp_path / "archive.zip"
    p.write_bytes(_zip_of(X_DIR))
    with A.Archive(p) as arc:
        with pytest.raises(LeadsError, match="archive.zip!data/tweets.js: decompresses to more than"):
            arc.read_bytes("data/tweets.js", limit=A.MAX_MEMBER_BYTES)
    store, summary = _import(p, "x_archive")   # no traceback; whatever is reported names the file
    assert summary is None or summary.refused or summary.quarantined or _rows(store)[0]
