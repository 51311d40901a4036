"""`leads pull mastodon` against a local fake Mastodon server serving recorded real traffic.

The served entities are the real responses of the Mastodon.py cassettes (a Mastodon 4.6.4 test server,
../shared/fixtures/mastodon/mastodon_py_cassettes): the owner `mastodonpy_test` from verify_credentials,
its 17 statuses (posted, favourited, boosted, quoted, with context), the accounts `mastodonpy_test_2` and
`admin`, the real `mention` notification and the real rate-limit headers. To have several pages, real
entities are copied under new ids (and new account names). Paging works as Mastodon's does: `Link`
headers, and for followers / following / favourited_by / reblogged_by the link's `max_id` is an internal
row id that is not any account's id. Expected counts are computed here from what the server serves.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
from pathlib import Path

import pytest

from socialleads.sources.live.http import PullError
from socialleads.sources.live.mastodon import pull_mastodon
from tests.fakeserver import FakeServer, cassette, first_header, no_sleep_policy, page_by_id

TOKEN = "masto-Zq81xW4pLr0vT7kN3jHd"
OWNER_ID = "117020565966271181"
ROW_BASE = 900_000          # internal follow / favourite row ids: never an account id


HOST = "mastodon.example"    # the recorded server was localhost:3000; account addresses need a dotted host


def _all(name: str) -> list[dict]:
    return json.loads(json.dumps([it for it in cassette(name) if it["status"] == 200])
                      .replace("localhost:3000", HOST))


def _clone_account(acc: dict, new_id: int, name: str) -> dict:
    a = copy.deepcopy(acc)
    old_id, old_name = a["id"], a["username"]
    a.update(id=str(new_id), username=name, acct=name, display_name=name)
    for k in ("url", "uri"):
        if isinstance(a.get(k), str):
            a[k] = a[k].replace(old_id, str(new_id)).replace(old_name, name)
    return a


def _clone_status(st: dict, new_id: int, when: dt.datetime) -> dict:
    s = copy.deepcopy(st)
    old = s["id"]
    s["id"] = str(new_id)
    for k in ("uri", "url"):
        if isinstance(s.get(k), str):
            s[k] = s[k].replace(old, str(new_id))
    s["created_at"] = when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return s


class World:
    def __init__(self) -> None:
        names = sorted(os.listdir(Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures" / "mastodon"
                                  / "mastodon_py_cassettes"))
        inter = [it for n in names for it in _all(n)]
        self.owner = next(it["body"] for it in inter if it["uri"].endswith("verify_credentials")
                          and it["body"]["id"] == OWNER_ID)
        statuses = {}
        for it in inter:
            b = it["body"]
            if it["method"] == "POST" and isinstance(b, dict) and b.get("account", {}).get("id") == OWNER_ID:
                statuses[b["id"]] = b
        real = sorted(statuses.values(), key=lambda s: -int(s["id"]))
        assert len(real) == 17                              # every real status of the owner in the cassettes
        self.n_real_statuses = len(real)
        others = {}
        for it in inter:
            b = it["body"]
            for acc in ([b] if isinstance(b, dict) else b if isinstance(b, list) else []):
                if isinstance(acc, dict) and isinstance(acc.get("account"), dict):
                    acc = acc["account"]
                if isinstance(acc, dict) and "acct" in acc and acc["acct"] != self.owner["acct"] \
                        and HOST in str(acc.get("url")):
                    others[acc["acct"]] = acc
        self.real_accounts = [others[k] for k in sorted(others)]
        assert [a["acct"] for a in self.real_accounts] == ["admin", "mastodonpy_test_2"]
        t0 = dt.datetime(2026, 8, 2, 12, 0, tzinfo=dt.UTC)
        base = next(s for s in real if not s.get("reblog"))
        copies = [_clone_status(base, 117030000000000000 + i, t0 + dt.timedelta(minutes=i)) for i in range(13)]
        self.statuses = sorted(real + copies, key=lambda s: -int(s["id"]))           # 30, newest first
        acc = lambda i, name: _clone_account(self.real_accounts[i % 2], 117040000000000000 + i, name)  # noqa: E731
        self.followers = [(ROW_BASE + 500 - i, acc(i, f"follower{i}")) for i in range(45)]
        self.following = [(ROW_BASE + 200 - i, acc(100 + i, f"followed{i}")) for i in range(7)]
        own = [s for s in self.statuses if not s.get("reblog")]
        self.a, self.b = own[0], own[1]
        self.favourited = {self.a["id"]: [(ROW_BASE + 800 - i, acc(200 + i, f"fan{i}")) for i in range(45)],
                           self.b["id"]: [(ROW_BASE + 700, self.owner)]}          # the real favourited_by row
        self.reblogged = {self.a["id"]: [(ROW_BASE + 600, self.real_accounts[1])]}
        mention = next(it["body"][0] for it in inter if it["uri"].endswith("/api/v1/notifications"))
        assert mention["type"] == "mention"
        notes = [mention]
        kinds = (["follow"] * 5) + (["favourite"] * 6) + (["reblog"] * 3)
        for j, kind in enumerate(kinds):
            n = copy.deepcopy(mention)
            n.update(id=str(21 + j), type=kind, group_key=f"ungrouped-{21 + j}",
                     created_at=(t0 + dt.timedelta(hours=1, minutes=j)).strftime("%Y-%m-%dT%H:%M:%S.000Z"))
            if kind == "follow":
                n["account"] = self.followers[j][1]           # also in the followers list
                n.pop("status", None)
            elif kind == "favourite":
                n["account"] = self.favourited[self.a["id"]][j][1] if j < 8 else acc(300 + j, f"liker{j}")
                n["status"] = self.a
            else:
                n["account"] = acc(400 + j, f"booster{j}")
                n["status"] = self.a
            notes.append(n)
        self.notifications = sorted(notes, key=lambda n: -int(n["id"]))
        self.headers = {k: first_header(inter[0]["headers"], k) for k in ("x-ratelimit-limit", "x-ratelimit-remaining")}
        self.auth: list[str] = []

    # what the client must end with, counted from the served data
    def expected(self) -> dict[str, int]:
        owner = self.owner["acct"]
        n_by = lambda t: [n for n in self.notifications if n["type"] == t]  # noqa: E731
        posts = {s["uri"] for s in self.statuses} | {s["reblog"]["uri"] for s in self.statuses if s.get("reblog")} \
            | {n["status"]["uri"] for n in self.notifications if n.get("status")}
        follows = {(a["acct"], owner) for _, a in self.followers} | {(owner, a["acct"]) for _, a in self.following} \
            | {(n["account"]["acct"], owner) for n in n_by("follow")}
        uri = {s["id"]: s["uri"] for s in self.statuses}
        likes = {(a["acct"], uri[sid]) for sid, rows in self.favourited.items() for _, a in rows} \
            | {(n["account"]["acct"], n["status"]["uri"]) for n in n_by("favourite")}
        boosts = {(a["acct"], uri[sid]) for sid, rows in self.reblogged.items() for _, a in rows} \
            | {(n["account"]["acct"], n["status"]["uri"]) for n in n_by("reblog")}
        return {"posts": len(posts), "follows": len(follows), "likes": len(likes), "boosts": len(boosts)}

    def serve(self, srv: FakeServer) -> None:
        def h(rows_of, default_limit=20, auth=False):
            def handler(req):
                if auth:
                    self.auth.append(req.headers.get("authorization", ""))
                    if req.headers.get("authorization") != f"Bearer {TOKEN}":
                        return 401, {}, {"error": "The access token is invalid"}
                items, link = page_by_id(rows_of(req), req, srv.url, default_limit)
                return 200, {**self.headers, **link}, items
            return handler

        by_id = lambda items: [(int(x["id"]), x) for x in items]  # noqa: E731
        sid = lambda req: req.path.split("/")[4]  # noqa: E731

        def account_route(req):
            parts = req.path.split("/")
            if parts[-1] == "statuses":
                return h(lambda r: by_id(self.statuses))(req)
            if parts[-1] == "followers":
                return h(lambda r: self.followers, 40)(req)
            if parts[-1] == "following":
                return h(lambda r: self.following, 40)(req)
            return 404, {}, {"error": "Record not found"}

        srv.route("GET", "/api/v1/accounts/lookup",
                  lambda r: (200, self.headers, self.owner) if r.q("acct") in ("mastodonpy_test",
                                                                               "mastodonpy_test@localhost")
                  else (404, {}, {"error": "Record not found"}))
        srv.route("GET", "/api/v1/accounts/", account_route)
        srv.route("GET", "/api/v1/notifications", h(lambda r: by_id(self.notifications), 40, auth=True))
        srv.route("GET", "/api/v1/statuses/",
                  lambda r: h(lambda q: (self.favourited if q.path.endswith("favourited_by") else self.reblogged)
                              .get(sid(q), []), 40)(r))


@pytest.fixture
def world():
    w = World()
    with FakeServer() as srv:
        w.serve(srv)
        yield w, srv


def _pull(store, srv, **kw):
    policy = kw.pop("policy", None) or no_sleep_policy()
    return pull_mastodon(store, "mastodonpy_test", instance=srv.url, token=kw.pop("token", TOKEN), policy=policy,
                         limit=kw.pop("limit", 10), engagement_posts=kw.pop("engagement_posts", 3), **kw), policy


def _one(store, sql, params=()):
    return store.con.execute(sql, list(params)).fetchall()[0][0]


def _counts(store) -> dict[str, int]:
    c = lambda t: _one(store, "SELECT count(*) FROM interactions WHERE platform='mastodon' AND type=? "  # noqa: E731
                              "AND via_post_key IS NULL", [t])
    return {"posts": _one(store, "SELECT count(*) FROM posts WHERE platform='mastodon'"),
            "follows": c("follow"), "likes": c("like"), "boosts": c("repost")}


def test_full_pull_follows_every_link(store, world):
    w, srv = world
    s, policy = _pull(store, srv)
    assert s.complete and s.error is None
    assert _counts(store) == w.expected()
    # statuses: 30 in pages of 10, then the empty page after the last link
    reqs = srv.requests_to(f"/accounts/{OWNER_ID}/statuses")
    assert [r.q("max_id") for r in reqs] == [None] + [w.statuses[i]["id"] for i in (9, 19, 29)]
    # followers: the links' internal row ids are followed, never account ids
    fol = [r.q("max_id") for r in srv.requests_to("/followers")]
    assert fol == [None, str(w.followers[19][0]), str(w.followers[39][0]), str(w.followers[44][0])]
    fav = [r.q("max_id") for r in srv.requests_to(f"/statuses/{w.a['id']}/favourited_by")]
    assert fav == [None, str(w.favourited[w.a["id"]][39][0]), str(w.favourited[w.a["id"]][44][0])]
    assert len(srv.requests_to("/favourited_by")) == 3 + 2 + 1       # 3 newest statuses; A: 2 more pages, B: 1
    assert all(a == f"Bearer {TOKEN}" for a in w.auth) and w.auth
    assert not srv.requests_to("/api/v1/instance")                   # no version check on start
    assert _one(store, "SELECT is_owner FROM accounts WHERE handle = ?", [f"mastodonpy_test@{HOST}"]) is True
    run = store.con.execute("SELECT source, status FROM ingest_runs WHERE run_id = ?", [s.run_id]).fetchall()[0]
    assert run == ("masto_api", "complete")
    hw = _one(store, "SELECT high_water FROM sync_state WHERE endpoint = 'statuses'")
    assert hw.lstrip("0") == w.statuses[0]["id"]
    # a favourite seen both in favourited_by (no time) and a notification (timed) is one interaction
    assert _one(store, "SELECT count(*) FROM interactions WHERE type='like' AND created_at IS NOT NULL") >= 1


def test_second_run_fetches_only_new(store, world):
    w, srv = world
    _pull(store, srv)
    before = _counts(store)
    n_log = len(srv.log)
    new = _clone_status(w.a, 117050000000000000, dt.datetime(2026, 9, 1, tzinfo=dt.UTC))
    w.statuses.insert(0, new)
    note = copy.deepcopy(next(n for n in w.notifications if n["type"] == "follow"))
    note.update(id="99", account=_clone_account(w.real_accounts[0], 117060000000000000, "latecomer"))
    w.notifications.insert(0, note)
    w.followers.insert(0, (ROW_BASE + 999, note["account"]))
    s, _ = _pull(store, srv)
    assert s.complete
    after = _counts(store)
    assert after == {**before, "posts": before["posts"] + 1, "follows": before["follows"] + 1}
    second = srv.log[n_log:]
    st = [r for r in second if r.path.endswith("/statuses") and "/accounts/" in r.path]
    assert [r.q("since_id") for r in st][0] == w.statuses[1]["id"]        # since the newest stored id
    assert len(st) == 2                                                # the new one, then an empty page
    nt = [r for r in second if r.path == "/api/v1/notifications"]
    assert nt[0].q("since_id") == str(max(int(n["id"]) for n in w.notifications[1:])) and len(nt) == 2
    assert len([r for r in second if r.path.endswith("/followers")]) == 1  # stops at the first known follower
    items = {e.endpoint: e.items for e in s.endpoints}
    assert (items["statuses"], items["notifications"], items["followers"]) == (1, 1, 1)


def test_429_with_retry_after_is_waited_out(store, world):
    w, srv = world
    srv.fail("/statuses", 429, {"Retry-After": "0.05"}, times=2)
    s, policy = _pull(store, srv, endpoints=("statuses",))
    assert s.complete and policy.slept[:2] == [0.05, 0.05]
    assert _one(store, "SELECT count(*) FROM posts WHERE source_ids->>'id' IS NOT NULL") == len(w.statuses) + 0


def test_5xx_then_success(store, world):
    w, srv = world
    srv.fail("/followers", 503, times=1)
    s, policy = _pull(store, srv, endpoints=("followers",))
    assert s.complete and policy.retries == 1
    assert _counts(store)["follows"] == len(w.followers)


def test_failure_keeps_pages_and_resume_continues_from_the_link(store, world):
    w, srv = world
    cut = w.statuses[19]["id"]
    srv.fail(f"max_id={cut}", 500, times=99)
    with pytest.raises(PullError) as e:
        _pull(store, srv, endpoints=("statuses",))
    msg = str(e.value)
    assert "\n" not in msg and f"mastodon accounts/{OWNER_ID}/statuses" in msg and "HTTP 500" in msg
    assert _one(store, "SELECT count(*) FROM posts WHERE source_ids->>'id' IS NOT NULL") == 20
    assert _one(store, "SELECT cursor FROM sync_state WHERE endpoint = 'statuses'") == cut
    srv.faults.clear()
    n_log = len(srv.log)
    s, _ = _pull(store, srv, endpoints=("statuses",))
    assert s.complete
    assert [r.q("max_id") for r in srv.log[n_log:] if "/statuses" in r.path] == [cut, w.statuses[29]["id"]]
    assert _one(store, "SELECT count(*) FROM posts WHERE source_ids->>'id' IS NOT NULL") == len(w.statuses)
    assert _one(store, "SELECT sum(items) FROM sync_state WHERE endpoint = 'statuses'") == len(w.statuses)


def test_hanging_server_times_out_with_one_line(store, world):
    w, srv = world
    srv.hang("/following", times=10)
    with pytest.raises(PullError) as e:
        _pull(store, srv, endpoints=("statuses", "following"), policy=no_sleep_policy(timeout=0.3, attempts=2))
    msg = str(e.value)
    assert f"mastodon accounts/{OWNER_ID}/following" in msg and "timeout" in msg and "\n" not in msg
    assert _one(store, "SELECT count(*) FROM posts WHERE source_ids->>'id' IS NOT NULL") == len(w.statuses)


def test_without_token_no_notifications_and_bad_token_is_one_line(store, world):
    w, srv = world
    s, _ = _pull(store, srv, token=None, endpoints=("statuses", "notifications"))
    assert s.complete and not srv.requests_to("/notifications")
    with pytest.raises(PullError) as e:
        _pull(store, srv, token="wrong-token-4242", endpoints=("notifications",))
    assert "notifications" in str(e.value) and "401" in str(e.value) and "wrong-token-4242" not in str(e.value)


def test_cli_pull_keeps_the_token_out_of_workspace_and_output(tmp_path, world):
    from typer.testing import CliRunner

    from socialleads.cli.main import app
    from tests.conftest import leads

    w, srv = world
    ws = tmp_path / "ws"
    assert CliRunner().invoke(app, ["init", str(ws)]).exit_code == 0
    env = {"LEADS_MASTODON_TOKEN": TOKEN, "LEADS_WORKSPACE": str(ws),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    r = leads("pull", "mastodon", "mastodonpy_test", "--instance", srv.url, "--only", "statuses,notifications",
              "--json", env=env)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["complete"] and out["source"] == "mastodon"
    assert w.auth and all(TOKEN in a for a in w.auth)                # it was sent to the server …
    blob = r.stdout + r.stderr
    for p in Path(ws).rglob("*"):
        if p.is_file():
            blob += p.read_bytes().decode("latin-1")
    assert TOKEN not in blob                                          # … and is nowhere else
    # a failing server: one line, exit code 4 (in process, to keep the file fast)
    srv.fail("/notifications", 502, times=99)
    r = CliRunner().invoke(app, ["pull", "mastodon", "mastodonpy_test", "--instance", srv.url, "--only",
                                 "notifications", "--workspace", str(ws)], env=env)
    assert r.exit_code == 4
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert len(lines) == 1 and "mastodon notifications" in lines[0] and TOKEN not in r.output
