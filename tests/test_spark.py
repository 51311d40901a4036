"""Parity: the same scorecard (and text signals) on DuckDB and on Spark (local[2]) — issue 8.

Each test compares the DuckDB figures of a store with the Spark figures of the same store written as
a Parquet dataset: equal counts, rates equal to 1e-9. The Spark session is the test run's (conftest.py),
stopped at its end. Skipped only when PySpark or Java is missing on this machine (CI installs both).
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
from pathlib import Path
from typing import Any

import pytest

from socialleads.engine.parquet import DatasetError, read_manifest, write_dataset
from socialleads.enrich.signals import enrich
from socialleads.metrics.scorecard import scorecard_and_series
from socialleads.simulate import simulate
from socialleads.sources.importer import import_path
from socialleads.store import open_store
from socialleads.workspace.config import load_config

pyspark = pytest.importorskip("pyspark")
if shutil.which("java") is None and not __import__("os").environ.get("JAVA_HOME"):
    pytest.skip("no Java runtime for Spark", allow_module_level=True)

LARS = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "twitter" / "archive_larsbrinkhoff"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A simulated world imported and enriched, and the same store as a Parquet dataset."""
    base = tmp_path_factory.mktemp("spark_world")
    simulate(base / "sim", posts=8_000, seed=5)
    store = open_store(None)
    import_path(store, base / "sim")
    enrich(store)
    config = load_config(base / "sim" / "leads.toml")
    owner = [r[0] for r in store.con.execute("SELECT account_key FROM accounts WHERE is_owner "
                                             "ORDER BY account_key").fetchall()]
    # topics and content classes too, so that every section has its inputs (hot questions, voice, classes)
    from socialleads.classify.classes import classify_posts
    from socialleads.dominate.members import members_of
    from socialleads.listen.topics import fit_topics

    fit_topics(store)
    classify_posts(store, config, account_keys=sorted({k for m in members_of(store, config, owner) for k in m.keys}))
    write_dataset(store, base / "parquet")
    yield store, config, owner, base / "parquet"
    store.close()


def assert_same(a: Any, b: Any, path: str = "") -> None:
    """Equal structure; equal ints/strings; floats equal to 1e-9 (absolute or relative)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), f"{path}: keys {set(a) ^ set(b)}"
        for k in a:
            assert_same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple) and len(a) == len(b), f"{path}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and not isinstance(a, bool):
        assert isinstance(b, float | int) and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), f"{path}: {a} != {b}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def test_scorecard_and_series_equal_on_duckdb_and_spark(spark, world):
    """Every section of the scorecard — audience, listen, engage, activate, dominate, mandate and the stage
    of influence — and the chart series: the same figures on Spark (SparkStore over the dataset) as on
    DuckDB (the store)."""
    from socialleads.engine.spark_sql import SparkStore

    store, config, owner, root = world
    duck = scorecard_and_series(store, owner, config, series=True)
    with SparkStore(spark, root) as on:
        on_spark = scorecard_and_series(on, owner, config, series=True)
    assert duck["scorecard"]["engine"] == "duckdb" and on_spark["scorecard"]["engine"] == "pyspark"
    a, b = duck["scorecard"], on_spark["scorecard"]
    assert a["audience"]["follower_source"] == "follows" and a["audience"]["followers"] > 0
    # the world gives each section something to compute: not a comparison of "not available"s
    for stage in ("listen", "engage", "activate", "dominate", "mandate"):
        assert a[stage]["available"] is True, (stage, a[stage].get("reason"))
    assert a["listen"]["hot_questions"]["topics"] and a["engage"]["who_matters"] and a["activate"]["clicks"]
    assert a["stage_of_influence"]["stage"]
    a.pop("engine"), b.pop("engine")
    assert_same(a, b, "scorecard")
    assert_same(duck["series"], on_spark["series"], "series")
    # without any store (Ibis tables only): the audience still comes from Spark, and the other sections
    # say why they are not available rather than reporting zeros
    from socialleads.engine.spark import spark_tables

    alone = scorecard_and_series(None, owner, config, series=False, tables=spark_tables(spark, root))["scorecard"]
    assert_same(a["audience"], alone["audience"], "audience without store")
    assert alone["listen"]["available"] is False and "SparkStore" in alone["engage"]["reason"]


def test_snapshot_sourced_audience_equal_on_spark(spark, tmp_path):
    """Follower snapshots (as-of joins on account and time) rather than follow events."""
    if not LARS.exists():
        pytest.skip("../shared fixtures not present")
    store = open_store(None)
    import_path(store, LARS / "archive_2021-03-22")
    import_path(store, LARS / "follower_snapshots")
    owner = [r[0] for r in store.con.execute("SELECT account_key FROM accounts WHERE is_owner").fetchall()]
    write_dataset(store, tmp_path / "pq")
    config = None
    duck = scorecard_and_series(store, owner, config, window_days=400, series=True)
    from socialleads.engine.spark_sql import SparkStore

    # every section on Spark too: a real archive has untimed follows and likes, and no inbound actions
    with SparkStore(spark, tmp_path / "pq") as on:
        on_spark = scorecard_and_series(on, owner, config, window_days=400, series=True)
    assert duck["scorecard"]["audience"]["follower_source"] == "follower_snapshots"
    a, b = duck["scorecard"], on_spark["scorecard"]
    a.pop("engine"), b.pop("engine")
    assert_same(a, b, "scorecard")
    assert_same(duck["series"], on_spark["series"], "series")
    store.close()


def test_enrichment_on_spark_equals_leads_enrich(spark, world, tmp_path):
    from socialleads.engine.spark import spark_enrich

    store, _, _, root = world
    n = spark_enrich(spark, root, tmp_path / "signals")
    got = {r["post_key"]: r for r in spark.read.parquet(str(tmp_path / "signals")).collect()}
    want = store.con.execute("SELECT post_key, sentiment_label, sentiment_score, is_question FROM post_signals"
                             ).fetchall()
    assert n == len(want) == len(got) == store.con.execute("SELECT count(*) FROM posts").fetchall()[0][0]
    for key, label, score, question in want:
        r = got[key]
        assert r["sentiment_label"] == label and r["is_question"] == question
        assert (score is None and r["sentiment_score"] is None) or math.isclose(score, r["sentiment_score"],
                                                                                 abs_tol=1e-12)


def test_classes_and_topics_on_spark_equal_duckdb(spark, world, tmp_path):
    """Content classes and topics computed on the executors (Arrow batch functions) equal the store's:
    the same classes for the same posts, and — the sample being every eligible post in post_key order on
    both engines — the same topics, labels, sizes and assignments (scores to float32 precision)."""
    from socialleads.dominate.members import members_of
    from socialleads.engine.spark_enrich import spark_classify, spark_topics

    store, config, owner, root = world
    copy = tmp_path / "pq"
    shutil.copytree(root, copy)
    n = spark_classify(spark, copy, config, owner)
    keys = sorted({k for m in members_of(store, config, owner) for k in m.keys})
    want = dict(store.con.execute("SELECT c.post_key, c.class FROM post_classes c JOIN posts p USING (post_key) "
                                  "WHERE p.author_key IN (SELECT unnest(?::VARCHAR[]))", [keys]).fetchall())
    got = {r["post_key"]: r["class"] for r in spark.read.parquet(str(copy / "post_classes")).collect()}
    assert n == len(want) > 100 and got == want
    summary = spark_topics(spark, copy)
    want_t = {k: (t, s) for k, t, s in store.con.execute("SELECT post_key, topic_id, score FROM post_topics").fetchall()}
    got_t = {r["post_key"]: (r["topic_id"], r["score"]) for r in spark.read.parquet(str(copy / "post_topics")).collect()}
    assert summary["posts"] == len(want_t) and set(got_t) == set(want_t)
    assert all(got_t[k][0] == want_t[k][0] and math.isclose(got_t[k][1], want_t[k][1], abs_tol=1e-6) for k in want_t)
    labels = sorted((r["topic_id"], r["label"], r["size"]) for r in spark.read.parquet(str(copy / "topics")).collect())
    assert labels == store.con.execute("SELECT topic_id, label, size FROM topics ORDER BY topic_id").fetchall()


def test_spark_store_on_a_uri_dataset(spark, world, tmp_path):
    """A dataset addressed by URI (as s3a://… on a cluster; file:// here): the manifest's tables, plus an
    enrichment table written beside them after the manifest (as spark_enrich does), are all readable."""
    import json

    from socialleads.engine.spark_sql import SparkStore

    store, _, _, root = world
    copy = tmp_path / "pq"
    shutil.copytree(root, copy)
    manifest = json.loads((copy / "_leads_manifest.json").read_text())
    manifest["tables"].pop("post_signals")
    (copy / "_leads_manifest.json").write_text(json.dumps(manifest))
    with SparkStore(spark, f"file://{copy}") as st:
        assert st.con.has("posts") and st.con.has("post_signals") and not st.con.has("no_such_table")
        n = st.con.execute("SELECT count(*) FROM post_signals").fetchall()[0][0]
    assert n == store.con.execute("SELECT count(*) FROM post_signals").fetchall()[0][0]


def test_dataset_manifest_and_refusal(world, tmp_path):
    store, _, _, root = world
    m = read_manifest(root)
    assert m["tables"]["posts"] == store.con.execute("SELECT count(*) FROM posts").fetchall()[0][0]
    assert sorted(p.name for p in (root / "posts").iterdir()) == ["platform=bluesky", "platform=mastodon",
                                                                  "platform=x"]
    with pytest.raises(DatasetError, match="not a socialleads Parquet dataset"):
        read_manifest(tmp_path)


def test_scorecard_cli_engine_spark(tmp_path):
    """`leads scorecard --engine spark --json` from the command line equals the DuckDB run, every section."""
    import json

    from tests.conftest import leads

    sim = tmp_path / "sim"
    simulate(sim, posts=2_000, seed=9)
    ws = tmp_path / "ws"
    assert leads("init", str(ws)).returncode == 0
    shutil.copy(sim / "leads.toml", ws / "leads.toml")
    assert leads("import", str(sim), "-w", str(ws)).returncode == 0
    duck = leads("scorecard", "-w", str(ws), "--json")
    spark_run = leads("scorecard", "-w", str(ws), "--json", "--engine", "spark", "--spark-master", "local[1]")
    assert duck.returncode == 0 and spark_run.returncode == 0, spark_run.stderr[-2000:]
    a, b = json.loads(duck.stdout), json.loads(spark_run.stdout)
    assert b["engine"] == "pyspark" and (ws / "parquet" / "_leads_manifest.json").is_file()
    a.pop("engine"), b.pop("engine")
    assert_same(a, b, "scorecard")
    # per-post enrichment of the dataset on Spark: signals, topics, classes (one JSON summary)
    enr = leads("enrich", "-w", str(ws), "--engine", "spark", "--spark-master", "local[1]", "--json")
    assert enr.returncode == 0, enr.stderr[-2000:]
    got = json.loads(enr.stdout)
    posts = read_manifest(ws / "parquet")["tables"]["posts"]
    assert got["computed"] == posts and got["topics"]["posts"] > 0 and got["classes"]["computed"] > 0
    assert all((ws / "parquet" / t).is_dir() for t in ("post_signals", "post_topics", "topics", "post_classes"))
    # the report from the Spark figures (the dataset now holds the Spark-made topics and classes)
    rep = leads("report", "-w", str(ws), "-o", str(tmp_path / "r.html"), "--engine", "spark",
                "--spark-master", "local[1]")
    assert rep.returncode == 0, rep.stderr[-2000:]
    assert (tmp_path / "r.html").stat().st_size > 100_000 and "Traceback" not in rep.stderr
    bad = leads("scorecard", "-w", str(ws), "--engine", "flink")
    assert bad.returncode != 0 and "Traceback" not in bad.stderr and "--engine" in bad.stderr


def test_window_literals_are_utc_on_spark(spark, world):
    """The session runs in UTC: a window boundary compares the same on both engines."""
    from socialleads.engine.spark import spark_tables
    from socialleads.metrics.window import window_for

    store, _, _, root = world
    from socialleads.metrics.tables import tables_for

    w_duck = window_for(tables_for(store), 90)
    w_spark = window_for(spark_tables(spark, root), 90)
    assert w_duck == w_spark and w_duck.end.tzinfo == dt.UTC


def test_import_straight_to_parquet_gives_the_same_audience_on_spark(spark, world, tmp_path):
    """`leads import --to-parquet`: a dataset made with no workspace store, read by Spark, gives the audience
    figures of the workspace import of the same input (and a second import of it changes nothing)."""
    from socialleads.engine.dataset_import import import_to_dataset
    from socialleads.engine.spark import spark_tables

    store, config, owner, root = world
    lake = tmp_path / "lake"
    import_to_dataset(root.parent / "sim", lake)
    import_to_dataset(root.parent / "sim", lake)
    duck = scorecard_and_series(store, owner, config, series=False)["scorecard"]["audience"]
    alone = scorecard_and_series(None, owner, config, series=False, tables=spark_tables(spark, lake))["scorecard"]
    assert duck["followers"] > 0
    assert_same(duck, alone["audience"], "audience")
