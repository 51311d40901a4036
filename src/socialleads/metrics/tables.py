"""The store's tables as Ibis expressions over the workspace's DuckDB connection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
from ibis.expr.types import Table


@dataclass(frozen=True)
class Tables:
    """Ibis tables of the store (001_core.sql) and the backend that runs them."""

    backend: Any
    posts: Table
    interactions: Table
    accounts: Table
    follower_snapshots: Table
    metrics_snapshots: Table


def tables_for(store: Any) -> Tables:
    """Wrap `store.con` (a DuckDB connection) without copying: Ibis compiles to SQL run by DuckDB. A store
    on another engine (engine/spark_sql.SparkStore) gives its own Ibis tables."""
    own = getattr(store, "ibis_tables", None)
    if own is not None:
        return own()
    backend = ibis.duckdb.from_connection(store.con)
    return Tables(
        backend=backend,
        posts=backend.table("posts"),
        interactions=backend.table("interactions"),
        accounts=backend.table("accounts"),
        follower_snapshots=backend.table("follower_snapshots"),
        metrics_snapshots=backend.table("metrics_snapshots"),
    )
