"""Review of `leads pull`: defects found with fault-injecting fake servers, one test (or a few) each.

Every server is the fake of the pull tests (tests/fakeserver.py, the worlds of test_pull_*.py) on
127.0.0.1 with a random port, given one fault here: a repeated page cursor, a trickling answer, a long
Retry-After, a malformed answer, a refused token. Waits are recorded, not slept (no_sleep_policy).
Expected values come from the served data or from the HTTP exchange, never from the client's output.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest

import tests.test_pull_bluesky as TB
import tests.test_pull_mastodon as TM
import tests.test_pull_reddit as TR
from socialleads.errors import LeadsError
from socialleads.sources.live.http import PullError
from tests.fakeserver import FakeServer, no_sleep_policy

STATUSES = f"/api/v1/accounts/{TM.OWNER_ID}/statuses"


def _serve(module):
    w = module.World()
    srv = FakeServer()
    w.serve(srv)
    return w, srv


@pytest.fixture
def bsky():
    w, srv = _serve(TB)
    with srv:
        yield w, srv


@pytest.fixture
def masto():
    w, srv = _serve(TM)
    with srv:
        yield w, srv


@pytest.fixture
def reddit():
    w, srv = _serve(TR)
    with srv:
        yield w, srv


def _one(store, sql, params=()):
    return store.con.execute(sql, list(params)).fetchall()[0][0]


def _workspace(tmp_path: Path) -> Path:
    from typer.testing import CliRunner

    from socialleads.cli.main import app

    ws = tmp_path / "ws"
    assert CliRunner().invoke(app, ["init", str(ws)]).exit_code == 0
    return ws


def _files_text(ws: Path) -> str:
    return "".join(p.read_bytes().decode("latin-1") for p in ws.rglob("*") if p.is_file())


def _guarded(handler, limit=20):
    """A handler that, after `limit` requests, ends the list (so that a client that never stops fails an
    assertion instead of hanging the test run)."""
    calls = []

    def h(req):
        calls.append(req)
        if len(calls) > limit:
            return None
        return handler(req)
    return h, calls


# ---------------------------------------------------------------------------------------------------
# 1. a server that repeats its next-page cursor; Reddit's 1000-item listing cap

def test_bluesky_repeated_cursor_stops_with_one_line(store, bsky):
    w, srv = bsky

    def same(req):
        return 200, {}, {"feed": w.feed[:3], "cursor": "SAME"}
    h, calls = _guarded(same)
    srv.routes.insert(0, ("GET", "/xrpc/app.bsky.feed.getAuthorFeed", lambda r: h(r) or (200, {}, {"feed": []})))
    with pytest.raises(PullError) as e:
        TB._pull(store, srv, endpoints=("feed",))
    msg = str(e.value)
    assert "\n" not in msg and "same page cursor again" in msg
    assert "app.bsky.feed.getAuthorFeed" in msg and srv.url in msg                      # endpoint and server
    assert e.value.exit_code == 4
    assert len(calls) == 2                                                               # no loop
    assert _one(store, "SELECT count(*) FROM posts") == 3                                # the first page is kept
    assert _one(store, "SELECT items FROM sync_state WHERE endpoint = 'app.bsky.feed.getAuthorFeed'") == 3


def test_mastodon_repeated_link_stops(store, masto):
    w, srv = masto

    def same(req):
        return 200, {"link": f'<{srv.url}{STATUSES}?max_id=999>; rel="next"'}, w.statuses[:3]
    h, calls = _guarded(same)
    srv.routes.insert(0, ("GET", STATUSES, lambda r: h(r) or (200, {}, [])))
    with pytest.raises(PullError) as e:
        TM._pull(store, srv, endpoints=("statuses",))
    msg = str(e.value)
    assert "\n" not in msg and "same page cursor again" in msg and STATUSES in msg and srv.url in msg
    assert len(calls) == 2
    assert _one(store, "SELECT count(*) FROM posts WHERE source_ids->>'id' IS NOT NULL") == 3


def test_reddit_repeated_after_stops(store, reddit):
    w, srv = reddit

    def same(req):
        return 200, {}, {"kind": "Listing", "data": {"after": "t3_same", "children":
                                                     [{"kind": "t3", "data": x} for x in w.submissions[:3]]}}
    h, calls = _guarded(same)
    srv.routes.insert(0, ("GET", "/user/bboe/submitted",
                          lambda r: h(r) or (200, {}, {"kind": "Listing", "data": {"after": None, "children": []}})))
    with pytest.raises(PullError) as e:
        TR._pull(store, srv, endpoints=("submissions",))
    msg = str(e.value)
    assert "\n" not in msg and "same page cursor again" in msg and "user/bboe/submitted" in msg
    assert len(calls) == 2
    assert _one(store, "SELECT count(*) FROM posts WHERE platform = 'reddit'") == 3


def test_reddit_listing_stops_at_1000_items(store, reddit):
    w, srv = reddit
    base = w.submissions[-1]
    made = {}

    def endless(req):                         # always 100 new items and a new `after`
        start = int(req.q("after", "t3_0").split("_")[1], 36) if req.q("after") else 0
        items = [made.setdefault(i, TR._copy(base, 5000 + i)) for i in range(start + 1, start + 101)]
        return 200, {}, {"kind": "Listing", "data": {"after": f"t3_{TR._b36(start + 100)}", "children":
                                                     [{"kind": "t3", "data": x} for x in items]}}
    h, calls = _guarded(endless, limit=15)
    srv.routes.insert(0, ("GET", "/user/bboe/submitted",
                          lambda r: h(r) or (200, {}, {"kind": "Listing", "data": {"after": None, "children": []}})))
    s, _ = TR._pull(store, srv, endpoints=("submissions",), limit=100)
    assert len(calls) == 10                                              # 10 pages of 100: Reddit's cap
    assert s.complete and {e.endpoint: e.items for e in s.endpoints} == {"submissions": 1000}
    assert _one(store, "SELECT cursor FROM sync_state WHERE endpoint = 'submissions'") is None


# ---------------------------------------------------------------------------------------------------
# 2. a token with a trailing CR (a CRLF token file read with $(cat …)) never reaches any output

def test_resolve_strips_and_scrub_removes_escaped_forms(monkeypatch):
    from socialleads.sources.live.credentials import resolve, scrub

    monkeypatch.setenv("LEADS_MASTODON_TOKEN", TM.TOKEN + "\r\n")
    assert resolve("mastodon", "token", None) == TM.TOKEN
    assert resolve("mastodon", "token", " " + TM.TOKEN + "\r") == TM.TOKEN
    monkeypatch.setenv("LEADS_REDDIT_CLIENT_SECRET", TR.SECRET + "\r")
    assert resolve("reddit", "client_secret", None) == TR.SECRET
    # a message that holds the repr of the header ("…'Bearer <token>\\r'"), or its JSON / percent forms
    for secret in (TM.TOKEN + "\r", TM.TOKEN):
        for msg in (f"Invalid header value: {('Bearer ' + TM.TOKEN + chr(13))!r}",
                    json.dumps({"h": "Bearer " + TM.TOKEN + "\r"}), f"url?t={TM.TOKEN}%0D",
                    "plain " + TM.TOKEN):
            assert TM.TOKEN not in scrub(msg, [secret]), msg
    assert scrub('a "x\\"y-secret"', ['x"y-secret']) == 'a "***"'


def test_crlf_token_is_stripped_and_appears_nowhere(tmp_path, masto):
    from typer.testing import CliRunner

    from socialleads.cli.main import app

    w, srv = masto
    ws = _workspace(tmp_path)
    base = {"LEADS_WORKSPACE": str(ws), "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    args = ["pull", "mastodon", "mastodonpy_test", "--instance", srv.url, "--only", "statuses,notifications"]
    r1 = CliRunner().invoke(app, args, env={**base, "LEADS_MASTODON_TOKEN": TM.TOKEN + "\r"})
    r2 = CliRunner().invoke(app, [*args, "--token", TM.TOKEN + "\r", "--json"], env=base)
    assert r1.exit_code == 0, r1.output
    assert r2.exit_code == 0, r2.output
    assert json.loads(r2.stdout)["complete"] is True
    assert w.auth and all(a == f"Bearer {TM.TOKEN}" for a in w.auth)       # sent (stripped) to the server …
    # … and nowhere else, also when the server refuses it
    srv.fail("/notifications", 401, times=99)
    r3 = CliRunner().invoke(app, args, env={**base, "LEADS_MASTODON_TOKEN": TM.TOKEN + "\r"})
    assert r3.exit_code == 4
    for r in (r1, r2, r3):
        assert TM.TOKEN not in r.output
    assert TM.TOKEN not in _files_text(ws)


# ---------------------------------------------------------------------------------------------------
# 3. an answer that trickles in (one byte at a time, never idle for a whole timeout)

def _drip(srv: FakeServer, path_part: str, body: bytes, every: float) -> None:
    H = srv.httpd.RequestHandlerClass
    orig = H._do

    def _do(self):
        if path_part not in self.path or srv._release.is_set():
            return orig(self)
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        try:
            for i in range(len(body)):
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
                time.sleep(every)
        except OSError:
            pass

    H._do = H.do_GET = _do


@pytest.mark.parametrize("platform", ["mastodon", "bluesky"])
def test_trickling_answer_is_cut_off_by_the_deadline(store, platform):
    module, path, body = ((TM, "/statuses", b" " * 100 + b"[]") if platform == "mastodon"
                          else (TB, "getAuthorFeed", b" " * 100 + b'{"feed": []}'))
    w, srv = _serve(module)
    _drip(srv, path, body, 0.05)                  # 5 s for the whole answer; no pause reaches the 0.5 s timeout
    with srv:
        policy = no_sleep_policy(timeout=0.5, attempts=1)      # a deadline of 4 × 0.5 s for each answer
        t0 = time.monotonic()
        with pytest.raises(PullError) as e:
            module._pull(store, srv, endpoints=("statuses",) if platform == "mastodon" else ("feed",),
                         policy=policy)
        took = time.monotonic() - t0
    msg = str(e.value)
    assert "\n" not in msg and "timeout" in msg and "not complete within 2 s" in msg
    assert took < 4.5


def test_timeout_help_documents_the_deadline():
    from typer.testing import CliRunner

    from socialleads.cli.main import app

    r = CliRunner().invoke(app, ["pull", "mastodon", "--help"], env={"COLUMNS": "250"})
    assert r.exit_code == 0 and "4 × this" in " ".join(r.output.split())


# ---------------------------------------------------------------------------------------------------
# 4. a Retry-After longer than the policy's max wait: stop at once, never retry early

def test_long_retry_after_stops_at_once_and_resumes_later(store, masto):
    w, srv = masto
    wall = 1_900_000_000.0
    cut = w.statuses[19]["id"]
    srv.fail(f"max_id={cut}", 429, {"Retry-After": "3600"}, times=5)
    policy = no_sleep_policy(wall=lambda: wall)
    with pytest.raises(PullError) as e:
        TM._pull(store, srv, endpoints=("statuses",), policy=policy)
    at = dt.datetime.fromtimestamp(wall + 3600, dt.UTC).strftime("%H:%M")
    host = srv.url.removeprefix("http://")
    msg = str(e.value)
    assert f"rate limited by {host}: retry after 60 min (at {at} UTC)" in msg and "\n" not in msg
    assert e.value.exit_code == 4
    assert policy.slept == [] and len([r for r in srv.log if r.q("max_id") == cut]) == 1           # no early retry
    assert _one(store, "SELECT count(*) FROM posts WHERE source_ids->>'id' IS NOT NULL") == 20   # kept
    assert _one(store, "SELECT cursor FROM sync_state WHERE endpoint = 'statuses'") == cut        # resumable
    srv.faults.clear()
    s, _ = TM._pull(store, srv, endpoints=("statuses",))
    assert s.complete and _one(store, "SELECT count(*) FROM posts WHERE source_ids->>'id' IS NOT NULL") == 30


def test_a_rate_limit_reset_beyond_max_wait_also_stops(store, masto):
    w, srv = masto
    link = f'<{srv.url}{STATUSES}?max_id={w.statuses[1]["id"]}>; rel="next"'
    h, _calls = _guarded(lambda r: (200, {"x-ratelimit-remaining": "0", "link": link,
                                          "x-ratelimit-reset": "2099-01-01T00:00:00Z"}, w.statuses[:2]), limit=3)
    srv.routes.insert(0, ("GET", STATUSES, lambda r: h(r) or (200, {}, [])))
    policy = no_sleep_policy()
    with pytest.raises(PullError) as e:
        TM._pull(store, srv, endpoints=("statuses",), policy=policy)
    assert "rate limited by" in str(e.value) and "retry after" in str(e.value) and policy.slept == []
    assert len(srv.requests_to(STATUSES)) == 1                           # the next page is not asked for
    assert _one(store, "SELECT count(*) FROM posts WHERE source_ids->>'id' IS NOT NULL") == 2


def test_a_shorter_retry_after_is_announced_once(store, masto):
    w, srv = masto
    srv.fail("/statuses", 429, {"Retry-After": "5"}, times=1)
    notes: list[str] = []
    policy = no_sleep_policy(notify=notes.append)
    s, _ = TM._pull(store, srv, endpoints=("statuses",), policy=policy)
    assert s.complete and policy.slept == [5.0]
    assert len(notes) == 1 and "rate limited by" in notes[0] and "waiting 5 s" in notes[0]


# ---------------------------------------------------------------------------------------------------
# 5. the summary's request / retry / wait counters

def test_summary_counts_requests_retries_and_waits(store, masto, tmp_path, monkeypatch):
    w, srv = masto
    srv.fail("/statuses", 429, {"Retry-After": "0.05"}, times=1)
    srv.fail("/statuses", 503, times=1)
    s, policy = TM._pull(store, srv, endpoints=("statuses",))
    assert s.complete
    assert s.requests == len(srv.log)                       # every request the server saw, retries included
    assert s.retries == 2
    assert s.waited == pytest.approx(0.05 + 0.01 * 2)       # Retry-After, then the second backoff step
    assert s.to_json()["requests"] == len(srv.log)

    # through the command line (--json), with the waits recorded instead of slept
    from typer.testing import CliRunner

    import socialleads.cli.pull as P
    from socialleads.cli.main import app

    real, slept = P._policy, []

    def fast(timeout):
        p = real(timeout)
        p.sleep = slept.append
        return p
    monkeypatch.setattr(P, "_policy", fast)
    ws = _workspace(tmp_path)
    n0 = len(srv.log)
    srv.fail("/statuses", 429, {"Retry-After": "2"}, times=1)
    srv.fail("/statuses", 503, times=1)
    r = CliRunner().invoke(app, ["pull", "mastodon", "mastodonpy_test", "--instance", srv.url, "--only",
                                 "statuses", "--json", "--workspace", str(ws)],
                           env={"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"})
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert (out["requests"], out["retries"], out["waited_seconds"]) == (len(srv.log) - n0, 2, 2.0 + 1.0 * 2)
    assert slept == [2.0, 2.0]
    assert "waiting 2 s" in r.stderr                          # the 429 wait is said once on stderr


# ---------------------------------------------------------------------------------------------------
# 6. malformed answers

def test_bluesky_wrong_shape_is_one_line(store, bsky):
    w, srv = bsky
    srv.routes.insert(0, ("GET", "/xrpc/app.bsky.feed.getAuthorFeed", lambda r: (200, {}, {"feed": "x"})))
    with pytest.raises(PullError) as e:
        TB._pull(store, srv, endpoints=("feed",))
    msg = str(e.value)
    assert "\n" not in msg and "feed" in msg and "does not match" in msg and srv.url in msg


def test_mastodon_error_object_with_200_fails_the_endpoint(store, masto):
    w, srv = masto
    srv.routes.insert(0, ("GET", STATUSES, lambda r: (200, {}, {"error": "x"})))
    with pytest.raises(PullError) as e:
        TM._pull(store, srv, endpoints=("statuses",))
    msg = str(e.value)
    assert "AttributeError" not in msg and "not a list" in msg and STATUSES in msg and "\n" not in msg


def test_mastodon_non_object_items_are_quarantined(store, masto):
    w, srv = masto
    srv.routes.insert(0, ("GET", STATUSES, lambda r: (200, {}, [5, "x", None, *w.statuses[:2]])))
    s, _ = TM._pull(store, srv, endpoints=("statuses",))
    assert s.error is None and s.quarantined == 3
    assert _one(store, "SELECT count(*) FROM posts WHERE source_ids->>'id' IS NOT NULL") == 2
    assert _one(store, "SELECT count(*) FROM quarantine WHERE reason LIKE 'not a JSON object%'") == 3


def test_reddit_children_not_a_list_is_an_error(store, reddit):
    w, srv = reddit
    srv.routes.insert(0, ("GET", "/user/bboe/submitted",
                          lambda r: (200, {}, {"kind": "Listing", "data": {"children": "x"}})))
    with pytest.raises(PullError) as e:
        TR._pull(store, srv, endpoints=("submissions",))
    msg = str(e.value)
    assert "not a listing" in msg and "user/bboe/submitted" in msg and srv.url in msg
    assert _one(store, "SELECT count(*) FROM sync_state WHERE endpoint = 'submissions'") == 0   # not "complete"


# ---------------------------------------------------------------------------------------------------
# 7. the Reddit OAuth token endpoint is named when it fails

def test_reddit_refused_client_secret_names_the_token_endpoint(store, reddit):
    w, srv = reddit
    srv.fail("/api/v1/access_token", 401, times=9)
    with pytest.raises(PullError) as e:
        TR._pull(store, srv)
    msg = str(e.value)
    assert "POST" in msg and "/api/v1/access_token" in msg and "client id / client secret was refused" in msg
    assert "user/bboe/submitted" not in msg and TR.SECRET not in msg and "run the pull again" not in msg


def test_reddit_token_answer_without_expiry_names_the_token_endpoint(store, reddit):
    w, srv = reddit
    srv.routes.insert(0, ("POST", "/api/v1/access_token", lambda r: (200, {}, {"x": 1})))
    with pytest.raises(PullError) as e:
        TR._pull(store, srv)
    msg = str(e.value)
    assert "/api/v1/access_token" in msg and "not valid" in msg and "user/bboe/submitted" not in msg


# ---------------------------------------------------------------------------------------------------
# 8a. a killed pull's ingest_runs row does not stay 'running'

def test_killed_pull_is_marked_interrupted_by_the_next(store, bsky, monkeypatch):
    w, srv = bsky
    import socialleads.sources.live.bluesky as B

    # a pull of another process that was killed (its row was left 'running'), and one of another source
    store.con.execute("INSERT INTO ingest_runs (run_id, source, started_at, status) VALUES "
                      "('killed-elsewhere', 'bsky_api', now()::TIMESTAMP, 'running'), "
                      "('other-source', 'masto_api', now()::TIMESTAMP, 'running')")
    real, calls = B.xrpc_records, []

    def crashing(doc, file, reject):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt("power cut")
        yield from real(doc, file, reject)

    monkeypatch.setattr(B, "xrpc_records", crashing)
    with pytest.raises(KeyboardInterrupt):
        TB._pull(store, srv, endpoints=("feed",))
    first = _one(store, "SELECT run_id FROM ingest_runs WHERE source = 'bsky_api' AND run_id <> 'killed-elsewhere'")
    monkeypatch.setattr(B, "xrpc_records", real)
    s, _ = TB._pull(store, srv, endpoints=("feed",))
    assert s.complete
    rows = dict(store.con.execute("SELECT run_id, status FROM ingest_runs").fetchall())
    assert rows[first] == "interrupted" and rows["killed-elsewhere"] == "interrupted"
    assert rows[s.run_id] == "complete" and rows["other-source"] == "running"
    assert _one(store, "SELECT count(*) FROM ingest_runs WHERE status = 'interrupted' AND finished_at IS NULL") == 0


# ---------------------------------------------------------------------------------------------------
# 8b. credentials in a server URL are refused before any request

def test_userinfo_in_server_url_is_refused(store, masto, tmp_path):
    from typer.testing import CliRunner

    from socialleads.cli.main import app

    w, srv = masto
    inst = srv.url.replace("http://", "http://proxyuser:Pr0xyPassw0rd@")
    with pytest.raises(LeadsError) as e:
        TM.pull_mastodon(store, "mastodonpy_test", instance=inst, policy=no_sleep_policy())
    assert "Pr0xyPassw0rd" not in str(e.value) and "user name or password" in str(e.value)
    ws = _workspace(tmp_path)
    r = CliRunner().invoke(app, ["pull", "mastodon", "mastodonpy_test", "--instance", inst, "--workspace", str(ws)],
                           env={"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"})
    assert r.exit_code != 0 and "Pr0xyPassw0rd" not in r.output
    assert len([x for x in r.output.splitlines() if x.strip()]) == 1
    for base in (["pull", "bluesky", TB.OWNER], ["pull", "reddit", "bboe", "--client-id", "x1234",
                                                  "--client-secret", "y1234"]):
        r = CliRunner().invoke(app, [*base, "--base-url", inst, "--workspace", str(ws)],
                               env={"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"})
        assert r.exit_code != 0 and "Pr0xyPassw0rd" not in r.output
    assert srv.log == [] and "Pr0xyPassw0rd" not in _files_text(ws)


# ---------------------------------------------------------------------------------------------------
# 8c. a refusal says what is wrong instead of "run the pull again"

def test_refusals_say_what_is_wrong(store, masto):
    w, srv = masto
    with pytest.raises(PullError) as e:
        TM._pull(store, srv, token="wrong-token-4242", endpoints=("notifications",))
    assert "access token was refused" in str(e.value) and "run the pull again" not in str(e.value)
    with pytest.raises(PullError) as e:
        TM.pull_mastodon(store, "nobody", instance=srv.url, policy=no_sleep_policy())
    assert "'nobody' was not found" in str(e.value) and "run the pull again" not in str(e.value)
    srv.fail("/statuses", 500, times=99)                       # a server error still says: run again
    with pytest.raises(PullError) as e:
        TM._pull(store, srv, endpoints=("statuses",))
    assert "run the pull again to resume" in str(e.value)


def test_reddit_unknown_user_says_not_found(store, reddit):
    w, srv = reddit
    srv.fail("/user/bboe/submitted", 404, times=9)
    with pytest.raises(PullError) as e:
        TR._pull(store, srv, endpoints=("submissions",))
    assert "'bboe' was not found" in str(e.value) and "run the pull again" not in str(e.value)


# ---------------------------------------------------------------------------------------------------
# 8d. a Bluesky login session is reused through the OS keyring (never the workspace)

def test_bluesky_session_is_reused_from_the_keyring(store, bsky, memory_keyring):
    w, srv = bsky
    valid = {"ok": True}
    srv.route("GET", "/xrpc/com.atproto.server.getSession",
              lambda r: (200, {}, {"did": TB.OWNER, "handle": TB.OWNER_HANDLE}) if valid["ok"]
              else (401, {}, {"error": "ExpiredToken", "message": "Token has been revoked"}))
    for _ in range(3):
        s, _ = TB._pull(store, srv, endpoints=("notifications",), reuse_session=True)
        assert s.complete
    assert len(srv.requests_to("createSession")) == 1                  # one login, then the saved session
    host = srv.url.removeprefix("http://")
    key = ("socialleads", f"bluesky:session:{TB.OWNER_HANDLE}@{host}")
    assert set(memory_keyring.d) == {key}
    saved = memory_keyring.d[key]
    assert TB.PASSWORD not in saved
    jwt = saved.split(":::")[2] if ":::" in saved else saved[-40:]
    assert jwt not in json.dumps(store.con.execute("SELECT * FROM ingest_runs").fetchall(), default=str)
    # a revoked session: log in again with the app password, and keep the new session
    valid["ok"] = False
    s, _ = TB._pull(store, srv, endpoints=("notifications",), reuse_session=True)
    assert s.complete and len(srv.requests_to("createSession")) == 2


def test_a_saved_session_is_kept_when_the_server_fails(store, bsky, memory_keyring):
    """A 5xx while checking the saved session stops the pull and keeps the session: no new login against a
    failing server (createSession is limited to 30 per 5 min)."""
    w, srv = bsky
    s, _ = TB._pull(store, srv, endpoints=("notifications",), reuse_session=True)
    assert s.complete and len(srv.requests_to("createSession")) == 1
    saved = dict(memory_keyring.d)
    srv.route("GET", "/xrpc/com.atproto.server.getSession", lambda r: (503, {}, {"error": "Unavailable"}))
    with pytest.raises(PullError) as e:
        TB._pull(store, srv, endpoints=("notifications",), reuse_session=True)
    assert "503" in str(e.value)
    assert len(srv.requests_to("createSession")) == 1 and memory_keyring.d == saved


def test_a_secret_flattened_or_cut_in_a_message_is_still_scrubbed(monkeypatch):
    """Messages are put on one line and cut (http.one_line) before they are shown: a secret with inner
    whitespace, or one the cut falls inside, must not leave any part of itself behind."""
    from socialleads.sources.live import credentials as C
    from socialleads.sources.live.http import one_line

    secret = "s3cr3tTOKEN abcdef-0123456789"
    monkeypatch.setenv("LEADS_MASTODON_TOKEN", secret + "\r\n")
    assert C.resolve("mastodon", "token", None) == secret
    flat = one_line("error: Bearer s3cr3tTOKEN\n abcdef-0123456789 tail")
    assert "s3cr3t" not in flat and "0123456789" not in flat and flat.endswith("*** tail")
    cut = one_line("x" * 190 + secret, 200)
    assert "s3cr3t" not in cut and len(cut) <= 200
    monkeypatch.setenv("LEADS_BLUESKY_HANDLE", "alice.example.com")      # not a secret: messages may name it
    assert C.resolve("bluesky", "handle", None) == "alice.example.com"
    assert "alice.example.com" in one_line("the handle alice.example.com was not found")


def test_without_a_keyring_every_pull_logs_in(store, bsky):
    import keyring
    from keyring.backends.fail import Keyring as Fail

    w, srv = bsky
    old = keyring.get_keyring()
    keyring.set_keyring(Fail())
    try:
        for _ in range(2):
            s, _ = TB._pull(store, srv, endpoints=("notifications",), reuse_session=True)
            assert s.complete
    finally:
        keyring.set_keyring(old)
    assert len(srv.requests_to("createSession")) == 2
