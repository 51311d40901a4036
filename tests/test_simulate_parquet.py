"""`leads simulate --format parquet` and the Parquet import path (typed columns, no JSON text).

The JSON-lines world of the same seed is the reference: the Parquet world holds the same records, so its
import must give the same store (counts and row contents) and the same scorecard. Quarantine, row numbers
and idempotence of the Parquet path are checked on hand-made files with hand-counted expectations.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from socialleads.metrics.scorecard import build_scorecard
from socialleads.simulate import simulate
from socialleads.sources.importer import import_path
from socialleads.store import open_store
from socialleads.workspace import init_workspace, open_workspace

POSTS = 4_000
SEED = 3
IMPORT_FILES = (".jsonl", ".csv", ".parquet")
# Row contents compared between the two imports (run ids and import times differ by design).
CONTENT = {
    "posts": "post_key, platform, author_key, kind, kind_confidence, created_at, sort_at, text, lang, reply_to_key, "
             "thread_root_key, repost_of_key, quote_of_key, is_deleted, source, extra::VARCHAR",
    "interactions": "interaction_key, platform, type, actor_key, target_account_key, target_post_key, via_post_key, "
                    "created_at, time_precision, ended_at, source, extra::VARCHAR",
    "accounts": "account_key, platform, handle, display_name, url, created_at, is_owner, source",
    "post_entities": "post_key, etype, value, target_account_key",
    "clicks": "click_key, occurred_at, url, utm_source, utm_medium, utm_campaign, utm_content, utm_term, "
              "visitor_key, post_key, referrer",
    "conversions": "conversion_key, occurred_at, visitor_key, url, goal, value, currency, utm_campaign",
    "experiment_assignments": "post_key, experiment, variant",
}


def _differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Paths where two JSON-like values differ; floats equal to 1e-12 relative count as equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b), key=str) for d in _differences(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in _differences(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, float) and a == pytest.approx(b, rel=1e-12, abs=1e-15):
        return []
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def _import(world: Path, ws_dir: Path) -> dict[str, Any]:
    init_workspace(ws_dir, config_from=world / "leads.toml")
    with open_workspace(ws_dir) as ws:
        summary = import_path(ws.store, world).to_json()
        ws.mark_owner_accounts()
        con = ws.store.con
        rows = {t: sorted(con.execute(f"SELECT {cols} FROM {t}").fetchall(), key=repr) for t, cols in CONTENT.items()}
        card = build_scorecard(ws.store, ws.owner_keys(), ws.config)
        return {"summary": summary, "counts": ws.store.counts(), "rows": rows,
                "card": json.loads(json.dumps(card, default=str))}


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("simparquet")
    out: dict[str, Any] = {}
    for fmt in ("jsonl", "parquet"):
        truth = simulate(tmp / fmt, posts=POSTS, seed=SEED, fmt=fmt)
        out[fmt] = {"dir": tmp / fmt, "truth": truth, **_import(tmp / fmt, tmp / f"ws-{fmt}")}
    return out


def test_parquet_world_files_and_truth(worlds: dict[str, Any]) -> None:
    j, p = worlds["jsonl"], worlds["parquet"]
    tj = json.loads((j["dir"] / "truth.json").read_text())
    tp = json.loads((p["dir"] / "truth.json").read_text())
    # the ground truth is the same; only the list of files names the Parquet parts
    assert {k: v for k, v in tj.items() if k != "files"} == {k: v for k, v in tp.items() if k != "files"}
    assert tp["files"]["posts"] == [n.replace(".jsonl", ".parquet") for n in tj["files"]["posts"]]
    assert tp["files"]["interactions"] == [n.replace(".jsonl", ".parquet") for n in tj["files"]["interactions"]]
    # every import file became Parquet (the owner-post truth file is not an import file and stays JSON lines)
    names_j = {f.name.split(".")[0] for f in j["dir"].iterdir() if f.suffix in IMPORT_FILES}
    names_j.discard("truth_owner_posts")
    files_p = [f for f in p["dir"].iterdir() if f.suffix in IMPORT_FILES and f.name != "truth_owner_posts.jsonl"]
    assert files_p and all(f.suffix == ".parquet" for f in files_p)
    assert {f.name.split(".")[0] for f in files_p} == names_j
    # same records: the posts file's rows equal the JSON lines' posts, typed
    n_posts = duckdb.sql(f"SELECT count(*) FROM read_parquet('{p['dir']}/posts-*.parquet')").fetchall()[0][0]
    assert n_posts == POSTS == tp["counts"]["posts"]
    desc = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{p['dir']}/posts-*.parquet')").fetchall()
    types = {r[0]: r[1] for r in desc}
    assert types["created_at"] == "TIMESTAMP" and types["entities"].endswith("[]")


def test_parquet_import_equals_jsonl_import(worlds: dict[str, Any]) -> None:
    j, p = worlds["jsonl"], worlds["parquet"]
    assert j["summary"]["quarantined"] == p["summary"]["quarantined"] == 0
    assert p["summary"]["posts"] == POSTS
    for k in ("posts", "accounts", "interactions", "entities", "clicks", "conversions", "experiment_assignments"):
        assert p["summary"][k] == j["summary"][k], k
    assert p["counts"] == j["counts"]
    for t in CONTENT:
        assert p["rows"][t] == j["rows"][t], t
    # the same figures; a float may differ in its last bit (DuckDB sums in parallel, in no fixed order)
    assert _differences(p["card"], j["card"]) == []
    # and both agree with the ground truth's audience figure
    assert p["card"]["audience"]["followers"] == p["truth"]["followers_end"]


def test_parquet_simulation_is_deterministic(tmp_path: Path, worlds: dict[str, Any]) -> None:
    simulate(tmp_path / "again", posts=POSTS, seed=SEED, fmt="parquet")
    for f in worlds["parquet"]["dir"].glob("*.parquet"):
        a = duckdb.sql(f"SELECT * FROM read_parquet('{f}')").fetchall()
        b = duckdb.sql(f"SELECT * FROM read_parquet('{tmp_path / 'again' / f.name}')").fetchall()
        assert a == b, f.name


def test_simulate_rejects_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="format"):
        simulate(tmp_path / "x", posts=200, seed=1, fmt="xml")


def _write(path: Path, sql: str) -> Path:
    duckdb.sql(f"COPY ({sql}) TO '{path}' (FORMAT parquet)")
    return path


def test_parquet_quarantine_row_numbers_and_idempotence(tmp_path: Path) -> None:
    """5 rows, 3 bad: row 2 has no post_key, row 3 an unknown kind, row 5 a time that does not parse."""
    f = _write(tmp_path / "posts.parquet", """
        SELECT * FROM (VALUES
          ('p1', 'x', 'a1', '2026-01-02T03:04:05Z', 'original', 'hello', 'v1'),
          (NULL, 'x', 'a1', '2026-01-02T03:04:05Z', 'original', 'no key', NULL),
          ('p3', 'x', 'a2', '2026-01-02T03:04:05Z', 'tweet', 'bad kind', NULL),
          ('p4', 'x', 'a2', '2026-01-03T00:00:00+02:00', 'reply', 'a reply', NULL),
          ('p5', 'x', 'a2', 'yesterday', 'original', 'bad time', NULL))
          t(post_key, platform, author_key, created_at, kind, text, mood)""")
    store = open_store(None)
    s1 = import_path(store, f).to_json()
    # p4 is a reply without reply_to_key: also bad (4 bad, 1 good)
    assert s1["posts"] == 1 and s1["quarantined"] == 4
    q = store.con.execute("SELECT line, place, record_type, reason FROM quarantine ORDER BY line").fetchall()
    assert [(r[0], r[1], r[2]) for r in q] == [(2, "row 2", "post"), (3, "row 3", "post"), (4, "row 4", "post"),
                                              (5, "row 5", "post")]
    assert q[0][3] == "post_key missing"
    assert q[1][3] == "kind 'tweet' is not one of original, reply, repost, quote"
    assert q[2][3] == "a reply needs reply_to_key"
    assert q[3][3] == "created_at 'yesterday' is not an RFC 3339 time"
    raw = store.con.execute("SELECT raw FROM quarantine WHERE line = 3").fetchall()[0][0]
    assert json.loads(raw)["kind"] == "tweet"
    post = store.con.execute("SELECT post_key, created_at::VARCHAR, extra->>'mood', ingest_run_id FROM posts").fetchall()
    assert post[0][:3] == ("p1", "2026-01-02 03:04:05", "v1") and post[0][3] == s1["run_id"]
    before = store.counts()
    s2 = import_path(store, f).to_json()
    after = store.counts()
    assert after.pop("ingest_runs") == before.pop("ingest_runs") + 1  # each import is one run
    assert after == before  # idempotent: no new post, no new quarantine row
    assert s2["quarantined"] == 4 and s2["new"] == {}


def test_parquet_first_value_wins_and_nulls_never_overwrite(tmp_path: Path) -> None:
    """A typed timestamp column, a repeated key (the first row wins) and a later file with a null and a
    different value: the stored text stays, the null fills nothing in, a missing lang is filled."""
    a = _write(tmp_path / "posts-0001.parquet", """
        SELECT * FROM (VALUES
          ('p1', 'x', 'a1', TIMESTAMP '2026-01-02 03:04:05', 'original', 'first', NULL),
          ('p1', 'x', 'a1', TIMESTAMP '2026-01-02 03:04:05', 'original', 'second', 'de'))
          t(post_key, platform, author_key, created_at, kind, text, lang)""")
    b = _write(tmp_path / "posts-0002.parquet", """
        SELECT * FROM (VALUES ('p1', 'x', 'a1', TIMESTAMP '2026-01-02 03:04:05', 'original', NULL, 'en'))
          t(post_key, platform, author_key, created_at, kind, text, lang)""")
    store = open_store(None)
    import_path(store, a)
    assert store.con.execute("SELECT text, lang FROM posts").fetchall() == [("first", None)]
    import_path(store, b)
    assert store.con.execute("SELECT text, lang, created_at::VARCHAR FROM posts").fetchall() == [
        ("first", "en", "2026-01-02 03:04:05")]


def test_parquet_record_type_column_routes_and_rejects(tmp_path: Path) -> None:
    """A mixed file (no telling name): rows routed by record_type; an unknown and a missing type quarantined."""
    f = _write(tmp_path / "mixed.parquet", """
        SELECT * FROM (VALUES
          ('account', 'x', 'a1', NULL, NULL, NULL, NULL),
          ('post', 'x', NULL, 'p1', 'a1', '2026-01-02T03:04:05Z', 'original'),
          ('tweet', 'x', NULL, 'p2', 'a1', '2026-01-02T03:04:05Z', 'original'),
          (NULL, 'x', NULL, 'p3', 'a1', '2026-01-02T03:04:05Z', 'original'))
          t(record_type, platform, account_key, post_key, author_key, created_at, kind)""")
    store = open_store(None)
    s = import_path(store, f).to_json()
    assert s["quarantined"] == 2 and s["posts"] == 1
    q = store.con.execute("SELECT line, reason FROM quarantine ORDER BY line").fetchall()
    assert q == [(3, "unknown record_type 'tweet'"), (4, "record_type missing")]
    assert store.con.execute("SELECT account_key, platform FROM accounts").fetchall() == [("a1", "x")]
    assert store.con.execute("SELECT post_key, author_key FROM posts").fetchall() == [("p1", "a1")]
