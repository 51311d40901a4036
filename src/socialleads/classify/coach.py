"""The coach (METRICS.md §6): ranked, concrete next actions.

``coach(store, owner_keys, config, scorecard)`` returns a list of actions, most urgent first. Each
action names the metric below its target (``metric``, ``value``, ``target``), the evidence (one
sentence), and the accounts or posts to act on (``targets``). Every rule is independent and tolerant:
when the data it needs is missing (no owner, no classes, no follows, no Dominate section …) it adds
nothing and never raises.

Rules (score = urgency in [0, 1] × weight; the list is sorted by score):

* ``answer_questions``: unanswered inbound questions (engage.inbox; target: none left unanswered);
  the evidence counts those from accounts in the top 5% of follower counts. Weight 1.0.
* ``answer_overdue``: other unanswered replies / quotes / mentions older than the response SLA. Weight 0.8.
* ``welcome_followers``: accounts that followed O in the last 7 days of data with no interaction from O
  towards them (no reply to, mention of, follow or like by O). Weight 0.6.
* ``more_thought_leadership``: thought-leadership share of O's classified posts below 30%. Weight 0.7.
* ``less_self_promotion``: promotional share above 30%. Weight 0.6.
* ``conversation_ratio``: O's replies + quotes ÷ O's posts in the window below the config goal. Weight 0.5.
* ``posting_cadence``: O's posts in the last 28 days ÷ 4 below ``goals.posts_per_week``. Weight 0.5.
* ``join_topics``: topics of the scorecard's Dominate section where a competitor posted first and O did
  not post (or later). Weight 0.6.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from socialleads.classify.stage import TL_SHARE
from socialleads.engage.inbox import data_end, inbox

TL_TARGET = TL_SHARE   # the stage of influence's threshold: one target for both
PROMO_MAX = 0.30
TOP_SHARE = 0.05
WELCOME_DAYS = 7
MAX_TARGETS = 12


def _q(store: Any, sql: str, params: list | None = None) -> list[tuple]:
    return store.con.execute(sql, params or []).fetchall()


def _action(rule: str, action: str, metric: str, value: Any, target: Any, evidence: str,
            targets: list[dict[str, Any]], urgency: float, weight: float, direction: str = "min") -> dict[str, Any]:
    return {"rule": rule, "action": action, "metric": metric, "value": value, "target": target,
            "direction": direction,
            "evidence": evidence, "targets": targets, "score": round(max(0.0, min(1.0, urgency)) * weight, 4)}


def _goal(config: Any, name: str, default: Any = None) -> Any:
    return getattr(getattr(config, "goals", None), name, default)


# -- rules -----------------------------------------------------------------------------------------------

def _inbox_rules(store: Any, owners: list[str], config: Any, now: dt.datetime) -> list[dict[str, Any]]:
    sla = float(_goal(config, "response_sla_hours", 24.0) or 24.0)
    items = inbox(store, owners, now=now, sla_hours=sla, limit=10_000, only_unanswered=True)
    if not items:
        return []
    row = _q(store, """SELECT quantile_cont(n, ?) FROM (
        SELECT target_account_key, count(DISTINCT actor_key) AS n FROM interactions
        WHERE type = 'follow' AND ended_at IS NULL AND target_account_key IS NOT NULL GROUP BY 1)""",
             [1 - TOP_SHARE])
    p95 = row[0][0] if row and row[0][0] is not None else None
    out = []
    questions = [i for i in items if i["is_question"]]
    if questions:
        top = [i for i in questions if p95 is not None and i["followers"] >= p95 and i["followers"] > 0]
        days = int(getattr(config, "window_days", None) or 90)
        recent = sum(1 for i in questions if i["age_hours"] is not None and i["age_hours"] <= days * 24)
        ev = (f"{len(questions)} inbound questions have no reply from you ({recent} of them in the last "
              f"{days} days, the scorecard's window; the rest are older)"
              + (f", {len(top)} from accounts in your top {TOP_SHARE:.0%} by followers" if top else ""))
        out.append(_action(
            "answer_questions",
            f"Reply to these {min(len(questions), MAX_TARGETS)} unanswered questions"
            + (f", {len(top)} from accounts in your top {TOP_SHARE:.0%} by followers" if top else ""),
            "unanswered_questions", len(questions), 0, ev,
            [_post_target(i) for i in questions[:MAX_TARGETS]],
            0.5 + 0.5 * min(1.0, len(questions) / 10) + (0.2 if top else 0.0), 1.0, "max"))
    overdue = [i for i in items if not i["is_question"] and i["overdue"]]
    if overdue:
        out.append(_action(
            "answer_overdue", f"Answer these {min(len(overdue), MAX_TARGETS)} replies and mentions waiting "
            f"longer than your {sla:g} h response goal",
            "overdue_inbound", len(overdue), 0,
            f"{len(overdue)} inbound replies, quotes or mentions are unanswered after {sla:g} h",
            [_post_target(i) for i in overdue[:MAX_TARGETS]], 0.4 + 0.6 * min(1.0, len(overdue) / 20), 0.8, "max"))
    return out


def _post_target(i: dict[str, Any]) -> dict[str, Any]:
    return {"post_key": i["post_key"], "account_key": i["author"], "handle": i["handle"],
            "text": (i["text"] or "")[:140], "followers": i["followers"],
            "age_hours": None if i["age_hours"] is None else round(float(i["age_hours"]), 1)}


def _welcome(store: Any, owners: list[str], now: dt.datetime) -> list[dict[str, Any]]:
    since = now - dt.timedelta(days=WELCOME_DAYS)
    rows = _q(store, """
        WITH o AS (SELECT unnest(?::VARCHAR[]) AS k),
        new AS (
          SELECT actor_key, min(created_at) AS at FROM interactions
          WHERE type = 'follow' AND target_account_key IN (SELECT k FROM o) AND actor_key NOT IN (SELECT k FROM o)
            AND created_at > ? AND created_at <= ? AND ended_at IS NULL
          GROUP BY actor_key
        ),
        touched AS (
          SELECT target_account_key AS k FROM interactions
          WHERE actor_key IN (SELECT k FROM o) AND target_account_key IS NOT NULL
          UNION SELECT par.author_key FROM posts p JOIN posts par ON par.post_key = p.reply_to_key
                WHERE p.author_key IN (SELECT k FROM o)
          UNION SELECT e.target_account_key FROM post_entities e JOIN posts p USING (post_key)
                WHERE e.etype = 'mention' AND p.author_key IN (SELECT k FROM o) AND e.target_account_key IS NOT NULL
        )
        SELECT n.actor_key, any_value(a.handle), min(n.at) FROM new n
        LEFT JOIN accounts a ON a.account_key = n.actor_key
        WHERE n.actor_key NOT IN (SELECT k FROM touched WHERE k IS NOT NULL)
        GROUP BY n.actor_key ORDER BY min(n.at) DESC, n.actor_key""", [owners, since, now])
    if not rows:
        return []
    targets = [{"account_key": k, "handle": h, "followed_at": at.isoformat() if at else None} for k, h, at in rows]
    return [_action("welcome_followers", f"Welcome these {len(rows)} new followers",
                    "new_followers_welcomed", 0, len(rows),
                    f"{len(rows)} accounts followed you in the last {WELCOME_DAYS} days of data and you have "
                    "not interacted with them", targets[:MAX_TARGETS], 0.3 + 0.7 * min(1.0, len(rows) / 10), 0.6)]


def _mix_rules(store: Any, owners: list[str]) -> list[dict[str, Any]]:
    try:
        rows = _q(store, """SELECT c.class, count(*) FROM post_classes c JOIN posts p USING (post_key)
                            WHERE p.author_key IN (SELECT unnest(?::VARCHAR[])) GROUP BY 1""", [owners])
    except Exception:  # no post_classes table (an old workspace): the rule has nothing to say
        return []
    counts = {k: int(n) for k, n in rows}
    total = sum(counts.values())
    if total == 0:
        return []
    out = []
    tl = counts.get("thought-leadership", 0) / total
    if tl < TL_TARGET:
        examples = _q(store, """SELECT p.post_key, p.text FROM posts p JOIN post_classes c USING (post_key)
            LEFT JOIN metrics_snapshots m ON m.subject_key = p.post_key AND m.subject_type = 'post'
            WHERE p.author_key IN (SELECT unnest(?::VARCHAR[])) AND c.class = 'thought-leadership'
            GROUP BY p.post_key, p.text
            ORDER BY max(coalesce(m.likes, 0) + coalesce(m.reposts, 0) + coalesce(m.replies, 0)) DESC, p.post_key
            LIMIT 3""", [owners])
        out.append(_action(
            "more_thought_leadership",
            f"Post more thought leadership: {tl:.0%} of your posts vs {TL_TARGET:.0%} target",
            "thought_leadership_share", round(tl, 4), TL_TARGET,
            f"{counts.get('thought-leadership', 0)} of your {total} classified posts are thought leadership",
            [{"post_key": k, "text": (t or "")[:140], "why": "your best thought-leadership post to build on"}
             for k, t in examples], (TL_TARGET - tl) / TL_TARGET, 0.7))
    promo = counts.get("promotional", 0) / total
    if promo > PROMO_MAX:
        out.append(_action(
            "less_self_promotion",
            f"Promote less: {promo:.0%} of your posts are promotional vs at most {PROMO_MAX:.0%}",
            "promotional_share", round(promo, 4), PROMO_MAX,
            f"{counts.get('promotional', 0)} of your {total} classified posts promote your own products",
            [], (promo - PROMO_MAX) / (1 - PROMO_MAX), 0.6, "max"))
    return out


def _activity_rules(store: Any, owners: list[str], config: Any, now: dt.datetime) -> list[dict[str, Any]]:
    out = []
    since = now - dt.timedelta(days=28)
    row = _q(store, """SELECT count(*) FILTER (WHERE kind <> 'repost'),
                              count(*) FILTER (WHERE kind IN ('reply', 'quote')), count(*)
                       FROM posts WHERE author_key IN (SELECT unnest(?::VARCHAR[]))
                         AND created_at > ? AND created_at <= ?""", [owners, since, now])[0]
    own_posts, conv, allp = int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)
    ppw = _goal(config, "posts_per_week")
    if ppw:
        actual = allp / 4
        if actual < ppw:
            out.append(_action(
                "posting_cadence", f"Post {ppw - actual:.1f} more times a week ({actual:.1f} vs goal {ppw:g})",
                "posts_per_week", round(actual, 2), ppw,
                f"{allp} posts in the last 28 days of data", [], (ppw - actual) / ppw, 0.5))
    goal = _goal(config, "conversation_ratio")
    if goal and allp:
        ratio = conv / allp
        if ratio < goal:
            out.append(_action(
                "conversation_ratio",
                f"Start more conversations: replies + quotes are {ratio:.0%} of your posts vs goal {goal:.0%}",
                "conversation_ratio", round(ratio, 4), goal,
                f"{conv} replies and quotes among your {allp} posts in the last 28 days ({own_posts} not reposts)",
                [], (goal - ratio) / goal, 0.5))
    return out


_FIRST_KEYS = ("first_movers", "first_mover", "lead_times", "emerging_topics", "emerging")


def _dominate_rule(scorecard: dict[str, Any] | None) -> list[dict[str, Any]]:
    dom = (scorecard or {}).get("dominate")
    if not isinstance(dom, dict) or dom.get("available") is False:
        return []
    rows = next((dom[k] for k in _FIRST_KEYS if isinstance(dom.get(k), list)), None)
    if not rows:
        return []
    missed = []
    for r in rows:
        if not isinstance(r, dict):
            continue
        first = r.get("first") or r.get("first_mover") or r.get("leader") or r.get("first_account")
        owner_first = r.get("owner_first") or r.get("owner_led")
        is_owner = r.get("first_is_owner")
        if first is None or owner_first is True or is_owner is True or first == "owner":
            continue
        missed.append({"topic": r.get("label") or r.get("topic") or r.get("topic_id"), "first": first,
                       "lead_hours": r.get("lead_hours") or r.get("lead_time_hours"),
                       "owner_posted": r.get("owner_posted")})
    if not missed:
        return []
    return [_action("join_topics", f"Join these {len(missed)} trending topics where competitors posted first",
                    "first_mover_topics", len(rows) - len(missed), len(rows),
                    f"a competitor posted first on {len(missed)} of {len(rows)} emerging topics",
                    missed[:MAX_TARGETS], len(missed) / max(len(rows), 1), 0.6)]


def coach(store: Any, owner_keys: list[str], config: Any = None, scorecard: dict[str, Any] | None = None,
          *, now: Any = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Ranked next actions (see the module doc). ``now`` defaults to the end of the data."""
    owners = [str(k) for k in owner_keys or []]
    if not owners:
        return []
    t_now = now if now is not None else data_end(store)
    if isinstance(t_now, dt.datetime) and t_now.tzinfo is not None:
        t_now = t_now.astimezone(dt.UTC).replace(tzinfo=None)
    rules: list[Callable[[], list[dict[str, Any]]]] = [lambda: _mix_rules(store, owners),
                                                        lambda: _dominate_rule(scorecard)]
    if t_now is not None:
        rules = [lambda: _inbox_rules(store, owners, config, t_now), lambda: _welcome(store, owners, t_now),
                 lambda: _activity_rules(store, owners, config, t_now), *rules]
    actions: list[dict[str, Any]] = []
    for rule in rules:
        actions.extend(rule())
    actions.sort(key=lambda a: (-a["score"], a["rule"]))
    for i, a in enumerate(actions, 1):
        a["rank"] = i
    return actions[:limit] if limit else actions
