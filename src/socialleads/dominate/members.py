"""The set S = O ∪ competitors (METRICS.md §4) and topic availability, shared by the Dominate figures."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from socialleads.errors import LeadsError
from socialleads.workspace.workspace import resolve_account_keys

NO_TOPICS = "not available: run `leads topics` (no topic assignments in the workspace)"


class DominateError(LeadsError):
    """Bad input to a Dominate figure (unknown SoV kind, no owner accounts)."""


@dataclass(frozen=True)
class Member:
    name: str
    keys: tuple[str, ...]
    is_owner: bool = False


def members_of(store: Any, config: Any, owner_keys: Sequence[str]) -> list[Member]:
    """S: the owner (named after the workspace) first, then each competitor of leads.toml with its account
    keys resolved as the owner's are (declared keys, or platform + handle matched in the store)."""
    if not owner_keys:
        raise DominateError(getattr(owner_keys, "reason", None)
                            or "no owner accounts: declare [[owner.accounts]] in leads.toml")
    out = [Member(getattr(config, "name", None) or "owner", tuple(sorted(set(owner_keys))), True)]
    for c in getattr(config, "competitors", ()) or ():
        out.append(Member(c.name, tuple(resolve_account_keys(store, c.accounts))))
    return out


@contextmanager
def registered(store: Any, members: Sequence[Member]) -> Iterator[str]:
    """Register S as a view `name(account_key, member)` for the duration of a block."""
    name = f"_dominate_members_{uuid.uuid4().hex}"
    keys = [k for m in members for k in m.keys]
    names = [m.name for m in members for _ in m.keys]
    store.con.register(name, pa.table({"account_key": pa.array(keys, pa.string()),
                                       "member": pa.array(names, pa.string())}))
    try:
        yield name
    finally:
        store.con.unregister(name)


def topics_reason(store: Any) -> str | None:
    """None when topic assignments exist (tables topics / post_topics, migration 004), else why not."""
    try:
        n = store.con.execute("SELECT count(*) FROM (SELECT 1 FROM post_topics WHERE topic_id >= 0 LIMIT 1)"
                              ).fetchall()[0][0]
    except duckdb.Error:  # the table is missing until `leads topics` has run
        return NO_TOPICS
    return None if n else NO_TOPICS


def topic_labels(store: Any) -> dict[int, str]:
    try:
        rows = store.con.execute("SELECT topic_id, label FROM topics").fetchall()
    except duckdb.Error:
        return {}
    return {int(t): (lab or f"topic {t}") for t, lab in rows}


__all__ = ["NO_TOPICS", "DominateError", "Member", "members_of", "registered", "topic_labels", "topics_reason"]
