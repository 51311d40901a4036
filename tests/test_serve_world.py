"""A small simulated workspace for the dashboard tests, with hostile rows added by hand: an account
whose handle and display name are HTML, a reply to the owner whose text is a script, and a topic
whose label is an <img onerror> (post text, handles and labels are untrusted input)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

HOSTILE_HANDLE = '"><img src=x onerror=alert(1)>'
HOSTILE_NAME = "<script>alert('name')</script>"
HOSTILE_TEXT = '<script>alert("pwned")</script> "><img src=x onerror=alert(2)> can you help?'
HOSTILE_KEY = "x:666666"
HOSTILE_POST = "x:post:666666"
HOSTILE_LABEL = "<img src=x onerror=alert(3)> · evil"


def build_world(root: Path, posts: int = 3000, seed: int = 5) -> Path:
    """Simulate, import, enrich, add a monitor, topics and the hostile rows; return the workspace dir."""
    from socialleads.enrich import enrich
    from socialleads.listen.monitors import add_monitor
    from socialleads.simulate import simulate
    from socialleads.sources.importer import import_path
    from socialleads.store.db import run_sql
    from socialleads.workspace import init_workspace, open_workspace

    world = root / "world"
    simulate(world, posts=posts, seed=seed)
    wsdir = root / "ws"
    init_workspace(wsdir, config_from=world / "leads.toml")
    with open_workspace(wsdir) as ws:
        import_path(ws.store, world)
        ws.adopt_owner_accounts()
        enrich(ws.store)
        con = ws.store.con
        owners = ws.owner_keys()
        owner_post, end = run_sql(con, "SELECT post_key, (SELECT max(created_at) FROM posts) FROM posts "
                                       "WHERE author_key IN (SELECT unnest(?)) AND kind = 'original' "
                                       "ORDER BY created_at DESC LIMIT 1", [owners])[0]
        owner_account = run_sql(con, "SELECT author_key FROM posts WHERE post_key = ?", [owner_post])[0][0]
        t = end - dt.timedelta(hours=1)
        run_sql(con, "INSERT INTO accounts (account_key, platform, handle, display_name, source) "
                     "VALUES (?, 'x', ?, ?, 'test')", [HOSTILE_KEY, HOSTILE_HANDLE, HOSTILE_NAME])
        run_sql(con, "INSERT INTO posts (post_key, platform, author_key, kind, created_at, text, reply_to_key, "
                     "source, first_seen_at) VALUES (?, 'x', ?, 'reply', ?, ?, ?, 'test', ?)",
                [HOSTILE_POST, HOSTILE_KEY, t, HOSTILE_TEXT, owner_post, t])
        run_sql(con, "INSERT INTO interactions (interaction_key, platform, type, actor_key, target_account_key, "
                     "target_post_key, via_post_key, created_at, source) VALUES "
                     "('x:int:666', 'x', 'reply', ?, ?, ?, ?, ?, 'test')",
                [HOSTILE_KEY, owner_account, owner_post, HOSTILE_POST, t])
        add_monitor(ws.store, "brand", "battery OR charger")
        run_sql(con, "INSERT INTO topics (topic_id, label, terms, size, method) VALUES "
                     "(0, 'battery · charger', ['battery', 'charger'], 40, 'hand'), (1, ?, ['evil'], 3, 'hand')",
                [HOSTILE_LABEL])
    return wsdir
