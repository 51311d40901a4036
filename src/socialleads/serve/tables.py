"""Every table the dashboard shows, as rows and as Arrow tables for CSV / Parquet downloads, and the
export of the store's own tables as Parquet (the layout documented in docs/dashboard.md).

A dashboard table is a name → rows function of a `Dashboard`. The stage tables are found generically:
each stage section's evidence (`<stage>_evidence`) and every list of records in a section
(`<stage>_<key>`), so a stage's new tables can be downloaded without changes here.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from socialleads.serve.data import Dashboard, NotFound, ServeError

FORMATS = ("csv", "parquet")
SERIES_TABLES = ("growth_daily", "growth_weekly", "growth_monthly", "reactivity_weekly", "returning_weekly")
# store tables never exported: provenance with local paths, raw rejected input, live cursors


def _records(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(r, dict) for r in value)


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    """Nested values (lists, dicts) become JSON text: one scalar per cell, the same in CSV and Parquet."""
    return {k: (json.dumps(v, ensure_ascii=False, sort_keys=True) if isinstance(v, dict | list) else v)
            for k, v in row.items()}


def _communities(d: Dashboard, **_: Any) -> list[dict[str, Any]]:
    out = []
    for c in d.communities()["rows"]:
        out.append({**{k: v for k, v in c.items() if k not in ("top_members", "top_terms")},
                    "top_members": ", ".join(str(m.get("handle") or m.get("account")) for m in c["top_members"]),
                    "top_terms": ", ".join(str(t.get("term")) for t in c["top_terms"])})
    return out


def _inbox(d: Dashboard, **params: Any) -> list[dict[str, Any]]:
    keep = {k: params[k] for k in ("priority", "question", "negative", "platform", "kind", "answered", "limit")
            if k in params}
    keep.setdefault("limit", 100_000)
    rows = d.inbox(**keep)["items"]
    return [{**{k: v for k, v in r.items() if k != "thread"}, "thread_post_key": (r.get("thread") or {}).get("post_key")}
            for r in rows]


def _who(d: Dashboard, **_: Any) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "with_owner"} | {"reasons": "; ".join(r.get("reasons") or [])}
            for r in d.who()]


def _mentions(d: Dashboard, monitor: str | None = None, **_: Any) -> list[dict[str, Any]]:
    if not monitor:
        raise ServeError("the mentions table needs ?monitor=NAME")
    return d.mentions(monitor)["mentions"]


def _person(d: Dashboard, handle: str | None = None, **_: Any) -> list[dict[str, Any]]:
    if not handle:
        raise ServeError("the person table needs ?handle=HANDLE")
    p = d.person(handle)
    return p.get("timeline") or (p.get("person") or {}).get("events") or []


def _per_platform(d: Dashboard, **_: Any) -> list[dict[str, Any]]:
    return [{"platform": p, **v} for p, v in (d.scorecard()["audience"].get("per_platform") or {}).items()]


FIXED: dict[str, Callable[..., list[dict[str, Any]]]] = {
    "audience_per_platform": _per_platform,
    "monitors": lambda d, **_: d.monitors(),
    "mentions": _mentions,
    "topics": lambda d, **_: d.topics()["rows"],
    "alerts": lambda d, **_: d.alerts()["rows"],
    "who": _who,
    "inbox": _inbox,
    "communities": _communities,
    "person": _person,
}


def table_names(d: Dashboard) -> list[str]:
    """Every downloadable table: the fixed ones, the chart series, and each stage's evidence and records."""
    names = list(FIXED) + list(SERIES_TABLES)
    card = d.scorecard()
    for stage in dict.fromkeys(["listen", *d.stages()]):
        sec = card.get(stage) or {}
        if sec.get("evidence"):
            names.append(f"{stage}_evidence")
        names += [f"{stage}_{k}" for k, v in sec.items() if k != "evidence" and _records(v)]
    return names


def table_rows(d: Dashboard, name: str, **params: Any) -> list[dict[str, Any]]:
    """The rows of dashboard table `name` (flattened: one scalar per cell)."""
    if name in FIXED:
        rows = FIXED[name](d, **params)
    elif name in SERIES_TABLES:
        rows = d.series().get(name) or []
    else:
        rows = None
        card = d.scorecard()
        for stage in dict.fromkeys(["listen", *d.stages()]):
            prefix = stage + "_"
            if name.startswith(prefix) and name[len(prefix):] in (card.get(stage) or {}):
                value = card[stage][name[len(prefix):]]
                rows = value if _records(value) or value == [] else None
                break
        if rows is None:
            raise NotFound(f"no table {name!r} (tables: {', '.join(table_names(d))})")
    return [_flat(r) for r in rows]


def to_arrow(rows: list[dict[str, Any]]) -> pa.Table:
    if not rows:
        return pa.table({})
    cols: dict[str, None] = {}
    for r in rows:
        cols.update(dict.fromkeys(r))
    return pa.Table.from_pylist([{c: r.get(c) for c in cols} for r in rows])


def to_bytes(table: pa.Table, fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise ServeError(f"format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    buf = io.BytesIO()
    if fmt == "csv":
        if table.num_columns:
            pacsv.write_csv(table, buf)
    else:
        pq.write_table(table, buf)
    return buf.getvalue()


def export_tables(d: Dashboard, names: list[str] | str, fmt: str, out: Path) -> list[Path]:
    """Write dashboard tables (`"all"` = every one that needs no parameter) to OUT/<name>.<fmt>."""
    if fmt not in FORMATS:
        raise ServeError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    wanted = [n for n in table_names(d) if n not in ("mentions", "person")] if names == "all" else list(names)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for n in wanted:
        path = out / f"{n}.{fmt}"
        path.write_bytes(to_bytes(to_arrow(table_rows(d, n)), fmt))
        written.append(path)
    return written


__all__ = ["FORMATS", "export_tables", "table_names", "table_rows", "to_arrow", "to_bytes"]
