"""Saved monitors: storage, mentions, mention volume, the CLI adapters, and the simulator's crisis."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from socialleads.errors import LeadsError
from socialleads.listen import (
    MonitorError,
    QuerySyntaxError,
    add_monitor,
    list_monitors,
    mention_volume,
    mentions,
    remove_monitor,
)
from socialleads.store.db import run_sql

T0 = dt.datetime(2026, 3, 1, 10, 0, 0)


def seed_posts(store):
    """Five posts by two authors: hours 0, 0, 2 and 26 after T0 mention 'solar'; one does not."""
    run_sql(store.con, "INSERT INTO accounts (account_key, platform, handle) VALUES "
                       "('acc:a', 'bluesky', 'ann.bsky.social'), ('acc:b', 'mastodon', 'ben@social.example')")
    rows = [("k1", "acc:a", 0, "solar is here"), ("k2", "acc:b", 0.5, "more solar"), ("k3", "acc:a", 2.25, "Solar!"),
            ("k4", "acc:b", 26, "solar again"), ("k5", "acc:a", 1, "nothing to see")]
    for key, author, hours, text in rows:
        run_sql(store.con, "INSERT INTO posts (post_key, platform, author_key, kind, created_at, text, url, source) "
                           "VALUES (?, 'bluesky', ?, 'original', ?, ?, ?, 'test')",
                [key, author, T0 + dt.timedelta(hours=hours), text, f"https://example/{key}"])


def test_add_list_replace_remove(store):
    assert list_monitors(store) == []
    add_monitor(store, "brand", "solar")
    add_monitor(store, "other", "#x OR @y")
    add_monitor(store, "brand", "solar -again")      # same name: replaced, not duplicated
    got = [(m["name"], m["query"]) for m in list_monitors(store)]
    assert got == [("brand", "solar -again"), ("other", "#x OR @y")]
    remove_monitor(store, "other")
    assert [m["name"] for m in list_monitors(store)] == ["brand"]
    with pytest.raises(MonitorError, match="no monitor named 'other'"):
        remove_monitor(store, "other")


def test_add_refuses_a_bad_query_and_a_bad_name(store):
    with pytest.raises(QuerySyntaxError, match="at column 9"):
        add_monitor(store, "brand", "solar OR")
    with pytest.raises(MonitorError, match="monitor name"):
        add_monitor(store, "bad name!", "solar")
    with pytest.raises(MonitorError):
        add_monitor(store, "", "solar")
    assert list_monitors(store) == []


def test_mentions_newest_first_with_bounds_and_limit(store):
    seed_posts(store)
    add_monitor(store, "s", "solar")
    rows = mentions(store, "s")
    assert [r["post_key"] for r in rows] == ["k4", "k3", "k2", "k1"]
    assert rows[0] == {"post_key": "k4", "author": "ben@social.example", "created_at": T0 + dt.timedelta(hours=26),
                       "text": "solar again", "platform": "bluesky", "url": "https://example/k4"}
    assert [r["post_key"] for r in mentions(store, "s", limit=2)] == ["k4", "k3"]
    # since inclusive, until exclusive; ISO text with Z, dates and datetimes all work
    assert [r["post_key"] for r in mentions(store, "s", since="2026-03-01T10:30:00Z", until="2026-03-02")] == ["k3", "k2"]
    assert [r["post_key"] for r in mentions(store, "s", since=dt.date(2026, 3, 2))] == ["k4"]
    aware = dt.datetime(2026, 3, 1, 11, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))   # = 10:00 UTC
    assert [r["post_key"] for r in mentions(store, "s", until=aware)] == []
    with pytest.raises(MonitorError, match="since: expected a date"):
        mentions(store, "s", since="yesterday")
    with pytest.raises(MonitorError, match="must be after"):
        mentions(store, "s", since="2026-03-02", until="2026-03-01")
    with pytest.raises(MonitorError, match="no monitor named 'nope'"):
        mentions(store, "nope")


def test_mention_volume(store):
    seed_posts(store)
    add_monitor(store, "s", "solar")
    hourly = mention_volume(store, "s", by="hour")
    # hours 10:00 (k1, k2), 12:00 (k3), next day 12:00 (k4); every hour between is present with 0
    assert len(hourly) == 27
    assert hourly[0] == {"period": T0, "count": 2}
    assert hourly[1] == {"period": T0 + dt.timedelta(hours=1), "count": 0}
    assert hourly[2] == {"period": T0 + dt.timedelta(hours=2), "count": 1}
    assert hourly[-1] == {"period": T0 + dt.timedelta(hours=26), "count": 1}
    assert sum(h["count"] for h in hourly) == 4
    assert mention_volume(store, "s", by="day") == [
        {"period": dt.datetime(2026, 3, 1), "count": 3}, {"period": dt.datetime(2026, 3, 2), "count": 1}]
    assert mention_volume(store, "s", by="hour", fill=False) == [
        {"period": T0, "count": 2}, {"period": T0 + dt.timedelta(hours=2), "count": 1},
        {"period": T0 + dt.timedelta(hours=26), "count": 1}]
    # explicit bounds: [08:00, 13:00) gives five hours, zeros included
    got = mention_volume(store, "s", by="hour", since="2026-03-01T08:00:00", until="2026-03-01T13:00:00")
    assert [g["count"] for g in got] == [0, 0, 2, 0, 1]
    assert got[0]["period"] == dt.datetime(2026, 3, 1, 8)
    with pytest.raises(MonitorError, match="by: expected one of hour, day"):
        mention_volume(store, "s", by="week")
    add_monitor(store, "none", "wind")
    assert mention_volume(store, "none") == []


# ------------------------------------------------------------------------------------------------- the CLI
def cli_app() -> typer.Typer:
    """The two lines main.py gets, on a bare app."""
    from socialleads.cli.listen import mentions_command, monitor_app

    app = typer.Typer()
    app.add_typer(monitor_app, name="monitor")
    app.command("mentions")(mentions_command)
    return app


def test_cli(tmp_path):
    from socialleads.workspace import init_workspace, open_workspace

    ws = tmp_path / "ws"
    init_workspace(ws)
    with open_workspace(ws) as w:
        seed_posts(w.store)
    app, run = cli_app(), CliRunner().invoke
    r = run(app, ["monitor", "add", "sun", "solar -again", "-w", str(ws)])
    assert r.exit_code == 0, r.output
    assert "3 matching post(s)" in r.stdout
    r = run(app, ["monitor", "list", "--json", "-w", str(ws)])
    assert [(m["name"], m["query"], m["matches"]) for m in json.loads(r.stdout)] == [("sun", "solar -again", 3)]
    r = run(app, ["mentions", "sun", "--json", "--limit", "2", "-w", str(ws)])
    out = json.loads(r.stdout)
    assert out["total"] == 3 and [m["post_key"] for m in out["mentions"]] == ["k3", "k2"]
    r = run(app, ["mentions", "sun", "--since", "2026-03-01T12:00:00Z", "-w", str(ws)])
    assert r.exit_code == 0 and "Solar!" in r.stdout and "more solar" not in r.stdout
    # a syntax error: the caret message on stderr, exit 1, nothing saved; brackets are not Rich markup
    r = run(app, ["monitor", "add", "bad", "[/x] (solar OR", "-w", str(ws)])
    assert r.exit_code == 1
    assert "Traceback" not in r.output
    assert r.stderr.splitlines() == ["error: expected a term after OR, found the end of the query at column 15",
                                     "  [/x] (solar OR", "  " + " " * 14 + "^"]
    r = run(app, ["monitor", "list", "--json", "-w", str(ws)])
    assert [m["name"] for m in json.loads(r.stdout)] == ["sun"]
    r = run(app, ["mentions", "[nope]", "-w", str(ws)])
    assert r.exit_code == 1 and "no monitor named '[nope]'" in r.stderr
    r = run(app, ["monitor", "remove", "sun", "-w", str(ws)])
    assert r.exit_code == 0
    r = run(app, ["monitor", "list", "--json", "-w", str(ws)])
    assert json.loads(r.stdout) == []


def test_errors_are_leads_errors():
    assert issubclass(MonitorError, LeadsError) and issubclass(QuerySyntaxError, LeadsError)


# ------------------------------------------------------------------------------- the simulator's crisis
@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from socialleads.simulate import simulate
    from socialleads.sources.importer import import_path
    from socialleads.store import open_store

    out = tmp_path_factory.mktemp("world")
    truth = simulate(out, posts=20_000, seed=1)
    store = open_store(None)
    import_path(store, out)
    yield out, truth, store
    store.close()


def _t(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).replace(tzinfo=None)


BRAND_QUERY = "voltwise OR @voltwise OR @voltwise.bsky.social"
OWNER_HANDLES = {"voltwise", "voltwise.bsky.social"}


def _python_scan(out: Path, start: dt.datetime, end: dt.datetime) -> tuple[set[str], set[str]]:
    """An independent, obvious scan of the posts files: (posts the brand query should match, the
    crisis's complaint posts = those using one of the simulator's crisis terms), both in [start, end]."""
    from socialleads.simulate.text import CRISIS_TERMS

    word = re.compile(r"(?<!\w)voltwise(?!\w)")
    expect, crisis = set(), set()
    for f in sorted(out.glob("posts-*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            p = json.loads(line)
            t = _t(p["created_at"])
            if not (start <= t <= end):
                continue
            text = (p.get("text") or "").lower()
            handles = {str(e.get("value") or "").lower().lstrip("@") for e in p.get("entities") or []
                       if e.get("etype") == "mention"}
            if word.search(text) or handles & OWNER_HANDLES or any(h.startswith("voltwise@") for h in handles):
                expect.add(p["post_key"])
            if any(c.lower() in text for c in CRISIS_TERMS):
                crisis.add(p["post_key"])
    return expect, crisis


def test_brand_monitor_finds_the_crisis(world):
    out, truth, store = world
    c = truth["crisis"]
    start, end = _t(c["start"]), _t(c["end"])
    add_monitor(store, "brand", BRAND_QUERY)
    rows = mentions(store, "brand", since=start, until=end + dt.timedelta(seconds=1))
    got = {r["post_key"] for r in rows}
    expect, crisis = _python_scan(out, start, end)
    assert len(crisis) == c["negative_posts"]          # the scan finds exactly the simulator's crisis posts
    assert crisis <= got                               # every negative crisis post is a mention
    assert got == expect                               # and the matcher agrees with the obvious scan
    # the hourly volume over the crisis sums to the mentions and peaks at the simulator's peak hour
    vol = mention_volume(store, "brand", by="hour", since=start.replace(minute=0, second=0),
                         until=end + dt.timedelta(seconds=1))
    assert sum(v["count"] for v in vol) == len(got)
    assert max(vol, key=lambda v: v["count"])["period"] == _t(c["peak_hour"])
    # the brand is mentioned outside the crisis too
    assert len(mentions(store, "brand")) > len(got)
