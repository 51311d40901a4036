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
