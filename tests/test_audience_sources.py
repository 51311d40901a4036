"""Which source gives F(t): an archive's untimed follower list must not hide a dated snapshot series."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from socialleads.metrics.followers import FOLLOWER_SNAPSHOTS, audience_for, follower_counts_at
from socialleads.metrics.tables import tables_for
from socialleads.sources.importer import import_path
from socialleads.store import open_store

LARS = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "twitter" / "archive_larsbrinkhoff"
pytestmark = pytest.mark.skipif(not LARS.exists(), reason="../shared fixtures not present")


def _list_size(path: Path) -> int:
    text = path.read_text(encoding="utf-8-sig")
    return len(json.loads(text[text.index("=") + 1:].strip().rstrip(";")))


def test_snapshots_win_over_an_archives_untimed_follower_list():
    store = open_store(None)
    import_path(store, LARS / "archive_2021-03-22")        # follower.js: follows without a time
    import_path(store, LARS / "follower_snapshots")        # four dated lists
    owner = [r[0] for r in store.con.execute("SELECT account_key FROM accounts WHERE is_owner").fetchall()]
    assert owner == ["x:3128746474"]
    aud = audience_for(tables_for(store), owner)
    assert aud.source == FOLLOWER_SNAPSHOTS
    files = sorted((LARS / "follower_snapshots").glob("follower_*.js"))
    dates = [dt.datetime.fromisoformat(f.stem.split("_")[1]) for f in files]
    # the day after each list was taken, F(t) is that list
    counts = follower_counts_at(aud, [d + dt.timedelta(days=1) for d in dates])["all"]
    assert counts == [_list_size(f) for f in files]


def test_an_archive_without_others_actions_says_not_available_not_zero():
    """An account archive holds the owner's own activity, not the likes, replies and reposts others made:
    engagers, reactivity, passive share, retention and the hidden network are not available (with the
    reason), never 0 / 100% passive (the review found 'Engagers 0, Passive 100%' on this archive)."""
    from socialleads.metrics.scorecard import NO_INBOUND, build_scorecard

    store = open_store(None)
    import_path(store, LARS / "archive_2021-03-22")
    owner = [r[0] for r in store.con.execute("SELECT account_key FROM accounts WHERE is_owner").fetchall()]
    inbound = store.con.execute("SELECT count(*) FROM interactions WHERE actor_key <> ? AND type <> 'follow' AND "
                                "(target_account_key = ? OR target_post_key IN (SELECT post_key FROM posts "
                                "WHERE author_key = ?))", [owner[0]] * 3).fetchall()[0][0]
    a = build_scorecard(store, owner, None, window_days=400)["audience"]
    assert inbound == 0     # its follower list gives follows of O (untimed), not actions
    for k in ("engagers", "reactivity", "passive_share", "active_followers", "week4_retention", "hidden_network"):
        assert a[k] is None and a["unavailable"][k] == NO_INBOUND, k
    assert a["followers"] and a["followers"] > 0     # what the archive does give is still there
