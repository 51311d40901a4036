"""End to end against the simulator's ground truth: simulate a world, import it through the real importer
into a real workspace, build the scorecard, and compare each audience figure with truth.json.

truth.json is computed by the simulator's own bookkeeping (socialleads.simulate.truth), an implementation
of docs/audience-definitions.md independent of socialleads.metrics; tests/test_simulate.py checks that
bookkeeping against a slow re-reading of the written files. Here the whole path is exercised: generic
format → importer → store merges → Ibis metrics.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from socialleads.metrics.scorecard import build_scorecard
from socialleads.simulate import simulate
from socialleads.sources.importer import import_path
from socialleads.workspace import Workspace, init_workspace, open_workspace

POSTS = 30_000
SEEDS = (1, 7)

pytestmark = pytest.mark.slow


@dataclass
class World:
    seed: int
    world: Path
    ws: Workspace
    truth: dict[str, Any]
    summary: dict[str, Any]          # the first import's summary (ImportSummary.to_json())
    card: dict[str, Any]
    counts_after_first: dict[str, int]


@pytest.fixture(scope="module", params=SEEDS, ids=lambda s: f"seed{s}")
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One simulated world per seed, simulated and imported once for the whole module."""
    seed = request.param
    tmp = tmp_path_factory.mktemp(f"truth-{seed}")
    truth = simulate(tmp / "world", posts=POSTS, seed=seed)
    # simulate() returns the dict it writes; read the file too, as a user would
    assert json.loads((tmp / "world" / "truth.json").read_text()) == json.loads(json.dumps(truth))
    init_workspace(tmp / "ws", config_from=tmp / "world" / "leads.toml")
    ws = open_workspace(tmp / "ws")
    try:
        summary = import_path(ws.store, tmp / "world").to_json()
        ws.mark_owner_accounts()
        counts = ws.store.counts()
        card = build_scorecard(ws.store, ws.owner_keys(), ws.config)
        yield World(seed, tmp / "world", ws, truth, summary, card, counts)
    finally:
        ws.close()


def _ts(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(dt.UTC)


# --------------------------------------------------------------------------------------------- import


def test_import_is_complete(world: World) -> None:
    s, truth = world.summary, world.truth
    assert s["refused"] == []
    assert s["quarantined"] == 0 and world.ws.store.count("quarantine") == 0
    assert s["posts"] == truth["posts"] == POSTS
    assert world.counts_after_first["posts"] == truth["posts"]
    assert s["complete"] is True


def test_owner_accounts_are_the_simulated_owner(world: World) -> None:
    assert sorted(world.ws.owner_keys()) == sorted(world.truth["owner_keys"])
    assert world.card["owner_keys"] and set(world.card["owner_keys"]) == set(world.truth["owner_keys"])


# ------------------------------------------------------------------------------------------- audience


def test_passive_share(world: World) -> None:
    a, truth = world.card["audience"], world.truth
    # The tolerance is ±1 percentage point; in fact the import and the metric reproduce the
    # simulator's bookkeeping exactly (same definition, same records), so the difference is 0.
    assert a["passive_share"] == pytest.approx(truth["passive_share"], abs=0.01)
    assert a["passive_share"] == pytest.approx(truth["passive_share"], abs=1e-9)


def test_growth_is_exact(world: World) -> None:
    a, truth = world.card["audience"], world.truth
    for key in ("followers_start", "gained", "lost", "net_growth"):
        assert a[key] == truth[key], key
    assert a["followers"] == truth["followers"] == truth["followers_end"]
    assert a["net_growth"] == a["gained"] - a["lost"]


def test_engagement_figures(world: World) -> None:
    a, truth = world.card["audience"], world.truth
    assert a["active_followers"] == truth["active_followers"]
    assert a["hidden_network"] == truth["hidden_network"]
    assert a["reactivity"] == pytest.approx(truth["reactivity"], abs=1e-9)


def test_week4_retention(world: World) -> None:
    a, truth = world.card["audience"], world.truth
    assert truth["week4_retention"] is not None
    assert a["week4_retention"] == pytest.approx(truth["week4_retention"], abs=1e-9)


def test_nothing_is_reported_missing(world: World) -> None:
    a = world.card["audience"]
    for key in ("followers", "followers_start", "net_growth", "reactivity", "passive_share",
                "active_followers", "hidden_network", "week4_retention"):
        assert a[key] is not None, (key, a["unavailable"].get(key))


def test_designed_passive_share_is_close_to_the_measured_one(world: World) -> None:
    # The simulator designs a passive split (followers who never act); the measured share also counts
    # designed-active followers who happened not to act in the window, so they differ by a little.
    measured, designed = world.card["audience"]["passive_share"], world.truth["passive_share_designed"]
    assert measured == pytest.approx(designed, abs=0.03)


def test_window_and_crisis(world: World) -> None:
    w, truth = world.card["audience"]["window"], world.truth
    assert w["days"] == truth["window_days"]
    assert _ts(w["end"]) == _ts(truth["t_end"]) and _ts(w["start"]) == _ts(truth["t_start"])
    c0, c1 = _ts(truth["crisis"]["start"]), _ts(truth["crisis"]["end"])
    first, last = world.ws.store.con.execute("SELECT min(created_at), max(created_at) FROM posts").fetchone()
    first, last = first.replace(tzinfo=dt.UTC), last.replace(tzinfo=dt.UTC)
    assert first <= c0 < c1 <= last
    assert _ts(truth["world_start"]) <= c0 and c1 <= _ts(truth["t_end"])
    # the crisis is in the store, not only in truth.json: its posts were imported
    (inside,) = world.ws.store.con.execute(
        "SELECT count(*) FROM posts WHERE created_at BETWEEN ? AND ?",
        [c0.replace(tzinfo=None), c1.replace(tzinfo=None)]).fetchone()
    assert inside >= truth["crisis"]["negative_posts"] > 0


# ----------------------------------------------------------------------------------------- idempotence


def test_second_import_changes_no_count(world: World) -> None:
    store = world.ws.store
    before = store.counts()
    assert before == world.counts_after_first
    again = import_path(store, world.world).to_json()
    after = store.counts()
    assert again["quarantined"] == 0 and again["refused"] == []
    assert all(v == 0 for v in again["new"].values()), again["new"]
    # every table is unchanged except ingest_runs, which records the second run
    assert {k: v for k, v in after.items() if k != "ingest_runs"} == \
           {k: v for k, v in before.items() if k != "ingest_runs"}
    assert after["ingest_runs"] == before["ingest_runs"] + 1
    # and the figures with it (float means may differ in the last bit: DuckDB sums in parallel)
    card = build_scorecard(store, world.ws.owner_keys(), world.ws.config)
    assert _same(card["audience"], world.card["audience"])


def _same(a: object, b: object) -> bool:
    """Equal, with floats compared to 1e-12 relative."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b
