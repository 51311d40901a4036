"""`leads pull reddit` (PRAW) against a local fake Reddit serving the recorded PRAW traffic.

The served items are the real listing children of ../shared/fixtures/reddit/praw_cassettes (submission
2gmzqe by bboe, comments cklfmye by paneer_burrito and cklhv0f by bboe), and the real access-token answer.
For paging, real items are copied under new (larger) base-36 ids and later `created_utc`. Listings page
with `after` fullnames and `limit` as Reddit's do. Expected counts are counted here from the served items.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from socialleads.sources.live.http import PullError
from socialleads.sources.live.reddit import pull_reddit
from tests.fakeserver import FIXTURES, FakeServer, no_sleep_policy

CLIENT_ID = "fakeClientId_x1"
SECRET = "reddit-secret-Wq93kd0PzLm2"


def _b36(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n, 36)
        s = "0123456789abcdefghijklmnopqrstuvwxyz"[r] + s
    return s


def _children(x, out):
    if isinstance(x, dict):
        if x.get("kind") in ("t1", "t3") and isinstance(x.get("data"), dict):
            out[x["data"]["name"]] = x["data"]
            _children(x["data"].get("replies"), out)
        else:
            for v in x.values():
                _children(v, out)
    elif isinstance(x, list):
        for v in x:
            _children(v, out)


def _copy(item: dict, n: int) -> dict:
    c = copy.deepcopy(item)
    new = _b36(int(item["id"], 36) + 1000 * n)
    prefix = item["name"][:3]
    c.update(id=new, name=prefix + new, created_utc=item["created_utc"] + 3600 * n)
    if isinstance(c.get("permalink"), str):
        c["permalink"] = c["permalink"].replace(item["id"], new)
    return c


class World:
    def __init__(self) -> None:
        d = json.loads((FIXTURES / "reddit" / "praw_cassettes" / "TestSubmission.test_comments.json").read_text())
        found: dict[str, dict] = {}
        for it in d["interactions"][1:]:
            _children(json.loads(it["response"]["body"]["string"]), found)
        self.token_body = d["interactions"][0]["response"]["body"]["string"]
        assert sorted(found) == ["t1_cklfmye", "t1_cklhv0f", "t3_2gmzqe"]
        sub, mine = found["t3_2gmzqe"], found["t1_cklhv0f"]
        other = found["t1_cklfmye"]
        assert sub["author"] == mine["author"] == "bboe"
        self.submissions = sorted([sub] + [_copy(sub, i) for i in range(1, 12)], key=lambda x: -x["created_utc"])
        self.comments = sorted([mine] + [_copy(mine, i) for i in range(1, 8)], key=lambda x: -x["created_utc"])
        theirs = []
        for i in range(1, 6):
            c = _copy(sub, 100 + i)
            c.update(author=other["author"])
            theirs.append(c)
        self.subreddit = sorted(self.submissions + theirs, key=lambda x: -x["created_utc"])
        self.tokens: list[str] = []
        self.auth: list[str] = []

    def serve(self, srv: FakeServer) -> None:
        def token(req):
            self.tokens.append(req.headers.get("authorization", ""))
            return 200, {}, json.loads(self.token_body)

        def listing(items_of):
            def h(req):
                self.auth.append(req.headers.get("authorization", ""))
                items = items_of()
                limit = int(req.q("limit") or 25)
                after = req.q("after")
                start = 0
                if after:
                    start = next(i for i, x in enumerate(items) if x["name"] == after) + 1
                chunk = items[start:start + limit]
                more = start + limit < len(items)
                body = {"kind": "Listing", "data": {"after": chunk[-1]["name"] if (chunk and more) else None,
                                                    "before": None, "dist": len(chunk), "modhash": "",
                                                    "children": [{"kind": x["name"][:2], "data": x} for x in chunk]}}
                return 200, {"x-ratelimit-remaining": "99.0", "x-ratelimit-used": "1", "x-ratelimit-reset": "50"}, body
            return h

        srv.route("POST", "/api/v1/access_token", token)
        srv.route("GET", "/user/bboe/submitted", listing(lambda: self.submissions))
        srv.route("GET", "/user/bboe/comments", listing(lambda: self.comments))
        srv.route("GET", "/r/redditdev/new", listing(lambda: self.subreddit))


@pytest.fixture
def world():
    w = World()
    with FakeServer() as srv:
        w.serve(srv)
        yield w, srv


def _pull(store, srv, **kw):
    policy = kw.pop("policy", None) or no_sleep_policy()
    return pull_reddit(store, "bboe", client_id=CLIENT_ID, client_secret=SECRET, policy=policy,
                       oauth_url=srv.url, reddit_url=srv.url, limit=kw.pop("limit", 5), **kw), policy


def _one(store, sql, params=()):
    return store.con.execute(sql, list(params)).fetchall()[0][0]


def _n_posts(store) -> int:
    return _one(store, "SELECT count(*) FROM posts WHERE platform = 'reddit'")


def test_full_pull_pages_with_after(store, world):
    w, srv = world
    s, policy = _pull(store, srv, subreddit="redditdev")
    assert s.complete and s.error is None
    names = {x["name"] for x in w.submissions + w.comments + w.subreddit}
    assert _n_posts(store) == len(names) == 12 + 8 + 5
    assert _one(store, "SELECT count(*) FROM posts WHERE kind = 'reply'") == len(w.comments)
    sub_reqs = [r.q("after") for r in srv.requests_to("/user/bboe/submitted")]
    assert sub_reqs == [None, w.submissions[4]["name"], w.submissions[9]["name"]]
    assert all(a.lower() == "bearer <access_token>" for a in w.auth) and len(w.tokens) == 1
    assert w.tokens[0].startswith("Basic ")                      # client credentials, once
    assert _one(store, "SELECT is_owner FROM accounts WHERE handle = 'bboe'") is True
    run = store.con.execute("SELECT source, status FROM ingest_runs WHERE run_id = ?", [s.run_id]).fetchall()[0]
    assert run == ("reddit_api", "complete")


def test_second_run_fetches_only_new(store, world):
    w, srv = world
    _pull(store, srv)
    before = _n_posts(store)
    n_log = len(srv.log)
    w.submissions.insert(0, _copy(w.submissions[0], 50))
    s, _ = _pull(store, srv)
    assert s.complete and _n_posts(store) == before + 1
    second = srv.log[n_log:]
    assert len([r for r in second if "submitted" in r.path]) == 1 and len([r for r in second if "comments" in r.path]) == 1
    assert {e.endpoint: e.items for e in s.endpoints} == {"submissions": 1, "comments": 0}


def test_429_then_5xx_are_retried(store, world):
    w, srv = world
    srv.fail("/user/bboe/comments", 429, {"Retry-After": "0.05"}, times=1)
    srv.fail("/user/bboe/submitted", 503, times=1)
    s, policy = _pull(store, srv)
    assert s.complete and sorted(policy.slept) == [0.01, 0.05] and policy.retries == 2   # backoff; Retry-After
    assert _n_posts(store) == len(w.submissions) + len(w.comments)


def test_failure_keeps_pages_and_resume_continues_from_after(store, world):
    w, srv = world
    cut = w.submissions[9]["name"]
    srv.fail(f"after={cut}", 500, times=99)
    with pytest.raises(PullError) as e:
        _pull(store, srv, endpoints=("submissions",))
    msg = str(e.value)
    assert "\n" not in msg and "reddit user/bboe/submitted" in msg and "HTTP 500" in msg
    assert _n_posts(store) == 10
    assert _one(store, "SELECT cursor FROM sync_state WHERE endpoint = 'submissions'") == cut
    srv.faults.clear()
    n_log = len(srv.log)
    s, _ = _pull(store, srv, endpoints=("submissions",))
    assert s.complete and [r.q("after") for r in srv.log[n_log:] if "submitted" in r.path] == [cut]
    assert _n_posts(store) == len(w.submissions)
    assert _one(store, "SELECT sum(items) FROM sync_state WHERE endpoint = 'submissions'") == len(w.submissions)


def test_hanging_server_times_out_with_one_line(store, world):
    w, srv = world
    srv.hang("/user/bboe/comments", times=10)
    with pytest.raises(PullError) as e:
        _pull(store, srv, policy=no_sleep_policy(timeout=0.3, attempts=2))
    msg = str(e.value)
    assert "reddit user/bboe/comments" in msg and "timeout" in msg and "\n" not in msg
    assert _n_posts(store) == len(w.submissions)


def test_cli_pull_keeps_the_secret_out_of_workspace_and_output(tmp_path, world):
    from typer.testing import CliRunner

    from socialleads.cli.main import app
    from tests.conftest import leads

    w, srv = world
    ws = tmp_path / "ws"
    assert CliRunner().invoke(app, ["init", str(ws)]).exit_code == 0
    env = {"LEADS_REDDIT_CLIENT_ID": CLIENT_ID, "LEADS_REDDIT_CLIENT_SECRET": SECRET, "LEADS_WORKSPACE": str(ws),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    r = leads("pull", "reddit", "bboe", "--subreddit", "redditdev", "--base-url", srv.url, "--json", env=env)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["complete"] and out["source"] == "reddit"
    blob = r.stdout + r.stderr
    for p in Path(ws).rglob("*"):
        if p.is_file():
            blob += p.read_bytes().decode("latin-1")
    assert SECRET not in blob and w.tokens
