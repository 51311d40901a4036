"""`leads pull reddit USER [--subreddit S]`: the user's submissions and comments (the `new` listings) and,
if asked, a subreddit's `new` listing (CONNECTORS.md §4.1).

Through PRAW (`Reddit(client_id, client_secret, user_agent, oauth_url=…, reddit_url=…,
requestor_kwargs={"session": <the policy's requests session>})`, application-only OAuth). Pages are read
with `Reddit.request` (PRAW's authenticated request, returning the listing JSON), one page per request
(`limit` ≤ 100, `after` = the listing's `after` fullname), so each page is committed with its cursor.
Items are mapped by the dump reader's mapper (`reddit_dump.map_item`): a listing child's `data` is the
same object a Pushshift / Arctic Shift line holds. Listings are newest first and ids are base-36
counters, so a second run stops at the newest item already stored.

Rate limits: 100 requests / min per OAuth client (the policy's budget) and the `x-ratelimit-remaining /
used / reset` headers, read by our policy and then removed so that prawcore's own sleeping limiter never
waits (the policy's waits are injectable). Listings stop at 1000 items (Reddit's cap, §6.3: a walk ends
there, complete, whatever `after` the server still sends).

The OAuth token (POST /api/v1/access_token, made by prawcore when it needs one) is told apart from the
listings in errors: the policy remembers the request in flight, so a refused client id / secret is
reported as such, not as a failure of the first listing.
"""

from __future__ import annotations

import json
from typing import Any

from socialleads.errors import LeadsError
from socialleads.sources.live.credentials import clean, scrub
from socialleads.sources.live.http import (
    BadAnswer,
    Policy,
    PullError,
    check_server_url,
    failure_of,
    one_line,
    requests_session,
    stop_line,
)
from socialleads.sources.live.sync import Page, PullSession, PullSummary, walk
from socialleads.sources.platforms.reddit_dump import map_item

SOURCE = "reddit"
CONNECTOR = "reddit_api"
ENDPOINTS = ("submissions", "comments", "subreddit")
BUDGET = (100, 60.0)             # queries per minute per OAuth client id (§4.1)
USER_AGENT = "python:socialleads:1 (leads pull reddit)"
LISTING_CAP = 1000               # Reddit serves at most this many items of a listing (§6.3)
TOKEN_PATH = "/api/v1/access_token"


def _sdk() -> Any:
    try:
        import praw
    except ImportError:  # pragma: no cover
        from socialleads.errors import NotInstalled
        raise NotInstalled("leads pull reddit needs the `praw` package: pip install 'socialleads[reddit]'") from None
    return praw


def id_mark(item: Any) -> str | None:
    """A listing item's base-36 id as sortable text (ids are counters: newer is larger)."""
    rid = item.get("id") if isinstance(item, dict) else None
    if not isinstance(rid, str) or not rid.isalnum():
        return None
    return f"{int(rid, 36):020d}"


def pull_reddit(store: Any, user: str, *, client_id: str, client_secret: str, subreddit: str | None = None,
                endpoints: tuple[str, ...] = ENDPOINTS, policy: Policy | None = None, limit: int = 100,
                oauth_url: str | None = None, reddit_url: str | None = None,
                max_pages: int | None = None) -> PullSummary:
    """Pull `user`'s submissions and comments (and `subreddit`'s new listing) into `store`. Raises
    PullError (after storing what came) when a request fails for good."""
    praw = _sdk()
    unknown = set(endpoints) - set(ENDPOINTS)
    if unknown:
        raise LeadsError(f"reddit: unknown endpoint(s) {', '.join(sorted(unknown))} (known: {', '.join(ENDPOINTS)})")
    user = user.removeprefix("u/").removeprefix("/u/")
    check_server_url(oauth_url, "reddit --base-url")
    check_server_url(reddit_url, "reddit --base-url")
    client_id, client_secret = clean(client_id) or "", clean(client_secret) or ""
    policy = policy or Policy(budget=BUDGET)
    if policy.budget is None:
        policy.budget = BUDGET
    counted_from = policy.counters()
    http = requests_session(policy, consume_ratelimit_headers=True)
    urls = {k: v.rstrip("/") for k, v in (("oauth_url", oauth_url), ("reddit_url", reddit_url)) if v}
    reddit = praw.Reddit(client_id=client_id, client_secret=client_secret, user_agent=USER_AGENT,
                         check_for_updates=False, timeout=policy.timeout, requestor_kwargs={"session": http}, **urls)
    reddit.read_only = True
    secrets = (client_secret, client_id)
    session: PullSession | None = None
    current = f"user/{user}/submitted"
    try:
        account = f"reddit:name:{user}"
        session = PullSession(store, SOURCE, CONNECTOR, account,
                              {"endpoints": list(endpoints), "subreddit": subreddit},
                              policy=policy, counted_from=counted_from)
        api = (oauth_url or "https://oauth.reddit.com").rstrip("/")

        def to_records(page: Page, keep: list[Any]):
            recs, rejects = [], []
            for it in keep:
                if not isinstance(it, dict):
                    rejects.append((f"{current} item", "not a JSON object (a listing child without a data object)",
                                    json.dumps(it)[:4000]))
                    continue
                try:
                    recs += map_item(it)
                except ValueError as exc:
                    rejects.append((f"{current} {it.get('name') if isinstance(it, dict) else '?'}", str(exc),
                                    json.dumps(it)[:4000]))
            return recs, rejects

        def listing(path: str):
            def fetch(cursor: str | None, _s: str | None) -> Page:
                params: dict[str, Any] = {"limit": limit, "raw_json": 1, "sort": "new"}
                if cursor:
                    params["after"] = cursor
                doc = reddit.request(method="GET", path=path, params=params)
                data = doc.get("data") if isinstance(doc, dict) else None
                children = data.get("children", []) if isinstance(data, dict) else None
                if not isinstance(children, list) or (data.get("after") is not None
                                                      and not isinstance(data.get("after"), str)):
                    what = ("data.children is not a list" if isinstance(data, dict) else "no data object")
                    raise BadAnswer(f"GET {api}/{path}: the answer is not a listing ({what})")
                items = [c.get("data") if isinstance(c, dict) else c for c in children]
                return Page(items, data.get("after") or None, doc)
            return fetch

        owner_marked = False
        for ep in endpoints:
            if ep == "subreddit":
                if not subreddit:
                    continue
                current = f"r/{subreddit}/new"
                key = f"r/{subreddit}/new"
            else:
                current = f"user/{user}/{'submitted' if ep == 'submissions' else 'comments'}"
                key = ep
            walk(session, key, listing(current), to_records, id_mark, max_pages=max_pages, max_items=LISTING_CAP,
                 where=f"GET {api}/{current}")
            if ep != "subreddit" and not owner_marked:
                owner_marked = _mark_owner(session, user)
    except LeadsError as exc:
        if session is not None:
            session.finish(str(exc))
        raise
    except Exception as exc:  # noqa: BLE001 - SDK and transport errors become one line
        head, detail, advice = _describe(exc, policy, current, user)
        line = scrub(stop_line(head, detail, advice=advice, failure=failure_of(exc)), secrets)
        if session is not None:
            session.finish(line)
        raise PullError(line) from None
    finally:
        if session is not None:
            session.release()
        http.close()
    return session.finish()


def _mark_owner(session: PullSession, user: str) -> bool:
    """Flag the user's account (keyed `reddit:t2_…` when the items carry author_fullname) as an owner."""
    rows = session.con.execute("SELECT DISTINCT author_key FROM posts WHERE platform = 'reddit' AND author_key IN "
                               "(SELECT account_key FROM accounts WHERE platform = 'reddit' AND lower(handle) = lower(?))",
                               [user]).fetchall()
    if not rows:
        return False
    session.commit_page("owner", [{"record_type": "account", "platform": "reddit", "account_key": k, "handle": user,
                                   "is_owner": True} for (k,) in rows], session.state("owner"), 0)
    return True


def _describe(exc: BaseException, policy: Policy, current: str, user: str) -> tuple[str, str, str | None]:
    """(head, detail, advice) of the line a failed pull ends with. A failure of the OAuth token request
    is named as such (POST …/api/v1/access_token), not as the listing that needed the token."""
    tf = failure_of(exc)
    resp = getattr(exc, "response", None)
    status = tf.status if tf is not None else getattr(resp, "status_code", None)
    token = bool(policy.last_url and policy.last_url.endswith(TOKEN_PATH))
    place = f"{policy.last_method} {policy.last_url}: " if policy.last_url else ""
    what = f"HTTP {status} {type(exc).__name__}" if status else one_line(f"{type(exc).__name__}: {exc}", 150)
    detail = str(tf) if tf is not None else place + what
    if token:
        if tf is not None and not tf.permanent and status not in (400, 401, 403):
            return "reddit (OAuth token)", detail, None
        if status in (400, 401, 403) or type(exc).__name__ == "OAuthException":
            why = f" ({one_line(getattr(exc, 'error', ''), 80)})" if getattr(exc, "error", None) else ""
            return "reddit (OAuth token)", detail, ("the client id / client secret was refused" + why +
                                                    ": check --client-id / --client-secret or LEADS_REDDIT_CLIENT_ID"
                                                    " / LEADS_REDDIT_CLIENT_SECRET")
        return ("reddit (OAuth token)", f"{place}the token answer is not valid ({what})",
                "the server did not give an access token")
    advice = None
    if status == 404:
        advice = (f"the user {user!r} was not found" if current.startswith("user/")
                  else "the subreddit was not found")
    elif status == 403:
        advice = "access denied (a suspended or private account, or a private or banned subreddit)"
    elif status == 401:
        advice = "the access token was refused"
    elif type(exc).__name__ == "Redirect":       # prawcore: an unknown subreddit redirects to search
        advice = "the subreddit was not found"
    return f"reddit {current}", detail, advice
