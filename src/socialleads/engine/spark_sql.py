"""The LEADS stage sections on Spark: their SQL, written once in DuckDB's dialect, run by Spark SQL.

Listen, Engage, Activate, Dominate and Mandate read the store through a small part of DuckDB's
Python API (`con.execute(sql, params)`, `con.sql(...)`, `register`/`unregister`, and on the results
`fetchall`, `fetchone`, `fetchnumpy`, `to_arrow_table`). `SparkStore` offers that same part over a
Parquet dataset (`socialleads.engine.parquet`) on a SparkSession, so every section runs unchanged on
`--engine spark`:

* parameters (`?` and `$name`) are bound as SQL literals before the statement is parsed;
* each statement is parsed as DuckDB SQL and written as Spark SQL by sqlglot (the SQL compiler Ibis
  itself is built on), with the few rewrites below where the two engines differ;
* `CREATE [OR REPLACE] TEMP TABLE t AS query` materializes the query (a checkpointed DataFrame
  registered as the temp view t); `DROP TABLE|VIEW` drops the view; `information_schema.tables` is
  answered from Spark's catalog;
* results come back as Arrow tables (`DataFrame.toArrow`), with Spark's UTC timestamps made naive UTC
  as the store keeps them, so Python code downstream sees what DuckDB would give.

The per-post work that is not SQL (PageRank, Leiden, topic terms, coach texts) runs on the driver over
aggregates, as it does on DuckDB. Only aggregates and top-N lists reach the driver; the one exception is
documented where it happens (the interaction graph's edge list, one row per (actor, target) pair).
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging
import math
import uuid
from pathlib import Path
from typing import Any

from socialleads.errors import LeadsError


class SparkSQLError(LeadsError):
    """A statement that could not be run on Spark (a DuckDB-only construct without a Spark rewrite)."""

    exit_code = 70


# ---------------------------------------------------------------- parameters


def _literal(v: Any) -> str:
    """`v` as a DuckDB SQL literal (the statement is then parsed as DuckDB SQL)."""
    if hasattr(v, "item") and hasattr(v, "dtype") and getattr(v, "ndim", 0) == 0:   # a numpy scalar
        v = v.item()
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "CAST('NaN' AS DOUBLE)"
        if math.isinf(v):
            return "CAST('Infinity' AS DOUBLE)" if v > 0 else "CAST('-Infinity' AS DOUBLE)"
        return f"CAST({v!r} AS DOUBLE)"
    if isinstance(v, decimal.Decimal):
        if not v.is_finite():
            raise SparkSQLError(f"cannot bind the decimal {v} on Spark")
        return f"CAST('{v}' AS DECIMAL(38, {max(0, -v.as_tuple().exponent)}))"
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(dt.UTC).replace(tzinfo=None)
        return f"CAST('{v.isoformat(sep=' ', timespec='microseconds')}' AS TIMESTAMP)"
    if isinstance(v, dt.date):
        return f"CAST('{v.isoformat()}' AS DATE)"
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    if isinstance(v, list | tuple):
        if not v:
            return "CAST([] AS VARCHAR[])"
        return "[" + ", ".join(_literal(x) for x in v) + "]"
    raise SparkSQLError(f"cannot bind a parameter of type {type(v).__name__} on Spark")


def bind(sql: str, params: Any) -> str:
    """`sql` with its `?` (a list of params) or `$name` (a dict) placeholders replaced by literals."""
    if not params:
        return sql
    from sqlglot.dialects.duckdb import DuckDB
    from sqlglot.tokens import TokenType

    tokens = DuckDB().tokenize(sql)
    out, pos, i = [], 0, 0
    for n, tok in enumerate(tokens):
        if isinstance(params, dict):
            if tok.token_type == TokenType.PARAMETER and n + 1 < len(tokens):
                name_tok = tokens[n + 1]
                if name_tok.text in params:
                    out.append(sql[pos:tok.start])
                    out.append(_literal(params[name_tok.text]))
                    pos = name_tok.end + 1
        elif (tok.token_type == TokenType.PLACEHOLDER and tok.text == "?") or \
                (tok.token_type == TokenType.QDCOLON and tok.text == "?::"):   # `?::TYPE` is one token
            if i >= len(params):
                raise SparkSQLError(f"the statement has more ? placeholders than the {len(params)} parameter(s) given")
            out.append(sql[pos:tok.start])
            out.append(_literal(params[i]) + tok.text[1:])
            pos = tok.end + 1
            i += 1
    if not isinstance(params, dict) and i != len(params):
        raise SparkSQLError(f"the statement has {i} ? placeholder(s) for {len(params)} parameter(s)")
    out.append(sql[pos:])
    return "".join(out)


# ---------------------------------------------------------------- results


class SparkResult:
    """The part of DuckDB's result / relation API the sections use, over a Spark DataFrame (lazy)."""

    def __init__(self, con: SparkCon, df: Any | None) -> None:
        self._con, self._df, self._table = con, df, None

    def to_arrow_table(self) -> Any:
        import pyarrow as pa

        if self._table is None:
            if self._df is None:
                self._table = pa.table({})
            else:
                self._table = _naive_utc(_run_spark(self._df.toArrow))
        return self._table

    arrow = to_arrow_table
    fetch_arrow_table = to_arrow_table

    def dataframe(self) -> Any:
        """The Spark DataFrame behind the result (to hand to Spark itself, e.g. mapInArrow)."""
        return self._df

    def fetchall(self) -> list[tuple]:
        t = self.to_arrow_table()
        cols = [c.to_pylist() for c in t.columns]
        return list(zip(*cols, strict=True)) if cols else []

    def fetchone(self) -> tuple | None:
        rows = self.fetchall()
        return rows[0] if rows else None

    def fetchnumpy(self) -> dict[str, Any]:
        """Column → numpy array; as DuckDB, a masked array where the column holds NULLs."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        t = self.to_arrow_table()
        out: dict[str, Any] = {}
        for name in t.column_names:
            col = t.column(name)
            if not col.null_count:
                out[name] = col.to_numpy()
                continue
            typ = col.type
            fill = (False if pa.types.is_boolean(typ) else "" if pa.types.is_string(typ) or pa.types.is_large_string(typ)
                    else pa.scalar(0, typ) if (pa.types.is_integer(typ) or pa.types.is_floating(typ)) else None)
            data = col.fill_null(fill).to_numpy() if fill is not None else col.to_numpy()
            out[name] = np.ma.masked_array(data, mask=pc.is_null(col).to_numpy(zero_copy_only=False))
        return out

    def df(self) -> Any:
        return self.to_arrow_table().to_pandas()

    @property
    def columns(self) -> list[str]:
        return list(self._df.columns) if self._df is not None else []


def _run_spark(action: Any) -> Any:
    """Run a Spark action; an error Spark raises while executing (a bad cast, an overflow, a lost
    executor) becomes one line, as the errors it raises while planning do."""
    try:
        return action()
    except Exception as exc:
        if type(exc).__module__.startswith(("pyspark", "py4j")):
            from socialleads.engine.spark import first_line

            raise SparkSQLError(f"Spark failed on a statement: {first_line(exc)}") from exc
        raise


def _naive_type(t: Any) -> Any:
    """`t` with every timestamp (nested in lists and structs too) naive, and decimals as float64."""
    import pyarrow as pa

    if pa.types.is_timestamp(t) and t.tz is not None:
        return pa.timestamp(t.unit)
    if pa.types.is_decimal(t):
        return pa.float64()
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        inner = _naive_type(t.value_type)
        return t if inner == t.value_type else pa.list_(pa.field(t.value_field.name, inner, t.value_field.nullable))
    if pa.types.is_struct(t):
        fields = [pa.field(f.name, _naive_type(f.type), f.nullable) for f in t]
        return pa.struct(fields) if any(a.type != b.type for a, b in zip(fields, t, strict=True)) else t
    return t


def _naive_utc(table: Any) -> Any:
    """Spark hands timestamps to Arrow as UTC instants; the store (and DuckDB) keep naive UTC. Spark keeps
    arithmetic on DECIMAL literals in DECIMAL where DuckDB gives DOUBLE: such results come back as float64."""
    import pyarrow as pa

    fields, cols, changed = [], [], False
    for f, col in zip(table.schema, table.columns, strict=True):
        t = _naive_type(f.type)
        if t != f.type:
            col = col.cast(t)
            f = pa.field(f.name, t, f.nullable)
            changed = True
        fields.append(f)
        cols.append(col)
    return pa.Table.from_arrays(cols, schema=pa.schema(fields)) if changed else table


# ---------------------------------------------------------------- the connection


class SparkCon:
    """DuckDB's connection API, as far as the stage sections use it, over a SparkSession."""

    def __init__(self, session: Any, views: dict[str, Any]) -> None:
        self.session = session
        self._views = dict(views)    # name -> DataFrame (dataset tables, registered and temp tables)
        self._temp: set[str] = set()
        for name, df in views.items():
            df.createOrReplaceTempView(name)

    # -- DuckDB API
    def execute(self, sql: str, params: Any = None) -> SparkResult:
        return self._run(sql, params)

    def sql(self, sql: str, params: Any = None) -> SparkResult:
        return self._run(sql, params)

    def register(self, name: str, obj: Any) -> SparkCon:
        import pyarrow as pa

        if not isinstance(obj, pa.Table):
            obj = pa.Table.from_pandas(obj, preserve_index=False) if hasattr(obj, "to_numpy") else pa.table(obj)
        df = self.session.createDataFrame(obj) if obj.num_rows or obj.num_columns == 0 else \
            self.session.createDataFrame([], _spark_schema(obj.schema))
        df.createOrReplaceTempView(name)
        self._views[name] = df
        self._temp.add(name)
        return self

    def unregister(self, name: str) -> SparkCon:
        self._drop(name)
        return self

    def close(self) -> None:
        """Drop every view this connection made (the dataset's tables too): the session's temp views are
        shared, so one SparkStore per session at a time; closing leaves the session as it was."""
        for name in list(self._views):
            self._drop(name)

    # -- internals
    def _drop(self, name: str) -> None:
        self.session.catalog.dropTempView(name)
        df = self._views.pop(name, None)
        if df is not None and name in self._temp:
            df.unpersist()
        self._temp.discard(name)

    def has(self, name: str) -> bool:
        return name in self._views

    def dataframe(self, name: str) -> Any:
        """The DataFrame of a dataset table, registered table or temp table."""
        return self._views[name]

    def _run(self, sql: str, params: Any) -> SparkResult:
        import sqlglot
        from sqlglot import exp

        text = bind(sql, params)
        try:
            statements = [s for s in sqlglot.parse(text, read="duckdb") if s is not None]
        except sqlglot.errors.ParseError as exc:
            raise SparkSQLError(f"cannot read a statement for Spark: {str(exc).splitlines()[0]}") from exc
        result = SparkResult(self, None)
        for stmt in statements:
            if isinstance(stmt, exp.Drop):
                for table in stmt.find_all(exp.Table):
                    if table.name in self._views:
                        self._drop(table.name)
                continue
            if isinstance(stmt, exp.Create) and stmt.expression is not None:
                name = stmt.find(exp.Table).name
                df = self._query(stmt.expression)
                self._keep(name, df)
                continue
            if isinstance(stmt, exp.Create | exp.Insert | exp.Update | exp.Delete):
                first = " ".join(stmt.sql(dialect="duckdb").split())
                raise SparkSQLError(f"a write on Spark is not supported: {first[:80]}")
            result = SparkResult(self, self._query(stmt))
        return result

    def _keep(self, name: str, df: Any) -> None:
        """A temp table: the query's rows, computed now and kept (persisted: memory, then the executors'
        disks; recomputed from its lineage if an executor is lost), registered as a view."""
        df = df.persist()
        _run_spark(df.count)
        if name in self._views:
            self._drop(name)
        df.createOrReplaceTempView(name)
        self._views[name] = df
        self._temp.add(name)

    def _query(self, stmt: Any) -> Any:
        from socialleads.engine.spark_dialect import to_spark

        spark_sql = to_spark(stmt, self)
        try:
            df = self.session.sql(spark_sql)
            helpers = [c for c in df.columns if c.startswith("__asof_")]   # spark_dialect's ASOF rewrite
            return df.drop(*helpers) if helpers else df
        except Exception as exc:
            from socialleads.engine.spark import first_line

            logging.getLogger(__name__).debug("Spark refused:\n%s", spark_sql)
            raise SparkSQLError(f"Spark refused a statement: {first_line(exc)}") from exc

    def catalog_rows(self) -> list[tuple[str, str, str]]:
        """(table_schema, table_name, table_type) of every view, for information_schema.tables."""
        return [("main", name, "BASE TABLE" if name not in self._temp else "LOCAL TEMPORARY")
                for name in sorted(self._views)]


def _spark_schema(schema: Any) -> Any:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)


class SparkStore:
    """What the stage sections take as `store`, over a Parquet dataset on Spark (read-only)."""

    read_only = True
    path = None

    def __init__(self, session: Any, root: Path | str) -> None:
        from socialleads.engine.parquet import read_manifest
        from socialleads.engine.spark import _is_uri, table_uri

        if _is_uri(root):
            manifest = _uri_manifest(session, root)
        else:
            manifest = read_manifest(root)
        # the manifest's tables, and the enrichment tables written beside them since (spark_enrich,
        # spark_topics, spark_classify write their folders, not the manifest)
        names = set(manifest.get("tables", {})) | {n for n in ENRICHMENT_TABLES if _exists(session, root, n)}
        # the store's timestamps are naive UTC, and the SQL's time arithmetic assumes a UTC session
        session.conf.set("spark.sql.session.timeZone", "UTC")
        views = {}
        for name in sorted(names):
            try:
                views[name] = session.read.parquet(table_uri(root, name))
            except Exception as exc:
                from socialleads.engine.parquet import DatasetError
                from socialleads.engine.spark import first_line

                raise DatasetError(f"{table_uri(root, name)}: the dataset's table {name} cannot be read "
                                   f"({first_line(exc)[:200]})") from exc
        self.root = root
        self.manifest = manifest
        self.schema_version = manifest.get("schema_version")
        self.con = SparkCon(session, views)
        self._tables: Any = None

    def ibis_tables(self) -> Any:
        """The audience metrics' Ibis tables over the same dataset (engine/spark.spark_tables)."""
        if self._tables is None:
            from socialleads.engine.spark import spark_tables

            self._tables = spark_tables(self.con.session, self.root)
        return self._tables

    def close(self) -> None:
        self.con.close()
        if self._tables is not None:   # the views spark_tables made for the Ibis tables
            from socialleads.engine.spark import METRIC_TABLES

            for name in METRIC_TABLES:
                self.con.session.catalog.dropTempView(f"leads_{name}")
            self._tables = None

    def __enter__(self) -> SparkStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


ENRICHMENT_TABLES = ("post_signals", "topics", "post_topics", "topic_model", "post_classes")


def _exists(session: Any, root: Path | str, name: str) -> bool:
    from socialleads.engine.spark import _is_uri, table_uri

    if not _is_uri(root):
        p = Path(table_uri(root, name))
        return p.is_dir() and any(p.rglob("*.parquet"))
    try:
        session.read.parquet(table_uri(root, name)).schema  # noqa: B018 - raises when the folder is absent
    except Exception:  # AnalysisException: PATH_NOT_FOUND
        return False
    return True


def _uri_manifest(session: Any, root: Path | str) -> dict[str, Any]:
    """The manifest of a dataset on object storage, read through Hadoop's file system API."""
    import json

    base = str(root).rstrip("/")
    try:
        return json.loads(_read_text(session, f"{base}/_leads_manifest.json"))
    except Exception as exc:
        from socialleads.engine.parquet import DatasetError
        from socialleads.engine.spark import first_line

        raise DatasetError(f"{base}: cannot read the dataset's manifest _leads_manifest.json "
                           f"({first_line(exc)[:200]})") from exc


def _read_text(session: Any, uri: str) -> str:
    """A small file on any file system Spark reads (s3a://, hdfs://, file://), through Hadoop's API:
    Spark's own readers skip names starting with '_', as the manifest's does."""
    jvm = session.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    fs = path.getFileSystem(session.sparkContext._jsc.hadoopConfiguration())
    reader = jvm.java.io.BufferedReader(jvm.java.io.InputStreamReader(fs.open(path), "UTF-8"))
    try:
        lines = []
        while (line := reader.readLine()) is not None:
            lines.append(line)
        return "\n".join(lines)
    finally:
        reader.close()


def temp_name() -> str:
    return f"leads_tmp_{uuid.uuid4().hex}"


__all__ = ["SparkCon", "SparkResult", "SparkSQLError", "SparkStore", "bind"]
