"""The generic import: every record type, validation, quarantine with exact places, idempotence."""

from __future__ import annotations

import gzip
import json
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from socialleads.errors import FormatError
from socialleads.sources import importer, lines
from socialleads.sources.importer import import_path
from tests.conftest import DATA


def q(store, sql, *params):
    return store.con.execute(sql, list(params)).fetchall()


def test_every_record_type_lands_where_the_format_says(store):
    s = import_path(store, DATA / "mixed.jsonl")
    assert s.quarantined == 0 and not s.refused
    c = store.counts()
    # 2 declared accounts + fan2, who is only referenced (quote author, like actor)
    assert c["accounts"] == 3
    assert c["posts"] == 3 and c["post_entities"] == 2
    # like + 2 follows + reply, mention and quote derived from the posts
    assert c["interactions"] == 6
    assert c["follower_snapshots"] == 1 and c["metrics_snapshots"] == 1
    assert c["clicks"] == 1 and c["conversions"] == 1
    assert s.to_json()["posts"] == 3 and s.to_json()["interactions"] == 6
    types = dict(q(store, "SELECT type, count(*) FROM interactions GROUP BY type"))
    assert types == {"like": 1, "follow": 2, "reply": 1, "mention": 1, "quote": 1}
    # the reply and quote point at the owner's post and, through it, the owner
    rows = q(store, "SELECT type, actor_key, target_account_key, target_post_key, via_post_key FROM interactions "
                    "WHERE type IN ('reply', 'quote') ORDER BY type")
    assert rows == [
        ("quote", "did:plc:fan2", "did:plc:owner", "at://did:plc:owner/app.bsky.feed.post/1",
         "at://did:plc:fan2/app.bsky.feed.post/3"),
        ("reply", "did:plc:fan1", "did:plc:owner", "at://did:plc:owner/app.bsky.feed.post/1",
         "at://did:plc:fan1/app.bsky.feed.post/2"),
    ]
    # +01:00 is converted to UTC
    assert str(q(store, "SELECT created_at FROM posts WHERE post_key LIKE '%/2'")[0][0]) == "2026-03-06 13:02:05"
    assert q(store, "SELECT ended_at IS NOT NULL FROM interactions WHERE actor_key = 'did:plc:fan2' AND type = 'follow'") == [(True,)]
    assert q(store, "SELECT is_owner, extra FROM accounts WHERE account_key = 'did:plc:owner'") == [
        (True, '{"favourite_colour":"green"}')]
    assert q(store, "SELECT source FROM accounts WHERE account_key = 'did:plc:fan2'") == [("reference",)]
    assert q(store, "SELECT utm_source, utm_medium, utm_campaign, utm_content FROM clicks") == [
        ("bluesky", "social", "launch day", "post1")]
    assert q(store, "SELECT goal, value, currency FROM conversions") == [("signup", 12.5, "EUR")]
    # provenance: every record carries the run that brought it, and the run is recorded
    assert q(store, "SELECT count(DISTINCT ingest_run_id) FROM posts") == [(1,)]
    run = q(store, "SELECT run_id, status, rejects FROM ingest_runs")
    assert run == [(s.run_id, "complete", 0)]


def test_bad_lines_are_quarantined_with_place_and_reason_and_the_rest_kept(store):
    s = import_path(store, DATA / "bad.jsonl")
    assert sorted(r[0] for r in q(store, "SELECT post_key FROM posts")) == ["x:1", "x:10", "x:6"]
    assert s.quarantined == 10
    got = {line: reason for line, reason in q(store, "SELECT line, reason FROM quarantine")}
    assert sorted(got) == [2, 3, 4, 5, 6, 7, 8, 9, 11, 12]
    assert "created_at 'yesterday'" in got[2]
    assert got[3] == "a reply needs reply_to_key"
    assert got[4] == "not valid JSON"
    assert got[5].startswith("not a JSON object")
    assert got[6] == "post_key missing"
    assert "kind 'retweet'" in got[7]
    assert got[8] == "unknown record_type 'telepathy'"
    assert got[9] == "record_type missing"
    assert got[11].startswith("entities:")
    assert got[12] == "not UTF-8 text"
    assert q(store, "SELECT DISTINCT file FROM quarantine") == [(str(DATA / "bad.jsonl"),)]
    assert q(store, "SELECT raw FROM quarantine WHERE line = 4") == [("{broken",)]
    assert q(store, "SELECT status, rejects FROM ingest_runs") == [("partial", 10)]


def test_reimport_changes_no_count(store):
    import_path(store, DATA / "mixed.jsonl")
    import_path(store, DATA / "bad.jsonl")
    first = store.counts()
    again = import_path(store, DATA / "mixed.jsonl")
    import_path(store, DATA / "bad.jsonl")
    second = store.counts()
    assert {k: v for k, v in second.items() if k != "ingest_runs"} == {k: v for k, v in first.items() if k != "ingest_runs"}
    assert again.new == {} and again.updated == {}
    assert again.to_json()["posts"] == 3  # records accepted from the input, new or not


def test_merge_fills_nulls_and_never_blanks_or_overwrites(store, tmp_path):
    base = {"record_type": "post", "platform": "x", "post_key": "x:1", "author_key": "x:9",
            "created_at": "2026-01-01T00:00:00Z", "kind": "original"}
    (tmp_path / "a.jsonl").write_text(json.dumps(base) + "\n")
    (tmp_path / "b.jsonl").write_text(json.dumps({**base, "text": "first text", "lang": "en"}) + "\n")
    (tmp_path / "c.jsonl").write_text(json.dumps({**base, "text": "other text", "lang": None}) + "\n")
    import_path(store, tmp_path / "a.jsonl")
    s = import_path(store, tmp_path / "b.jsonl")
    assert s.updated == {"posts": 1}
    import_path(store, tmp_path / "c.jsonl")
    assert q(store, "SELECT text, lang FROM posts") == [("first text", "en")]
    assert store.count("posts") == 1


def test_csv_with_multiline_field_and_bad_row(store):
    s = import_path(store, DATA / "posts.csv")
    assert sorted(r[0] for r in q(store, "SELECT post_key FROM posts")) == ["x:100", "x:101"]
    assert q(store, "SELECT text FROM posts WHERE post_key = 'x:101'") == [("a reply\nover two lines",)]
    assert q(store, "SELECT etype, value FROM post_entities") == [("hashtag", "hello")]
    assert q(store, "SELECT type, target_account_key FROM interactions") == [("reply", "x:1")]
    assert s.quarantined == 1
    assert q(store, "SELECT place, reason FROM quarantine") == [("row 3", "created_at 'not-a-time' is not an RFC 3339 time")]


def test_parquet_and_gzip_give_the_same_store(store, tmp_path):
    rows = [json.loads(ln) for ln in (DATA / "mixed.jsonl").read_text().splitlines() if ln.strip()]
    posts = [r for r in rows if r["record_type"] == "post"]
    tbl = pa.table({k: [json.dumps(p.get(k)) if k == "entities" and p.get(k) else p.get(k) for p in posts]
                    for k in ("post_key", "platform", "author_key", "created_at", "kind", "text", "reply_to_key",
                              "quote_of_key", "entities")})
    pq.write_table(tbl, tmp_path / "posts.parquet")
    s = import_path(store, tmp_path / "posts.parquet")
    assert s.quarantined == 0 and store.count("posts") == 3 and store.count("post_entities") == 2
    from socialleads.store import open_store
    other = open_store(None)
    with gzip.open(tmp_path / "mixed.jsonl.gz", "wb") as fh:
        fh.write((DATA / "mixed.jsonl").read_bytes())
    import_path(other, tmp_path / "mixed.jsonl.gz")
    assert other.counts()["posts"] == 3 and other.counts()["interactions"] == 6


def test_small_batches_keep_exact_line_numbers_and_counts(store, tmp_path, monkeypatch):
    """Batch boundaries must not lose, duplicate or misnumber a line."""
    n = 5000
    body = []
    for i in range(n):
        if i % 997 == 0:
            body.append("{not json")
        else:
            body.append(json.dumps({"record_type": "post", "platform": "x", "post_key": f"x:{i % 4000}",
                                    "author_key": f"x:a{i % 37}", "created_at": "2026-01-01T00:00:00Z",
                                    "kind": "original", "text": "t" * (i % 50)}))
    (tmp_path / "p.jsonl").write_text("\n".join(body) + "\n")
    monkeypatch.setattr(lines, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(importer, "FLUSH_ROWS", 700)
    s = import_path(store, tmp_path / "p.jsonl")
    bad_lines = [i + 1 for i in range(n) if i % 997 == 0]
    assert sorted(r[0] for r in q(store, "SELECT line FROM quarantine")) == bad_lines
    distinct_keys = len({i % 4000 for i in range(n) if i % 997 != 0})
    assert store.count("posts") == distinct_keys
    assert s.quarantined == len(bad_lines)


def test_folder_import_skips_truth_and_config(store, tmp_path):
    shutil.copy(DATA / "mixed.jsonl", tmp_path / "mixed.jsonl")
    (tmp_path / "truth.json").write_text("{}")
    (tmp_path / "leads.toml").write_text("")
    (tmp_path / "notes.txt").write_text("hello")
    s = import_path(store, tmp_path)
    assert s.files == [str(tmp_path / "mixed.jsonl")]
    assert len(s.skipped) == 3 and store.count("posts") == 3


@pytest.mark.parametrize("name,content,expect", [
    ("x.jsonl", b"\x7fELF\x00\x01binary", "binary data"),
    ("x.jsonl", b"hello there\nfoo\n", "none of the first 2 line(s)"),
    ("x.csv", b"a,b\n1,2\n", "no record_type column"),
    ("posts.csv", b"post_key,text\n1,2\n", "needs the column(s) platform, author_key, created_at, kind"),
    ("x.parquet", b"PAR1 not really", "cannot be read"),
])
def test_files_not_in_the_format_are_refused_whole(store, tmp_path, name, content, expect):
    p = tmp_path / name
    p.write_bytes(content)
    s = import_path(store, p)
    assert len(s.refused) == 1 and expect in s.refused[0] and str(p) in s.refused[0]
    assert store.count("posts") == 0 and store.count("quarantine") == 0


def test_missing_path_is_an_error(store, tmp_path):
    with pytest.raises(FormatError, match="no such file"):
        import_path(store, tmp_path / "nope.jsonl")


def test_automatic_checkpoints_are_held_back_during_an_import_and_restored_after(store, monkeypatch):
    """While an import stages, DuckDB's checkpoint threshold is IMPORT_CHECKPOINT_THRESHOLD (not the 16 MiB
    default that recompresses the staging tables every few batches); the caller's value is back after."""
    def setting():
        return q(store, "SELECT current_setting('checkpoint_threshold')")[0][0]

    store.con.execute("SET checkpoint_threshold = '64MiB'")
    before = setting()
    seen = []
    real = importer.G.process_batch

    def spy(*args, **kwargs):
        seen.append(setting())
        return real(*args, **kwargs)

    monkeypatch.setattr(importer.G, "process_batch", spy)
    s = import_path(store, DATA / "mixed.jsonl")
    assert s.quarantined == 0 and seen
    assert before != seen[0] and set(seen) == {seen[0]}
    assert setting() == before           # restored once the import is done
    store.con.execute(f"SET checkpoint_threshold = '{importer.IMPORT_CHECKPOINT_THRESHOLD}'")
    assert seen[0] == setting()          # the import's value, as DuckDB prints it
    store.con.execute("SET checkpoint_threshold = '64MiB'")
    assert setting() == before
