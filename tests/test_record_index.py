"""record_index: Bluesky deletes whose create was imported in an earlier run (CONNECTORS.md: a Jetstream /
firehose delete names a record only by repo + collection + rkey).

Expected values come from an independent read of the real Jetstream capture in the test itself."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from socialleads.sources.importer import import_path
from socialleads.store import open_store

JS = Path(__file__).parents[1] / ".." / "shared" / "fixtures" / "bluesky" / "jetstream_corpus"
MODELLED = ("app.bsky.feed.post", "app.bsky.feed.like", "app.bsky.feed.repost", "app.bsky.graph.follow")
TABLES = ("posts", "interactions", "accounts", "post_entities")


def _lines() -> list[str]:
    return [x for x in JS.joinpath("expected_v1.jsonl").read_text().splitlines() if x.strip()]


def _uri(ev: dict) -> str:
    return f"at://{ev['did']}/{ev['commit']['collection']}/{ev['commit']['rkey']}"


def _delete(ev: dict, time_us: int) -> str:
    return json.dumps({"did": ev["did"], "time_us": time_us, "kind": "commit",
                       "commit": {"rev": "x", "operation": "delete", "collection": ev["commit"]["collection"],
                                  "rkey": ev["commit"]["rkey"]}})


def _state(store) -> tuple:
    con = store.con
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in TABLES}
    deleted = {r[0] for r in con.execute("SELECT post_key FROM posts WHERE is_deleted").fetchall()}
    ended = set(con.execute("SELECT interaction_key, ended_at FROM interactions WHERE ended_at IS NOT NULL")
                .fetchall())
    return counts, deleted, ended


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_capture_split_in_two_imports_equals_the_whole(tmp_path):
    lines = _lines()
    half = len(lines) // 2
    events = [json.loads(x) for x in lines[:half]]
    # one create of each modelled collection from the first half, deleted at the end of the capture
    victims = []
    for coll in MODELLED:
        ev = next(e for e in events if e["kind"] == "commit" and e["commit"]["operation"] == "create"
                  and e["commit"]["collection"] == coll)
        victims.append(ev)
    t_us = 1783175999000000
    deletes = [_delete(ev, t_us) for ev in victims]
    whole = _write(tmp_path / "whole.jsonl", lines + deletes)
    first = _write(tmp_path / "first.jsonl", lines[:half])
    second = _write(tmp_path / "second.jsonl", lines[half:] + deletes)

    a = open_store(None)
    sa = import_path(a, whole)
    b = open_store(None)
    s1 = import_path(b, first)
    s2 = import_path(b, second)
    state_a, state_b = _state(a), _state(b)
    assert state_a == state_b
    for st in (a, b):  # the delete's time is kept in record_index, not in the post
        assert st.con.execute("SELECT count(*) FROM posts WHERE extra->>'deleted_at' IS NOT NULL").fetchall()[0][0] == 0
    # independent expectations: the deleted post and repost, the ended like, follow and un-repost
    when = dt.datetime(2026, 7, 4, 14, 39, 59)
    by = {ev["commit"]["collection"]: _uri(ev) for ev in victims}
    counts, deleted, ended = state_b
    assert deleted == {by["app.bsky.feed.post"], by["app.bsky.feed.repost"]}
    assert {k for k, _ in ended} == {by["app.bsky.feed.like"], by["app.bsky.graph.follow"],
                                     by["app.bsky.feed.repost"]}
    assert {t for _, t in ended if _ != by["app.bsky.feed.repost"]} == {when}
    ended_halves = dict(ended)
    assert ended_halves[by["app.bsky.feed.like"]] == when
    # the capture's own 4 deletes (creates never imported) stay quarantined, in both ways
    assert sa.quarantined == 4 and s1.quarantined + s2.quarantined == 4
    # record_index knows every imported AT-URI record, once
    con = b.con
    n_idx, n_distinct = con.execute("SELECT count(*), count(DISTINCT at_uri) FROM record_index").fetchall()[0]
    n_keys = con.execute("SELECT count(*) FROM (SELECT post_key FROM posts WHERE post_key LIKE 'at://%' UNION "
                         "SELECT interaction_key FROM interactions WHERE interaction_key LIKE 'at://%')"
                         ).fetchall()[0][0]
    assert n_idx == n_distinct == n_keys
    # re-importing either half changes no count and no flag
    before = _state(b)
    import_path(b, second)
    import_path(b, first)
    assert _state(b) == before


def test_capture_deletes_resolve_when_their_creates_were_imported_earlier(tmp_path):
    lines = _lines()
    dels = [json.loads(x) for x in lines if '"delete"' in x]
    dels = [e for e in dels if e["kind"] == "commit" and e["commit"]["operation"] == "delete"
            and e["commit"]["collection"] in MODELLED]
    assert len(dels) == 4
    follow = next(e for e in dels if e["commit"]["collection"] == "app.bsky.graph.follow")
    post = next(e for e in dels if e["commit"]["collection"] == "app.bsky.feed.post")
    # an earlier capture holds the creates of two of them
    created = "2026-07-01T10:00:00.000Z"
    earlier = [
        json.dumps({"did": follow["did"], "time_us": 1782900000000000, "kind": "commit", "commit": {
            "rev": "a", "operation": "create", "collection": "app.bsky.graph.follow", "rkey": follow["commit"]["rkey"],
            "record": {"$type": "app.bsky.graph.follow", "createdAt": created, "subject": "did:plc:someone"}}}),
        json.dumps({"did": post["did"], "time_us": 1782900000000001, "kind": "commit", "commit": {
            "rev": "b", "operation": "create", "collection": "app.bsky.feed.post", "rkey": post["commit"]["rkey"],
            "record": {"$type": "app.bsky.feed.post", "createdAt": created, "text": "soon gone"}}}),
    ]
    store = open_store(None)
    s0 = import_path(store, _write(tmp_path / "earlier.jsonl", earlier))
    assert s0.quarantined == 0
    s = import_path(store, JS / "expected_v1.jsonl")
    assert s.quarantined == 2
    con = store.con
    assert con.execute("SELECT is_deleted FROM posts WHERE post_key = ?", [_uri(post)]).fetchall() == [(True,)]
    when = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=follow["time_us"])
    assert con.execute("SELECT ended_at FROM interactions WHERE interaction_key = ?",
                       [_uri(follow)]).fetchall() == [(when,)]
    assert con.execute("SELECT deleted_at IS NOT NULL FROM record_index WHERE at_uri = ?",
                       [_uri(post)]).fetchall() == [(True,)]
    # the two others never were imported: quarantined, at their line, with the reader's reason
    rows = con.execute("SELECT place, reason FROM quarantine WHERE run_id = ? ORDER BY line", [s.run_id]).fetchall()
    unresolved = [e for e in dels if e is not follow and e is not post]
    numbers = {_uri(e): i for i, e in enumerate((json.loads(x) for x in lines), 1)
               if e.get("kind") == "commit" and e["commit"]["operation"] == "delete"}
    assert [p for p, _ in rows] == sorted((f"line {numbers[_uri(e)]}" for e in unresolved),
                                          key=lambda p: int(p.split()[1]))
    assert all("needs record_index" in r for _, r in rows)
    assert {u for u in (_uri(e) for e in unresolved) if any(u in r for _, r in rows)} == {_uri(e) for e in unresolved}
    # nothing else of the capture changed, and a re-import changes no count
    before = _state(store)
    s2 = import_path(store, JS / "expected_v1.jsonl")
    assert s2.quarantined == 2 and _state(store) == before


def test_without_an_earlier_import_the_four_deletes_stay_quarantined():
    store = open_store(None)
    s = import_path(store, JS / "expected_v1.jsonl")
    assert s.quarantined == 4 and not s.complete
    assert store.con.execute("SELECT count(*) FROM posts WHERE is_deleted").fetchall()[0][0] == 0
    assert store.con.execute("SELECT count(*) FROM record_index WHERE deleted_at IS NOT NULL").fetchall()[0][0] == 0
