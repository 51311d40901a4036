"""Stage of influence (METRICS.md §5): Social Proof → Social Leadership → Social Profits.

``stage_of_influence(scorecard, profile)`` is pure: it reads figures of the scorecard (the audience
block and, when present, the Activate section) and the owner's profile (``profile.owner_profile``:
class shares and discussion per post), and returns the stage, the rule, the values that placed the
account there (as checks: metric, value, target, met) and what would move it to the next stage.

The rule:

* **Social Proof** — the start: the account is building an audience. It stays here until every
  Leadership check is met.
* **Social Leadership** — thought-leadership share ≥ 25% of the owner's posts, replies + quotes
  received per post ≥ 0.5 (discussion), and audience reactivity ≥ 5% (the share of the followers at
  the start of W who acted on O in W). A check whose value is missing does not block (it is listed
  as unknown), but at least one of the discussion / reactivity checks must be known and met.
* **Social Profits** — Leadership, and the Activate section shows attributed results in W:
  conversions ≥ 10 or clicks ≥ 100 attributed to O's posts.
"""

from __future__ import annotations

from typing import Any

STAGES = ("Social Proof", "Social Leadership", "Social Profits")
TL_SHARE = 0.25
DISCUSSION_PER_POST = 0.5
REACTIVITY = 0.05
CONVERSIONS = 10
CLICKS = 100
RULE = (f"Social Proof until: thought-leadership share ≥ {TL_SHARE:.0%}, replies + quotes per post ≥ "
        f"{DISCUSSION_PER_POST} and reactivity ≥ {REACTIVITY:.0%} (Social Leadership); then attributed "
        f"conversions ≥ {CONVERSIONS} or attributed clicks ≥ {CLICKS} in the window (Social Profits)")

_CLICK_KEYS = ("attributed_clicks", "clicks_attributed", "clicks")
_CONV_KEYS = ("attributed_conversions", "conversions_attributed", "conversions", "converters")


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, dict):  # {"value": …} or {"total": …}
        for k in ("value", "total", "n", "count"):
            if k in v:
                return _num(v[k])
    return None


def find_figure(section: Any, names: tuple[str, ...]) -> float | None:
    """A figure of a scorecard section by any of its names: a top-level key, a key of a nested dict
    (one level, e.g. section["funnel"]["conversions"]), or an evidence row whose metric is that name."""
    if not isinstance(section, dict):
        return None
    for n in names:
        if n in section and _num(section[n]) is not None:
            return _num(section[n])
    for v in section.values():
        if isinstance(v, dict):
            for n in names:
                if n in v and _num(v[n]) is not None:
                    return _num(v[n])
    for row in section.get("evidence") or []:
        if isinstance(row, dict) and row.get("metric") in names and _num(row.get("value")) is not None:
            return _num(row.get("value"))
    return None


def _check(metric: str, value: float | None, target: float, note: str = "") -> dict[str, Any]:
    met = None if value is None else value >= target
    return {"metric": metric, "value": value, "target": target, "direction": "min", "met": met, "note": note}


def stage_of_influence(scorecard: dict[str, Any] | None, profile: dict[str, Any] | None) -> dict[str, Any]:
    """The owner's stage of influence with the rule, the checks that placed it and the next step."""
    card = scorecard or {}
    aud = card.get("audience") or {}
    shares = (profile or {}).get("shares") or {}
    tl = shares.get("thought-leadership") if profile else None
    disc = (profile or {}).get("discussion_per_post") if profile else None
    react = _num(aud.get("reactivity"))
    lead = [
        _check("thought_leadership_share", tl, TL_SHARE, "share of the owner's classified posts"),
        _check("discussion_per_post", disc, DISCUSSION_PER_POST, "replies + quotes by others per owner post"),
        _check("reactivity", react, REACTIVITY, "followers at the start of W who acted on O in W"),
    ]
    activate = card.get("activate") if isinstance(card.get("activate"), dict) else {}
    act_ok = bool(activate) and activate.get("available", True) is not False
    conv = find_figure(activate, _CONV_KEYS) if act_ok else None
    clicks = find_figure(activate, _CLICK_KEYS) if act_ok else None
    profits = [
        _check("attributed_conversions", conv, CONVERSIONS, "conversions attributed to O's posts in W"),
        _check("attributed_clicks", clicks, CLICKS, "clicks attributed to O's posts in W"),
    ]
    unknown = [c["metric"] for c in lead + profits if c["met"] is None]
    tl_ok = lead[0]["met"] is True
    response_known = [c for c in lead[1:] if c["met"] is not None]
    is_leader = tl_ok and bool(response_known) and all(c["met"] for c in response_known)
    is_profits = is_leader and any(c["met"] is True for c in profits)
    idx = 2 if is_profits else 1 if is_leader else 0
    if idx == 0:
        missing = [c for c in lead if c["met"] is False or (c["met"] is None and c is lead[0])]
        nxt = [f"raise {c['metric']} from {_fmt(c['value'])} to ≥ {_fmt(c['target'])}" for c in missing]
        if not response_known and tl_ok:
            nxt.append("import replies / quotes or follower data so discussion or reactivity can be measured")
        to = STAGES[1]
    elif idx == 1:
        nxt = [f"raise {c['metric']} from {_fmt(c['value'])} to ≥ {_fmt(c['target'])}" for c in profits]
        if not act_ok:
            nxt.append("import web analytics (clicks, conversions) so Activate can attribute results to posts")
        to = STAGES[2]
    else:
        nxt, to = ["keep the Leadership figures above target while growing attributed conversions"], None
    values = {"thought_leadership_share": tl, "discussion_per_post": disc, "reactivity": react,
              "attributed_conversions": conv, "attributed_clicks": clicks,
              "profile": (profile or {}).get("profile")}
    if all(c["met"] is None for c in lead):
        # nothing measured: no stage rather than a default "Social Proof" (never report what we cannot see)
        return {"available": False, "stage": None, "stage_index": None,
                "reason": "not available: none of thought-leadership share (run `leads classes`), discussion "
                          "per post or reactivity (import posts, replies and followers) can be measured yet",
                "rule": RULE, "values": values, "checks": {"leadership": lead, "profits": profits},
                "unknown": unknown, "next_stage": None, "to_move_on": []}
    return {"available": True, "stage": STAGES[idx], "stage_index": idx, "rule": RULE, "values": values,
            "checks": {"leadership": lead, "profits": profits}, "unknown": unknown,
            "next_stage": to, "to_move_on": nxt}


def _fmt(v: Any) -> str:
    if v is None:
        return "unknown"
    if isinstance(v, float) and v < 1:
        return f"{v:.2f}"
    return f"{v:g}" if isinstance(v, float) else str(v)


def stage_for_store(store: Any, owner_keys: list[str], scorecard: dict[str, Any] | None) -> dict[str, Any]:
    """``stage_of_influence`` with the owner's profile read from the store (None when nothing is classified
    or the store predates migration 008). Never raises on missing data."""
    from socialleads.classify.classes import has_classes_table
    from socialleads.classify.profile import owner_profile

    prof = owner_profile(store, list(owner_keys)) if owner_keys and has_classes_table(store) else None
    out = stage_of_influence(scorecard, prof)
    out["profile"] = prof
    return out
