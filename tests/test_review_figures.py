"""Review of the CLI figures (section A, items 1-6): the Activate figures over the window W, `leads plan`'s
follower goal, the inbox footer for figures that are not available, small shares in the terminal, the
units of yes/no and count checks, and the "no owner" messages of a fresh workspace.

Expected values come from the simulated world's own files (clicks.csv, conversions.csv, posts-*.jsonl,
truth.json, leads.toml) read with plain Python, or from a hand calculation on hand-made records.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from socialleads.cli.main import app
from socialleads.cli.output import evidence_table, fmt_rate
from socialleads.metrics.stages import Check
from socialleads.metrics.window import Window
from socialleads.report.parts import grade_block
from socialleads.workspace.workspace import NO_OWNER_DECLARED, OWNER_NOT_IMPORTED

UTC = dt.UTC


def _t(s: str) -> dt.datetime:
    """An ISO time of the world's files as naive UTC (as the store keeps it)."""
    t = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo else t


def _run(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.stdout


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    from socialleads.simulate import simulate
    from socialleads.sources.importer import import_path
    from socialleads.workspace import init_workspace, open_workspace

    base = tmp_path_factory.mktemp("review_figures")
    truth = simulate(base / "world", posts=3000, seed=5)
    init_workspace(base / "ws", config_from=base / "world" / "leads.toml")
    with open_workspace(base / "ws") as w:
        import_path(w.store, base / "world")
        w.mark_owner_accounts()
    return base, truth


def _in(t: dt.datetime, start: dt.datetime, end: dt.datetime) -> bool:
    return start <= t <= end


def _counts_in_window(base: Path, owners: set[str], start: dt.datetime, end: dt.datetime) -> dict[str, int]:
    """Clicks, conversions and owner link posts in W = [start, end], straight from the world's files."""
    with open(base / "world" / "clicks.csv", newline="") as f:
        clicks = sum(_in(_t(r["occurred_at"]), start, end) for r in csv.DictReader(f))
    with open(base / "world" / "conversions.csv", newline="") as f:
        convs = sum(_in(_t(r["occurred_at"]), start, end) for r in csv.DictReader(f))
    link_posts = 0
    for p in sorted((base / "world").glob("posts-*.jsonl")):
        for line in p.read_text().splitlines():
            r = json.loads(line)
            if (r.get("record_type") == "post" and r.get("author_key") in owners and r.get("created_at")
                    and any(e.get("etype") == "link" for e in r.get("entities") or [])
                    and _in(_t(r["created_at"]), start, end)):
                link_posts += 1
    return {"clicks": clicks, "conversions": convs, "link_posts": link_posts}


def _activate_over(ws_dir: Path, days: int, t_end: dt.datetime) -> dict:
    from socialleads.activate.section import section
    from socialleads.metrics.stages import StageContext
    from socialleads.workspace import open_workspace

    w = Window(start=(t_end - dt.timedelta(days=days)).replace(tzinfo=UTC), end=t_end.replace(tzinfo=UTC), days=days)
    with open_workspace(ws_dir, read_only=True) as ws:
        return section(StageContext(ws.store, ws.owner_keys(), w, ws.config))


# ------------------------------------------------------------------ 1. Activate over the window


def test_activate_counts_only_the_clicks_conversions_and_link_posts_of_the_window(world) -> None:
    base, truth = world
    t_end = _t(truth["t_end"])
    owners = set(truth["owner_keys"])
    seen = {}
    for days in (30, 90, 365):
        sec = _activate_over(base / "ws", days, t_end)
        want = _counts_in_window(base, owners, t_end - dt.timedelta(days=days), t_end)
        assert {k: sec[k] for k in want} == want, days
        # every simulated click is attributed: the funnel's clicks (attributed, in W) are the same clicks
        st = {s["stage"]: s for s in sec["funnel"]["stages"]}
        assert st["clickers"]["clicks"] == want["clicks"]
        assert st["converters"]["conversions"] == want["conversions"]
        seen[days] = want
    assert 0 < seen[30]["clicks"] < seen[90]["clicks"] < seen[365]["clicks"]
    assert seen[30]["link_posts"] < seen[90]["link_posts"] < seen[365]["link_posts"]
    assert seen[90]["conversions"] < seen[365]["conversions"]


def test_activate_rates_follow_the_window(world) -> None:
    base, truth = world
    t_end = _t(truth["t_end"])
    start = t_end - dt.timedelta(days=90)
    sec = _activate_over(base / "ws", 90, t_end)
    # top posts and campaigns are the posts made in W; clicks per link post = their clicks ÷ their number
    assert sec["top_posts"] and all(_in(_t(p["created_at"]), start, t_end) for p in sec["top_posts"])
    assert sum(c["link_posts"] for c in sec["campaigns"]) <= sec["link_posts"]
    assert sum(c["clicks"] for c in sec["campaigns"]) == sec["clicks"]
    per_post = next(e for e in sec["evidence"] if e["metric"] == "clicks per link post")["value"]
    assert per_post <= sec["clicks"] / sec["link_posts"] + 1e-12  # clicks in W of pre-W posts are not theirs
    conv_rate = next(e for e in sec["evidence"] if e["metric"] == "conversion rate")["value"]
    assert conv_rate == pytest.approx(sec["conversions"] / sec["clicks"])  # all attributed in the simulation


def test_attribution_without_a_window_is_all_history_and_the_funnel_is_unchanged(world) -> None:
    from socialleads.activate.attribution import attribution
    from socialleads.activate.funnel import funnel
    from socialleads.workspace import open_workspace

    base, truth = world
    t_end = _t(truth["t_end"])
    start = t_end - dt.timedelta(days=90)
    with open(base / "world" / "clicks.csv", newline="") as f:
        all_clicks = sum(1 for _ in csv.DictReader(f))
    with open_workspace(base / "ws", read_only=True) as ws:
        con, owners = ws.store.con, ws.owner_keys()
        assert attribution(con, owners)["clicks"] == all_clicks
        windowed = attribution(con, owners, start=start, end=t_end)
        after = funnel(con, owners, start, t_end, built=True)      # reuses the tables attribution built
        fresh = funnel(con, owners, start, t_end, built=False)     # builds them itself, as before the change
    assert after == fresh
    assert windowed["window"] == {"start": start.isoformat(), "end": t_end.isoformat()}


def test_scorecard_and_stage_read_the_windowed_conversions(world) -> None:
    base, truth = world
    t_end = _t(truth["t_end"])
    code, out = _run("scorecard", "--json", "--window-days", "30", "-w", str(base / "ws"))
    assert code == 0, out
    card = json.loads(out)
    want = _counts_in_window(base, set(truth["owner_keys"]), t_end - dt.timedelta(days=30), t_end)
    assert card["activate"]["clicks"] == want["clicks"]
    assert card["activate"]["conversions"] == want["conversions"]


# ------------------------------------------------------------------ 2. leads plan: the follower goal


def test_plan_shows_the_follower_goal_of_the_scorecard(world) -> None:
    base, truth = world
    goals = tomllib.loads((base / "world" / "leads.toml").read_text())["goals"]
    code, out = _run("plan", "--json", "-w", str(base / "ws"))
    assert code == 0, out
    fg = json.loads(out)["goals"]["followers"]
    # hand calculation: followers at the end of W (the simulator's truth) ÷ the goal of leads.toml
    assert fg["target"] == goals["followers"]
    assert fg["followers"] == truth["followers_end"]
    assert fg["progress"] == pytest.approx(truth["followers_end"] / goals["followers"])
    code, sc = _run("scorecard", "--json", "-w", str(base / "ws"))
    assert json.loads(sc)["dominate"]["plan"]["goals"]["followers"] == fg
    code, text = _run("plan", "-w", str(base / "ws"))
    assert code == 0
    assert "of the goal" in text and "followers" in text
    assert "median response h" not in text and "within SLA" in text  # the SLA reads over W, in the goal row


# ------------------------------------------------------------------ 3. inbox footer: None is not 0 %


def _tiny_ws(tmp_path: Path, records: list[dict], owner_toml: str = "") -> Path:
    from socialleads.sources.importer import import_path
    from socialleads.workspace import init_workspace, open_workspace

    ws = tmp_path / "ws"
    init_workspace(ws)
    (ws / "leads.toml").write_text(owner_toml)
    f = tmp_path / "records.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in records))
    with open_workspace(ws) as w:
        import_path(w.store, f)
        w.mark_owner_accounts()
    return ws


TINY = [
    {"record_type": "account", "platform": "bluesky", "account_key": "did:plc:abc", "handle": "alice.bsky.social",
     "is_owner": True},
    {"record_type": "account", "platform": "bluesky", "account_key": "did:plc:xyz", "handle": "bob.bsky.social"},
    {"record_type": "post", "platform": "bluesky", "post_key": "at://did:plc:abc/app.bsky.feed.post/1",
     "author_key": "did:plc:abc", "created_at": "2026-03-06T13:02:05Z", "kind": "original", "text": "Hello?"},
    # the only inbound item is the latest record: not due under a 24 h SLA, so nothing is measurable yet
    {"record_type": "post", "platform": "bluesky", "post_key": "at://did:plc:xyz/app.bsky.feed.post/2",
     "author_key": "did:plc:xyz", "created_at": "2026-03-06T13:30:00Z", "kind": "reply",
     "reply_to_key": "at://did:plc:abc/app.bsky.feed.post/1", "text": "Yes it works, what a great day"},
]


def test_inbox_footer_says_not_available_instead_of_zero(tmp_path: Path) -> None:
    ws = _tiny_ws(tmp_path, TINY, '[[owner.accounts]]\nplatform = "bluesky"\nkey = "did:plc:abc"\n')
    code, out = _run("inbox", "--json", "-w", str(ws))
    assert code == 0, out
    stats = json.loads(out)["stats"]
    assert stats["within_sla_share"] is None   # one reply, not due yet
    code, text = _run("inbox", "-w", str(ws))
    assert code == 0, text
    footer = text[text.index("response rate"):]
    assert "within SLA (24 h) —" in footer
    assert "0.0%" not in footer or stats["response_rate"] == 0
    if stats["response_rate"] is None:
        assert footer.startswith("response rate —")


# ------------------------------------------------------------------ 4. small shares


@pytest.mark.parametrize(("v", "want"), [
    (0.000241, "0.024%"), (0.00328, "0.33%"), (0.0, "0.0%"), (0.1234, "12.3%"), (1.0, "100.0%"),
    (0.05, "5.0%"), (0.01, "1.0%"), (-0.000241, "-0.024%"), (0.0000012, "0.00012%"),
])
def test_fmt_rate_keeps_small_shares_visible(v: float, want: str) -> None:
    assert fmt_rate(v) == want


def test_fmt_rate_signed() -> None:
    assert fmt_rate(0.000241, signed=True) == "+0.024%"
    assert fmt_rate(-0.25, signed=True) == "−25.0%"
    assert fmt_rate(0.0, signed=True) == "0.0%"


# ------------------------------------------------------------------ 5. check units


def _render_terminal(section: dict) -> str:
    from rich.console import Console

    c = Console(width=200, record=True)
    c.print(evidence_table("Dominate", section))
    return c.export_text()


def test_a_yes_no_check_reads_yes_no_in_the_terminal_and_the_report() -> None:
    sec = {"grade": {"letter": "F"}, "evidence": [
        Check("follower goal on track", 0.0, 1.0, "min", "x", unit="flag").to_json(),
        Check("other flag", 1.0, 1.0, "min", "y", unit="flag").to_json()]}
    text = _render_terminal(sec)
    line = next(x for x in text.splitlines() if "follower goal on track" in x)
    assert "%" not in line and " no " in line and "yes" in line
    html = grade_block(sec)
    assert "0.0%" not in html and "100.0%" not in html
    assert ">no<" in html and ">yes<" in html


def test_scorecard_checks_carry_their_units(world) -> None:
    base, _ = world
    code, out = _run("scorecard", "--json", "-w", str(base / "ws"))
    assert code == 0
    card = json.loads(out)
    units = {e["metric"]: e["unit"] for k in ("listen", "activate", "dominate", "mandate")
             for e in card[k].get("evidence", [])}
    assert units["follower goal on track"] == "flag"
    assert units["experiments too small to decide"] == "count"
    assert units["negative-mention spikes in W"] == "count"
    if "on-mandate response (engagers per post, on − other)" in units:
        assert units["on-mandate response (engagers per post, on − other)"] == "flag"
    code, text = _run("scorecard", "-w", str(base / "ws"))
    line = next(x for x in text.splitlines() if "follower goal on track" in x)
    assert "%" not in line


# ------------------------------------------------------------------ 6. a fresh workspace


def test_fresh_workspace_says_the_owner_is_not_imported_yet(tmp_path: Path) -> None:
    from socialleads.workspace import init_workspace

    ws = init_workspace(tmp_path / "fresh")   # the template declares an owner account by handle
    code, out = _run("scorecard", "--json", "-w", str(ws))
    assert code == 0, out
    assert json.loads(out)["activate"]["reason"] == OWNER_NOT_IMPORTED
    r = CliRunner().invoke(app, ["inbox", "-w", str(ws)])
    assert r.exit_code != 0 and OWNER_NOT_IMPORTED in r.output and "declare" not in r.output


def test_data_without_the_declared_owner_says_so_in_every_section(tmp_path: Path) -> None:
    records = [dict(r, is_owner=False) if r["record_type"] == "account" else r for r in TINY]
    ws = _tiny_ws(tmp_path, records, '[[owner.accounts]]\nplatform = "bluesky"\nhandle = "someone.else"\n')
    code, out = _run("scorecard", "--json", "-w", str(ws))
    assert code == 0, out
    card = json.loads(out)
    for k in ("engage", "activate", "dominate", "mandate"):
        assert card[k]["reason"] == OWNER_NOT_IMPORTED, k


def test_no_owner_declared_still_says_declare_it(tmp_path: Path) -> None:
    records = [dict(r, is_owner=False) if r["record_type"] == "account" else r for r in TINY]
    ws = _tiny_ws(tmp_path, records, "")
    code, out = _run("scorecard", "--json", "-w", str(ws))
    assert code == 0, out
    assert json.loads(out)["activate"]["reason"] == NO_OWNER_DECLARED
    r = CliRunner().invoke(app, ["inbox", "-w", str(ws)])
    assert r.exit_code != 0 and NO_OWNER_DECLARED in r.output


def test_leads_activate_counts_the_window_too(world) -> None:
    # `leads activate --window-days N` (its own command, not the scorecard's section) counts W's clicks
    base, truth = world
    owners = set(truth["owner_keys"])
    got = {}
    for days in (30, 365):
        code, out = _run("activate", "--json", "--window-days", str(days), "-w", str(base / "ws"))
        assert code == 0
        att = json.loads(out)["attribution"]
        start, end = (_t(att["window"][k]) for k in ("start", "end"))
        assert (end - start).days == days
        want = _counts_in_window(base, owners, start, end)
        assert {k: att[k] for k in want} == want, days
        got[days] = want["clicks"]
    assert 0 < got[30] < got[365]
