"""Stage of influence: the rule on hand-made scorecards and profiles (every expected stage follows from
the thresholds of the rule: TL share ≥ 25%, discussion ≥ 0.5 per post, reactivity ≥ 5%; conversions ≥ 10
or clicks ≥ 100)."""

from __future__ import annotations

from socialleads.classify.stage import STAGES, find_figure, stage_for_store, stage_of_influence
from socialleads.store import open_store
from socialleads.store.db import run_sql


def _profile(tl: float, disc: float) -> dict:
    return {"shares": {"thought-leadership": tl}, "discussion_per_post": disc, "profile": "leader"}


def test_nothing_known_is_not_available_with_unknowns():
    st = stage_of_influence({}, None)
    assert st["available"] is False and st["stage"] is None and "leads classes" in st["reason"]
    assert set(st["unknown"]) == {"thought_leadership_share", "discussion_per_post", "reactivity",
                                  "attributed_conversions", "attributed_clicks"}


def test_only_reactivity_known_is_social_proof():
    st = stage_of_influence({"audience": {"reactivity": 0.2}}, None)
    assert st["available"] is True and st["stage"] == "Social Proof" and st["stage_index"] == 0
    assert st["next_stage"] == "Social Leadership"
    assert any("thought_leadership_share" in s for s in st["to_move_on"])


def test_low_thought_leadership_keeps_proof_and_names_the_gap():
    st = stage_of_influence({"audience": {"reactivity": 0.2}}, _profile(0.10, 1.0))
    assert st["stage"] == STAGES[0]
    assert st["to_move_on"] == ["raise thought_leadership_share from 0.10 to ≥ 0.25"]
    lead = {c["metric"]: c["met"] for c in st["checks"]["leadership"]}
    assert lead == {"thought_leadership_share": False, "discussion_per_post": True, "reactivity": True}


def test_leadership_without_analytics_asks_for_them():
    st = stage_of_influence({"audience": {"reactivity": 0.06}}, _profile(0.30, 0.5))
    assert st["stage"] == "Social Leadership"
    assert st["values"]["reactivity"] == 0.06
    assert any("web analytics" in s for s in st["to_move_on"])


def test_leadership_needs_a_known_response_figure():
    # TL share met but neither discussion nor reactivity known: not enough evidence for Leadership
    st = stage_of_influence({}, {"shares": {"thought-leadership": 0.5}, "discussion_per_post": None})
    assert st["stage"] == "Social Proof"
    assert any("import replies" in s for s in st["to_move_on"])


def test_profits_from_activate_figures_top_level_nested_or_evidence():
    base = {"audience": {"reactivity": 0.1}}
    prof = _profile(0.4, 2.0)
    top = stage_of_influence({**base, "activate": {"available": True, "conversions": 12}}, prof)
    nested = stage_of_influence({**base, "activate": {"available": True, "funnel": {"clicks": 150}}}, prof)
    evid = stage_of_influence({**base, "activate": {"available": True, "evidence": [
        {"metric": "attributed_conversions", "value": 10}]}}, prof)
    below = stage_of_influence({**base, "activate": {"available": True, "conversions": 9, "clicks": 99}}, prof)
    off = stage_of_influence({**base, "activate": {"available": False, "conversions": 500}}, prof)
    assert [x["stage"] for x in (top, nested, evid, below, off)] == [
        "Social Profits", "Social Profits", "Social Profits", "Social Leadership", "Social Leadership"]
    assert top["next_stage"] is None


def test_find_figure_ignores_booleans_and_reads_value_dicts():
    assert find_figure({"clicks": True}, ("clicks",)) is None
    assert find_figure({"clicks": {"value": 7}}, ("clicks",)) == 7.0
    assert find_figure(None, ("clicks",)) is None


def test_stage_for_store_without_classes_table_does_not_fail():
    s = open_store(None)
    try:
        run_sql(s.con, "DROP TABLE post_classes")
        st = stage_for_store(s, ["o"], {"audience": {}})
        assert st["available"] is False and st["stage"] is None and st["profile"] is None
    finally:
        s.close()


def test_stage_and_coach_need_only_their_sections(tmp_path):
    """`leads stage` builds the audience figures and Activate only, `leads coach` Dominate only: the same
    stage and the same actions as from the whole scorecard (the review timed both at 10-15 s)."""
    from socialleads.classify.classes import classify_posts
    from socialleads.classify.coach import coach
    from socialleads.classify.stage import stage_for_store
    from socialleads.metrics.scorecard import build_scorecard
    from socialleads.simulate import simulate
    from socialleads.sources.importer import import_path
    from socialleads.store import open_store
    from socialleads.workspace.config import load_config

    simulate(tmp_path / "w", posts=4_000, seed=2)
    store = open_store(None)
    import_path(store, tmp_path / "w")
    config = load_config(tmp_path / "w" / "leads.toml")
    owners = [r[0] for r in store.con.execute("SELECT account_key FROM accounts WHERE is_owner ORDER BY 1").fetchall()]
    classify_posts(store, config)
    full = build_scorecard(store, owners, config)
    part = build_scorecard(store, owners, config, sections={"activate"})
    assert set(part) - {"stage_of_influence"} >= {"audience", "activate"} and "engage" not in part
    a, b = stage_for_store(store, owners, full), stage_for_store(store, owners, part)
    assert a == b
    dom = build_scorecard(store, owners, config, sections={"dominate"})
    assert coach(store, owners, config, full) == coach(store, owners, config, dom)
    store.close()
