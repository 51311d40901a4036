"""The public streaming-writer API of the importer: `RecordSink` appends records inside the caller's
transaction (no CHECKPOINT), with the importer's validation, quarantine and idempotent merges.

Expected values are hand counts of the hand-made records below."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from socialleads.sources.importer import RecordSink
from socialleads.store import open_store
from socialleads.store.db import run_sql


def _records() -> list[dict]:
    return [
        {"record_type": "account", "platform": "bluesky", "account_key": "did:plc:ann", "handle": "ann.example"},
        {"record_type": "post", "platform": "bluesky", "post_key": "at://did:plc:ann/app.bsky.feed.post/1",
         "author_key": "did:plc:ann", "created_at": "2026-07-04T10:00:00Z", "kind": "original", "text": "hello",
         "entities": [{"etype": "hashtag", "value": "news"}]},
        {"record_type": "post", "platform": "bluesky", "post_key": "at://did:plc:bob/app.bsky.feed.post/2",
         "author_key": "did:plc:bob", "created_at": "2026-07-04T10:01:00Z", "kind": "reply", "text": "hi ann",
         "reply_to_key": "at://did:plc:ann/app.bsky.feed.post/1"},
        {"record_type": "interaction", "platform": "bluesky", "type": "like",
         "interaction_key": "at://did:plc:cat/app.bsky.feed.like/3", "actor_key": "did:plc:cat",
         "target_post_key": "at://did:plc:ann/app.bsky.feed.post/1", "created_at": "2026-07-04T10:02:00Z"},
    ]


def _counts(con) -> tuple[int, int, int, int]:
    q = lambda sql: int(run_sql(con, sql)[0][0])  # noqa: E731
    return (q("SELECT count(*) FROM posts"), q("SELECT count(*) FROM accounts"),
            q("SELECT count(*) FROM interactions"), q("SELECT count(*) FROM post_entities"))


def test_append_inside_the_callers_transaction_commits_with_it(tmp_path):
    store = open_store(tmp_path / "s.duckdb")
    sink = RecordSink(store, "stream:test", "test_live", {"stream": "test"})
    con = store.con
    con.execute("BEGIN TRANSACTION")
    new = sink.append(_records())
    run_sql(con, "INSERT INTO listen_cursors (stream, cursor, events, updated_at) VALUES ('t', 42, 4, now()::TIMESTAMP)")
    con.execute("COMMIT")  # no CHECKPOINT inside: the commit goes through
    # 2 posts; accounts: ann declared + stubs bob, cat; interactions: the like + the derived reply
    assert _counts(con) == (2, 3, 2, 1)
    assert new["posts"] == 2 and new["interactions"] == 2 and new["accounts"] == 3
    reply = run_sql(con, "SELECT actor_key, target_account_key FROM interactions WHERE type = 'reply'")
    assert reply == [("did:plc:bob", "did:plc:ann")]
    sink.close({"events": 4})
    row = run_sql(con, "SELECT status, params, counts FROM ingest_runs WHERE run_id = ?", [sink.run_id])[0]
    assert row[0] == "complete" and json.loads(row[1]) == {"stream": "test"} and json.loads(row[2])["events"] == 4
    store.close()


def test_rollback_leaves_nothing_and_a_replay_changes_no_count(store):
    sink = RecordSink(store, "stream:test", "test_live")
    con = store.con
    con.execute("BEGIN TRANSACTION")
    sink.append(_records())
    con.execute("ROLLBACK")
    assert _counts(con) == (0, 0, 0, 0)
    for _ in range(2):  # idempotent: the second append of the same records adds nothing
        con.execute("BEGIN TRANSACTION")
        sink.append(_records())
        con.execute("COMMIT")
    assert _counts(con) == (2, 3, 2, 1)


def test_first_value_wins_and_null_never_overwrites(store):
    sink = RecordSink(store, "stream:test", "test_live")
    sink.append(_records()[:2])
    changed = dict(_records()[1], text="edited", lang="en")   # text differs (kept), lang was null (filled)
    sink.append([changed, {"record_type": "account", "platform": "bluesky", "account_key": "did:plc:ann"}])
    assert run_sql(store.con, "SELECT text, lang FROM posts") == [("hello", "en")]
    assert run_sql(store.con, "SELECT handle FROM accounts WHERE account_key = 'did:plc:ann'") == [("ann.example",)]


def test_bad_records_are_quarantined_under_the_label_and_the_rest_is_kept(store):
    sink = RecordSink(store, "stream:test", "test_live")
    bad = {"record_type": "post", "platform": "bluesky", "post_key": "at://x/app.bsky.feed.post/9", "kind": "original"}
    sink.append(_records() + [bad])
    assert _counts(store.con)[0] == 2
    q = run_sql(store.con, "SELECT file, reason FROM quarantine")
    assert len(q) == 1 and q[0][0] == "stream:test" and q[0][1]
    assert sink.summary.quarantined == 1


def test_json_lines_equal_dict_records(store, tmp_path):
    other = open_store(tmp_path / "o.duckdb")
    RecordSink(store, "a", "t").append(_records())
    lines = pa.array([json.dumps(r) for r in _records()[2:]], pa.string())
    RecordSink(other, "b", "t").append(_records()[:2], lines)
    cols = "post_key, author_key, kind, created_at, text, reply_to_key"
    assert run_sql(store.con, f"SELECT {cols} FROM posts ORDER BY 1") == \
        run_sql(other.con, f"SELECT {cols} FROM posts ORDER BY 1")
    icols = "interaction_key, type, actor_key, target_post_key, target_account_key, created_at"
    assert run_sql(store.con, f"SELECT {icols} FROM interactions ORDER BY 1") == \
        run_sql(other.con, f"SELECT {icols} FROM interactions ORDER BY 1")
    other.close()


def test_a_failed_statement_rolls_back_the_whole_batch(store):
    sink = RecordSink(store, "stream:test", "test_live")
    con = store.con
    con.execute("BEGIN TRANSACTION")
    sink.append(_records())
    with pytest.raises(Exception):  # noqa: B017 - any DuckDB error: the caller rolls back
        con.execute("INSERT INTO no_such_table VALUES (1)")
    con.execute("ROLLBACK")
    assert _counts(con) == (0, 0, 0, 0)
