"""The Engage stage of the scorecard (metrics/stages.py; METRICS.md §2): figures, grade and evidence.

Figures: ``who_matters`` (top 10: account, handle, platform, pagerank, reason), ``inbox`` (the open items
as of the end of the data, by priority band: engage.inbox.inbox_summary), ``response`` (response rate,
median / p90 time to first reply, within-SLA share, listened-and-acted rate, conversation ratio,
conversation-start share, reciprocity: engage.inbox.response_stats over W), ``response_distribution``
(histogram of the times to first reply in W, buckets `RESPONSE_BUCKETS`), ``communities`` (the largest
`TOP_COMMUNITIES` Leiden communities of the ego network with O's reach, top members and terms), and
``behaviours`` (welcomes, introductions, affirmations: engage.behaviours).

Checks (targets; defaults documented here, the first two from leads.toml `[goals]`):

* within-SLA share ≥ ``WITHIN_SLA_TARGET`` (0.8): four in five inbound items answered within
  goals.response_sla_hours (default 24 h) — a common customer-care service level;
* conversation ratio ≥ goals.conversation_ratio (default 0.3; no check when the goal is unset);
* response rate ≥ ``RESPONSE_RATE_TARGET`` (0.5): at least half the inbound replies, quotes and
  mentions get an answer;
* listened-and-acted rate ≥ ``WITHIN_SLA_TARGET``: questions and complaints held to the same SLA;
* reciprocity ≥ ``RECIPROCITY_TARGET`` (0.2): O engages back at least one in five of its engagers.

The interaction graph of W is built once and shared through ``ctx.window_graph()``
(who matters and the communities both use it); the community summary is cached as
``"engage.communities"`` (a (list, reason) pair) for later stages. The communities are exactly those of
`leads communities` (graph.communities.community_report: same partition, size, reach, top members); only
their top terms use the ego network's posts as the c-TF-IDF background (see `_community_terms`).
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pyarrow as pa

from socialleads.engage.behaviours import community_behaviours
from socialleads.engage.inbox import inbox_summary, response_stats
from socialleads.engage.person import ego_membership
from socialleads.engage.who import who_matters
from socialleads.errors import LeadsError
from socialleads.graph import Graph
from socialleads.graph.communities import _TERMS, STOP_WORDS, _top_terms, undirected
from socialleads.metrics.stages import Check, StageContext, graded, unavailable
from socialleads.metrics.window import naive

WITHIN_SLA_TARGET = 0.8
RESPONSE_RATE_TARGET = 0.5
RECIPROCITY_TARGET = 0.2
TOP_WHO = 10
TOP_COMMUNITIES = 8
#: Communities smaller than this are left out (community_report's default min_size).
MIN_COMMUNITY = 3
#: Upper bounds (hours) of the response-time histogram's buckets; the last bucket is open.
RESPONSE_BUCKETS = ((1.0, "< 1 h"), (4.0, "1–4 h"), (12.0, "4–12 h"), (24.0, "12–24 h"), (48.0, "1–2 d"),
                    (168.0, "2–7 d"), (float("inf"), "> 7 d"))


def cached_response_stats(ctx: StageContext, start: Any, end: Any, sla: float) -> dict[str, Any]:
    """engage.inbox.response_stats of the owner over [start, end] (with the response-time sample), computed
    once per scorecard run and shared through the context (Dominate's plan vs execution reads it too).
    The cached dict is shared: copy it before changing it."""
    s, e = naive(start), naive(end)
    return ctx.cached(f"response_stats:{s.isoformat()}:{e.isoformat()}:{float(sla)}",
                      lambda: response_stats(ctx.store, ctx.owner_keys, start=s, end=e, sla_hours=sla, sample=True))


def response_histogram(hours: np.ndarray) -> list[dict[str, Any]]:
    """[{bucket, upper_hours, count, share}] over RESPONSE_BUCKETS (a bucket holds lower < h ≤ upper)."""
    h = np.asarray(hours, dtype=np.float64)
    uppers = np.array([u for u, _ in RESPONSE_BUCKETS])
    idx = np.searchsorted(uppers, h, side="left")
    counts = np.bincount(idx, minlength=len(uppers))[:len(uppers)]
    total = int(counts.sum())
    return [{"bucket": label, "upper_hours": None if not np.isfinite(u) else u, "count": int(c),
             "share": (int(c) / total) if total else None}
            for (u, label), c in zip(RESPONSE_BUCKETS, counts.tolist(), strict=True)]


def _who(ctx: StageContext, g: Any) -> list[dict[str, Any]]:
    assert ctx.window is not None
    rows = who_matters(ctx.store, ctx.owner_keys, window_days=ctx.window.days, limit=TOP_WHO, graph=g)
    return [{"rank": r["rank"], "account": r["account"], "handle": r["handle"], "platform": r["platform"],
             "pagerank": r["pagerank"], "reason": r["reasons"][0] if r["reasons"] else "",
             "audience": r["audience"], "spread": r["spread"], "conversation": r["conversation"]} for r in rows]


#: The community report's term SQL, restricted to the posts of the ego network's members (see
#: `_community_terms`); None when its text no longer has the anchor (then the exact report is used).
_ANCHOR = "SELECT author_key, text FROM posts\n  WHERE text IS NOT NULL"
_EGO_TERMS = (_TERMS.replace(_ANCHOR, "SELECT author_key, text FROM posts\n  WHERE author_key IN "
                             "(SELECT account FROM {members}) AND text IS NOT NULL", 1)
              if _ANCHOR in _TERMS else None)


def _community_terms(ctx: StageContext, members: pa.Table, start: Any, end: Any,
                     top: int) -> dict[int, list[dict[str, Any]]]:
    """c-TF-IDF top terms per community over the posts of the ego network's members in W (BERTopic's
    class-based TF-IDF with the classes' own posts as the background), instead of community_report's
    background of all posts of W: the same formula on ~the ego network's share of the posts, which
    made the report's terms the hot spot of this section (5 of 9 s on 1 M posts)."""
    if _EGO_TERMS is None:
        return _top_terms(ctx.store, members, start, end, top)
    name = f"_engage_members_{uuid.uuid4().hex}"
    stop = ", ".join("'" + w.replace("'", "''") + "'" for w in sorted(STOP_WORDS))
    ctx.store.con.register(name, members)
    try:
        rows = ctx.store.con.execute(_EGO_TERMS.format(stop=stop, members=name),
                                     [start, start, end, end, top]).fetchall()
    finally:
        ctx.store.con.unregister(name)
    out: dict[int, list[dict[str, Any]]] = {}
    for c, term, n, score in rows:
        out.setdefault(int(c), []).append({"term": term, "count": int(n), "score": float(score)})
    return out


def _communities(ctx: StageContext, g: Graph, start: Any, end: Any) -> tuple[list[dict[str, Any]], str | None]:
    """The largest communities of the ego network: the partition, sizes, reach and top members of
    graph.communities.community_report (same graph, resolution 1, seed 0, min_size 3), computed on the
    shared interaction graph; top terms from `_community_terms`."""
    part = ego_membership(g, ctx.owner_keys)
    if part is None:
        return [], "the owner has no interactions in the window"
    keys, memb, acted, (res, sub) = part
    kept = np.flatnonzero(res.sizes >= MIN_COMMUNITY)
    if kept.size == 0:
        return [], f"no community of {MIN_COMMUNITY} or more accounts around the owner in the window"
    degree = np.asarray(undirected(sub).sum(axis=1)).ravel()
    in_kept = np.isin(memb, kept)
    terms = _community_terms(ctx, pa.table({"account": keys[in_kept], "community": memb[in_kept]}), start, end, 5)
    shown = kept[:TOP_COMMUNITIES]
    tops = {}
    for c in shown.tolist():  # ≤ TOP_COMMUNITIES communities
        idx = np.flatnonzero(memb == c)
        tops[c] = idx[np.lexsort((keys[idx], -degree[idx]))][:3]
    top_keys = sorted({str(keys[i]) for v in tops.values() for i in v.tolist()})
    handles = dict(ctx.store.con.execute(
        "SELECT account_key, any_value(handle) FROM accounts WHERE account_key IN "
        "(SELECT unnest(CAST(? AS VARCHAR[]))) GROUP BY ALL", [top_keys]).fetchall())
    acted_n = np.bincount(memb, weights=acted.astype(np.float64), minlength=res.n_communities)
    out = []
    for c in shown.tolist():
        size = int(res.sizes[c])
        out.append({"community": int(c), "size": size, "acted_on_owner": int(acted_n[c]),
                    "reach": float(acted_n[c] / size),
                    "top_members": [handles.get(str(keys[i])) or str(keys[i]) for i in tops[c].tolist()],
                    "top_terms": [t["term"] for t in terms.get(int(c), [])]})
    return out, None


def section(ctx: StageContext) -> dict[str, Any]:
    if ctx.window is None:
        return unavailable("no timestamped posts or interactions in the workspace")
    if not ctx.owner_keys:
        from socialleads.workspace.workspace import no_owner_reason

        return unavailable(no_owner_reason(ctx.config))
    goals = getattr(ctx.config, "goals", None)
    sla = float(getattr(goals, "response_sla_hours", None) or 24.0)
    conv_goal = getattr(goals, "conversation_ratio", None)
    start, end = naive(ctx.window.start), naive(ctx.window.end)
    try:
        g = ctx.window_graph()
        who = _who(ctx, g)
        stats = dict(cached_response_stats(ctx, start, end, sla))
        box = inbox_summary(ctx.store, ctx.owner_keys, now=end, sla_hours=sla)
        hist = response_histogram(stats.pop("response_hours"))
        comms, comm_reason = ctx.cached("engage.communities", lambda: _communities(ctx, g, start, end))
        beh = community_behaviours(ctx.store, ctx.owner_keys, start=start, end=end)
    except LeadsError as exc:
        return unavailable(str(exc))
    beh = {**beh, "start": ctx.window.start.isoformat(), "end": ctx.window.end.isoformat()}
    box = {**box, "as_of": box["as_of"].isoformat() if box["as_of"] is not None else None}
    un = stats.get("unavailable", {})
    response = {k: stats.get(k) for k in (
        "inbound", "answered", "response_rate", "median_response_hours", "p90_response_hours", "within_sla",
        "within_sla_share", "pending", "questions", "negative", "listened_and_acted_rate", "owner_posts",
        "owner_conversational_posts", "conversation_ratio", "conversation_start_share", "engagers",
        "engaged_back", "reciprocity", "sla_hours")}
    response["unavailable"] = un

    def note(key: str, text: str) -> str:
        return un.get(key) or text

    checks = [
        Check("within-SLA share", stats.get("within_sla_share"), WITHIN_SLA_TARGET, "min",
              note("within_sla_share", f"{stats.get('within_sla', 0)} inbound items answered within {sla:g} h "
                   f"(goals.response_sla_hours); target {WITHIN_SLA_TARGET:g} is a default")),
        Check("conversation ratio", stats.get("conversation_ratio"), conv_goal, "min",
              note("conversation_ratio", f"{stats.get('owner_conversational_posts', 0)} of "
                   f"{stats.get('owner_posts', 0)} own posts are replies or quotes with a comment "
                   "(goals.conversation_ratio)")),
        Check("response rate", stats.get("response_rate"), RESPONSE_RATE_TARGET, "min",
              note("response_rate", f"{stats.get('answered', 0)} of {stats.get('inbound', 0)} inbound replies, "
                   "quotes and mentions answered (target a default)")),
        Check("listened-and-acted rate", stats.get("listened_and_acted_rate"), WITHIN_SLA_TARGET, "min",
              note("listened_and_acted_rate", f"questions and negative mentions answered within {sla:g} h")),
        Check("reciprocity", stats.get("reciprocity"), RECIPROCITY_TARGET, "min",
              note("reciprocity", f"{stats.get('engaged_back', 0)} of {stats.get('engagers', 0)} engagers "
                   "engaged back (target a default)")),
    ]
    unav: dict[str, str] = {}
    if comm_reason:
        unav["communities"] = comm_reason
    if not who:
        unav["who_matters"] = "no interactions in the window"
    return graded(checks, who_matters=who, inbox=box, response=response, response_distribution=hist,
                  communities=comms, behaviours=beh, unavailable=unav)


__all__ = ["RECIPROCITY_TARGET", "RESPONSE_BUCKETS", "RESPONSE_RATE_TARGET", "WITHIN_SLA_TARGET", 
           "response_histogram", "section"]
