"""The coach on a hand-made store where the expected actions and their accounts / posts are known."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from socialleads.classify.coach import coach
from socialleads.store import open_store
from socialleads.store.db import run_sql

NOW = dt.datetime(2026, 3, 31, 12, 0)


def _post(s, key, author, kind="original", reply_to=None, text="", days_ago=1.0):
    run_sql(s.con, "INSERT INTO posts (post_key, platform, author_key, kind, reply_to_key, text, created_at, "
                   "source) VALUES (?, 'x', ?, ?, ?, ?, ?, 't')",
            [key, author, kind, reply_to, text, NOW - dt.timedelta(days=days_ago)])


def _follow(s, actor, target, days_ago=100.0):
    run_sql(s.con, "INSERT INTO interactions (interaction_key, platform, type, actor_key, target_account_key, "
                   "created_at, source) VALUES (?, 'x', 'follow', ?, ?, ?, 't')",
            [f"f:{actor}:{target}", actor, target, NOW - dt.timedelta(days=days_ago)])


@pytest.fixture
def world():
    s = open_store(None)
    for k in ["o", "big", *[f"a{i}" for i in range(20)]]:
        run_sql(s.con, "INSERT INTO accounts (account_key, platform, handle) VALUES (?, 'x', ?)", [k, k])
    # follower counts: o 25, big 40, each a_i 1 → the 95th percentile is 23.8: only big is in the top 5%
    for i in range(20):
        _follow(s, f"z{i}", f"a{i}")
    for i in range(40):
        _follow(s, f"y{i}", "big")
    for i in range(22):
        _follow(s, f"x{i}", "o")
    _follow(s, "a4", "o", days_ago=2)     # new, never touched by o → welcome
    _follow(s, "a5", "o", days_ago=3)     # new, but o replied to a5 → not listed
    _follow(s, "a6", "o", days_ago=30)    # not new
    # the owner's posts: 1 thought leadership, 9 promotional
    for i in range(10):
        _post(s, f"op{i}", "o", text=f"post {i}", days_ago=20 - i)
        run_sql(s.con, "INSERT INTO post_classes VALUES (?, ?, 1.0, 'hand', NULL)",
                [f"op{i}", "thought-leadership" if i == 0 else "promotional"])
    _post(s, "q1", "big", "reply", "op1", "@o how do I reset it?", days_ago=1)
    _post(s, "q2", "a1", "reply", "op2", "@o why is it slow?", days_ago=1.5)
    _post(s, "q3", "a2", "reply", "op3", "@o does it work offline?", days_ago=2)
    _post(s, "r3", "o", "reply", "q3", "@a2 yes it does", days_ago=1.9)             # answers q3
    _post(s, "m1", "a3", "reply", "op4", "@o great product, love it", days_ago=5)     # overdue, no question
    _post(s, "p5", "a5", "original", None, "my new setup", days_ago=4)
    _post(s, "r5", "o", "reply", "p5", "@a5 looks great", days_ago=3.5)               # o touched a5
    yield s
    s.close()


CONFIG = SimpleNamespace(goals=SimpleNamespace(response_sla_hours=24.0, posts_per_week=5.0, conversation_ratio=0.5))


def test_expected_actions_and_their_targets(world):
    acts = {a["rule"]: a for a in coach(world, ["o"], CONFIG, None, now=NOW)}
    q = acts["answer_questions"]
    assert [t["post_key"] for t in q["targets"]] == ["q1", "q2"]  # q3 was answered
    assert q["value"] == 2 and q["target"] == 0
    assert "1 from accounts in your top 5%" in q["action"]
    assert [t["post_key"] for t in acts["answer_overdue"]["targets"]] == ["m1"]
    assert [t["account_key"] for t in acts["welcome_followers"]["targets"]] == ["a4"]
    tl = acts["more_thought_leadership"]
    assert tl["value"] == pytest.approx(0.1) and tl["target"] == 0.25  # the stage of influence's threshold (classify.stage.TL_SHARE)
    assert [t["post_key"] for t in tl["targets"]] == ["op0"]
    assert acts["less_self_promotion"]["value"] == pytest.approx(0.9)
    # 12 owner posts in the last 28 days (op0..op9 are 11-20 days old, r3, r5) → 3 a week
    assert acts["posting_cadence"]["value"] == pytest.approx(12 / 4)
    # 2 replies of 12 posts
    assert acts["conversation_ratio"]["value"] == pytest.approx(2 / 12, abs=1e-4)


def test_actions_are_ranked_by_score(world):
    acts = coach(world, ["o"], CONFIG, None, now=NOW)
    scores = [a["score"] for a in acts]
    assert scores == sorted(scores, reverse=True)
    assert [a["rank"] for a in acts] == list(range(1, len(acts) + 1))
    assert acts[0]["rule"] == "answer_questions"
    assert len(coach(world, ["o"], CONFIG, None, now=NOW, limit=2)) == 2


def test_dominate_section_gives_topics_to_join(world):
    card = {"dominate": {"available": True, "first_movers": [
        {"label": "heat pumps", "first": "rival", "lead_hours": 30, "owner_posted": False},
        {"label": "solar", "first": "o", "first_is_owner": True},
        "not a row",
        {"label": "tariffs", "first": "rival2", "lead_hours": 4, "owner_posted": True}]}}
    acts = {a["rule"]: a for a in coach(world, ["o"], CONFIG, card, now=NOW)}
    j = acts["join_topics"]
    assert [t["topic"] for t in j["targets"]] == ["heat pumps", "tariffs"]
    assert "2 trending topics" in j["action"]


def test_missing_sections_add_nothing_and_never_fail(world):
    for card in (None, {}, {"dominate": {"available": False, "reason": "x"}}, {"dominate": {"first_movers": []}},
                 {"dominate": "broken"}):
        rules = {a["rule"] for a in coach(world, ["o"], None, card, now=NOW)}
        assert "join_topics" not in rules
        assert "posting_cadence" not in rules  # no config goals
    run_sql(world.con, "DROP TABLE post_classes")
    rules = {a["rule"] for a in coach(world, ["o"], None, None, now=NOW)}
    assert "more_thought_leadership" not in rules and "answer_questions" in rules


def test_empty_store_and_no_owner():
    s = open_store(None)
    try:
        assert coach(s, ["o"], CONFIG, {}) == []
        assert coach(s, [], CONFIG, {}) == []
    finally:
        s.close()


def test_command_line_classes_stage_coach(tmp_path):
    import json

    from typer.testing import CliRunner

    from socialleads.cli.main import app
    from socialleads.simulate import simulate
    from socialleads.sources.importer import import_path
    from socialleads.workspace import open_workspace

    ws = tmp_path / "ws"
    simulate(ws, posts=1000, seed=5)
    truth = [json.loads(x) for x in (ws / "truth_owner_posts.jsonl").read_text().splitlines()]
    with open_workspace(ws) as w:
        import_path(w.store, ws)
        w.mark_owner_accounts()
    run = CliRunner().invoke
    r = run(app, ["classes", "--json", "-w", str(ws)])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["run"]["computed"] == len(truth)  # default: the owner's posts
    assert json.loads(run(app, ["classes", "--json", "-w", str(ws)]).stdout)["run"]["computed"] == 0
    r = run(app, ["coach", "--json", "-n", "3", "-w", str(ws)])
    assert r.exit_code == 0, r.output
    acts = json.loads(r.stdout)
    assert 1 <= len(acts) <= 3 and acts[0]["rank"] == 1
    r = run(app, ["stage", "--json", "-w", str(ws)])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["stage"] in ("Social Proof", "Social Leadership", "Social Profits")
    r = run(app, ["classes", "--account", "nobody-here", "-w", str(ws)])
    assert r.exit_code == 1 and "nobody-here" in r.output
