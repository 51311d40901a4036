"""Spike alerts for saved monitors (METRICS.md §1 "spike / crisis alert"), their log, and delivery.

For each monitor two hourly series are watched: the volume of matching posts and the volume of the
matching posts labelled negative (``post_signals``, from `leads enrich`). `socialleads.listen.spikes`
finds the spikes; each alert names its window, its baseline (mean and sd of the 168 hours before the
window), the top posts of the window and its top terms — c-TF-IDF (BERTopic's class-based TF-IDF, as in
graph/communities.py) of the window's matching posts against the baseline's matching posts:
``score(t) = n_t / N · ln(1 + A / f_t)``, n_t = occurrences of t in the window's posts, N = Σ n_t,
f_t = occurrences of t in both classes, A = mean tokens per class.

One crisis is one alert. The detector merges spike hours closer than ``cooldown`` hours into one window
whose *start* does not move while the crisis goes on, so ``(monitor, kind, window_start)`` identifies an
alert. The ``alerts`` table (migration 005) is the log and the cooldown state: an alert is new only when
no logged alert of the same monitor and kind overlaps it or ended less than ``cooldown`` hours before it
began; a logged alert whose window grew is updated, not sent again. A restarted process reads the same
table, so it does not re-send.

Sinks: ``terminal`` (a Rich panel on the console given), ``jsonl:PATH`` (one JSON object per line,
appended), ``webhook:URL`` (Slack-compatible JSON ``{"text", "blocks"}`` by HTTP POST; timeout, retries
on 5xx / 429 honouring Retry-After, on timeouts and refused connections). A sink that fails leaves the
alert *pending* for it (with the error), and the next check retries it; delivery never raises.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from socialleads.errors import LeadsError
from socialleads.graph.communities import STOP_WORDS
from socialleads.listen.monitors import as_time, get_monitor, list_monitors
from socialleads.listen.query import FROM_CLAUSE, compile_query
from socialleads.listen.spikes import BASELINE_HOURS, HOUR, SpikeAlert, detect_spikes, hourly_series
from socialleads.store.db import Store, has_table, run_sql

log = logging.getLogger(__name__)

KINDS = ("volume", "negative")
TOP = 5
WEBHOOK_TIMEOUT = 5.0
WEBHOOK_ATTEMPTS = 3
MAX_RETRY_AFTER = 30.0


class AlertError(LeadsError):
    """A bad sink specification or a bad alert parameter."""


class DeliveryError(Exception):
    """A sink did not accept an alert (the message says why); the alert stays pending for it."""


# ------------------------------------------------------------------------------------------- series
def _match_where(query: str) -> str:
    return f"({compile_query(query)}) AND NOT coalesce(p.is_deleted, false) AND p.created_at IS NOT NULL"


def data_range(store: Store) -> tuple[dt.datetime | None, dt.datetime | None]:
    """First and last ``created_at`` of the stored posts (the span every monitor series covers)."""
    lo, hi = run_sql(store.con, "SELECT min(created_at), max(created_at) FROM posts")[0]
    return lo, hi


def monitor_series(store: Store, query: str, start: Any = None, end: Any = None
                   ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(hours, {"volume": counts, "negative": counts}) of the posts matching ``query`` per hour of
    ``created_at``, over [start, end] (default: the span of all stored posts, so that every monitor's
    series lines up); hours without a post are 0. One SQL scan."""
    lo, hi = data_range(store)
    lo = as_time(start, "start") if start is not None else lo
    hi = as_time(end, "end") if end is not None else hi
    if lo is None or hi is None:
        empty = np.zeros(0, np.int64)
        return np.zeros(0, "datetime64[h]"), {"volume": empty, "negative": empty.copy()}
    has_signals = has_table(store.con, "post_signals")
    neg = ("count(*) FILTER (WHERE p.post_key IN (SELECT post_key FROM post_signals "
           "WHERE sentiment_label = 'negative'))" if has_signals else "0")
    rows = run_sql(store.con, f"SELECT date_trunc('hour', p.created_at) AS h, count(*), {neg} FROM {FROM_CLAUSE} "
                              f"WHERE {_match_where(query)} AND p.created_at >= ? AND p.created_at < ? "
                              "GROUP BY 1 ORDER BY 1", [_hour(lo), _hour(hi) + dt.timedelta(hours=1)])
    hours, vol = hourly_series(np.zeros(0, "datetime64[h]"), lo, hi)
    negc = np.zeros_like(vol)
    if rows:
        h = np.array([r[0] for r in rows], dtype="datetime64[h]")
        i = ((h - hours[0]) // HOUR).astype(np.int64)
        vol[i] = [r[1] for r in rows]
        negc[i] = [r[2] for r in rows]
    return hours, {"volume": vol, "negative": negc}


def _hour(t: dt.datetime) -> dt.datetime:
    return t.replace(minute=0, second=0, microsecond=0)


@dataclass
class LiveSeries:
    """A monitor's hourly series kept up to date in memory as posts arrive (the live listener adds
    the new posts of each batch instead of rescanning the store)."""

    name: str
    query: str
    hours: np.ndarray
    counts: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def from_store(cls, store: Store, name: str, query: str) -> LiveSeries:
        hours, counts = monitor_series(store, query)
        return cls(name, query, hours, counts)

    def add(self, times: np.ndarray, negative: np.ndarray) -> None:
        """Count posts at ``times`` (datetime64) into the series (``negative``: bool per post), growing
        it to cover them."""
        t = np.asarray(times).astype("datetime64[h]")
        if not len(t):
            return
        neg = np.asarray(negative, bool)
        lo = t.min() if not len(self.hours) else min(self.hours[0], t.min())
        hi = t.max() if not len(self.hours) else max(self.hours[-1], t.max())
        n = int((hi - lo) // HOUR) + 1
        if not len(self.hours) or lo != self.hours[0] or n != len(self.hours):
            off = int((self.hours[0] - lo) // HOUR) if len(self.hours) else 0
            grown = {}
            for k in KINDS:
                c = np.zeros(n, np.int64)
                old = self.counts.get(k, np.zeros(0, np.int64))
                c[off: off + len(old)] = old
                grown[k] = c
            self.counts = grown
            self.hours = lo + np.arange(n) * HOUR
        idx = ((t - self.hours[0]) // HOUR).astype(np.int64)
        np.add.at(self.counts["volume"], idx, 1)
        np.add.at(self.counts["negative"], idx[neg], 1)


# ---------------------------------------------------------------------------------------- detection
def detect(hours: np.ndarray, counts: dict[str, np.ndarray], *, k: float = 2.0, alpha: float = 0.01,
           cooldown: int = 6, min_count: int = 0, since: Any = None) -> list[tuple[str, SpikeAlert]]:
    """(kind, SpikeAlert) for each spike window of each series that ends after ``since``."""
    lo = as_time(since, "since")
    out = []
    for kind in KINDS:
        c = counts.get(kind)
        if c is None or not len(c):
            continue
        for a in detect_spikes(hours, c, k=k, alpha=alpha, cooldown=cooldown, min_count=min_count):
            if lo is None or a.end > lo:
                out.append((kind, a))
    return out


# a text's terms: URLs and @handles out, then runs of letters and digits that start with a letter
_TOKENIZE = ("unnest(regexp_extract_all(regexp_replace(lower(text), '(https?://|www\\.)\\S+|@[\\w.@-]+', ' ', 'g'), "
             "'\\p{L}[\\p{L}\\p{N}'']+'))")
_TERMS_HEAD = """
WITH m AS (
  SELECT CASE WHEN p.created_at >= ? THEN 1 ELSE 0 END AS c, p.text
  FROM {from_} WHERE {where} AND p.text IS NOT NULL AND p.kind <> 'repost'
    AND p.created_at >= ? AND p.created_at < ? {neg}
),
tok AS (SELECT c, {tokenize} AS term FROM m),
t AS (SELECT * FROM tok WHERE term NOT IN ({stop})),"""
# the same terms read from `alert_terms` (every matching post tokenized once: `matching_posts`)
_TERMS_HEAD_MATCHED = """
WITH t AS (SELECT CASE WHEN p.created_at >= ? THEN 1 ELSE 0 END AS c, p.term FROM alert_terms p
           WHERE p.created_at >= ? AND p.created_at < ? {neg}),"""
_TERMS_TAIL = """
ct AS (SELECT c, term, count(*) AS n FROM t GROUP BY ALL),
tot AS (SELECT c, sum(n) AS nc FROM ct GROUP BY ALL),
bg AS (SELECT term, sum(n) AS f FROM ct GROUP BY ALL),
a AS (SELECT avg(nc) AS a FROM tot)
SELECT term, n, n / tot.nc * ln(1 + a.a / bg.f) AS score
FROM ct JOIN tot USING (c) JOIN bg USING (term) CROSS JOIN a
WHERE c = 1 ORDER BY score DESC, term LIMIT ?
"""
_NEG = "AND p.post_key IN (SELECT post_key FROM post_signals WHERE sentiment_label = 'negative')"


_MATCHED = "alert_match"      # the posts matching the monitor being checked (`matching_posts`)


def matching_posts(store: Store, query: str) -> None:
    """Temp table `alert_match`: the stored posts matching ``query``, with the columns `top_posts` and
    `top_terms` read. One text match per monitor instead of two scans of every post per alert (a demo with
    286 new alerts: 26 s → a few seconds)."""
    run_sql(store.con, f"""CREATE OR REPLACE TEMP TABLE {_MATCHED} AS
        WITH m AS (SELECT p.post_key, p.created_at, p.text, p.url, p.kind, p.author_key, a.handle
                   FROM {FROM_CLAUSE} WHERE {_match_where(query)}),
        e AS (SELECT target_post_key AS post_key, count(*) AS n FROM interactions
              WHERE type <> 'mention' AND target_post_key IN (SELECT post_key FROM m) GROUP BY 1)
        SELECT m.*, coalesce(e.n, 0) AS n FROM m LEFT JOIN e USING (post_key)""")
    run_sql(store.con, f"""CREATE OR REPLACE TEMP TABLE alert_terms AS SELECT post_key, created_at, term FROM (
        SELECT post_key, created_at, {_TOKENIZE} AS term FROM {_MATCHED} WHERE text IS NOT NULL AND kind <> 'repost')
        WHERE term NOT IN ({_stop_list()})""")


def _stop_list() -> str:
    return ", ".join("'" + w.replace("'", "''") + "'" for w in sorted(STOP_WORDS))


def top_terms(store: Store, query: str, start: dt.datetime, end: dt.datetime, *, negative: bool = False,
              top: int = TOP, matched: bool = False) -> list[dict[str, Any]]:
    """c-TF-IDF terms of the posts matching ``query`` in [start, end) against those of the 168 hours
    before ``start`` (see the module docstring): [{term, count, score}], best first. ``matched``: read
    `alert_match` (made by `matching_posts` for this query) instead of matching every post again."""
    neg = _NEG if negative else ""
    if matched:
        sql = _TERMS_HEAD_MATCHED.format(neg=neg) + _TERMS_TAIL
    else:
        sql = _TERMS_HEAD.format(from_=FROM_CLAUSE, where=_match_where(query), neg=neg, stop=_stop_list(),
                                 tokenize=_TOKENIZE) + _TERMS_TAIL
    base = start - dt.timedelta(hours=BASELINE_HOURS)
    rows = run_sql(store.con, sql, [start, base, end, int(top)])
    return [{"term": t, "count": int(n), "score": round(float(s), 6)} for t, n, s in rows]


def top_posts(store: Store, query: str, start: dt.datetime, end: dt.datetime, *, negative: bool = False,
              top: int = TOP, matched: bool = False) -> list[dict[str, Any]]:
    """The window's matching posts with the most interactions received (replies, reposts, quotes, likes,
    mentions excluded), then the newest: [{post_key, author, created_at, text, url, engagement}].
    ``matched``: as in `top_terms`."""
    if matched:       # alert_match holds each post's interactions received (`n`)
        sql = (f"SELECT p.post_key, coalesce(p.handle, p.author_key), p.created_at, p.text, p.url, p.n "
               f"FROM {_MATCHED} p WHERE p.created_at >= ? AND p.created_at < ? {_NEG if negative else ''} "
               "ORDER BY 6 DESC, p.created_at DESC, p.post_key LIMIT ?")
        rows = run_sql(store.con, sql, [start, end, int(top)])
        return [{"post_key": k, "author": a, "created_at": _iso(c), "text": t, "url": u, "engagement": int(n)}
                for k, a, c, t, u, n in rows]
    sql = (f"WITH m AS (SELECT p.post_key, a.handle, p.author_key, p.created_at, p.text, p.url FROM {FROM_CLAUSE} "
           f"WHERE {_match_where(query)} AND p.created_at >= ? AND p.created_at < ? {_NEG if negative else ''}), "
           "e AS (SELECT target_post_key AS post_key, count(*) AS n FROM interactions "
           "WHERE type <> 'mention' AND target_post_key IN (SELECT post_key FROM m) GROUP BY 1) "
           "SELECT m.post_key, coalesce(m.handle, m.author_key), m.created_at, m.text, m.url, coalesce(e.n, 0) "
           "FROM m LEFT JOIN e USING (post_key) ORDER BY 6 DESC, m.created_at DESC, m.post_key LIMIT ?")
    rows = run_sql(store.con, sql, [start, end, int(top)])
    return [{"post_key": k, "author": a, "created_at": _iso(c), "text": t, "url": u, "engagement": int(n)}
            for k, a, c, t, u, n in rows]


def _iso(t: dt.datetime | None) -> str | None:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t is not None else None


def describe(store: Store, monitor: str, query: str, kind: str, spike: SpikeAlert,
             top: int = TOP, matched: bool = False) -> dict[str, Any]:
    """An alert as a JSON-ready dict: id, monitor, kind, window, baseline, peak, p-value, top posts, top terms."""
    neg = kind == "negative"
    return {
        "alert_id": alert_id(monitor, kind, spike.start),
        "monitor": monitor, "query": query, "kind": kind,
        "window": {"start": _iso(spike.start), "end": _iso(spike.end), "hours": spike.spike_hours},
        "baseline": {"mean": round(spike.baseline_mean, 4), "sd": round(spike.baseline_sd, 4),
                     "hours": BASELINE_HOURS},
        "peak_hour": _iso(spike.peak_hour), "peak_count": spike.peak_count, "total_count": spike.total_count,
        "p_value": spike.p_value,
        "top_posts": top_posts(store, query, spike.start, spike.end, negative=neg, top=top, matched=matched),
        "top_terms": top_terms(store, query, spike.start, spike.end, negative=neg, top=top, matched=matched),
    }


def alert_id(monitor: str, kind: str, start: dt.datetime) -> str:
    return f"{monitor}|{kind}|{_iso(start)}"


# ------------------------------------------------------------------------------------ log / cooldown
def _logged(store: Store, monitor: str, kind: str, spike: SpikeAlert, cooldown: int) -> tuple[str, dt.datetime] | None:
    """The logged alert this spike continues (same monitor and kind, overlapping or within the
    cooldown), or None when it is a new crisis."""
    rows = run_sql(store.con, "SELECT alert_id, window_end FROM alerts WHERE monitor = ? AND kind = ? "
                              "AND window_start < ? AND window_end + to_hours(?::BIGINT) > ? "
                              "ORDER BY window_start DESC LIMIT 1",
                   [monitor, kind, spike.end, int(cooldown), spike.start])
    return (rows[0][0], rows[0][1]) if rows else None


def record(store: Store, alert: dict[str, Any], spike: SpikeAlert, sinks: list[str], cooldown: int,
           now: dt.datetime | None = None) -> bool:
    """Log ``alert`` unless it continues a logged one (then only its window end and counts grow).
    True when it is new (and pending for ``sinks``)."""
    prev = _logged(store, alert["monitor"], alert["kind"], spike, cooldown)
    if prev is not None:
        if spike.end > prev[1]:
            run_sql(store.con, "UPDATE alerts SET window_end = ?, peak_count = greatest(peak_count, ?), "
                               "total_count = greatest(total_count, ?) WHERE alert_id = ?",
                    [spike.end, spike.peak_count, spike.total_count, prev[0]])
        return False
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    run_sql(store.con, "INSERT INTO alerts (alert_id, monitor, kind, window_start, window_end, peak_hour, peak_count, "
                       "baseline_mean, baseline_sd, p_value, total_count, payload, raised_at, delivered, pending) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, []::VARCHAR[], ?) ON CONFLICT DO NOTHING",
            [alert["alert_id"], alert["monitor"], alert["kind"], spike.start, spike.end, spike.peak_hour,
             spike.peak_count, spike.baseline_mean, spike.baseline_sd, spike.p_value, spike.total_count,
             json.dumps(alert, default=str), now, list(sinks)])
    return True


def logged_alerts(store: Store, monitor: str | None = None) -> list[dict[str, Any]]:
    """The alert log, oldest first: the payload plus raised_at, delivered, pending, attempts, last_error."""
    rows = run_sql(store.con, "SELECT payload, raised_at, delivered, pending, attempts, last_error, window_end "
                              "FROM alerts WHERE ? IS NULL OR monitor = ? ORDER BY raised_at, alert_id",
                   [monitor, monitor])
    out = []
    for payload, raised, delivered, pending, attempts, err, wend in rows:
        d = json.loads(payload)
        d["window"]["end"] = _iso(wend)
        d.update(raised_at=_iso(raised), delivered=list(delivered or []), pending=list(pending or []),
                 attempts=int(attempts or 0), last_error=err)
        out.append(d)
    return out


# ----------------------------------------------------------------------------------------- delivery
def parse_sink(spec: str) -> str:
    """Check a sink spec: 'terminal', 'jsonl:PATH' or 'webhook:http(s)://…'; returns it normalised."""
    s = (spec or "").strip()
    if s == "terminal":
        return s
    if s.startswith("jsonl:") and len(s) > 6:
        return s
    if s.startswith("webhook:") and s[8:].startswith(("http://", "https://")):
        return s
    raise AlertError(f"--to {spec!r}: expected terminal, jsonl:PATH or webhook:http(s)://URL")


def slack_payload(alert: dict[str, Any]) -> dict[str, Any]:
    """Slack-compatible webhook JSON: a one-line ``text`` and ``blocks`` (header, details, posts, terms)."""
    w, b = alert["window"], alert["baseline"]
    what = "negative mentions" if alert["kind"] == "negative" else "mentions"
    text = (f"Spike in {what} of monitor {alert['monitor']}: {alert['total_count']} posts "
            f"{w['start']} – {w['end']} (peak {alert['peak_count']}/h at {alert['peak_hour']}; "
            f"baseline {b['mean']:.2f} ± {b['sd']:.2f}/h)")
    terms = ", ".join(t["term"] for t in alert.get("top_terms") or []) or "—"
    posts = "\n".join(f"• {(p.get('author') or '?')}: {(p.get('text') or '')[:140]}"
                      + (f" <{p['url']}>" if p.get("url") else "") for p in alert.get("top_posts") or []) or "—"
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": f"Spike: {alert['monitor']} ({alert['kind']})"[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Top terms:* {terms}"[:3000]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Top posts:*\n{posts}"[:3000]}},
    ]
    return {"text": text, "blocks": blocks}


def post_webhook(url: str, payload: dict[str, Any], *, timeout: float = WEBHOOK_TIMEOUT,
                 attempts: int = WEBHOOK_ATTEMPTS, backoff: float = 0.5,
                 max_retry_after: float = MAX_RETRY_AFTER) -> int:
    """POST ``payload`` as JSON; retries 5xx, 429 (waiting Retry-After seconds, capped), timeouts and
    refused connections up to ``attempts`` times with exponential backoff. Returns the final status;
    raises DeliveryError when the hook did not accept it."""
    body = json.dumps(payload).encode()
    last = "no attempt"
    for i in range(max(1, attempts)):
        wait = backoff * (2 ** i)
        req = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "socialleads"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - the user's own URL
                resp.read()
                return int(resp.status)
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
            if exc.code != 429 and exc.code < 500:
                raise DeliveryError(f"webhook {url}: {last} (not retried)") from None
            ra = exc.headers.get("Retry-After") if exc.headers else None
            if ra is not None:
                try:
                    wait = min(max(float(ra), 0.0), max_retry_after)
                except ValueError:
                    pass
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            last = f"{type(reason).__name__}: {reason}"
        if i + 1 < attempts:
            time.sleep(wait)
    raise DeliveryError(f"webhook {url}: {last} after {attempts} attempt(s)")


def render_terminal(alert: dict[str, Any], console: Any) -> None:
    """A Rich panel for one alert on ``console``."""
    from rich.markup import escape
    from rich.panel import Panel

    p = slack_payload(alert)
    body = escape(p["text"]) + "\n[b]Top terms:[/b] " + escape(", ".join(t["term"] for t in alert["top_terms"]) or "—")
    for post in alert.get("top_posts") or []:
        body += f"\n• [cyan]{escape(str(post.get('author') or '?'))}[/cyan] {escape((post.get('text') or '')[:140])}"
    console.print(Panel(body, title=f"[red]Spike[/red] {escape(alert['monitor'])} ({alert['kind']})", expand=False))


def deliver(alert: dict[str, Any], sink: str, *, console: Any = None, timeout: float = WEBHOOK_TIMEOUT,
            attempts: int = WEBHOOK_ATTEMPTS) -> None:
    """Send one alert to one sink; raises DeliveryError when it was not accepted."""
    if sink == "terminal":
        if console is None:
            from rich.console import Console
            console = Console(stderr=True)
        render_terminal(alert, console)
    elif sink.startswith("jsonl:"):
        path = Path(sink[6:])
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(alert, ensure_ascii=False, default=str) + "\n")
        except OSError as exc:
            raise DeliveryError(f"jsonl {path}: {exc}") from None
    elif sink.startswith("webhook:"):
        post_webhook(sink[8:], slack_payload(alert), timeout=timeout, attempts=attempts)
    else:
        raise DeliveryError(f"unknown sink {sink!r}")


def deliver_pending(store: Store, *, console: Any = None, timeout: float = WEBHOOK_TIMEOUT,
                    attempts: int = WEBHOOK_ATTEMPTS, monitor: str | None = None) -> dict[str, Any]:
    """Try every pending (alert, sink); a success moves the sink to ``delivered``, a failure keeps it
    pending with the error. Never raises for a sink's failure. Returns {delivered, failed, errors}."""
    rows = run_sql(store.con, "SELECT alert_id, payload, pending, window_end FROM alerts "
                              "WHERE len(pending) > 0 AND (? IS NULL OR monitor = ?) ORDER BY raised_at, alert_id",
                   [monitor, monitor])
    done = failed = 0
    errors: list[str] = []
    for aid, payload, pending, wend in rows:  # one iteration per pending alert
        alert = json.loads(payload)
        alert["window"]["end"] = _iso(wend)
        ok, left, err = [], [], None
        for sink in pending:
            try:
                deliver(alert, sink, console=console, timeout=timeout, attempts=attempts)
                ok.append(sink)
            except DeliveryError as exc:
                left.append(sink)
                err = str(exc)
                log.warning("alert %s not delivered: %s", aid, exc)
        done += len(ok)
        failed += len(left)
        if err:
            errors.append(err)
        run_sql(store.con, "UPDATE alerts SET delivered = list_concat(delivered, ?::VARCHAR[]), pending = ?::VARCHAR[], "
                           "attempts = attempts + 1, last_error = ? WHERE alert_id = ?", [ok, left, err, aid])
    return {"delivered": done, "failed": failed, "errors": errors}


# ------------------------------------------------------------------------------------------- check
def raise_alerts(store: Store, monitor: str, query: str, hours: np.ndarray, counts: dict[str, np.ndarray],
                 sinks: Iterable[str], *, k: float = 2.0, alpha: float = 0.01, cooldown: int = 6,
                 min_count: int = 0, since: Any = None, top: int = TOP) -> list[dict[str, Any]]:
    """Detect the spikes of one monitor's series and log the new ones as pending for ``sinks``;
    returns the new alerts (dicts of `describe`)."""
    new = []
    matched = False
    try:
        for kind, spike in detect(hours, counts, k=k, alpha=alpha, cooldown=cooldown, min_count=min_count,
                                  since=since):
            if _logged(store, monitor, kind, spike, cooldown) is not None:
                record(store, {"monitor": monitor, "kind": kind}, spike, [], cooldown)  # grows the window
                continue
            if not matched:
                matching_posts(store, query)
                matched = True
            alert = describe(store, monitor, query, kind, spike, top, matched=True)
            if record(store, alert, spike, list(sinks), cooldown):
                new.append(alert)
    finally:
        if matched:
            run_sql(store.con, f"DROP TABLE IF EXISTS {_MATCHED}")
            run_sql(store.con, "DROP TABLE IF EXISTS alert_terms")
    return new


def check_alerts(store: Store, *, monitor: str | None = None, sinks: Iterable[str] = ("terminal",),
                 k: float = 2.0, alpha: float = 0.01, cooldown: int = 6, min_count: int = 0, since: Any = None,
                 console: Any = None, timeout: float = WEBHOOK_TIMEOUT, attempts: int = WEBHOOK_ATTEMPTS,
                 top: int = TOP) -> dict[str, Any]:
    """Run spike detection over the stored posts of every saved monitor (or one), log the new alerts,
    and deliver everything pending (new alerts and earlier failures). Returns
    {"monitors", "new" (alerts), "delivered", "failed", "errors"}."""
    sinks = [parse_sink(s) for s in sinks]
    if cooldown < 0:
        raise AlertError(f"cooldown must be >= 0 hours (got {cooldown})")
    mons = [get_monitor(store, monitor)] if monitor else list_monitors(store)
    new: list[dict[str, Any]] = []
    for m in mons:  # one SQL scan per monitor
        hours, counts = monitor_series(store, m["query"])
        new += raise_alerts(store, m["name"], m["query"], hours, counts, sinks, k=k, alpha=alpha,
                            cooldown=cooldown, min_count=min_count, since=since, top=top)
    res = deliver_pending(store, console=console, timeout=timeout, attempts=attempts, monitor=monitor)
    return {"monitors": [m["name"] for m in mons], "new": new, **res}


__all__ = ["AlertError", "DeliveryError", "LiveSeries", "check_alerts", "deliver", "deliver_pending", "describe",
           "detect", "logged_alerts", "monitor_series", "parse_sink", "post_webhook", "raise_alerts", "record",
           "slack_payload", "top_posts", "top_terms"]
