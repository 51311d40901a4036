"""`leads import --to-parquet DIR`: import straight into a Parquet dataset (engine/dataset_import.py).

The reference is the workspace import of the same inputs (`import_path` into a DuckDB store): the dataset
must hold exactly the store's rows, table by table; a second import of the same input appends nothing;
a delete of a record already in the dataset is quarantined, never silently dropped.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from socialleads.engine.dataset_import import DELETE_REASON, KEYS, import_to_dataset
from socialleads.engine.parquet import DatasetError, read_manifest
from socialleads.simulate import simulate
from socialleads.sources.importer import import_path
from socialleads.store import open_store
from tests.conftest import leads


def _rows(con: duckdb.DuckDBPyConnection, rel: str, cols: list[str]) -> list[tuple]:
    sel = ", ".join(f'"{c}"::VARCHAR' for c in cols)
    return sorted(con.execute(f"SELECT {sel} FROM {rel}").fetchall(), key=repr)


def _dataset_rel(root: Path, table: str) -> str:
    return f"read_parquet('{root / table}/**/*.parquet', hive_partitioning=true, union_by_name=true)"


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("ds_world")
    simulate(base / "sim", posts=3_000, seed=3)
    return base / "sim"


def test_dataset_holds_exactly_what_a_workspace_import_stores(world, tmp_path):
    store = open_store(None)
    import_path(store, world)
    root = tmp_path / "lake"
    out = import_to_dataset(world, root)
    assert out["complete"] and out["quarantined"] == 0 and out["posts"] > 0
    con = duckdb.connect()
    for table in KEYS:
        cols = [r[0] for r in store.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
            [table]).fetchall() if r[0] not in ("ingest_run_id", "first_seen_at")]  # run id, wall clock
        want = _rows(store.con, f'"{table}"', cols)
        if not want:
            continue
        got = _rows(con, _dataset_rel(root, table), cols)
        assert got == want, table
        assert out["dataset"]["tables"][table]["appended"] == len(want)
    m = read_manifest(root)
    assert m["tables"]["posts"] == store.con.execute("SELECT count(*) FROM posts").fetchall()[0][0]
    assert m["partitioned_by"]["posts"] == "platform" and len(m["imports"]) == 1
    assert not (root / "_import").exists()                    # the scratch store is gone
    assert (root / "_ingest_runs").is_dir()
    # every table of the layout is readable, empty ones included (schema-only files)
    assert con.execute(f"SELECT count(*) FROM {_dataset_rel(root, 'post_signals')}").fetchall()[0][0] == 0

    # the same input again: nothing appended, the counts as they were
    again = import_to_dataset(world, root)
    assert all(t["appended"] == 0 for t in again["dataset"]["tables"].values())
    assert con.execute(f"SELECT count(*) FROM {_dataset_rel(root, 'posts')}").fetchall()[0][0] == m["tables"]["posts"]
    assert read_manifest(root)["tables"] == m["tables"] and len(read_manifest(root)["imports"]) == 2
    store.close()


def _jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_a_later_delete_of_a_stored_record_is_quarantined_not_lost(tmp_path):
    post = {"record_type": "post", "post_key": "x:1", "platform": "x", "author_key": "x:u1",
            "created_at": "2026-01-02T03:04:05Z", "kind": "original", "text": "hello"}
    root = tmp_path / "lake"
    first = import_to_dataset(_jsonl(tmp_path / "a.jsonl", [post]), root)
    assert first["dataset"]["tables"]["posts"]["appended"] == 1
    # a later input: the same post now deleted, and a new one
    later = [{**post, "is_deleted": True},
             {**post, "post_key": "x:2", "text": "second"}]
    out = import_to_dataset(_jsonl(tmp_path / "b.jsonl", later), root)
    assert out["dataset"]["tables"]["posts"] == {"appended": 1, "already_in_dataset": 1}
    assert out["quarantined"] == 1 and out["complete"] is False
    con = duckdb.connect()
    q = con.execute(f"SELECT reason, raw FROM read_parquet('{root}/_quarantine/*.parquet')").fetchall()
    assert [r[0] for r in q] == [DELETE_REASON] and '"x:1"' in q[0][1]
    keys = con.execute(f"SELECT post_key, is_deleted FROM {_dataset_rel(root, 'posts')} ORDER BY 1").fetchall()
    assert keys == [("x:1", False), ("x:2", False)]


def test_cli_to_parquet_and_refusals(world, tmp_path):
    root = tmp_path / "lake"
    r = leads("import", str(world), "--to-parquet", str(root), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["dataset"]["tables"]["posts"]["appended"] == out["posts"] > 0
    # a folder with other things in it is not taken over
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    r = leads("import", str(world), "--to-parquet", str(other))
    assert r.returncode == 2 and "neither empty nor a socialleads Parquet dataset" in r.stderr
    assert "Traceback" not in r.stderr and (other / "notes.txt").read_text() == "mine"
    with pytest.raises(DatasetError):
        import_to_dataset(world, other)


def test_an_archive_owner_is_reported(tmp_path):
    """An X archive's own account is the owner's: with no workspace to add it to, the import names it."""
    arch = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "twitter" / "x_archive_2020_tweet_js"
    if not arch.exists():
        pytest.skip("../shared fixtures not present")
    r = leads("import", str(arch), "--to-parquet", str(tmp_path / "lake"), "--json")
    assert r.returncode in (0, 3), r.stderr
    owners = json.loads(r.stdout)["owner_accounts"]
    assert len(owners) == 1 and owners[0]["platform"] == "x" and owners[0]["account_key"].startswith("x:")
    con = duckdb.connect()
    flagged = con.execute(f"SELECT account_key FROM {_dataset_rel(tmp_path / 'lake', 'accounts')} "
                          "WHERE is_owner").fetchall()
    assert [k for (k,) in flagged] == [owners[0]["account_key"]]
