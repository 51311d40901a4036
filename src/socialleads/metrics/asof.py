"""As-of joins that run on every engine the metrics run on (DuckDB and Spark through Ibis).

`asof_left(left, right, left_t, right_t, by)` = for each row of `left`, the row of `right` with the
same `by` keys and the latest `right_t` ≤ `left_t` (NULL columns when there is none) — Ibis'
`asof_join` semantics. DuckDB has a native as-of join and uses it. Spark SQL has none (Ibis refuses
it), so there the join is emulated in O(n log n) without a range join: the distinct (by, left_t)
probes and the right's (by, right_t) are unioned, a running max of right_t over (by) ordered by
(t, right-before-left) gives each probe its latest right_t, and two equi-joins fetch the columns.

Contract (true at every call site): `right` has at most one row per (by, right_t), and the columns of
`left` and `right` differ apart from `by`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import ibis
from ibis.expr.types import Table

# LEADS_ASOF=emulate forces the portable path on DuckDB too (used by the tests to prove both agree).
_FORCE = "LEADS_ASOF"


def _backend_name(table: Table) -> str | None:
    try:
        return str(table._find_backend(use_default=False).name)
    except Exception:  # an in-memory table bound to no backend yet
        return None


def _native(*tables: Table) -> bool:
    """DuckDB's native as-of join, unless a table lives on another engine (or LEADS_ASOF=emulate)."""
    if os.environ.get(_FORCE) == "emulate":
        return False
    return all(_backend_name(t) in (None, "duckdb") for t in tables)


def asof_left(left: Table, right: Table, left_t: str, right_t: str, by: Sequence[str] = ()) -> Table:
    by = list(by)
    if _native(left, right):
        j = left.asof_join(right, on=left[left_t] >= right[right_t], predicates=by or ())
        return j.select(*left.columns, *[c for c in right.columns if c not in by])
    ts_type = left[left_t].type()
    keys = {b: left[b].type() for b in by}
    probes = left.select(**{b: left[b] for b in by}, __t=left[left_t].cast(ts_type)).distinct()
    probes = probes.mutate(__rt=ibis.null().cast(ts_type), __side=ibis.literal(1, "int8"))
    marks = right.select(**{b: right[b].cast(k) for b, k in keys.items()}, __t=right[right_t].cast(ts_type),
                         __rt=right[right_t].cast(ts_type), __side=ibis.literal(0, "int8"))
    u = probes.union(marks)
    win = ibis.cumulative_window(group_by=[u[b] for b in by] or None, order_by=[u.__t, u.__side])
    u = u.mutate(__best=u.__rt.max().over(win))
    best = u.filter(u.__side == 1).select(*by, __t=u.__t, __best=u.__best)
    j = left.left_join(best, [*(left[b] == best[b] for b in by), left[left_t] == best.__t])
    j = j.select(*left.columns, __best=best.__best)
    out = j.left_join(right, [*(j[b] == right[b] for b in by), j.__best == right[right_t]])
    return out.select(*[out[c] for c in left.columns], *[right[c] for c in right.columns if c not in by])


__all__ = ["asof_left"]
