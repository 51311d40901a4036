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
waits (the policy's waits are injectable). Listings stop at 1000 items (Reddit's cap).
"""

from __future__ import annotations

import json
from typing import Any

from socialleads.errors import LeadsError
from socialleads.sources.live.credentials import scrub
from socialleads.sources.live.http import Policy, PullError, failure_of, requests_session
from socialleads.sources.live.sync import Page, PullSession, PullSummary, walk
from socialleads.sources.platforms.reddit_dump import map_item

SOURCE = "reddit"
CONNECTOR = "reddit_api"
ENDPOINTS = ("submissions", "comments", "subreddit")
BUDGET = (100, 60.0)             # queries per minute per OAuth client id (§4.1)
USER_AGENT = "python:socialleads:1 (leads pull reddit)"


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
    policy = policy or Policy(budget=BUDGET)
    if policy.budget is None:
        policy.budget = BUDGET
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
                              {"endpoints": list(endpoints), "subreddit": subreddit})

        def to_records(page: Page, keep: list[Any]):
            recs, rejects = [], []
            for it in keep:
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
                if not isinstance(data, dict):
                    raise PullError(f"reddit {path}: the answer is not a listing")
                items = [c.get("data") for c in data.get("children") or [] if isinstance(c, dict)]
                return Page([i for i in items if isinstance(i, dict)], data.get("after") or None, doc)
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
            walk(session, key, listing(current), to_records, id_mark, max_pages=max_pages)
            if ep != "subreddit" and not owner_marked:
                owner_marked = _mark_owner(session, user)
    except LeadsError as exc:
        if session is not None:
            session.finish(str(exc))
        raise
    except Exception as exc:  # noqa: BLE001 - SDK and transport errors become one line
        line = f"reddit {current}: {scrub(_describe(exc), secrets)}"
        if session is not None:
            session.finish(line)
        raise PullError(line + "; what was fetched before is stored — run the pull again to resume") from None
    finally:
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


def _describe(exc: BaseException) -> str:
    tf = failure_of(exc)
    if tf is not None:
        return str(tf)
    resp = getattr(exc, "response", None)
    status = getattr(resp, "status_code", None)
    if status:
        return f"HTTP {status} {type(exc).__name__}".strip()
    return f"{type(exc).__name__}: {str(exc)[:200]}".strip()
