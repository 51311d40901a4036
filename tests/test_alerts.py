"""Spike alerts of monitors: content (window, baseline, top posts, terms), cooldown, restart, delivery sinks
(JSON lines, a webhook on a local HTTP server on 127.0.0.1: 500 then success, 429, a hanging server)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from socialleads.listen import alerts as A
from socialleads.listen.monitors import add_monitor
from socialleads.store import open_store

T0 = dt.datetime(2026, 1, 1)


def _fill(store, spikes: dict[int, int], hours: int = 240, base_every: int = 3) -> None:
    """One 'voltwise is fine today' post every `base_every` hours, plus `spikes[h]` 'battery fire recall
    voltwise' posts in hour h."""
    rows, n = [], 0
    for h in range(hours):
        for i in range(1 if h % base_every == 0 else 0):
            n += 1
            rows.append((f"b{n}", "x", "a1", "original", T0 + dt.timedelta(hours=h, minutes=i), "voltwise is fine today", "x"))
        for i in range(spikes.get(h, 0)):
            n += 1
            rows.append((f"s{n}", "x", f"u{i}", "original", T0 + dt.timedelta(hours=h, minutes=i % 60),
                         "battery fire recall voltwise", "x"))
    store.con.executemany("INSERT INTO posts (post_key, platform, author_key, kind, created_at, text, source) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    add_monitor(store, "vw", "voltwise")


def test_alert_names_window_baseline_posts_terms(store, tmp_path):
    _fill(store, {200: 30})
    out = tmp_path / "a.jsonl"
    res = A.check_alerts(store, sinks=[f"jsonl:{out}"])
    assert len(res["new"]) == 1 and res["delivered"] == 1
    a = json.loads(out.read_text().strip())
    assert a["kind"] == "volume" and a["window"]["start"] == "2026-01-09T08:00:00Z"
    assert a["window"]["end"] == "2026-01-09T09:00:00Z" and a["peak_count"] == 30  # hour 200 has no baseline post (200 % 3 = 2)
    # baseline by hand: hours 32..199 hold a post when h % 3 == 0 → 56 of 168; mean 1/3, sd sqrt(1/3·2/3)
    assert a["baseline"]["mean"] == pytest.approx(56 / 168, abs=1e-4)
    assert a["baseline"]["sd"] == pytest.approx((56 / 168 * 112 / 168) ** 0.5, abs=1e-4)
    assert {t["term"] for t in a["top_terms"][:3]} == {"battery", "fire", "recall"}
    assert len(a["top_posts"]) == 5 and all("battery" in p["text"] for p in a["top_posts"][:5])


def test_alert_details_from_the_matched_posts_equal_a_fresh_match(store):
    # check_alerts matches a monitor's posts once (alert_match / alert_terms) instead of twice per alert: the
    # top posts and terms must be those of the plain queries over every post, window by window
    _fill(store, {120: 12, 200: 30})
    store.con.execute("INSERT INTO interactions (interaction_key, platform, type, actor_key, target_post_key, source) "
                      "SELECT 'i' || post_key, 'x', 'like', 'u9', post_key, 'x' FROM posts WHERE post_key LIKE 's%' "
                      "AND right(post_key, 1) IN ('1', '5')")
    A.matching_posts(store, "voltwise")
    for h in (120, 200, 150):
        start = T0 + dt.timedelta(hours=h)
        end = start + dt.timedelta(hours=1)
        for f in (A.top_posts, A.top_terms):
            plain = f(store, "voltwise", start, end, top=8)
            assert f(store, "voltwise", start, end, top=8, matched=True) == plain, (f.__name__, h)
        assert A.top_posts(store, "voltwise", start, end)[0]["engagement"] == (1 if h != 150 else 0)


def test_two_spikes_close_together_are_one_alert_and_restart_does_not_resend(tmp_path):
    db = tmp_path / "s.duckdb"
    s = open_store(db)
    _fill(s, {200: 30, 203: 30})          # 3 hours apart, cooldown 6 h
    out = tmp_path / "a.jsonl"
    assert len(A.check_alerts(s, sinks=[f"jsonl:{out}"])["new"]) == 1
    s.close()
    s = open_store(db)                    # a restarted process
    assert A.check_alerts(s, sinks=[f"jsonl:{out}"])["new"] == []
    log = A.logged_alerts(s)
    assert len(log) == 1 and log[0]["window"]["end"] == "2026-01-09T12:00:00Z"
    s.close()
    assert len(out.read_text().splitlines()) == 1


def test_spikes_far_apart_are_two_alerts(store):
    _fill(store, {190: 30, 230: 30})
    assert [a["window"]["start"] for a in A.check_alerts(store, sinks=[])["new"]] == [
        "2026-01-08T22:00:00Z", "2026-01-10T14:00:00Z"]


def test_quiet_series_no_alert(store):
    _fill(store, {}, base_every=1)
    assert A.check_alerts(store, sinks=[])["new"] == []


def test_live_series_adds_up_like_the_store(store):
    _fill(store, {200: 5})
    hours, counts = A.monitor_series(store, "voltwise")
    ls = A.LiveSeries("vw", "voltwise", hours[:100], {k: v[:100].copy() for k, v in counts.items()})
    t = np.array([T0 + dt.timedelta(hours=h) for h in range(100, len(hours)) for _ in range(int(counts["volume"][h]))],
                 dtype="datetime64[us]")
    ls.add(t, np.zeros(len(t), bool))
    assert (ls.hours == hours).all() and (ls.counts["volume"] == counts["volume"]).all()


class Hook(BaseHTTPRequestHandler):
    plan: list[int] = []
    got: list[dict] = []
    hang = 0.0

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if type(self).hang:
            time.sleep(type(self).hang)
        code = type(self).plan.pop(0) if type(self).plan else 200
        type(self).got.append({"code": code, "body": body})
        self.send_response(code)
        if code == 429:
            self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *a):
        pass


@pytest.fixture
def hook():
    Hook.plan, Hook.got, Hook.hang = [], [], 0.0
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_port}/hook"
    srv.shutdown()
    srv.server_close()


def test_webhook_500_then_success(store, hook):
    _fill(store, {200: 30})
    Hook.plan = [500, 429]
    res = A.check_alerts(store, sinks=[f"webhook:{hook}"], attempts=3)
    assert res["delivered"] == 1 and res["failed"] == 0
    assert [g["code"] for g in Hook.got] == [500, 429, 200]
    body = Hook.got[-1]["body"]
    assert "vw" in body["text"] and body["blocks"][0]["type"] == "header"


def test_webhook_down_keeps_alert_pending_then_retries(store, hook):
    _fill(store, {200: 30})
    Hook.plan = [503, 503]
    res = A.check_alerts(store, sinks=[f"webhook:{hook}"], attempts=2)
    assert res["delivered"] == 0 and res["failed"] == 1 and "HTTP 503" in res["errors"][0]
    assert A.logged_alerts(store)[0]["pending"] == [f"webhook:{hook}"]
    res = A.check_alerts(store, sinks=[f"webhook:{hook}"], attempts=2)   # no new alert, the pending one is retried
    assert res["new"] == [] and res["delivered"] == 1
    assert A.logged_alerts(store)[0]["pending"] == []


def test_webhook_hanging_times_out(store, hook):
    _fill(store, {200: 30})
    Hook.hang = 2.0
    t = time.perf_counter()
    res = A.check_alerts(store, sinks=[f"webhook:{hook}"], timeout=0.3, attempts=1)
    assert time.perf_counter() - t < 1.8
    assert res["failed"] == 1 and "Timeout" in res["errors"][0]


def test_webhook_unreachable_does_not_raise():
    with pytest.raises(A.DeliveryError):
        A.post_webhook("http://127.0.0.1:9/x", {"text": "t"}, timeout=0.3, attempts=1)


def test_bad_sink_is_a_user_error():
    with pytest.raises(A.AlertError):
        A.parse_sink("slack:foo")
