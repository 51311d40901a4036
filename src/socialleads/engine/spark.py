"""The metrics on Apache Spark (`--engine spark`): the same Ibis expressions, run by PySpark.

The workspace's data is laid out as a Parquet dataset (`socialleads.engine.parquet`), one folder per
table; `spark_tables` wraps it as the `Tables` the metrics take, so `scorecard_and_series` runs
unchanged. Per-post enrichment runs as an Arrow batch function (`mapInArrow`) calling the same
vectorized scorer as `leads enrich` (`spark_enrich`).

PySpark is an optional dependency (extra `spark`); it needs a Java 17+ runtime.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from socialleads.errors import LeadsError
from socialleads.metrics.tables import Tables

METRIC_TABLES = ("posts", "interactions", "accounts", "follower_snapshots", "metrics_snapshots")


class SparkUnavailable(LeadsError):
    """PySpark or Java is missing, or the Spark master cannot be reached."""

    exit_code = 2


def _pyspark() -> Any:
    try:
        import pyspark  # noqa: F401
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise SparkUnavailable("--engine spark needs PySpark: pip install 'socialleads[spark]' "
                               "(and a Java 17+ runtime)") from exc
    return SparkSession


def spark_session(master: str | None = None, app_name: str = "socialleads",
                  conf: dict[str, str] | None = None) -> Any:
    """A SparkSession with the settings the metrics rely on: UTC session time zone (the store's
    timestamps are naive UTC), no UI, and few shuffle partitions for a local master.

    `master` defaults to $LEADS_SPARK_MASTER, else local[2]. On a cluster, pass its URL (or use
    spark-submit, which sets it) — see docs/spark.md.
    """
    SparkSession = _pyspark()
    master = master or os.environ.get("LEADS_SPARK_MASTER") or "local[2]"
    builder = (SparkSession.builder.master(master).appName(app_name)
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")   # no "[Stage N:>" bars over the user's output
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               # ANSI SQL, explicitly (the default of Spark 4, not of 3.x): a cast or an arithmetic error
               # fails rather than turning into NULL, so a figure is never silently different from DuckDB's
               .config("spark.sql.ansi.enabled", "true"))
    if master.startswith("local"):
        builder = builder.config("spark.sql.shuffle.partitions", "8").config("spark.driver.memory", "2g")
    for k, v in (conf or {}).items():
        builder = builder.config(k, v)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # Java missing, master unreachable: one line for the user
        raise SparkUnavailable(f"cannot start Spark (master {master}): {first_line(exc)}") from exc
    # Spark's own WARN lines (e.g. WindowExec's "no partition defined") are not the user's business; errors
    # still surface, as one-line SparkSQLError / SparkUnavailable messages. LEADS_SPARK_LOG_LEVEL to change it.
    session.sparkContext.setLogLevel(os.environ.get("LEADS_SPARK_LOG_LEVEL", "ERROR"))
    return session


def spark_tables(session: Any, root: Path | str) -> Tables:
    """The metric tables of a Parquet dataset written by `socialleads.engine.parquet.write_dataset`."""
    import ibis

    from socialleads.engine.parquet import read_manifest

    if _is_uri(root):  # object storage (s3a://, gs://, abfss://, hdfs://): read by Spark itself
        paths = {name: table_uri(root, name) for name in METRIC_TABLES}
    else:
        read_manifest(root)  # refuses a local folder that is not a dataset, with one line
        paths = {name: table_uri(root, name) for name in METRIC_TABLES}
    backend = ibis.pyspark.connect(session)
    tabs = {name: backend.read_parquet(path, table_name=f"leads_{name}") for name, path in paths.items()}
    return Tables(backend=backend, **tabs)


def _is_uri(root: Path | str) -> bool:
    return "://" in str(root)


def table_uri(root: Path | str, name: str) -> str:
    """Where table `name` of a dataset lives: `<root>/<name>` as Spark reads it (a URI, or a local path)."""
    from socialleads.engine.parquet import table_path

    return f"{str(root).rstrip('/')}/{name}" if _is_uri(root) else str(table_path(root, name))


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (Spark's carry a JVM stack trace after it)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _empty_posts() -> Any:
    import pyarrow as pa

    return pa.table({"post_key": pa.array([], pa.string()), "text": pa.array([], pa.string()),
                     "lang": pa.array([], pa.string())})


def _signals_batches(batches: Iterator[Any]) -> Iterator[Any]:
    """mapInArrow body: (post_key, text, lang) batches → post_signals batches, vectorized per batch."""
    import pyarrow as pa

    from socialleads.enrich.signals import DEFAULT_MODEL_NAME, _signals

    for b in batches:
        if b.num_rows:
            yield from _signals(pa.Table.from_batches([b]), None, DEFAULT_MODEL_NAME).to_batches()


def spark_enrich(session: Any, root: Path | str, out: Path | str | None = None) -> int:
    """Text signals for every post of the dataset, computed on Spark's executors in Arrow batches (the
    same scorer as `leads enrich`); written as `<root>/post_signals/`. Returns the number of rows."""
    from pyspark.sql.pandas.types import from_arrow_schema

    from socialleads.enrich.signals import DEFAULT_MODEL_NAME, _signals

    at = functools.partial(table_uri, root)

    posts = session.read.parquet(at("posts")).select("post_key", "text", "lang")
    schema = _signals(_empty_posts(), None, DEFAULT_MODEL_NAME).schema
    result = posts.mapInArrow(_signals_batches, from_arrow_schema(schema))
    target = str(out) if out else at("post_signals")
    result.write.mode("overwrite").parquet(target)
    return int(session.read.parquet(target).count())


__all__ = ["METRIC_TABLES", "SparkUnavailable", "first_line", "spark_enrich", "spark_session", "spark_tables",
           "table_uri"]
