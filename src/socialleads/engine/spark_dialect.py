"""DuckDB SQL → Spark SQL for the stage sections (engine/spark_sql.py): sqlglot's transpiler plus the
rewrites where the two engines differ and sqlglot cannot know it from the text alone.

Each rewrite keeps DuckDB's meaning:

* `epoch(a - b)` / `epoch(t)` are seconds with their fraction (Spark's UNIX_TIMESTAMP would truncate and
  refuses an interval): micro-seconds through UNIX_MICROS, divided by 10^6; `epoch_us(t)` likewise;
* `INTERVAL (n) DAY`, `to_days(n)`, `to_hours(n)`: n × a one-unit interval;
* `list(x [ORDER BY k [DESC]]) [FILTER (...)]`: COLLECT_LIST drops NULLs, keeps no order and is [] over
  no row, so (null flag, k, x) structs are collected, sorted and mapped back to x, NULL over no row;
* `a / b` is a DOUBLE division (Spark would keep DECIMAL operands in DECIMAL); `round(x, n)` rounds x·10ⁿ
  as DuckDB does; `quantile_cont(x, q)` is PERCENTILE(x, q); `url_decode` keeps '+' and bad '%' as DuckDB;
* regular expressions: an anchor `$` is written `\\z` (Java's `$` also matches before a final newline),
  the 'i' option an inline `(?i)`; `regexp_replace` without 'g' only where the pattern is anchored and
  cannot match the empty text (then the first match and every match agree); other options are refused;
* `'-infinity'::TIMESTAMP` (Spark has no infinite times) is refused;
* `l ASOF LEFT JOIN r ON l.a = r.a AND l.t >= r.t`: a LEFT JOIN on the same condition, keeping for
  each left row the match with the greatest r.t (row_number over a per-row id);
* `information_schema.tables`: the views the connection holds; `temp.main.x`: `x`.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

_ids = itertools.count()


def _refuse(msg: str) -> None:
    from socialleads.engine.spark_sql import SparkSQLError

    raise SparkSQLError(msg)


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
    stmt = _rewrite_tree(stmt)
    for select in list(stmt.find_all(exp.Select)):
        if any(_is_asof(j) for j in select.args.get("joins") or []):
            if select is stmt:
                stmt = _asof(select)
            else:
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


def _rewrite_tree(e: Any) -> Any:
    """Post-order: a node's arguments are rewritten before the node, so a rewrite that keeps them (as the
    division's cast keeps its operands) hands on rewritten ones."""
    from sqlglot import exp

    if isinstance(e, exp.Filter) and isinstance(e.this, exp.ArrayAgg):   # one rewrite for list() FILTER
        agg = e.this
        agg.set("this", _rewrite_tree(agg.this))
        return _list(agg, _rewrite_tree(e.args["expression"]))
    for key, value in list(e.args.items()):
        if isinstance(value, exp.Expression):
            e.set(key, _rewrite_tree(value))
        elif isinstance(value, list):
            e.set(key, [_rewrite_tree(v) if isinstance(v, exp.Expression) else v for v in value])
    return _rewrite(e)


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
    if isinstance(node, exp.ArrayAgg):
        return _list(node)
    if isinstance(node, exp.Div) and not isinstance(node.this, exp.Interval):
        # DuckDB's `/` is a DOUBLE division (1 / 2 = 0.5, 1 / 3.0 a DOUBLE); Spark keeps DECIMAL operands in
        # DECIMAL, rounded to 6 places
        return exp.Div(this=exp.cast(node.this, "DOUBLE"), expression=node.expression)
    if isinstance(node, exp.PercentileCont) and not isinstance(node.parent, exp.WithinGroup):
        return exp.func("PERCENTILE", node.this, node.expression)   # exact and interpolated, as quantile_cont
    if isinstance(node, exp.RegexpReplace | exp.RegexpLike | exp.RegexpExtract | exp.RegexpExtractAll | exp.RegexpSplit):
        return _regexp(node)
    if isinstance(node, exp.Round) and node.args.get("decimals") is not None:
        # DuckDB rounds a DOUBLE's exact binary value, Spark its shortest decimal text (round(3/160, 4):
        # 0.0187 vs 0.0188): refused; write floor(x * 10^n + 0.5) / 10^n, the same arithmetic on both
        _refuse(f"{node.sql(dialect='duckdb')}: round(x, n) rounds differently on Spark; "
                "use floor(x * 10^n + 0.5) / 10^n")
    if isinstance(node, exp.Anonymous) and node.name.lower() == "url_decode":
        # DuckDB keeps '+' and a '%' not followed by two hex digits as they are; Spark's url_decode turns '+'
        # into a space and fails on a bad '%'
        x = node.expressions[0]
        return exp.func("COALESCE", exp.func("TRY_URL_DECODE", exp.func("REPLACE", x.copy(), exp.Literal.string("+"),
                                                                          exp.Literal.string("%2B"))), x.copy())
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal) and node.this.is_string \
            and node.to.is_type(*exp.DataType.TEMPORAL_TYPES) \
            and node.this.this.strip().lower().lstrip("+-") in ("infinity", "inf"):
        _refuse(f"{node.sql(dialect='duckdb')}: Spark has no infinite timestamps or dates")
    return node


def _list(node: Any, where: Any = None) -> Any:
    """DuckDB's list(x [ORDER BY k1 [DESC], ...]) [FILTER (WHERE c)]: keeps NULL values, sorts NULL keys
    last (both directions) and is NULL over no row. Spark's COLLECT_LIST drops NULLs, keeps no order and
    gives [] over no row, so (null flag, key, ..., x) structs are collected, sorted, and mapped back to x:

    CASE WHEN COUNT(*) [FILTER (WHERE c)] > 0 THEN
         TRANSFORM(SORT_ARRAY(COLLECT_LIST(STRUCT(...)) [FILTER (WHERE c)], asc), p -> p.v) END"""
    from sqlglot import exp

    order = node.this if isinstance(node.this, exp.Order) else None
    value = order.this if order is not None else node.this
    keys = order.expressions if order is not None else []
    desc = {bool(k.args.get("desc")) for k in keys}
    if len(desc) > 1:
        _refuse("list(... ORDER BY) with mixed directions has no Spark rewrite")
    descending = bool(desc and desc.pop())
    fields = []
    for i, k in enumerate(keys):
        nulls_first = bool(k.args.get("nulls_first"))
        # the flag sorts before the key: NULL keys after the others unless NULLS FIRST was asked for
        flag = exp.Is(this=k.this.copy(), expression=exp.null())
        if descending != nulls_first:
            flag = exp.Not(this=flag)
        fields.append(exp.PropertyEQ(this=exp.to_identifier(f"n{i}"), expression=flag))
        fields.append(exp.PropertyEQ(this=exp.to_identifier(f"k{i}"), expression=k.this.copy()))
    fields.append(exp.PropertyEQ(this=exp.to_identifier("v"), expression=value.copy()))
    collected: Any = exp.ArrayAgg(this=exp.Struct(expressions=fields))
    count: Any = exp.Count(this=exp.Star())
    if where is not None:
        collected = exp.Filter(this=collected, expression=where.copy())
        count = exp.Filter(this=count, expression=where.copy())
    if keys:
        collected = exp.func("SORT_ARRAY", collected, exp.false() if descending else exp.true())
    lam = exp.Lambda(this=exp.Dot(this=exp.column("p"), expression=exp.to_identifier("v")),
                     expressions=[exp.to_identifier("p")])
    listed = exp.func("TRANSFORM", collected, lam)
    return exp.Case(ifs=[exp.If(this=exp.GT(this=count, expression=exp.Literal.number(0)), true=listed)])


def _regexp(node: Any) -> Any:
    """RE2 (DuckDB) and Java (Spark) patterns differ where the project could meet them: Java's `$` also
    matches before a final newline (written `\\z` here, the end of the text in both), DuckDB's options
    ('i' → an inline `(?i)`; 'g' for regexp_replace) are dropped by sqlglot, and regexp_replace without 'g'
    replaces the first match on DuckDB, every match on Spark."""
    from sqlglot import exp

    pat = node.args.get("expression")
    if not (isinstance(pat, exp.Literal) and pat.is_string):
        _refuse(f"{node.sql(dialect='duckdb')}: a regular expression that is not a literal has no Spark rewrite")
    key = next((k for k in ("modifiers", "flag", "parameters") if node.args.get(k) is not None), None)
    options = node.args.get(key) if key else None
    if options is not None and not (isinstance(options, exp.Literal) and options.is_string):
        _refuse(f"{node.sql(dialect='duckdb')}: regular expression options that are not a literal")
    flags = options.this if options is not None else ""
    unknown = set(flags) - ({"g", "i"} if isinstance(node, exp.RegexpReplace) else {"i"})
    if unknown:
        _refuse(f"{node.sql(dialect='duckdb')}: regular expression option(s) {''.join(sorted(unknown))} "
                "have no Spark rewrite")
    text = _end_anchor(pat.this)
    if isinstance(node, exp.RegexpReplace) and "g" not in flags:
        _check_first_only(text)
    if "i" in flags:
        text = "(?i)" + text
    node.set("expression", exp.Literal.string(text))
    if key:
        node.set(key, None)
    return node


def _end_anchor(pattern: str) -> str:
    """`pattern` with each `$` that is an anchor (not escaped, not in a [...] class) written `\\z`."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "]":   # ']' right after '[' is a literal member
                out.append("[]")
                i += 2
                continue
        elif c == "$":
            c = "\\z"
        out.append(c)
        i += 1
    return "".join(out)


def _check_first_only(pattern: str) -> None:
    """DuckDB's regexp_replace without 'g' replaces the first match, Spark's every match: they agree when
    the pattern can match once only — anchored at the start (^) or the end, and not matching the empty
    text (Java finds an empty match again at the end) — which is how the project's SQL uses it; any other
    is refused rather than computed differently."""
    anchored = "|" not in pattern and (pattern.startswith("^") or pattern.endswith("\\z"))
    body = pattern.removeprefix("^").removesuffix("\\z")
    try:
        empty = re.fullmatch(body, "") is not None
    except re.error:
        empty = True
    if not anchored or empty:
        _refuse(f"regexp_replace without 'g' on the pattern {pattern!r} has no Spark rewrite (it must be "
                "anchored and match at least one character)")


def _is_asof(join: Any) -> bool:
    return "ASOF" in str(join.args.get("method") or "").upper() or str(join.args.get("kind") or "").upper() == "ASOF"


def _asof(select: Any) -> Any:
    """SELECT ... FROM l ASOF LEFT JOIN r ON eq AND l.t >= r.t → the same LEFT JOIN, best match per l row."""
    from sqlglot import exp

    joins = select.args["joins"]
    asof = [j for j in joins if _is_asof(j)]
    if len(asof) != 1 or len(joins) != 1:
        _refuse("an ASOF join must be the only join of its SELECT for the Spark rewrite")
    join = asof[0]
    n = next(_ids)
    rid, rn = f"__asof_rid{n}", f"__asof_rn{n}"
    ge = next((c for c in join.args["on"].find_all(exp.GTE)), None)
    if ge is None:
        _refuse("an ASOF join needs a `left.t >= right.t` condition for the Spark rewrite")
    left = select.args["from_"].this
    alias = left.alias_or_name
    inner_left = exp.select("*", exp.alias_(exp.func("MONOTONICALLY_INCREASING_ID"), rid)).from_(left.copy())
    select.args["from_"].set("this", exp.Subquery(this=inner_left, alias=exp.TableAlias(this=exp.to_identifier(alias))))
    join.set("kind", None)
    join.set("method", None)    # the side stays: ASOF LEFT JOIN keeps unmatched left rows, ASOF JOIN drops them
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
        _refuse(f"information_schema.{name} is not available on Spark")
    rows = con.catalog_rows()
    alias = table.alias or "tables"
    if rows:
        values = ", ".join("(" + ", ".join("'" + v.replace("'", "''") + "'" for v in r) + ")" for r in rows)
        sql = f"SELECT * FROM (VALUES {values}) AS v(table_schema, table_name, table_type)"
    else:
        sql = ("SELECT CAST(NULL AS STRING) AS table_schema, CAST(NULL AS STRING) AS table_name, "
               "CAST(NULL AS STRING) AS table_type WHERE FALSE")
    sub = sqlglot.parse_one(sql, read="spark")
    return exp.Subquery(this=sub, alias=exp.TableAlias(this=exp.to_identifier(alias)))


__all__ = ["to_spark"]
