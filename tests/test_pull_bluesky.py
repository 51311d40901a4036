"""`leads pull bluesky` against a local fake XRPC server serving real records from ../shared/fixtures.

The served items are real: posts, likes, reposts and follows are the records of the production Jetstream
capture (bluesky/jetstream_corpus/expected_v1.jsonl), followers/follows the real getFollows page
(atproto_sdk_test_data/get_follows.json), wrapped in the AppView's view envelopes. The capture's posts
are re-keyed into the owner's repository (same rkeys and records) so that they form one author feed.
Expected counts are counted here from the served data, never from the client's output.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from pathlib import Path

import pytest

from socialleads.sources.live.bluesky import pull_bluesky, tmark
from socialleads.sources.live.http import PullError
from tests.fakeserver import FIXTURES, FakeServer, no_sleep_policy, page_by_offset

OWNER = "did:plc:kvwvcn5iqfooopmyzvb4qzba"
OWNER_HANDLE = "test.marshal.dev"
PASSWORD = "app-pass-7q2x-k9v1-zz8w"


def _iso(us: int) -> str:
    return dt.datetime.fromtimestamp(us / 1e6, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _jwt(sub: str) -> str:
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")  # noqa: E731
    return f"{enc({'alg': 'ES256K', 'typ': 'at+jwt'})}.{enc({'sub': sub, 'exp': 4102444800, 'iat': 1700000000, 'scope': 'com.atproto.appPass'})}.c2ln"


class World:
    """The data the fake AppView serves, newest first."""

    def __init__(self) -> None:
        events = [json.loads(x) for x in (FIXTURES / "bluesky" / "jetstream_corpus" / "expected_v1.jsonl")
                  .read_text().splitlines() if x.strip()]
        creates = [e for e in events if e.get("kind") == "commit" and e["commit"]["operation"] == "create"]
        by = lambda c: sorted((e for e in creates if e["commit"]["collection"] == c),  # noqa: E731
                              key=lambda e: -e["time_us"])
        prof = lambda did: {"did": did, "handle": "handle.invalid"}  # noqa: E731
        self.feed = [{"post": {"uri": f"at://{OWNER}/app.bsky.feed.post/{e['commit']['rkey']}",
                               "cid": e["commit"]["cid"], "author": {"did": OWNER, "handle": OWNER_HANDLE},
                               "record": e["commit"]["record"], "indexedAt": _iso(e["time_us"])}}
                     for e in by("app.bsky.feed.post")]
        follows = json.loads((FIXTURES / "bluesky" / "atproto_sdk_test_data" / "get_follows.json").read_text())
        self.subject = {"did": OWNER, "handle": OWNER_HANDLE}
        self.follows = follows["follows"]
        self.followers = list(reversed(follows["follows"]))
        owner_posts = [f["post"]["uri"] for f in self.feed[:3]]
        self.likes: dict[str, list] = {u: [] for u in owner_posts}
        for i, e in enumerate(by("app.bsky.feed.like")):
            self.likes[owner_posts[i % 3]].append({"actor": prof(e["did"]), "createdAt": e["commit"]["record"]["createdAt"],
                                                   "indexedAt": _iso(e["time_us"])})
        self.reposts: dict[str, list] = {u: [] for u in owner_posts}
        for i, e in enumerate(by("app.bsky.feed.repost")):
            self.reposts[owner_posts[i % 3]].append(prof(e["did"]))
        reason = {"app.bsky.feed.like": "like", "app.bsky.feed.repost": "repost", "app.bsky.graph.follow": "follow"}
        self.notifications = [
            {"uri": f"at://{e['did']}/{e['commit']['collection']}/{e['commit']['rkey']}", "cid": e["commit"]["cid"],
             "author": prof(e["did"]), "reason": reason[e["commit"]["collection"]], "record": e["commit"]["record"],
             "isRead": False, "indexedAt": _iso(e["time_us"])}
            for e in sorted(creates, key=lambda e: -e["time_us"]) if e["commit"]["collection"] in reason]
        self.auth: list[str] = []

    def serve(self, srv: FakeServer) -> None:
        def session(req):
            body = req.json()
            if body.get("password") != PASSWORD:
                return 401, {}, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
            return 200, {}, {"did": OWNER, "handle": OWNER_HANDLE, "accessJwt": _jwt(OWNER), "refreshJwt": _jwt(OWNER),
                             "active": True}

        def paged(items, key, extra=None):
            def h(req):
                chunk, cur = page_by_offset(items() if callable(items) else items, req)
                body = {**(extra(req) if extra else {}), key: chunk}
                if cur:
                    body["cursor"] = cur
                return 200, {"ratelimit-limit": "3000", "ratelimit-remaining": "2999"}, body
            return h

        def notifications(req):
            self.auth.append(req.headers.get("authorization", ""))
            if not req.headers.get("authorization", "").startswith("Bearer "):
                return 401, {}, {"error": "AuthenticationRequired", "message": "Authentication Required"}
            return paged(self.notifications, "notifications")(req)

        srv.route("POST", "/xrpc/com.atproto.server.createSession", session)
        srv.route("GET", "/xrpc/app.bsky.feed.getAuthorFeed", paged(lambda: self.feed, "feed"))
        srv.route("GET", "/xrpc/app.bsky.graph.getFollowers",
                  paged(lambda: self.followers, "followers", lambda r: {"subject": self.subject}))
        srv.route("GET", "/xrpc/app.bsky.graph.getFollows",
                  paged(lambda: self.follows, "follows", lambda r: {"subject": self.subject}))
        srv.route("GET", "/xrpc/app.bsky.feed.getLikes",
                  lambda r: paged(self.likes.get(r.q("uri"), []), "likes", lambda q: {"uri": q.q("uri")})(r))
        srv.route("GET", "/xrpc/app.bsky.feed.getRepostedBy",
                  lambda r: paged(self.reposts.get(r.q("uri"), []), "repostedBy", lambda q: {"uri": q.q("uri")})(r))
        srv.route("GET", "/xrpc/app.bsky.notification.listNotifications", notifications)


@pytest.fixture
def world():
    w = World()
    with FakeServer() as srv:
        w.serve(srv)
        yield w, srv


def _pull(store, srv, **kw):
    policy = kw.pop("policy", None) or no_sleep_policy()
    return pull_bluesky(store, OWNER, base_url=srv.url, handle=OWNER_HANDLE, app_password=kw.pop("pw", PASSWORD),
                        policy=policy, limit=kw.pop("limit", 5), **kw), policy


def _one(store, sql, params=()):
    return store.con.execute(sql, list(params)).fetchall()[0][0]


def _expected(w: World) -> dict[str, int]:
    n_notif = {r: sum(1 for n in w.notifications if n["reason"] == r) for r in ("like", "repost", "follow")}
    return {"posts": len(w.feed) + n_notif["repost"],
            "likes": sum(map(len, w.likes.values())) + n_notif["like"],
            "follows": len(w.followers) + len(w.follows) + n_notif["follow"],
            "reposts": sum(map(len, w.reposts.values())) + n_notif["repost"]}


def _counts(store) -> dict[str, int]:
    c = lambda t: _one(store, "SELECT count(*) FROM interactions WHERE platform='bluesky' AND type=?", [t])  # noqa: E731
    return {"posts": _one(store, "SELECT count(*) FROM posts WHERE source='bsky_api'"),
            "likes": c("like"), "follows": c("follow"), "reposts": c("repost")}


def test_full_pull_pages_every_endpoint(store, world):
    w, srv = world
    # the fixtures hold what the docs say: 17 post, 105 like, 15 repost and 6 follow creates
    assert (len(w.feed), len(w.notifications)) == (17, 105 + 15 + 6)
    s, policy = _pull(store, srv, limit=20)
    assert s.complete and s.error is None
    assert _counts(store) == _expected(w)
    feed_reqs = srv.requests_to("getAuthorFeed")
    assert [r.q("cursor") for r in feed_reqs] == [None]                             # 17 items, one page of 20
    assert len(srv.requests_to("listNotifications")) == -(-126 // 20)
    assert all(a.startswith("Bearer ") for a in w.auth)
    # the owner is flagged, every endpoint's walk is complete and its high water stored
    assert _one(store, "SELECT is_owner FROM accounts WHERE account_key = ?", [OWNER]) is True
    rows = store.con.execute("SELECT endpoint, cursor, high_water, items FROM sync_state "
                             "WHERE endpoint <> 'owner'").fetchall()
    assert rows and all(c is None and (h or n == 0) for _, c, h, n in rows)
    hw = dict((e, h) for e, _, h, _ in rows)["app.bsky.feed.getAuthorFeed"]
    assert hw == tmark(max(f["post"]["indexedAt"] for f in w.feed))
    run = store.con.execute("SELECT source, status FROM ingest_runs WHERE run_id = ?", [s.run_id]).fetchall()[0]
    assert run == ("bsky_api", "complete")


def test_second_run_fetches_only_new(store, world):
    w, srv = world
    _pull(store, srv, limit=20)
    before = _counts(store)
    n_log = len(srv.log)
    new = json.loads(json.dumps(w.feed[0]))
    new["post"]["uri"] = f"at://{OWNER}/app.bsky.feed.post/3zzzzzzzzzz22"
    new["post"]["indexedAt"] = "2030-01-01T00:00:00.000Z"
    w.feed.insert(0, new)
    s, _ = _pull(store, srv, limit=20)
    assert s.complete
    after = _counts(store)
    assert after["posts"] == before["posts"] + 1
    assert {k: v for k, v in after.items() if k != "posts"} == {k: v for k, v in before.items() if k != "posts"}
    second = srv.log[n_log:]
    feed = [r for r in second if "getAuthorFeed" in r.path]
    assert [r.q("cursor") for r in feed] == [None]                 # one page: it reached the high water
    assert len([r for r in second if "listNotifications" in r.path]) == 1
    items = {e.endpoint: e.items for e in s.endpoints}
    assert items["app.bsky.feed.getAuthorFeed"] == 1 and items["app.bsky.notification.listNotifications"] == 0


def test_429_with_retry_after_is_waited_out(store, world):
    w, srv = world
    srv.fail("getAuthorFeed", 429, {"Retry-After": "0.05"}, times=2)
    s, policy = _pull(store, srv, endpoints=("feed",))
    assert s.complete and policy.slept[:2] == [0.05, 0.05]
    assert _one(store, "SELECT count(*) FROM posts") == len(w.feed)


def test_ratelimit_headers_make_the_client_wait_for_the_reset(store, world):
    w, srv = world
    now = dt.datetime.now(dt.UTC).timestamp()
    srv.routes.insert(0, ("GET", "/xrpc/app.bsky.graph.getFollows",
                          lambda r: (200, {"ratelimit-remaining": "0", "ratelimit-reset": str(int(now + 30))},
                                     {"subject": w.subject, "follows": w.follows[:2]})))
    s, policy = _pull(store, srv, endpoints=("follows", "followers"))
    assert s.complete
    assert len(policy.slept) == 1 and 25 <= policy.slept[0] <= 31     # waited for the window to reset


def test_5xx_then_success(store, world):
    w, srv = world
    srv.fail("getFollowers", 503, times=1)
    s, policy = _pull(store, srv, endpoints=("followers",))
    assert s.complete and policy.retries == 1
    assert _one(store, "SELECT count(*) FROM interactions WHERE type='follow'") == len(w.followers)


def test_server_error_keeps_pages_and_resume_fetches_from_the_cursor(store, world):
    w, srv = world
    srv.fail("getAuthorFeed?actor=did%3Aplc%3Akvwvcn5iqfooopmyzvb4qzba&cursor=10", 500, times=99)
    with pytest.raises(PullError) as e:
        _pull(store, srv, endpoints=("feed",))
    msg = str(e.value)
    assert "\n" not in msg and "bluesky app.bsky.feed.getAuthorFeed" in msg and "HTTP 500" in msg
    assert _one(store, "SELECT count(*) FROM posts") == 10            # the two pages before the failure
    assert _one(store, "SELECT cursor FROM sync_state WHERE endpoint = 'app.bsky.feed.getAuthorFeed'") == "10"
    assert _one(store, "SELECT status FROM ingest_runs ORDER BY started_at DESC LIMIT 1") == "failed"
    srv.faults.clear()
    n_log = len(srv.log)
    s, _ = _pull(store, srv, endpoints=("feed",))
    assert s.complete
    assert [r.q("cursor") for r in srv.log[n_log:] if "getAuthorFeed" in r.path] == ["10", "15"]
    assert _one(store, "SELECT count(*) FROM posts") == len(w.feed)
    assert _one(store, "SELECT sum(items) FROM sync_state WHERE endpoint = 'app.bsky.feed.getAuthorFeed'") == len(w.feed)
    hw = _one(store, "SELECT high_water FROM sync_state WHERE endpoint = 'app.bsky.feed.getAuthorFeed'")
    assert hw == tmark(max(f["post"]["indexedAt"] for f in w.feed))


def test_crash_inside_a_page_stores_neither_its_records_nor_its_cursor(store, world, monkeypatch):
    w, srv = world
    import socialleads.sources.live.bluesky as B

    real, calls = B.xrpc_records, []

    def crashing(doc, file, reject):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt("power cut")
        yield from real(doc, file, reject)

    monkeypatch.setattr(B, "xrpc_records", crashing)
    with pytest.raises(KeyboardInterrupt):
        _pull(store, srv, endpoints=("feed",))
    assert _one(store, "SELECT count(*) FROM posts") == 10
    assert _one(store, "SELECT cursor FROM sync_state WHERE endpoint = 'app.bsky.feed.getAuthorFeed'") == "10"
    monkeypatch.setattr(B, "xrpc_records", real)
    s, _ = _pull(store, srv, endpoints=("feed",))
    assert s.complete and _one(store, "SELECT count(*) FROM posts") == len(w.feed)


def test_hanging_server_times_out_with_one_line(store, world):
    w, srv = world
    srv.hang("getFollowers", times=10)
    policy = no_sleep_policy(timeout=0.3, attempts=2)
    with pytest.raises(PullError) as e:
        _pull(store, srv, endpoints=("feed", "followers"), policy=policy)
    msg = str(e.value)
    assert "bluesky app.bsky.graph.getFollowers" in msg and "timeout" in msg and "\n" not in msg
    assert _one(store, "SELECT count(*) FROM posts") == len(w.feed)   # the feed before it is kept


def test_wrong_app_password_is_one_line_without_the_secret(store, world):
    w, srv = world
    with pytest.raises(PullError) as e:
        _pull(store, srv, pw="wrong-password-123")
    assert "createSession" in str(e.value) and "wrong-password-123" not in str(e.value)


def test_cli_pull_keeps_the_secret_out_of_workspace_and_output(tmp_path, world):
    from tests.conftest import leads

    w, srv = world
    ws = tmp_path / "ws"
    assert leads("init", str(ws)).returncode == 0
    env = {"LEADS_BLUESKY_APP_PASSWORD": PASSWORD, "LEADS_WORKSPACE": str(ws),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    r = leads("pull", "bluesky", OWNER, "--handle", OWNER_HANDLE, "--base-url", srv.url, "--limit", "50",
              "--only", "feed,notifications", "--json", env=env)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["complete"] and out["source"] == "bluesky"
    assert any(PASSWORD in r.body.decode() for r in srv.log)          # it was sent to the server …
    blob = r.stdout + r.stderr
    for p in Path(ws).rglob("*"):
        if p.is_file():
            blob += p.read_bytes().decode("latin-1")
    assert PASSWORD not in blob                                        # … and is nowhere else
    # a failing server: one line, non-zero exit, stored pages kept
    srv.fail("listNotifications", 500, times=99)
    w.notifications.insert(0, dict(w.notifications[0], uri=w.notifications[0]["uri"] + "x",
                                   indexedAt="2030-01-01T00:00:00.000Z"))
    r = leads("pull", "bluesky", OWNER, "--handle", OWNER_HANDLE, "--base-url", srv.url,
              "--only", "feed,notifications", env=env)
    assert r.returncode == 4
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "app.bsky.notification.listNotifications" in lines[0]
    assert PASSWORD not in r.stdout + r.stderr


def test_keyring_is_the_last_resort_and_login_stores_there(store, world, monkeypatch, memory_keyring):
    from typer.testing import CliRunner

    from socialleads.cli.main import app
    from socialleads.sources.live.credentials import resolve

    mem = memory_keyring
    monkeypatch.delenv("LEADS_BLUESKY_APP_PASSWORD", raising=False)
    assert resolve("bluesky", "app_password", None) is None
    r = CliRunner().invoke(app, ["pull", "login", "bluesky"], input=PASSWORD + "\n")
    assert r.exit_code == 0 and PASSWORD not in r.output
    assert mem.d == {("socialleads", "bluesky:app_password"): PASSWORD}
    assert resolve("bluesky", "app_password", None) == PASSWORD
    monkeypatch.setenv("LEADS_BLUESKY_APP_PASSWORD", "from-env")
    assert resolve("bluesky", "app_password", None) == "from-env"
    assert resolve("bluesky", "app_password", "from-option") == "from-option"
    assert os.environ.get("LEADS_BLUESKY_APP_PASSWORD") == "from-env"
