"""The Engage scorecard section, its HTML rendering, topic-specific influence and the engage commands
(`leads communities`, `leads person`, `leads who --topic`).

Expected values: the section's figures against the library functions it summarises and against slow
Python recounts on a simulated world; topic PageRank against networkx on a hand-made store; HTML
escaping with hostile handles.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from socialleads.engage.inbox import inbox, inbox_summary, response_stats
from socialleads.engage.section import RESPONSE_BUCKETS, response_histogram, section
from socialleads.engage.topic_influence import TopicsMissing, topic_influence
from socialleads.engage.who import EngageError, who_matters
from socialleads.graph.communities import community_report
from socialleads.metrics.stages import StageContext
from socialleads.metrics.tables import tables_for
from socialleads.metrics.window import naive, window_for
from socialleads.store import open_store
from socialleads.store.db import run_sql
from tests.test_inbox import add_post, derive_interactions

T0 = dt.datetime(2026, 1, 1)


def h(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


@pytest.fixture(scope="module")
def sim_ws(tmp_path_factory):
    """A simulated world imported into a real workspace (leads.toml goals: SLA 24 h, conversation 0.3)."""
    from socialleads.simulate import simulate
    from socialleads.sources.importer import import_path
    from socialleads.workspace import init_workspace, open_workspace

    base = tmp_path_factory.mktemp("engage_world")
    truth = simulate(base / "world", posts=20_000, seed=3)
    init_workspace(base / "ws", config_from=base / "world" / "leads.toml")
    with open_workspace(base / "ws") as w:
        import_path(w.store, base / "world")
        w.mark_owner_accounts()
    return base / "ws", truth


@pytest.fixture(scope="module")
def sim_section(sim_ws):
    from socialleads.workspace import open_workspace

    with open_workspace(sim_ws[0], read_only=True) as ws:
        w = window_for(tables_for(ws.store), ws.config.window_days)
        ctx = StageContext(ws.store, ws.owner_keys(), w, ws.config)
        sec = section(ctx)
        extra = {"owners": ws.owner_keys(), "window": w, "cache": dict(ctx.cache), "config": ws.config}
        start, end = naive(w.start), naive(w.end)
        extra["stats"] = response_stats(ws.store, extra["owners"], start=start, end=end, sla_hours=24)
        extra["summary"] = inbox_summary(ws.store, extra["owners"], sla_hours=24)
        extra["open_items"] = inbox(ws.store, extra["owners"], limit=10**6, sla_hours=24)
        extra["all_items"] = inbox(ws.store, extra["owners"], limit=10**6, only_unanswered=False)
        extra["who"] = who_matters(ws.store, extra["owners"], window_days=w.days, limit=10)
        extra["communities"] = community_report(ws.store, extra["owners"], start=start, end=end)
        yield sec, extra


def test_section_matches_the_library(sim_section):
    sec, x = sim_section
    assert sec["available"] and sec["grade"]["checks"] >= 3
    json.dumps(sec)  # JSON-ready without a default
    r, st = sec["response"], x["stats"]
    for k in ("inbound", "answered", "response_rate", "median_response_hours", "within_sla_share",
              "listened_and_acted_rate", "conversation_ratio", "conversation_start_share", "reciprocity"):
        assert r[k] == st[k], k
    assert [w["account"] for w in sec["who_matters"]] == [w["account"] for w in x["who"]]
    assert all(w["reason"] for w in sec["who_matters"])
    assert any(k.startswith("interaction_graph:") for k in x["cache"])  # built once, shared (ctx.window_graph)
    # the section's communities are community_report's (same partition on the shared graph)
    rep = x["communities"][:8]
    assert [(c["community"], c["size"], c["acted_on_owner"]) for c in sec["communities"]] == [
        (c["community"], c["size"], c["acted_on_owner"]) for c in rep]
    assert [c["top_members"] for c in sec["communities"]] == [
        [m["handle"] or m["account"] for m in c["top_members"][:3]] for c in rep]
    assert all(c["top_terms"] for c in sec["communities"])
    ev = {e["metric"]: e for e in sec["evidence"]}
    assert ev["within-SLA share"]["target"] == 0.8 and ev["conversation ratio"]["target"] == 0.3
    assert ev["response rate"]["met"] == (st["response_rate"] >= 0.5)


def test_community_terms_occur_in_members_posts(sim_ws, sim_section):
    """Each community's top terms are words of its members' posts in the window (and not stop words)."""
    from socialleads.graph.communities import STOP_WORDS
    from socialleads.workspace import open_workspace

    sec, x = sim_section
    rep = {c["community"]: c for c in x["communities"]}
    with open_workspace(sim_ws[0], read_only=True) as ws:
        for c in sec["communities"][:3]:
            members = [m["account"] for m in rep[c["community"]]["top_members"]]
            # all members: from the person timeline's partition, via the report's top members' community
            texts = " ".join(t or "" for (t,) in ws.store.con.execute(
                "SELECT lower(text) FROM posts WHERE created_at >= ? AND created_at <= ? AND author_key IN ("
                "SELECT unnest(CAST(? AS VARCHAR[])))",
                [naive(x["window"].start), naive(x["window"].end), members]).fetchall())
            assert any(t in texts for t in c["top_terms"]), (c["top_terms"], members)
            assert not set(c["top_terms"]) & STOP_WORDS


def test_inbox_summary_recount(sim_section):
    """Slow recount from the full list of open items."""
    sec, x = sim_section
    items = x["open_items"]
    box = sec["inbox"]
    assert box["open"] == len(items) == x["summary"]["open"] > 0
    assert box["by_band"]["high"] == sum(i["priority"] >= 2 for i in items)
    assert box["by_band"]["medium"] == sum(1 <= i["priority"] < 2 for i in items)
    assert box["by_band"]["low"] == sum(i["priority"] < 1 for i in items)
    assert box["overdue"] == sum(i["overdue"] for i in items)
    assert box["questions"] == sum(i["is_question"] for i in items)


def test_response_distribution_recount(sim_section):
    sec, x = sim_section
    start, end = x["window"].start, x["window"].end
    hours = [i["response_hours"] for i in x["all_items"] if i["answered"] and i["response_hours"] is not None
             and start <= i["created_at"] <= end]
    expected = [0] * len(RESPONSE_BUCKETS)
    for v in hours:
        expected[next(k for k, (u, _) in enumerate(RESPONSE_BUCKETS) if v <= u)] += 1
    assert [b["count"] for b in sec["response_distribution"]] == expected
    assert sum(expected) > 0


def test_response_histogram_by_hand():
    # bounds are upper-inclusive: 1.0 → "< 1 h" bucket (≤ 1), 1.5 → 1–4 h, 24 → 12–24 h, 500 → > 7 d
    b = response_histogram(np.array([0.2, 1.0, 1.5, 24.0, 500.0]))
    assert [x["count"] for x in b] == [2, 1, 0, 1, 0, 0, 1]
    assert b[0]["share"] == pytest.approx(0.4)
    assert all(x["share"] is None for x in response_histogram(np.array([])))


def test_section_unavailable():
    s = open_store(None)
    assert not section(StageContext(s, ["o"], None, None))["available"]
    s.close()


def test_person_community_matches_report(sim_ws, sim_section):
    """The person timeline names the same community as the report (same partition)."""
    from socialleads.engage.person import person_timeline
    from socialleads.workspace import open_workspace

    sec, x = sim_section
    with open_workspace(sim_ws[0], read_only=True) as ws:
        for c in x["communities"][:3]:
            m = c["top_members"][0]
            p = person_timeline(ws.store, x["owners"], m["account"], window_days=x["window"].days)
            (pc,) = p["communities"]
            assert pc["community"] == c["community"] and pc["size"] == c["size"]
            assert pc["reach"] == pytest.approx(c["reach"])
            assert [t["term"] for t in pc["top_terms"]] == [t["term"] for t in c["top_terms"]]
            assert p["events"] and p["strength"] > 0


# ------------------------------------------------------------------------------------------ report

def test_render_escapes_and_draws(sim_section):
    from socialleads.report.engage import render

    sec, _ = sim_section
    bad = "<script>alert(1)</script>"
    sec = json.loads(json.dumps(sec))
    sec["who_matters"][0]["handle"] = bad
    sec["who_matters"][0]["reason"] = bad
    sec["communities"][0]["top_members"] = [bad]
    sec["communities"][0]["top_terms"] = [bad]
    html = render(sec)
    assert bad not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "engage-response-time" in html and "engage-community-map" in html
    assert "Who matters most" in html and "Welcomes" in html
    assert "not available" in render({"available": False, "reason": "not available: x"})


# ------------------------------------------------------------------------------------------ topics

TOPICS_DDL = """
CREATE TABLE IF NOT EXISTS topics (topic_id INTEGER NOT NULL, label VARCHAR, terms VARCHAR[], size BIGINT);
CREATE TABLE IF NOT EXISTS post_topics (post_key VARCHAR NOT NULL, topic_id INTEGER NOT NULL, score DOUBLE)
"""


@pytest.fixture
def topic_store():
    """Posts of topic 0 ('heat pumps'): t1 by a, t2 by b, q1 by y (y's quote of t1, itself on topic 0).
    Topic 1 ('solar'): s1 by c.

    Interactions on topic 0 (weights: repost 3, reply 2, quote 3, mention 2, like 1):
      x reposts t1 (x→a 3); y quotes t1 with q1 (y→a 3); z replies r1 to t2 (z→b 2; r1 has no topic, but
      its target t2 has); x likes q1 (x→y 1); w mentions a in m1, a topic-0 post (w→a 2); o likes t1 (o→a 1)
    Not on topic 0: z likes s1 (z→c, topic 1); x reposts u1 (no topic); the follow x→a.
    """
    s = open_store(None)
    con = s.con
    for stmt in TOPICS_DDL.strip().split(";"):
        run_sql(con, stmt)
    add_post(con, "t1", "a", h(1), "heat pumps")
    add_post(con, "t2", "b", h(2), "heat pump install")
    add_post(con, "s1", "c", h(3), "solar")
    add_post(con, "u1", "d", h(4), "misc")
    add_post(con, "q1", "y", h(5), "look", kind="quote", quote_of="t1")
    add_post(con, "r1", "z", h(6), "nice", kind="reply", reply_to="t2")
    add_post(con, "m1", "w", h(7), "@a heat pumps", mentions=("a",))
    add_post(con, "rp", "x", h(8), None, kind="repost", repost_of="t1")
    add_post(con, "rp2", "x", h(9), None, kind="repost", repost_of="u1")
    derive_interactions(con)
    for key, typ, actor, tp, t in (("l1", "like", "x", "q1", h(10)), ("l2", "like", "z", "s1", h(11)),
                                   ("l3", "like", "o", "t1", h(12))):
        run_sql(con, "INSERT INTO interactions (interaction_key, platform, type, actor_key, target_post_key, "
                     "created_at, source) VALUES (?, 'test', ?, ?, ?, ?, 'test')", [key, typ, actor, tp, t])
    run_sql(con, "INSERT INTO interactions (interaction_key, platform, type, actor_key, target_account_key, "
                 "created_at, source) VALUES ('f1', 'test', 'follow', 'x', 'a', ?, 'test')", [h(0)])
    run_sql(con, "INSERT INTO topics (topic_id, label, terms, size) VALUES (0, 'heat pumps · install', ['heat', 'pumps', 'install'], 4), "
                 "(1, 'solar · panels', ['solar', 'panels'], 1)")
    run_sql(con, "INSERT INTO post_topics (post_key, topic_id, score) VALUES ('t1', 0, .9), ('t2', 0, .8), ('q1', 0, .7), ('m1', 0, .6), "
                 "('s1', 1, .9), ('u1', -1, .1)")
    yield s
    s.close()


def test_topic_influence_matches_networkx(topic_store):
    import networkx as nx

    g = nx.DiGraph()
    for u, v, w in (("x", "a", 3), ("y", "a", 3), ("z", "b", 2), ("x", "y", 1), ("w", "a", 2), ("o", "a", 1)):
        g.add_edge(u, v, weight=w)
    ref = nx.pagerank(g, alpha=0.85, weight="weight", tol=1e-12, max_iter=1000)
    r = topic_influence(topic_store, ["o"], "heat", start=None, end=None, limit=10)
    assert r["topic"]["topic_id"] == 0 and r["interactions"] == 6
    got = {row["account"]: row["pagerank"] for row in r["rows"]}
    assert set(got) == set(ref) - {"o"}  # the owner is in the graph but not ranked
    for k, v in got.items():
        assert v == pytest.approx(ref[k], rel=1e-5), k
    assert r["rows"][0]["account"] == "a" and r["rows"][0]["topic_interactions_received"] == 4
    assert topic_influence(topic_store, ["o"], "1", start=None, end=None)["rows"][0]["account"] == "c"
    # a window that ends before the likes (h 10–12) keeps 4 of the 6 interactions
    assert topic_influence(topic_store, ["o"], 0, start=h(0), end=h(9))["interactions"] == 4


def test_topic_errors(topic_store, store):
    with pytest.raises(EngageError, match="no topic"):
        topic_influence(topic_store, ["o"], "wind", start=None, end=None)
    run_sql(topic_store.con, "INSERT INTO topics (topic_id, label, terms, size) VALUES (2, 'solar · heat', ['solar', 'heat'], 1)")
    with pytest.raises(EngageError, match="matches 2 topics"):
        topic_influence(topic_store, ["o"], "solar", start=None, end=None)
    with pytest.raises(TopicsMissing, match="leads topics"):
        topic_influence(store, ["o"], "heat", start=None, end=None)


# ------------------------------------------------------------------------------------------ commands

def _app():
    from socialleads.cli.engage import communities_command, person_command, who_command

    app = typer.Typer()
    app.command("who")(who_command)
    app.command("communities")(communities_command)
    app.command("person")(person_command)

    @app.callback()
    def _root() -> None:
        pass

    return app


def test_commands(sim_ws, sim_section, monkeypatch):
    from socialleads.cli import output

    monkeypatch.setattr(output.console, "width", 200)
    ws = str(sim_ws[0])
    _, x = sim_section
    runner = CliRunner()
    res = runner.invoke(_app(), ["communities", "--json", "-w", ws])
    assert res.exit_code == 0, res.output
    assert [c["size"] for c in json.loads(res.stdout)] == [c["size"] for c in x["communities"]]
    res = runner.invoke(_app(), ["communities", "-w", ws, "--resolution", "2", "--seed", "1"])
    assert res.exit_code == 0 and "communities around you" in res.stdout

    member = x["communities"][0]["top_members"][0]
    handle = member["handle"] or member["account"]
    res = runner.invoke(_app(), ["person", "@" + handle, "--json", "-w", ws])
    assert res.exit_code == 0, res.output
    p = json.loads(res.stdout)
    assert p["account"]["account"] == member["account"] and p["events"]
    res = runner.invoke(_app(), ["person", handle, "-w", ws])
    assert res.exit_code == 0 and "strength" in res.stdout and "interactions, oldest first" in res.stdout

    res = runner.invoke(_app(), ["person", "@no-such-person.example", "-w", ws])
    assert res.exit_code != 0 and res.output.startswith("error: ") and len(res.output.strip().splitlines()) == 1

    res = runner.invoke(_app(), ["who", "--topic", "heat", "-w", ws])
    assert res.exit_code != 0 and "leads topics" in res.output and len(res.output.strip().splitlines()) == 1

