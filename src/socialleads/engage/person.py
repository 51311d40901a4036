"""The person timeline, a small social CRM (METRICS.md §2 "person timeline").

For one account A and the owner O: every interaction between them in time order, both directions —
A's replies to, mentions of, reposts, quotes and likes of O (and its posts), A following O; and O's
replies, mentions, reposts, quotes, likes and follows of A — each with the post it was made with (the
reply, quote or mentioning post; for a like or repost, the post liked or reposted): a text snippet and
its link. Plus first and last contact, the relationship strength, A's community in the owner's ego
network and A's topics.

**Relationship strength** = Σ over the actions between A and O in either direction (reply, mention,
repost, quote, like — a follow is a state, not an action, and is not counted) created at or before the
as-of time (default: the end of the data) of 2^(−age / half-life), age in days, half-life
`HALF_LIFE_DAYS` = 30: an action today counts 1, one a month ago ½, two months ago ¼. So a strength of 5
is "about five actions' worth of recent contact". ``strength_in`` / ``strength_out`` split it by
direction; ``reciprocal`` is true when both directions have an action (a two-way relationship).
Untimed actions are listed but carry no strength (their age is unknown).

**Community**: A's Leiden community in O's ego network over the analysis window (exactly the partition
of graph.communities.community_report: same graph, same resolution and seed), with its size, O's reach
into it and its top terms (c-TF-IDF against all posts of the window); empty when A is not in the ego
network in the window. **Topics**: A's posts per topic (`post_topics`, outliers left out), largest first;
None with "run `leads topics`" when the store has no topics.

**Handle lookup** (`find_account`): an account key, or a handle with or without a leading @, any case,
on any platform (`platform` narrows it). Exact handle matches first; without one, the handle's first
label (``alice`` finds ``alice.bsky.social`` and ``alice@mastodon.social``). Several matches →
`AmbiguousAccount` naming the candidates on one line; none → `UnknownAccount`.

Columns used: accounts.account_key, platform, handle, display_name, url; interactions.interaction_key,
type, actor_key, target_account_key, target_post_key, via_post_key, created_at, ended_at,
time_precision, platform; posts.post_key, author_key, text, url, kind, created_at; post_topics,
topics (when present).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from socialleads.engage.inbox import _aware, _naive_utc, _owners, data_end
from socialleads.engage.topic_influence import NO_TOPICS, has_topics
from socialleads.engage.who import EngageError
from socialleads.graph.build import Graph, interaction_graph
from socialleads.graph.communities import _top_terms, communities, undirected
from socialleads.metrics.window import DEFAULT_WINDOW_DAYS
from socialleads.store import Store

#: Half-life of an action's weight in the relationship strength, in days.
HALF_LIFE_DAYS = 30.0
#: Length of the text snippet of each event.
SNIPPET = 200
ACTION_TYPES = ("reply", "mention", "repost", "quote", "like")
ALL_TYPES = ACTION_TYPES + ("follow",)


class UnknownAccount(EngageError):
    """No stored account has that handle."""


class AmbiguousAccount(EngageError):
    """Several stored accounts have that handle."""


# ------------------------------------------------------------------------------------------ lookup

def find_account(store: Store, handle: str, *, platform: str | None = None) -> dict[str, Any]:
    """The one stored account named by `handle` (see the module docstring): {account, platform, handle,
    display_name, url}."""
    q = (handle or "").strip()
    if not q:
        raise UnknownAccount("person: give a handle (e.g. @alice.bsky.social) or an account key")
    bare = q[1:] if q.startswith("@") else q
    plat = platform.strip().lower() if platform else None
    base = """SELECT account_key, any_value(platform), any_value(handle), any_value(display_name), any_value(url)
              FROM accounts WHERE (CAST(? AS VARCHAR) IS NULL OR lower(platform) = CAST(? AS VARCHAR)) AND ({cond})
              GROUP BY account_key ORDER BY account_key LIMIT 50"""
    exact = "account_key = ? OR lower(ltrim(handle, '@')) = lower(?)"
    rows = store.con.execute(base.format(cond=exact), [plat, plat, q, bare]).fetchall()
    if not rows:
        label = "lower(regexp_extract(ltrim(handle, '@'), '^[^@.]+')) = lower(?)"
        rows = store.con.execute(base.format(cond=label), [plat, plat, bare]).fetchall()
    where = f" on {platform}" if platform else ""
    if not rows:
        raise UnknownAccount(f"person: no account with the handle {q!r}{where} in this workspace")
    if len(rows) > 1:
        cands = "; ".join(f"@{h or '?'} ({p}: {k})" for k, p, h, _, _ in rows[:10])
        more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
        raise AmbiguousAccount(f"person: {q!r}{where} matches {len(rows)} accounts: {cands}{more} "
                               "— give the full handle, --platform or the account key")
    k, p, h, name, url = rows[0]
    return {"account": k, "platform": p, "handle": h, "display_name": name, "url": url}


# ------------------------------------------------------------------------------------------ events

_EVENTS = f"""
WITH o AS (SELECT DISTINCT unnest(CAST(? AS VARCHAR[])) AS k),
ii AS (SELECT * FROM interactions
       WHERE type IN ({", ".join(f"'{t}'" for t in ALL_TYPES)})
         AND (actor_key = CAST(? AS VARCHAR) OR actor_key IN (SELECT k FROM o))),
r AS (SELECT ii.*, coalesce(ii.target_account_key, p.author_key) AS target
      FROM ii LEFT JOIN (SELECT post_key, any_value(author_key) AS author_key FROM posts
                         WHERE post_key IN (SELECT target_post_key FROM ii WHERE target_account_key IS NULL)
                         GROUP BY post_key) p
             ON ii.target_account_key IS NULL AND p.post_key = ii.target_post_key),
ev AS (SELECT r.*, CASE WHEN r.actor_key = CAST(? AS VARCHAR) THEN 'in' ELSE 'out' END AS direction,
              coalesce(r.via_post_key, r.target_post_key) AS post_key
       FROM r
       WHERE (r.actor_key = CAST(? AS VARCHAR) AND r.target IN (SELECT k FROM o))
          OR (r.actor_key IN (SELECT k FROM o) AND r.target = CAST(? AS VARCHAR))),
pp AS (SELECT post_key, any_value(text) AS text, any_value(url) AS url, any_value(kind) AS kind
       FROM posts WHERE post_key IN (SELECT post_key FROM ev) GROUP BY post_key)
SELECT ev.created_at, ev.direction, ev.type, ev.actor_key, ev.target, ev.platform, ev.post_key,
       ev.target_post_key, left(pp.text, {SNIPPET}) AS snippet, pp.url, ev.time_precision, ev.ended_at,
       ev.interaction_key
FROM ev LEFT JOIN pp ON pp.post_key = ev.post_key
ORDER BY ev.created_at ASC NULLS FIRST, ev.interaction_key
"""


def _strength(times: list[dt.datetime | None], dirs: list[str], types: list[str], now: dt.datetime,
              half_life: float) -> tuple[float, float]:
    t = np.array([(now - x).total_seconds() / 86400.0 if x is not None else np.nan for x in times], dtype=float)
    act = np.isin(np.asarray(types, dtype=object), ACTION_TYPES) & ~np.isnan(t) & (np.nan_to_num(t, nan=-1) >= 0)
    w = np.zeros(len(t))
    w[act] = np.exp2(-t[act] / half_life)
    d = np.asarray(dirs, dtype=object)
    return float(w[d == "in"].sum()), float(w[d == "out"].sum())


# ------------------------------------------------------------------------------------------ community

def ego_membership(graph: Graph, owners: Sequence[str], *, resolution: float = 1.0,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any] | None:
    """The partition community_report computes: (ego keys, membership, acted-on-owner flags, result), or
    None when O has no interaction in the graph."""
    if graph.n == 0:
        return None
    keys = graph.keys.astype(str)
    is_owner = np.isin(keys, np.asarray(list(owners), dtype=str))
    if not is_owner.any():
        return None
    a = graph.matrix
    to_owner = np.asarray(a[:, is_owner].sum(axis=1)).ravel() > 0
    from_owner = np.asarray(a[is_owner].sum(axis=0)).ravel() > 0
    ego = np.flatnonzero((to_owner | from_owner) & ~is_owner)
    if ego.size == 0:
        return None
    sub = Graph(matrix=sp.csr_matrix(a[ego][:, ego]), keys=graph.keys[ego])
    res = communities(sub, resolution=resolution, seed=seed)
    return keys[ego], res.membership, to_owner[ego], (res, sub)


def _community(store: Store, owners: list[str], account: str, start: dt.datetime, end: dt.datetime,
               resolution: float, seed: int, min_size: int = 3, top: int = 5) -> list[dict[str, Any]]:
    g = interaction_graph(store, start=start, end=end)
    part = ego_membership(g, owners, resolution=resolution, seed=seed)
    if part is None:
        return []
    keys, memb, acted, (res, sub) = part
    hit = np.flatnonzero(keys == account)
    if hit.size == 0:
        return []
    c = int(memb[hit[0]])
    size = int(res.sizes[c])
    in_c = memb == c
    degree = np.asarray(undirected(sub).sum(axis=1)).ravel()
    order = np.flatnonzero(in_c)[np.lexsort((keys[in_c], -degree[in_c]))][:top]
    top_keys = [str(keys[i]) for i in order.tolist()]
    handles = dict(store.con.execute("SELECT account_key, any_value(handle) FROM accounts WHERE account_key IN "
                                     "(SELECT unnest(CAST(? AS VARCHAR[]))) GROUP BY ALL", [top_keys]).fetchall())
    terms: list[dict[str, Any]] = []
    if size >= min_size:  # the terms of the report: c-TF-IDF over all its communities (≥ min_size)
        kept = res.sizes[memb] >= min_size
        tbl = pa.table({"account": keys[kept], "community": memb[kept]})
        terms = _top_terms(store, tbl, start, end, top).get(c, [])
    return [{"community": c, "size": size, "acted_on_owner": int(acted[in_c].sum()),
             "reach": float(acted[in_c].sum() / size), "in_report": size >= min_size,
             "top_members": [{"account": str(keys[i]), "handle": handles.get(str(keys[i])), "degree": float(degree[i])}
                             for i in order.tolist()],
             "top_terms": terms, "window": {"start": _aware(start), "end": _aware(end)}}]


def _topics(store: Store, account: str) -> list[dict[str, Any]] | None:
    if not has_topics(store):
        return None
    rows = store.con.execute("""
    WITH p AS (SELECT post_key FROM posts WHERE author_key = ? AND kind <> 'repost'),
    a AS (SELECT topic_id, count(DISTINCT post_key) AS n FROM post_topics
          WHERE post_key IN (SELECT post_key FROM p) AND topic_id <> -1 GROUP BY topic_id)
    SELECT a.topic_id, t.label, a.n, a.n / sum(a.n) OVER () AS share
    FROM a LEFT JOIN (SELECT topic_id, any_value(label) AS label FROM topics GROUP BY topic_id) t USING (topic_id)
    ORDER BY a.n DESC, a.topic_id LIMIT 10
    """, [account]).fetchall()
    return [{"topic_id": int(t), "label": label, "posts": int(n), "share": float(s)} for t, label, n, s in rows]


# ------------------------------------------------------------------------------------------ timeline

def person_timeline(store: Store, owner_keys: Sequence[str], handle: str, *, platform: str | None = None,
                    now: Any = None, window_days: int = DEFAULT_WINDOW_DAYS, half_life_days: float = HALF_LIFE_DAYS,
                    resolution: float = 1.0, seed: int = 0) -> dict[str, Any]:
    """The person timeline of the account named by `handle` (see the module docstring).

    Returns {account, as_of, events: [{time, direction: in | out, type, actor, target, platform, post_key,
    target_post_key, snippet, url, time_precision, ended_at}], first_contact, last_contact, counts: {in:
    {type: n}, out: {type: n}}, follows_you, you_follow, strength, strength_in, strength_out, reciprocal,
    half_life_days, communities, topics, unavailable}. `now` (the as-of time of the strength and of the
    follow state) defaults to the end of the data; the community window is the `window_days` before it.
    """
    owners = _owners(owner_keys)
    if not (isinstance(half_life_days, int | float) and not isinstance(half_life_days, bool)
            and np.isfinite(half_life_days) and half_life_days > 0):
        raise EngageError(f"half_life_days must be a number > 0 (got {half_life_days!r})")
    if isinstance(window_days, bool) or not isinstance(window_days, int) or window_days < 1:
        raise EngageError(f"window_days must be a positive whole number of days, got {window_days!r}")
    acct = find_account(store, handle, platform=platform)
    key = acct["account"]
    if key in owners:
        raise EngageError(f"person: {handle!r} is one of the owner's own accounts")
    t_now = _naive_utc(now, "now") if now is not None else data_end(store)
    rows = store.con.execute(_EVENTS, [owners, key, key, key, key]).fetchall()
    events = []
    for (t, d, typ, actor, target, plat, pk, tpk, snip, url, prec, ended, _ik) in rows:
        events.append({"time": _aware(t), "direction": d, "type": typ, "actor": actor, "target": target,
                       "platform": plat, "post_key": pk, "target_post_key": tpk, "snippet": snip, "url": url,
                       "time_precision": prec, "ended_at": _aware(ended)})
    unavailable: dict[str, str] = {}
    timed = [e["time"] for e in events if e["time"] is not None]
    counts: dict[str, dict[str, int]] = {"in": {t: 0 for t in ALL_TYPES}, "out": {t: 0 for t in ALL_TYPES}}
    for e in events:
        counts[e["direction"]][e["type"]] += 1
    if t_now is not None:
        now_aware = _aware(t_now)
        s_in, s_out = _strength([e["time"] for e in events], [e["direction"] for e in events],
                                [e["type"] for e in events], now_aware, float(half_life_days))  # type: ignore[arg-type]

        def in_force(d: str) -> bool:
            return any(e["type"] == "follow" and e["direction"] == d and (e["time"] is None or e["time"] <= now_aware)
                       and (e["ended_at"] is None or e["ended_at"] > now_aware) for e in events)
        follows_you, you_follow = in_force("in"), in_force("out")
        start = t_now - dt.timedelta(days=window_days)
        comms = _community(store, owners, key, start, t_now, resolution, seed)
        if not comms:
            unavailable["communities"] = (f"not in the owner's ego network in the {window_days} days ending "
                                          f"{t_now:%Y-%m-%d} (no interaction with the owner there)")
    else:
        s_in = s_out = 0.0
        follows_you = you_follow = False
        comms = []
        unavailable["communities"] = "the store is empty"
    topics = _topics(store, key)
    if topics is None:
        unavailable["topics"] = NO_TOPICS
    if not events:
        unavailable["first_contact"] = "no interaction between this account and the owner is stored"
    return {
        "account": acct, "as_of": _aware(t_now), "events": events,
        "first_contact": min(timed) if timed else None, "last_contact": max(timed) if timed else None,
        "counts": counts, "follows_you": follows_you, "you_follow": you_follow,
        "strength": s_in + s_out, "strength_in": s_in, "strength_out": s_out,
        "reciprocal": (any(e["direction"] == "in" and e["type"] in ACTION_TYPES for e in events)
                       and any(e["direction"] == "out" and e["type"] in ACTION_TYPES for e in events)),
        "half_life_days": float(half_life_days), "communities": comms, "topics": topics,
        "unavailable": unavailable,
    }


__all__ = ["HALF_LIFE_DAYS", "AmbiguousAccount", "UnknownAccount", "ego_membership", "find_account",
           "person_timeline"]
