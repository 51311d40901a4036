"""Run the scorecard on the engine a workspace asks for (`--engine`, else `engine` in leads.toml)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from socialleads.engine import ENGINES
from socialleads.errors import LeadsError


class EngineError(LeadsError):
    exit_code = 2


def dataset_for(ws: Any, parquet: Path | str | None) -> Path | str:
    """The Parquet dataset to run on: `parquet` as given (a folder, or an object-storage URI such as
    s3a://bucket/leads), else `<workspace>/parquet`, (re)written from the store when it is missing or
    older than the store."""
    from socialleads.engine.parquet import MANIFEST, write_dataset

    if parquet is not None:
        return parquet if "://" in str(parquet) else Path(parquet)
    root = Path(ws.root) / "parquet"
    manifest = root / MANIFEST
    db = Path(ws.store.path) if ws.store.path else None
    if not manifest.is_file() or (db is not None and db.stat().st_mtime > manifest.stat().st_mtime):
        write_dataset(ws.store, root)
    return root


def scorecard_on(ws: Any, engine: str | None = None, *, master: str | None = None, parquet: Path | str | None = None,
                 window_days: int | None = None, series: bool = False) -> dict[str, Any]:
    """{'scorecard', 'series'} on DuckDB (the store) or on Spark (every section over the Parquet dataset:
    the audience figures as Ibis expressions on PySpark, the stage sections' SQL through
    engine/spark_sql.SparkStore)."""
    from socialleads.metrics.scorecard import scorecard_and_series

    engine = engine or getattr(ws.config, "engine", None) or "duckdb"
    if engine not in ENGINES:
        raise EngineError(f"--engine: expected one of {', '.join(ENGINES)}, got {engine!r}")
    if engine == "duckdb":
        return scorecard_and_series(ws.store, ws.owner_keys(), ws.config, window_days, series=series)
    from socialleads.engine.spark_sql import SparkStore

    root = dataset_for(ws, parquet)
    with _session(master) as session, SparkStore(session, root) as store:
        return scorecard_and_series(store, ws.owner_keys(), ws.config, window_days, series=series)


@contextmanager
def _session(master: str | None) -> Iterator[Any]:
    """A SparkSession for one command: stopped at the end when this call started it (a session the caller
    already had is left running)."""
    from socialleads.engine.spark import _pyspark, spark_session

    had = _pyspark().getActiveSession() is not None
    session = spark_session(master)
    try:
        yield session
    finally:
        if not had:
            session.stop()


def enrich_on_spark(ws: Any, *, master: str | None = None, parquet: Path | str | None = None,
                    topics: bool = True, classes: bool = True) -> dict[str, Any]:
    """Per-post enrichment of the dataset on Spark, each as Arrow batch functions on the executors: text
    signals (`<dataset>/post_signals/`), and unless turned off topics (fitted on the driver over a
    sample, assigned on the executors) and the content classes of the owner's and the competitors' posts.
    Each table is replaced."""
    import time

    from socialleads.engine.spark import spark_enrich, table_uri

    root = dataset_for(ws, parquet)
    with _session(master) as session:
        t0 = time.perf_counter()
        n = spark_enrich(session, root)
        out: dict[str, Any] = {"engine": "spark", "computed": n, "path": table_uri(root, "post_signals"),
                               "seconds": round(time.perf_counter() - t0, 3)}
        if topics:
            from socialleads.engine.spark_enrich import spark_topics
            from socialleads.listen.topics import TopicError

            t1 = time.perf_counter()
            try:
                out["topics"] = {**spark_topics(session, root), "seconds": round(time.perf_counter() - t1, 3)}
            except TopicError as exc:   # too few posts with text: the other enrichments still run
                out["topics"] = {"skipped": str(exc)}
        if classes and ws.owner_keys():
            from socialleads.engine.spark_enrich import spark_classify

            t1 = time.perf_counter()
            out["classes"] = {"computed": spark_classify(session, root, ws.config, ws.owner_keys()),
                              "seconds": round(time.perf_counter() - t1, 3)}
    return out


__all__ = ["EngineError", "dataset_for", "enrich_on_spark", "scorecard_on"]
