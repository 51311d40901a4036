"""The DuckDB store: schema migrations, idempotent merges, provenance and quarantine."""

from socialleads.store.db import Store, open_store

__all__ = ["Store", "open_store"]
