"""DuckDB SQL → Spark SQL for the stage sections (engine/spark_sql.py): sqlglot's transpiler plus the
rewrites where the two engines differ and sqlglot cannot know it from the text alone.

Each rewrite keeps DuckDB's meaning:

* `epoch(a - b)` / `epoch(t)` are seconds with their fraction (Spark's UNIX_TIMESTAMP would truncate and
  refuses an interval): micro-seconds through UNIX_MICROS, divided by 10^6; `epoch_us(t)` likewise;
* `INTERVAL (n) DAY`, `to_days(n)`, `to_hours(n)`: n × a one-unit interval;
* `list(x ORDER BY k [DESC])`: COLLECT_LIST keeps no order, so (k, x) pairs are collected, sorted and
  mapped back to x;
* `l ASOF LEFT JOIN r ON l.a = r.a AND l.t >= r.t`: a LEFT JOIN on the same condition, keeping for
  each left row the match with the greatest r.t (row_number over a per-row id);
* `information_schema.tables`: the views the connection holds; `temp.main.x`: `x`.
"""

from __future__ import annotations

import itertools
from typing import Any

_ids = itertools.count()


def to_spark(stmt: Any, con: Any) -> str:
    """One parsed DuckDB statement as Spark SQL text."""
    from sqlglot import exp

    stmt = stmt.copy()
    for table in list(stmt.find_all(exp.Table)):
        db = table.args.get("db")
        if db is not None and db.name.lower() == "information_schema":
            table.replace(_catalog_values(con, table))
        elif db is not None or table.args.get("catalog") is not None:
            table.set("db", None)       # temp.main."x" / main.x: Spark's temp views have no schema
            table.set("catalog", None)
    stmt = stmt.transform(_rewrite)
    for select in list(stmt.find_all(exp.Select)):
        if any(_is_asof(j) for j in select.args.get("joins") or []):
            select.replace(_asof(select))
    return stmt.sql(dialect="spark")


def _micros(e: Any) -> Any:
    from sqlglot import exp

    return exp.func("UNIX_MICROS", exp.cast(e, exp.DataType.build("TIMESTAMP", dialect="spark")))


def _seconds(micros: Any) -> Any:
    from sqlglot import exp

    # a DOUBLE divisor: DuckDB's epoch() is a DOUBLE (a DECIMAL literal would make Spark compute in DECIMAL)
    return exp.Div(this=exp.paren(micros), expression=exp.cast(exp.Literal.number(1000000), "DOUBLE"))


_UNITS = {"DAY": "DAY", "DAYS": "DAY", "HOUR": "HOUR", "HOURS": "HOUR", "MINUTE": "MINUTE", "MINUTES": "MINUTE",
          "SECOND": "SECOND", "SECONDS": "SECOND"}


def _times_unit(n: Any, unit: str) -> Any:
    from sqlglot import exp

    one = exp.Interval(this=exp.Literal.string("1"), unit=exp.var(unit))
    return exp.paren(exp.Mul(this=exp.paren(n), expression=one))


def _rewrite(node: Any) -> Any:
    from sqlglot import exp

    if isinstance(node, exp.TimeToUnix):
        arg = node.this
        if isinstance(arg, exp.Paren):
            arg = arg.this
        if isinstance(arg, exp.Sub):
            return _seconds(exp.Sub(this=_micros(arg.this), expression=_micros(arg.expression)))
        return _seconds(_micros(arg))
    if isinstance(node, exp.Anonymous) and node.name.lower() == "epoch_us":
        return _micros(node.expressions[0])
    if isinstance(node, exp.Anonymous) and node.name.lower() in ("to_hours", "to_minutes", "to_seconds"):
        return _times_unit(node.expressions[0], node.name.upper()[3:-1])
    if isinstance(node, exp.ToDays):
        return _times_unit(node.this, "DAY")
    if isinstance(node, exp.Interval) and not (isinstance(node.this, exp.Literal) and node.this.is_string):
        unit = _UNITS.get(node.unit.name.upper()) if node.unit is not None else None
        if unit is not None:
            n = node.this.this if isinstance(node.this, exp.Paren) else node.this
            if isinstance(n, exp.Literal):
                return exp.Interval(this=exp.Literal.string(n.this), unit=exp.var(unit))
            return _times_unit(n, unit)
    if isinstance(node, exp.Filter) and isinstance(node.this, exp.ArrayAgg) and isinstance(node.this.this, exp.Order):
        return _ordered_list(node.this, node.args.get("expression"))
    if isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order):
        return _ordered_list(node)
    return node


def _ordered_list(node: Any, where: Any = None) -> Any:
    """list(x ORDER BY k1 [DESC], ...) [FILTER (WHERE c)] →
    TRANSFORM(SORT_ARRAY(COLLECT_LIST(STRUCT(k..., x)) [FILTER (WHERE c)], asc), p -> p.v)."""
    from sqlglot import exp

    order = node.this
    keys = order.expressions
    desc = {bool(k.args.get("desc")) for k in keys}
    if len(desc) != 1:
        from socialleads.engine.spark_sql import SparkSQLError

        raise SparkSQLError("list(... ORDER BY) with mixed directions has no Spark rewrite")
    fields = [exp.PropertyEQ(this=exp.to_identifier(f"k{i}"), expression=k.this) for i, k in enumerate(keys)]
    fields.append(exp.PropertyEQ(this=exp.to_identifier("v"), expression=order.this))
    collected: Any = exp.ArrayAgg(this=exp.Struct(expressions=fields))
    if where is not None:
        collected = exp.Filter(this=collected, expression=where.copy())
    sorted_ = exp.func("SORT_ARRAY", collected, exp.false() if desc.pop() else exp.true())
    lam = exp.Lambda(this=exp.Dot(this=exp.column("p"), expression=exp.to_identifier("v")),
                     expressions=[exp.to_identifier("p")])
    return exp.func("TRANSFORM", sorted_, lam)


def _is_asof(join: Any) -> bool:
    return "ASOF" in str(join.args.get("method") or "").upper() or str(join.args.get("kind") or "").upper() == "ASOF"


def _asof(select: Any) -> Any:
    """SELECT ... FROM l ASOF LEFT JOIN r ON eq AND l.t >= r.t → the same LEFT JOIN, best match per l row."""
    from sqlglot import exp

    joins = select.args["joins"]
    asof = [j for j in joins if _is_asof(j)]
    if len(asof) != 1 or len(joins) != 1:
        from socialleads.engine.spark_sql import SparkSQLError

        raise SparkSQLError("an ASOF join must be the only join of its SELECT for the Spark rewrite")
    join = asof[0]
    n = next(_ids)
    rid, rn = f"__asof_rid{n}", f"__asof_rn{n}"
    ge = next((c for c in join.args["on"].find_all(exp.GTE)), None)
    if ge is None:
        from socialleads.engine.spark_sql import SparkSQLError

        raise SparkSQLError("an ASOF join needs a `left.t >= right.t` condition for the Spark rewrite")
    left = select.args["from_"].this
    alias = left.alias_or_name
    inner_left = exp.select("*", exp.alias_(exp.func("MONOTONICALLY_INCREASING_ID"), rid)).from_(left.copy())
    select.args["from_"].set("this", exp.Subquery(this=inner_left, alias=exp.TableAlias(this=exp.to_identifier(alias))))
    join.set("kind", None)
    join.set("method", None)
    join.set("side", "LEFT")
    window = exp.Window(this=exp.RowNumber(), partition_by=[exp.column(rid, table=alias)],
                        order=exp.Order(expressions=[exp.Ordered(this=ge.expression.copy(), desc=True)]))
    select.append("expressions", exp.alias_(window, rn))
    outer = exp.select("*").from_(exp.Subquery(this=select.copy(), alias=exp.TableAlias(this=exp.to_identifier(f"__asof{n}"))))
    return outer.where(exp.EQ(this=exp.column(rn), expression=exp.Literal.number(1)))


def _catalog_values(con: Any, table: Any) -> Any:
    """information_schema.tables as an inline table of the views the connection holds."""
    import sqlglot
    from sqlglot import exp

    name = table.name.lower()
    if name != "tables":
        from socialleads.engine.spark_sql import SparkSQLError

        raise SparkSQLError(f"information_schema.{name} is not available on Spark")
    rows = con.catalog_rows()
    alias = table.alias or "tables"
    values = ", ".join("(" + ", ".join("'" + v.replace("'", "''") + "'" for v in r) + ")" for r in rows)
    sub = sqlglot.parse_one(f"SELECT * FROM (VALUES {values}) AS v(table_schema, table_name, table_type)", read="spark")
    return exp.Subquery(this=sub, alias=exp.TableAlias(this=exp.to_identifier(alias)))


__all__ = ["to_spark"]
