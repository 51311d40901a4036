"""What the dashboard shows, computed by the library and cached per state of the store.

`Dashboard` opens the workspace **read-only**, only for as long as one computation takes (so a writer
such as `leads import` can get in between), and caches every computed section under the database
file's (mtime, size): a page after the first load is served from memory until the store changes.
Every method returns JSON-ready data (dicts, lists, ISO strings): the HTML pages and their JSON twins
are both rendered from it.
"""

from __future__ import annotations

import datetime as dt
import importlib
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from socialleads.errors import LeadsError
from socialleads.metrics.stages import STAGE_NAMES, STAGES
from socialleads.metrics.window import window_days as resolve_days
from socialleads.store.db import has_table, migrations
from socialleads.workspace import open_workspace
from socialleads.workspace.workspace import DB_NAME, resolve_workspace_dir

INBOX_CACHE_LIMIT = 2000
WHO_LIMIT = 50
MENTIONS_LIMIT = 200
PERSON_LIMIT = 500


class ServeError(LeadsError):
    """A dashboard request or setting the user can fix (unknown stage, monitor, account; a bad bind)."""


class NotFound(ServeError):
    pass


def jsonable(value: Any) -> Any:
    """JSON-ready copy: datetimes → ISO strings, NaN/inf → None, numpy scalars → Python, tuples → lists."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and getattr(value, "ndim", 1) == 0:
        return jsonable(item())
    tolist = getattr(value, "tolist", None)  # numpy arrays
    if callable(tolist):
        return jsonable(tolist())
    return str(value)


def stage_keys(card: dict[str, Any]) -> list[str]:
    """The stage sections of a scorecard: the five LEADS stages in order, then any other section a newer
    library adds (a dict with `available` and `grade`), so new sections show up without changes here."""
    known = [s for s in STAGES if isinstance(card.get(s), dict)]
    extra = [k for k, v in card.items() if k not in known and isinstance(v, dict) and "available" in v
             and "grade" in v]
    return known + extra


def stage_title(stage: str) -> str:
    return STAGE_NAMES.get(stage, stage.replace("_", " ").capitalize())


class Dashboard:
    """The dashboard's view of one workspace (thread-safe; one computation at a time)."""

    def __init__(self, workspace: Path | str | None, *, window_days: int | None = None) -> None:
        self.root = resolve_workspace_dir(workspace)
        self.window_days = window_days
        with self.open() as ws:  # fail now, with the workspace's own message, not on the first request
            self.name = ws.config.name
            have = ws.store.schema_version
        need = len(migrations())
        if have < need:
            raise ServeError(f"{self.db_path}: the store's schema is version {have}, this socialleads needs {need}; "
                             f"the dashboard opens it read-only, so run `leads check -w {self.root}` once to upgrade it")
        self._lock = threading.RLock()
        self._cache: dict[str, Any] = {}
        self._lru: OrderedDict[str, Any] = OrderedDict()
        self._state: tuple[int, int] | None = None

    # ------------------------------------------------------------------ store access and cache
    @property
    def db_path(self) -> Path:
        return self.root / DB_NAME

    def state(self) -> tuple[int, int]:
        """(mtime_ns, size) of the database file (and its WAL): changes whenever the store does."""
        st = self.db_path.stat()
        wal = self.db_path.with_name(DB_NAME + ".wal")
        w = wal.stat() if wal.exists() else None
        return (st.st_mtime_ns + (w.st_mtime_ns if w else 0), st.st_size + (w.st_size if w else 0))

    @contextmanager
    def open(self) -> Iterator[Any]:
        with open_workspace(self.root, read_only=True) as ws:
            yield ws

    def cached(self, key: str, build: Callable[[Any], Any], *, lru: bool = False) -> Any:
        """The value of `build(workspace)` for the store's current state (computed once per state)."""
        with self._lock:
            state = self.state()
            if state != self._state:
                self._cache.clear()
                self._lru.clear()
                self._state = state
            store = self._lru if lru else self._cache
            if key in store:
                if lru:
                    self._lru.move_to_end(key)
                return store[key]
            with self.open() as ws:
                value = jsonable(build(ws))
            store[key] = value
            if lru and len(self._lru) > 64:
                self._lru.popitem(last=False)
            return value

    def warm(self) -> None:
        """Compute the sections every page needs (run once in the background when the server starts)."""
        self.scorecard()
        self.who()
        self.inbox_items()
        self.communities()
        self.monitors()
        self.topics()
        self.alerts()

    def _days(self, ws: Any) -> int:
        return resolve_days(self.window_days, ws.config)

    # ------------------------------------------------------------------ scorecard and stages
    def scorecard_and_series(self) -> dict[str, Any]:
        def build(ws: Any) -> dict[str, Any]:
            from socialleads.metrics.scorecard import scorecard_and_series

            return scorecard_and_series(ws.store, ws.owner_keys(), ws.config, self.window_days, series=True)

        return self.cached("scorecard", build)

    def scorecard(self) -> dict[str, Any]:
        return self.scorecard_and_series()["scorecard"]

    def series(self) -> dict[str, Any]:
        return self.scorecard_and_series()["series"] or {}

    def stages(self) -> list[str]:
        return stage_keys(self.scorecard())

    def section(self, stage: str) -> dict[str, Any]:
        card = self.scorecard()
        if stage == "listen":
            return card.get("listen") or {"available": False, "reason": "not available"}
        if stage not in self.stages():
            raise NotFound(f"no stage {stage!r} (stages: {', '.join(self.stages())})")
        return card[stage]

    # ------------------------------------------------------------------ listen
    def monitors(self) -> list[dict[str, Any]]:
        def build(ws: Any) -> list[dict[str, Any]]:
            from socialleads.listen.monitors import count_matches, list_monitors

            if not has_table(ws.store.con, "monitors"):
                return []
            rows = list_monitors(ws.store)
            return [{**m, "matches": count_matches(ws.store, m["query"])} for m in rows]

        return self.cached("monitors", build)

    def mentions(self, monitor: str) -> dict[str, Any]:
        names = {m["name"] for m in self.monitors()}
        if monitor not in names:
            raise NotFound(f"no monitor {monitor!r} (monitors: {', '.join(sorted(names)) or 'none yet'})")

        def build(ws: Any) -> dict[str, Any]:
            from socialleads.listen.monitors import mention_volume, mentions

            return {"monitor": monitor, "mentions": mentions(ws.store, monitor, limit=MENTIONS_LIMIT),
                    "volume_daily": mention_volume(ws.store, monitor, by="day")}

        return self.cached(f"mentions:{monitor}", build, lru=True)

    def topics(self) -> dict[str, Any]:
        def build(ws: Any) -> dict[str, Any]:
            con = ws.store.con
            if not has_table(con, "topics"):
                return {"available": False, "reason": "not available: run `leads topics`", "rows": []}
            cols = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'topics' "
                "ORDER BY ordinal_position").fetchall()]
            keep = [c for c in ("topic_id", "label", "terms", "size", "method", "fitted_at") if c in cols]
            rows = con.execute(f"SELECT {', '.join(keep)} FROM topics ORDER BY topic_id").fetchall()
            if not rows:
                return {"available": False, "reason": "not available: run `leads topics`", "rows": []}
            return {"available": True, "rows": [dict(zip(keep, r)) for r in rows]}

        return self.cached("topics", build)

    def alerts(self) -> dict[str, Any]:
        def build(ws: Any) -> dict[str, Any]:
            con = ws.store.con
            if not has_table(con, "alerts"):
                return {"available": False, "reason": "not available: run `leads listen` or `leads alerts`",
                        "rows": []}
            rows = con.execute(
                "SELECT monitor, kind, window_start, window_end, peak_hour, peak_count, baseline_mean, p_value, "
                "total_count, raised_at FROM alerts ORDER BY raised_at DESC, alert_id LIMIT 500").fetchall()
            cols = ("monitor", "kind", "window_start", "window_end", "peak_hour", "peak_count", "baseline_mean",
                    "p_value", "total_count", "raised_at")
            return {"available": True, "rows": [dict(zip(cols, r)) for r in rows]}

        return self.cached("alerts", build)

    # ------------------------------------------------------------------ engage
    def who(self) -> list[dict[str, Any]]:
        def build(ws: Any) -> list[dict[str, Any]]:
            from socialleads.engage.who import who_matters

            return who_matters(ws.store, ws.owner_keys(), window_days=self._days(ws), limit=WHO_LIMIT)

        return self.cached("who", build)

    def inbox_items(self) -> dict[str, Any]:
        def build(ws: Any) -> dict[str, Any]:
            from socialleads.engage.inbox import data_end, inbox, response_stats

            owners = ws.owner_keys()
            sla = ws.config.goals.response_sla_hours
            items = inbox(ws.store, owners, sla_hours=sla, limit=INBOX_CACHE_LIMIT, only_unanswered=False)
            authors = sorted({i["author"] for i in items if i.get("author")})
            plat = dict(ws.store.con.execute(
                "SELECT account_key, any_value(platform) FROM accounts WHERE account_key IN (SELECT unnest(?)) "
                "GROUP BY 1", [authors]).fetchall()) if authors else {}
            for i in items:
                i["platform"] = plat.get(i.get("author"))
            end = data_end(ws.store)
            stats = (response_stats(ws.store, owners, start=end - dt.timedelta(days=self._days(ws)), end=end,
                                    sla_hours=sla) if end else None)
            return {"items": items, "stats": stats, "sla_hours": sla}

        return self.cached("inbox", build)

    def inbox(self, *, priority: float | None = None, question: bool | None = None, negative: bool | None = None,
              platform: str | None = None, kind: str | None = None, answered: bool | None = False,
              limit: int = 100) -> dict[str, Any]:
        """The inbox filtered (all filters optional; `answered=False` = unanswered only, None = both)."""
        data = self.inbox_items()
        items = data["items"]
        if priority is not None:
            items = [i for i in items if i["priority"] >= priority]
        if question is not None:
            items = [i for i in items if bool(i.get("is_question")) == question]
        if negative is not None:
            items = [i for i in items if (i.get("sentiment") == "negative") == negative]
        if platform:
            items = [i for i in items if i.get("platform") == platform]
        if kind:
            items = [i for i in items if i.get("kind") == kind]
        if answered is not None:
            items = [i for i in items if bool(i.get("answered")) == answered]
        platforms = sorted({i["platform"] for i in data["items"] if i.get("platform")})
        return {"filters": {"priority": priority, "question": question, "negative": negative, "platform": platform,
                            "kind": kind, "answered": answered, "limit": limit},
                "total": len(items), "items": items[:limit], "stats": data["stats"], "platforms": platforms,
                "sla_hours": data["sla_hours"]}

    def communities(self) -> dict[str, Any]:
        def build(ws: Any) -> dict[str, Any]:
            from socialleads.graph.communities import community_report
            from socialleads.metrics.tables import tables_for
            from socialleads.metrics.window import window_for

            w = window_for(tables_for(ws.store), self._days(ws))
            if w is None:
                return {"available": False, "reason": "not available: no timestamped data yet", "rows": []}
            try:
                rows = community_report(ws.store, ws.owner_keys(), start=w.start.replace(tzinfo=None),
                                        end=w.end.replace(tzinfo=None))
            except ImportError as exc:  # igraph is the `communities` extra
                return {"available": False, "reason": f"not available: {exc} (pip install 'socialleads[communities]')",
                        "rows": []}
            return {"available": True, "rows": rows}

        return self.cached("communities", build)

    # ------------------------------------------------------------------ person
    def person(self, handle: str) -> dict[str, Any]:
        """One account's timeline with the owner (socialleads.engage.person when it exists)."""

        def build(ws: Any) -> dict[str, Any]:
            con = ws.store.con
            h = handle.lstrip("@").lower()
            keys = [r[0] for r in con.execute(
                "SELECT DISTINCT account_key FROM accounts WHERE account_key = ? OR lower(ltrim(handle, '@')) = ? "
                "ORDER BY 1", [handle, h]).fetchall()]
            if not keys:
                raise NotFound(f"no account with the handle or key {handle!r}")
            try:
                mod = importlib.import_module("socialleads.engage.person")
            except ModuleNotFoundError as exc:
                if exc.name is None or not "socialleads.engage.person".startswith(exc.name):
                    raise
                mod = None
            fn = getattr(mod, "person_timeline", None) if mod else None
            if fn is not None:
                try:
                    return {"handle": handle, "accounts": keys, "source": "socialleads.engage.person",
                            "person": fn(ws.store, ws.owner_keys(), handle)}
                except (LeadsError, TypeError):
                    pass  # e.g. an ambiguous handle: fall back to the plain timeline below
            return {"handle": handle, "accounts": keys, "source": "timeline",
                    **person_timeline(con, keys, ws.owner_keys())}

        return self.cached(f"person:{handle}", build, lru=True)

    # ------------------------------------------------------------------ live
    def live_since(self, cursor: str | None, limit: int = 20) -> dict[str, Any]:
        """Posts first seen (or alerts raised) after `cursor` (an ISO time); the newest `limit` of each."""
        with self._lock, self.open() as ws:
            con = ws.store.con
            since = dt.datetime.fromisoformat(cursor) if cursor else None
            ts = "coalesce(p.first_seen_at, p.created_at)"
            where = f"{ts} > ?" if since else "TRUE"
            params = [since] if since else []
            n, newest = con.execute(f"SELECT count(*), max({ts}) FROM posts p WHERE {where}", params).fetchall()[0]
            rows = con.execute(
                f"SELECT p.post_key, p.platform, p.author_key, a.handle, p.created_at, p.text, {ts} AS seen "
                f"FROM posts p LEFT JOIN (SELECT account_key, any_value(handle) AS handle FROM accounts GROUP BY 1) a "
                f"ON a.account_key = p.author_key WHERE {where} ORDER BY seen DESC, p.post_key LIMIT ?",
                params + [limit]).fetchall()
            posts = [dict(zip(("post_key", "platform", "author", "handle", "created_at", "text", "seen_at"), r))
                     for r in rows]
            alerts: list[dict[str, Any]] = []
            a_newest = None
            if has_table(con, "alerts"):
                aw = "raised_at > ?" if since else "TRUE"
                arows = con.execute(
                    f"SELECT monitor, kind, window_start, peak_count, raised_at FROM alerts WHERE {aw} "
                    "ORDER BY raised_at DESC LIMIT ?", params + [limit]).fetchall()
                alerts = [dict(zip(("monitor", "kind", "window_start", "peak_count", "raised_at"), r)) for r in arows]
                a_newest = max((a["raised_at"] for a in alerts), default=None)
        marks = [t for t in (newest, a_newest, since) if t is not None]
        return jsonable({"cursor": max(marks).isoformat() if marks else None, "new_posts": int(n),
                         "posts": posts, "alerts": alerts})


def person_timeline(con: Any, keys: list[str], owners: list[str], limit: int = PERSON_LIMIT) -> dict[str, Any]:
    """Interactions between the accounts `keys` and the owner's accounts, newest first, with the post text
    (the fallback of the person page until socialleads.engage.person exists)."""
    acct = con.execute(
        "SELECT account_key, platform, handle, display_name, url FROM accounts WHERE account_key IN (SELECT unnest(?)) "
        "ORDER BY account_key", [keys]).fetchall()
    accounts = [dict(zip(("account", "platform", "handle", "display_name", "url"), r)) for r in acct]
    rows = con.execute(
        """
        SELECT i.created_at, i.type,
               CASE WHEN list_contains(?::VARCHAR[], i.actor_key) THEN 'inbound' ELSE 'outbound' END AS direction,
               i.actor_key, i.target_account_key, i.platform, coalesce(p.text, tp.text) AS text,
               coalesce(i.via_post_key, i.target_post_key) AS post_key
        FROM interactions i
        LEFT JOIN posts p ON p.post_key = i.via_post_key
        LEFT JOIN posts tp ON i.via_post_key IS NULL AND tp.post_key = i.target_post_key
        WHERE (list_contains(?::VARCHAR[], i.actor_key) AND list_contains(?::VARCHAR[], i.target_account_key))
           OR (list_contains(?::VARCHAR[], i.actor_key) AND list_contains(?::VARCHAR[], i.target_account_key))
        ORDER BY i.created_at DESC NULLS LAST, i.interaction_key
        LIMIT ?
        """, [keys, keys, owners, owners, keys, limit]).fetchall()
    cols = ("created_at", "type", "direction", "actor", "target", "platform", "text", "post_key")
    timeline = [dict(zip(cols, r)) for r in rows]
    counts: dict[str, dict[str, int]] = {"inbound": {}, "outbound": {}}
    for r in con.execute(
            """SELECT CASE WHEN list_contains(?::VARCHAR[], actor_key) THEN 'inbound' ELSE 'outbound' END, type, count(*)
               FROM interactions
               WHERE (list_contains(?::VARCHAR[], actor_key) AND list_contains(?::VARCHAR[], target_account_key))
                  OR (list_contains(?::VARCHAR[], actor_key) AND list_contains(?::VARCHAR[], target_account_key))
               GROUP BY 1, 2 ORDER BY 1, 2""", [keys, keys, owners, owners, keys]).fetchall():
        counts[r[0]][r[1]] = int(r[2])
    return {"profile": accounts, "counts": counts, "timeline": timeline}


__all__ = ["Dashboard", "NotFound", "ServeError", "jsonable", "person_timeline", "stage_keys", "stage_title"]
