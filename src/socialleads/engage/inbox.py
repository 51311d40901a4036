"""The engagement inbox and response figures (METRICS.md §2 "engagement inbox", "response rate and time",
"conversation ratio", "reciprocity"; §1 "listened-and-acted rate").

**Inbound item.** A post by a non-owner (author_key not NULL and not in O; not a repost, not deleted) that
replies to an owner post (`reply_to_key` is a post by O), quotes one (`quote_of_key`), or mentions an
owner account (a `post_entities` mention whose `target_account_key` is in O). Its `kind` is the first
that applies of reply, quote, mention.

**Answered.** An owner post replies to the item (`reply_to_key = item.post_key`). The time to first reply
is the earliest such owner post's created_at − the item's created_at, in hours (clamped at 0 against
clock skew between platforms). An owner reply without a time marks the item answered but has no delay.

**Priority** (`inbox`), an additive score (higher first; ties: older first, then post key):

    priority = W_INFLUENCE × influence + W_QUESTION × is_question + W_NEGATIVE × is_negative + W_AGE × age_term
    influence  = ln(1 + followers(author)) / ln(1 + max followers of any non-owner account)   ∈ [0, 1]
                 (followers = distinct follow interactions in force at `now`; 0 when the store has none)
    age_term   = a / 720                      for an age a ≤ 720 h (30 days): older first within a class
               = exp(−(a − 720) / 168)        beyond 30 days: stale items decay with a one-week scale

is_question and the sentiment come from `post_signals` (`leads enrich`) when the post has a row; without
one, is_question falls back to the question-mark test of enrich.signals.QMARK on the text ('¿', '？', '؟', or a
'?' that does not open a URL query string) and the sentiment is unknown (NULL, never "negative" by accident).

`now` (the "as of" time) defaults to the end of the data — the latest created_at among posts and
interactions — never the wall clock: items after `now` and owner replies after `now` are ignored.

Columns used: posts.post_key, author_key, kind, created_at, text, reply_to_key, quote_of_key,
thread_root_key, is_deleted; post_entities.post_key, etype, target_account_key; post_signals.post_key,
is_question, sentiment_label, sentiment_score; interactions.type, actor_key, target_account_key,
target_post_key, created_at, ended_at; accounts.account_key, handle.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from socialleads.engage.who import EngageError
from socialleads.enrich.signals import QMARK
from socialleads.metrics.window import store_data_end
from socialleads.store import Store

W_INFLUENCE = 1.0
W_QUESTION = 1.0
W_NEGATIVE = 1.0
W_AGE = 0.5
#: Age (hours) up to which an unanswered item gains priority with age; beyond it the age term decays.
AGE_FULL_HOURS = 30 * 24.0
#: e-folding time (hours) of the age term beyond AGE_FULL_HOURS.
AGE_DECAY_HOURS = 7 * 24.0
DEFAULT_SLA_HOURS = 24.0
#: Actions that make an account one of O's engagers, and that count as O engaging back (METRICS.md §2).
ENGAGER_TYPES = ("reply", "mention", "repost", "quote", "like")


# ------------------------------------------------------------------------------------------ helpers

def _naive_utc(value: Any, name: str) -> dt.datetime:
    """A datetime (aware, or naive meaning UTC) or a date / ISO string → a naive UTC datetime for DuckDB."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise EngageError(f"{name}: expected a time like 2026-05-01T12:00:00Z, got {value!r}") from None
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if not isinstance(value, dt.datetime):
        raise EngageError(f"{name}: expected a datetime, got {type(value).__name__}")
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo is not None else value


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else (value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value)


def _owners(owner_keys: Sequence[str]) -> list[str]:
    if isinstance(owner_keys, str):
        raise EngageError("owner_keys: expected a list of account keys, got a single string")
    keys = [k for k in dict.fromkeys(owner_keys) if k]
    if not keys:
        # Workspace.owner_keys() says why it is empty (none declared, or declared but not imported yet)
        raise EngageError(getattr(owner_keys, "reason", None)
                          or "no owner account: declare [owner] in leads.toml (or flag an account is_owner)")
    return keys


def _sla(sla_hours: Any) -> float:
    if isinstance(sla_hours, bool) or not isinstance(sla_hours, int | float) or not math.isfinite(sla_hours) \
            or sla_hours <= 0:
        raise EngageError(f"sla_hours must be a number > 0 (got {sla_hours!r})")
    return float(sla_hours)


def data_end(store: Store) -> dt.datetime | None:
    """The end of the data, T_end: the latest created_at among posts and interactions (naive UTC; None if
    empty) — metrics.window.store_data_end."""
    return store_data_end(store.con)


# Inbound items and their first owner reply. Parameters: owners (list), now (TIMESTAMP or NULL = no bound).
_INBOUND = f"""
o AS (SELECT DISTINCT unnest(CAST(? AS VARCHAR[])) AS k),
as_of AS (SELECT CAST(? AS TIMESTAMP) AS t),
op AS (SELECT post_key, text FROM posts WHERE author_key IN (SELECT k FROM o)),
men AS (SELECT DISTINCT post_key FROM post_entities
        WHERE etype = 'mention' AND target_account_key IN (SELECT k FROM o)),
item AS (
  SELECT p.post_key, p.author_key, p.created_at, p.text, p.reply_to_key, p.thread_root_key,
         CASE WHEN rp.post_key IS NOT NULL THEN 'reply' WHEN qp.post_key IS NOT NULL THEN 'quote'
              ELSE 'mention' END AS kind,
         coalesce(rp.post_key, qp.post_key) AS owner_parent_key,
         coalesce(rp.text, qp.text) AS owner_parent_text
  FROM posts p
  LEFT JOIN op rp ON rp.post_key = p.reply_to_key
  LEFT JOIN op qp ON qp.post_key = p.quote_of_key
  LEFT JOIN men m ON m.post_key = p.post_key
  WHERE p.author_key IS NOT NULL AND p.author_key NOT IN (SELECT k FROM o)
    AND p.kind <> 'repost' AND NOT coalesce(p.is_deleted, FALSE)
    AND (rp.post_key IS NOT NULL OR qp.post_key IS NOT NULL OR m.post_key IS NOT NULL)
    AND ((SELECT t FROM as_of) IS NULL OR p.created_at IS NULL OR p.created_at <= (SELECT t FROM as_of))
),
ans AS (
  SELECT reply_to_key AS post_key, min(created_at) AS first_reply_at, count(*) AS n_replies
  FROM posts
  WHERE author_key IN (SELECT k FROM o) AND reply_to_key IS NOT NULL AND NOT coalesce(is_deleted, FALSE)
    AND ((SELECT t FROM as_of) IS NULL OR created_at IS NULL OR created_at <= (SELECT t FROM as_of))
  GROUP BY reply_to_key
),
sig AS (
  SELECT i.*, s.sentiment_label, s.sentiment_score,
         coalesce(s.is_question, regexp_matches(coalesce(i.text, ''), '{QMARK}')) AS is_question,
         s.post_key IS NOT NULL AND s.sentiment_label IS NOT NULL AS has_sentiment,
         coalesce(s.sentiment_label = 'negative', FALSE) AS is_negative,
         a.post_key IS NOT NULL AS answered, a.first_reply_at,
         CASE WHEN a.first_reply_at IS NOT NULL AND i.created_at IS NOT NULL
              THEN greatest(epoch(a.first_reply_at - i.created_at), 0) / 3600.0 END AS response_hours
  FROM item i
  LEFT JOIN (SELECT post_key, any_value(sentiment_label) AS sentiment_label,
                    any_value(sentiment_score) AS sentiment_score, any_value(is_question) AS is_question
             FROM post_signals WHERE post_key IN (SELECT post_key FROM item) GROUP BY post_key) s
         ON s.post_key = i.post_key
  LEFT JOIN ans a ON a.post_key = i.post_key
)
"""


#: The inbox items scored by priority (CTE `ranked`). Parameters: owners, now, only_unanswered.
_RANKED = f"""
{_INBOUND},
    fol AS (
      SELECT target_account_key AS k, count(DISTINCT actor_key) AS n FROM interactions
      WHERE type = 'follow' AND target_account_key IS NOT NULL AND actor_key IS NOT NULL
        AND (created_at IS NULL OR created_at <= (SELECT t FROM as_of))
        AND (ended_at IS NULL OR ended_at > (SELECT t FROM as_of))
      GROUP BY target_account_key
    ),
    fmax AS (SELECT coalesce(max(n), 0) AS m FROM fol WHERE k NOT IN (SELECT k FROM o)),
    scored AS (
      SELECT s.*, coalesce(f.n, 0) AS followers,
             CASE WHEN (SELECT m FROM fmax) > 0 THEN ln(1 + coalesce(f.n, 0)) / ln(1 + (SELECT m FROM fmax))
                  ELSE 0.0 END AS influence,
             epoch((SELECT t FROM as_of) - s.created_at) / 3600.0 AS age_hours
      FROM sig s LEFT JOIN fol f ON f.k = s.author_key
      WHERE NOT ? OR NOT s.answered
    ),
    aged AS (
      SELECT *,
             CASE WHEN age_hours IS NULL THEN 0.0
                  WHEN age_hours <= {AGE_FULL_HOURS} THEN greatest(age_hours, 0) / {AGE_FULL_HOURS}
                  ELSE exp(-(age_hours - {AGE_FULL_HOURS}) / {AGE_DECAY_HOURS}) END AS age_term
      FROM scored
    ),
    ranked AS (
      SELECT *, {W_INFLUENCE} * influence + {W_QUESTION} * CAST(coalesce(is_question, FALSE) AS DOUBLE)
                + {W_NEGATIVE} * CAST(is_negative AS DOUBLE) + {W_AGE} * age_term AS priority
      FROM aged
    )
"""


# ------------------------------------------------------------------------------------------ inbox

def inbox(store: Store, owner_keys: Sequence[str], *, now: Any = None, sla_hours: float = DEFAULT_SLA_HOURS,
          limit: int = 50, only_unanswered: bool = True) -> list[dict[str, Any]]:
    """The engagement inbox (METRICS.md §2): inbound replies, quotes and mentions of O, highest priority
    first (see the module docstring for the score), as of `now` (default: the end of the data).

    Each item: post_key, author, handle, created_at, text, kind (reply | quote | mention), is_question,
    sentiment (negative | neutral | positive | None when not enriched), sentiment_score, priority (and its
    parts: influence, followers, age_term), age_hours, overdue (unanswered for longer than `sla_hours`),
    answered, first_reply_at, response_hours, and thread = {post_key, text, root_key}: the owner post it
    replies to or quotes (for a mention: the post it replies to, if any). One DuckDB query.
    """
    owners = _owners(owner_keys)
    sla = _sla(sla_hours)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise EngageError(f"limit must be a whole number >= 1 (got {limit!r})")
    t_now = _naive_utc(now, "now") if now is not None else data_end(store)
    if t_now is None:
        return []
    # the top `limit` items first, then their handles and thread texts (joined on those rows only: on a
    # 10 M-post store the joins over every ranked item ran DuckDB out of memory in a read-only workspace)
    sql = f"""
    WITH {_RANKED},
    top AS (SELECT * FROM ranked ORDER BY priority DESC, created_at ASC NULLS LAST, post_key LIMIT ?)
    SELECT r.post_key, r.author_key, acc.handle, r.created_at, r.text, r.kind, r.is_question,
           r.sentiment_label, r.sentiment_score, r.followers, r.influence, r.age_term, r.age_hours,
           r.priority,
           r.answered, r.first_reply_at, r.response_hours,
           coalesce(r.owner_parent_key, CASE WHEN r.kind = 'mention' THEN r.reply_to_key END) AS thread_key,
           coalesce(r.owner_parent_text, pp.text) AS thread_text, r.thread_root_key
    FROM top r
    LEFT JOIN (SELECT account_key, any_value(handle) AS handle FROM accounts
               WHERE account_key IN (SELECT author_key FROM top) GROUP BY account_key) acc
           ON acc.account_key = r.author_key
    LEFT JOIN (SELECT post_key, any_value(text) AS text FROM posts
               WHERE post_key IN (SELECT reply_to_key FROM top WHERE kind = 'mention') GROUP BY post_key) pp
           ON r.kind = 'mention' AND pp.post_key = r.reply_to_key
    ORDER BY r.priority DESC, r.created_at ASC NULLS LAST, r.post_key
    """
    rows = store.con.execute(sql, [owners, t_now, bool(only_unanswered), limit]).fetchall()
    out = []
    for (key, author, handle, created, text, kind, is_q, label, score, followers, influence, age_term, age,
         priority, answered, first_reply, resp, th_key, th_text, root) in rows:
        out.append({
            "post_key": key, "author": author, "handle": handle, "created_at": _aware(created), "text": text,
            "kind": kind, "is_question": bool(is_q) if is_q is not None else False, "sentiment": label,
            "sentiment_score": score, "priority": float(priority), "influence": float(influence),
            "followers": int(followers), "age_term": float(age_term), "age_hours": age,
            "overdue": bool(not answered and age is not None and age > sla),
            "answered": bool(answered), "first_reply_at": _aware(first_reply), "response_hours": resp,
            "thread": {"post_key": th_key, "text": th_text, "root_key": root},
        })
    return out


#: Priority bands of `inbox_summary` (lower bounds, highest first). With the weights above, "high" (≥ 2) is
#: e.g. a question or complaint from an influential or long-waiting account; "medium" (≥ 1) one of the
#: three signals at full strength; "low" the rest.
PRIORITY_BANDS = (("high", 2.0), ("medium", 1.0), ("low", None))


def inbox_summary(store: Store, owner_keys: Sequence[str], *, now: Any = None,
                  sla_hours: float = DEFAULT_SLA_HOURS) -> dict[str, Any]:
    """Counts of the open (unanswered) inbox as of `now` (default: the end of the data), without
    materialising the items: open, overdue (older than `sla_hours`), questions, negative, by_band
    {high, medium, low} (see PRIORITY_BANDS), oldest_hours. One DuckDB aggregation over `inbox`'s query."""
    owners = _owners(owner_keys)
    sla = _sla(sla_hours)
    t_now = _naive_utc(now, "now") if now is not None else data_end(store)
    bands = {name: 0 for name, _ in PRIORITY_BANDS}
    if t_now is None:
        return {"as_of": None, "sla_hours": sla, "open": 0, "overdue": 0, "questions": 0, "negative": 0,
                "by_band": bands, "oldest_hours": None}
    hi, mid = PRIORITY_BANDS[0][1], PRIORITY_BANDS[1][1]
    row = store.con.execute(f"""
    WITH {_RANKED}
    SELECT count(*), count(*) FILTER (WHERE age_hours > {sla!r}),
           count(*) FILTER (WHERE coalesce(is_question, FALSE)), count(*) FILTER (WHERE is_negative),
           count(*) FILTER (WHERE priority >= {hi!r}), count(*) FILTER (WHERE priority >= {mid!r} AND priority < {hi!r}),
           max(age_hours)
    FROM ranked
    """, [owners, t_now, True]).fetchall()[0]
    n, overdue, q, neg, n_hi, n_mid, oldest = row
    bands.update(high=int(n_hi), medium=int(n_mid), low=int(n) - int(n_hi) - int(n_mid))
    return {"as_of": _aware(t_now), "sla_hours": sla, "open": int(n), "overdue": int(overdue), "questions": int(q),
            "negative": int(neg), "by_band": bands, "oldest_hours": float(oldest) if oldest is not None else None}


# ------------------------------------------------------------------------------------------ response stats

def _share(num: int, den: int, what: str, unavailable: dict[str, str], name: str) -> float | None:
    if den == 0:
        unavailable[name] = what
        return None
    return num / den


def response_stats(store: Store, owner_keys: Sequence[str], *, start: Any, end: Any,
                   sla_hours: float = DEFAULT_SLA_HOURS, sample: bool = False) -> dict[str, Any]:
    """Response figures over the inbound items created in [start, end] (METRICS.md §1, §2).

    * ``inbound``, ``answered``, ``response_rate`` = answered ÷ inbound (an owner reply at any time in the
      stored data counts).
    * ``median_response_hours``, ``p90_response_hours``: percentiles of the time to first reply of the
      answered items with a timed reply (numpy's default rule: linear interpolation between order
      statistics, = DuckDB quantile_cont).
    * ``within_sla_share`` = items answered within ``sla_hours`` ÷ items that are *due*: answered within
      the SLA, or created at least ``sla_hours`` before the end of the data (an unanswered item whose SLA
      has not yet run out is ``pending``, neither met nor missed — Zendesk's SLA achievement rule).
    * ``listened_and_acted_rate``: the same share over the inbound questions and negative items
      (``listened_acted`` ÷ ``listened_items``) — Listen's figure too (METRICS §1).
    * ``conversation_ratio`` = O's replies + quotes with a comment ÷ all O's posts created in the window
      (reposts included in the denominator); ``conversation_start_share`` = share of O's non-repost posts
      in the window that got ≥ 1 reply from a non-owner (at any time in the stored data).
    * ``reciprocity`` = share of O's engagers in the window (non-owners who replied to, mentioned,
      reposted, quoted or liked O in it — interactions whose target is O or a post by O) that O engaged
      back in the window (an owner reply, mention, like, repost or quote whose target is that account).

    A figure whose input is missing is None, with the reason in ``unavailable[name]`` — never 0.
    With ``sample``, ``response_hours`` holds the times to first reply behind the percentiles (a numpy
    array, for histograms; not JSON-ready).
    """
    owners = _owners(owner_keys)
    sla = _sla(sla_hours)
    t0, t1 = _naive_utc(start, "start"), _naive_utc(end, "end")
    if t0 > t1:
        raise EngageError(f"start ({t0.isoformat()}) is after end ({t1.isoformat()})")
    con = store.con
    unavailable: dict[str, str] = {}
    t_data = data_end(store)

    rows = con.execute(f"""
    WITH {_INBOUND}
    SELECT CAST(answered AS BOOLEAN), coalesce(response_hours, 'NaN'::DOUBLE),
           CAST(coalesce(is_question, FALSE) AS BOOLEAN), is_negative, has_sentiment,
           coalesce(epoch(CAST(? AS TIMESTAMP) - created_at) / 3600.0, 'NaN'::DOUBLE)
    FROM sig WHERE created_at >= CAST(? AS TIMESTAMP) AND created_at <= CAST(? AS TIMESTAMP)
    """, [owners, None, t_data, t0, t1]).fetchnumpy()
    cols = list(rows.values())
    answered = np.asarray(cols[0], dtype=bool)
    delay = np.asarray(cols[1], dtype=np.float64)
    is_q = np.asarray(cols[2], dtype=bool)
    neg = np.asarray(cols[3], dtype=bool)
    has_sent = np.asarray(cols[4], dtype=bool)
    age_at_end = np.asarray(cols[5], dtype=np.float64)

    n = int(len(answered))
    n_ans = int(answered.sum())
    timed = answered & ~np.isnan(delay)
    met = timed & (delay <= sla)
    # due: met, or answered late, or unanswered with the SLA run out by the end of the data
    due = met | (timed & (delay > sla)) | (~answered & (age_at_end >= sla))
    pending = int((~answered & (age_at_end < sla)).sum())
    asks = is_q | neg

    out: dict[str, Any] = {
        "start": _aware(t0), "end": _aware(t1), "sla_hours": sla, "inbound": n, "answered": n_ans,
        "questions": int(is_q.sum()), "negative": int(neg.sum()) if has_sent.any() else None,
        "pending": pending,
    }
    out["response_rate"] = _share(n_ans, n, "no inbound replies, mentions or quotes in the window",
                                  unavailable, "response_rate")
    d = delay[timed]
    if sample:
        out["response_hours"] = d
    if len(d):
        out["median_response_hours"] = float(np.percentile(d, 50))
        out["p90_response_hours"] = float(np.percentile(d, 90))
    else:
        out["median_response_hours"] = out["p90_response_hours"] = None
        why = ("no inbound items in the window" if n == 0 else
               "no inbound item in the window has a timed owner reply")
        unavailable["median_response_hours"] = unavailable["p90_response_hours"] = why
    out["within_sla"] = int(met.sum())
    out["within_sla_share"] = _share(int(met.sum()), int(due.sum()),
                                     "no inbound item in the window is due yet (answered, or older than the SLA)",
                                     unavailable, "within_sla_share")
    out["listened_items"], out["listened_acted"] = int((due & asks).sum()), int((met & asks).sum())
    out["listened_and_acted_rate"] = _share(
        int((met & asks).sum()), int((due & asks).sum()),
        "no inbound question or negative item in the window is due yet", unavailable, "listened_and_acted_rate")
    if not has_sent.any():
        unavailable["negative"] = ("no inbound items in the window" if n == 0 else
                                   "no sentiment for the inbound items (run `leads enrich`): questions only")

    # O's own posts in the window: conversation ratio and conversation starts (one query)
    c = con.execute("""
    WITH o AS (SELECT DISTINCT unnest(CAST(? AS VARCHAR[])) AS k),
    mine AS (SELECT post_key, kind, text FROM posts
             WHERE author_key IN (SELECT k FROM o) AND NOT coalesce(is_deleted, FALSE)
               AND created_at >= CAST(? AS TIMESTAMP) AND created_at <= CAST(? AS TIMESTAMP)),
    replied AS (SELECT DISTINCT reply_to_key AS post_key FROM posts
                WHERE reply_to_key IN (SELECT post_key FROM mine) AND author_key IS NOT NULL
                  AND author_key NOT IN (SELECT k FROM o) AND NOT coalesce(is_deleted, FALSE))
    SELECT count(*),
           count(*) FILTER (WHERE kind = 'reply'
                            OR (kind = 'quote' AND nullif(trim(coalesce(text, '')), '') IS NOT NULL)),
           count(*) FILTER (WHERE kind <> 'repost'),
           count(*) FILTER (WHERE kind <> 'repost' AND post_key IN (SELECT post_key FROM replied))
    FROM mine
    """, [owners, t0, t1]).fetchall()[0]
    n_posts, n_conv, n_orig, n_started = (int(x) for x in c)
    out.update(owner_posts=n_posts, owner_conversational_posts=n_conv)
    out["conversation_ratio"] = _share(n_conv, n_posts, "the owner has no posts in the window",
                                       unavailable, "conversation_ratio")
    out["conversation_start_share"] = _share(n_started, n_orig,
                                             "the owner has no posts other than reposts in the window",
                                             unavailable, "conversation_start_share")

    # reciprocity (one query over interactions with the resolved target, as graph.build and metrics.actions)
    types = ", ".join(f"'{t}'" for t in ENGAGER_TYPES)
    r = con.execute(f"""
    WITH o AS (SELECT DISTINCT unnest(CAST(? AS VARCHAR[])) AS k),
    ev0 AS (
      SELECT actor_key AS actor, target_account_key, target_post_key FROM interactions
      WHERE type IN ({types}) AND actor_key IS NOT NULL
        AND created_at >= CAST(? AS TIMESTAMP) AND created_at <= CAST(? AS TIMESTAMP)
    ),
    -- only the authors that can matter: O's posts, and targets named by post only (not all posts:
    -- aggregating every post was the hot spot of this function on 1 M posts)
    p AS (SELECT post_key, any_value(author_key) AS author_key FROM posts
          WHERE author_key IN (SELECT k FROM o)
             OR post_key IN (SELECT target_post_key FROM ev0 WHERE target_account_key IS NULL)
          GROUP BY post_key),
    ev AS (
      SELECT ev0.actor, coalesce(ev0.target_account_key, p.author_key) AS target,
             ev0.target_post_key, p.author_key AS post_author
      FROM ev0 LEFT JOIN p ON p.post_key = ev0.target_post_key
    ),
    engagers AS (SELECT DISTINCT actor AS k FROM ev
                 WHERE actor NOT IN (SELECT k FROM o)
                   AND (target IN (SELECT k FROM o) OR post_author IN (SELECT k FROM o))),
    back AS (SELECT DISTINCT target AS k FROM ev
             WHERE actor IN (SELECT k FROM o) AND target IS NOT NULL AND target NOT IN (SELECT k FROM o))
    SELECT (SELECT count(*) FROM engagers),
           (SELECT count(*) FROM engagers WHERE k IN (SELECT k FROM back))
    """, [owners, t0, t1]).fetchall()[0]
    n_eng, n_back = int(r[0]), int(r[1])
    out.update(engagers=n_eng, engaged_back=n_back)
    out["reciprocity"] = _share(n_back, n_eng, "no one engaged with the owner in the window",
                                unavailable, "reciprocity")
    out["unavailable"] = unavailable
    return out
