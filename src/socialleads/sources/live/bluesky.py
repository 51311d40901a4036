"""`leads pull bluesky ACTOR`: the account's author feed, followers, follows, the likes and reposts of its
posts (getLikes / getRepostedBy) and, with an app password, its notifications (CONNECTORS.md §1.2–1.3).

Through the `atproto` SDK (`Client(base_url=…)`, its httpx client given our policy transport). Pages are
mapped by the saved-XRPC reader (`bluesky_files.xrpc_records`), so a live page and a saved response
become the same records. Rate limits: 3000 requests / 5 min per IP on a PDS, `ratelimit-*` headers,
createSession 30 / 5 min (one login per pull). AppView lists have no follow / repost times (§6.3):
timestamped inbound likes, reposts and follows come from notifications.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from socialleads.errors import LeadsError
from socialleads.sources.live.credentials import clean, keep_private, load_private, scrub
from socialleads.sources.live.http import (
    Policy,
    PullError,
    check_server_url,
    failure_of,
    host_of,
    httpx_timeout,
    httpx_transport,
    one_line,
    stop_line,
)
from socialleads.sources.live.sync import Page, PullSession, PullSummary, walk
from socialleads.sources.platforms.bluesky_files import bsky_time, xrpc_records

SOURCE = "bluesky"
CONNECTOR = "bsky_api"
PUBLIC_APPVIEW = "https://public.api.bsky.app"
ENTRYWAY = "https://bsky.social"
ENDPOINTS = ("feed", "followers", "follows", "likes", "reposts", "notifications")
BUDGET = (3000, 300.0)     # requests per 5 min (PDS / entryway)

NSID = {"feed": "app.bsky.feed.getAuthorFeed", "followers": "app.bsky.graph.getFollowers",
        "follows": "app.bsky.graph.getFollows", "likes": "app.bsky.feed.getLikes",
        "reposts": "app.bsky.feed.getRepostedBy", "notifications": "app.bsky.notification.listNotifications"}


def _sdk() -> Any:
    try:
        from atproto import Client
        from atproto_client.request import Request
    except ImportError:  # pragma: no cover
        from socialleads.errors import NotInstalled
        raise NotInstalled("leads pull bluesky needs the `atproto` package: pip install 'socialleads[bluesky]'") from None
    return Client, Request


def _as_dict(model: Any) -> dict[str, Any]:
    from atproto_client.models.utils import get_model_as_dict

    return get_model_as_dict(model)


def _params(**kw: Any) -> dict[str, Any]:
    return {k: v for k, v in kw.items() if v is not None}


def pull_bluesky(store: Any, actor: str, *, base_url: str | None = None, handle: str | None = None,
                 app_password: str | None = None, endpoints: tuple[str, ...] = ENDPOINTS,
                 policy: Policy | None = None, limit: int = 100, engagement_posts: int = 20,
                 max_pages: int | None = None, reuse_session: bool = False) -> PullSummary:
    """Pull `actor` (a handle or DID) into `store`. Raises PullError (after storing what came) when a
    request fails for good; the summary of a complete pull is returned. With `reuse_session` (the CLI's
    choice), the login session is kept in the OS keyring, when one is usable, and reused by the next
    pulls instead of a new createSession (30 / 5 min, 300 / day per account, §1.2)."""
    Client, Request = _sdk()
    unknown = set(endpoints) - set(ENDPOINTS)
    if unknown:
        raise LeadsError(f"bluesky: unknown endpoint(s) {', '.join(sorted(unknown))} (known: {', '.join(ENDPOINTS)})")
    check_server_url(base_url, "bluesky --base-url")
    app_password = clean(app_password)
    policy = policy or Policy(budget=BUDGET)
    if policy.budget is None:
        policy.budget = BUDGET
    counted_from = policy.counters()
    authed = bool(app_password)
    base = (base_url or (ENTRYWAY if authed else PUBLIC_APPVIEW)).rstrip("/")
    client = Client(base_url=base, request=Request(transport=httpx_transport(policy), timeout=httpx_timeout(policy)))
    secrets: list[str | None] = [app_password]
    session: PullSession | None = None
    current = "com.atproto.server.createSession" if authed else NSID[endpoints[0]] if endpoints else ""
    try:
        if authed:
            login_handle = handle or actor
            if not (reuse_session and _resume_session(client, base, login_handle, secrets)):
                current = "com.atproto.server.createSession"
                client.login(login_handle, app_password, fetch_bsky_profile=False)
            sess = getattr(client, "_session", None)
            secrets += [getattr(sess, "access_jwt", None), getattr(sess, "refresh_jwt", None)]
        did = actor if actor.startswith("did:") else None
        if did is None:
            current = "com.atproto.identity.resolveHandle"
            did = client.com.atproto.identity.resolve_handle(params={"handle": actor}).did
        session = PullSession(store, SOURCE, CONNECTOR, did, {"base_url": base, "endpoints": list(endpoints),
                                                               "authenticated": authed},
                              policy=policy, counted_from=counted_from)
        rejects: list[tuple[str, str, str | None]] = []

        def reject(file: str, place: str, reason: str, raw: str | None) -> None:
            rejects.append((f"{file} {place}", reason, raw))

        def mapper(envelope: dict[str, Any], key: str, endpoint: str):
            def to_records(page: Page, keep: list[Any]):
                rejects.clear()
                doc = {**envelope(page.doc), key: keep}
                recs = list(xrpc_records(doc, endpoint, reject))
                return recs, list(rejects)
            return to_records

        def owner_record() -> list[dict[str, Any]]:
            return [{"record_type": "account", "platform": "bluesky", "account_key": did, "is_owner": True,
                     "handle": None if actor.startswith("did:") else actor}]

        def at(nsid: str) -> str:
            return f"GET {base}/xrpc/{nsid}"

        session.commit_page("owner", owner_record(), session.state("owner"), 0)
        ns = client.app.bsky
        for ep in endpoints:
            current = NSID[ep]
            if ep == "feed":
                def fetch(cursor: str | None, _s: str | None) -> Page:
                    r = _as_dict(ns.feed.get_author_feed(params=_params(
                        actor=did, cursor=cursor, limit=limit, filter="posts_with_replies")))
                    return Page(r.get("feed") or [], r.get("cursor") or None, r)

                walk(session, NSID[ep], fetch, mapper(lambda d: {}, "feed", NSID[ep]), _feed_marker,
                     max_pages=max_pages, where=at(NSID[ep]))
            elif ep in ("followers", "follows"):
                call = ns.graph.get_followers if ep == "followers" else ns.graph.get_follows

                def fetch(cursor: str | None, _s: str | None, call=call, ep=ep) -> Page:
                    r = _as_dict(call(params=_params(actor=did, cursor=cursor, limit=limit)))
                    return Page(r.get(ep) or [], r.get("cursor") or None, r)

                walk(session, NSID[ep], fetch, mapper(lambda d: {"subject": d.get("subject")}, ep, NSID[ep]),
                     lambda v: v.get("did") if isinstance(v, dict) else None, ordered=False, max_pages=max_pages,
                     where=at(NSID[ep]))
            elif ep == "notifications":
                if not authed:
                    continue                     # own account only, needs the app password (§1.3)

                def fetch(cursor: str | None, _s: str | None) -> Page:
                    r = _as_dict(ns.notification.list_notifications(params=_params(cursor=cursor, limit=limit)))
                    return Page(r.get("notifications") or [], r.get("cursor") or None, r)

                walk(session, NSID[ep], fetch, mapper(lambda d: {}, "notifications", NSID[ep]),
                     lambda n: tmark(n.get("indexedAt")) if isinstance(n, dict) else None, max_pages=max_pages,
                     where=at(NSID[ep]))
            else:                                # likes / reposts of the owner's most recent posts
                key = "likes" if ep == "likes" else "repostedBy"
                call = ns.feed.get_likes if ep == "likes" else ns.feed.get_reposted_by
                for uri in _owner_posts(store, did, engagement_posts):
                    def fetch(cursor: str | None, _s: str | None, uri=uri, call=call, key=key) -> Page:
                        r = _as_dict(call(params=_params(uri=uri, cursor=cursor, limit=limit)))
                        return Page(r.get(key) or [], r.get("cursor") or None, r)

                    mark = ((lambda v: tmark(v.get("indexedAt") or v.get("createdAt")) if isinstance(v, dict)
                             else None) if ep == "likes"
                            else (lambda v: v.get("did") if isinstance(v, dict) else None))
                    walk(session, f"{NSID[ep]}:{uri}", fetch,
                         mapper(lambda d: {"uri": d.get("uri"), "cid": d.get("cid")}, key, f"{NSID[ep]}:{uri}"),
                         mark,
                         ordered=(ep == "likes"), max_pages=max_pages, where=at(NSID[ep]))
    except LeadsError:
        if session is not None:
            session.finish("stopped")
        raise
    except Exception as exc:  # noqa: BLE001 - SDK and transport errors become one line
        detail, status = _describe(exc, policy)
        line = scrub(stop_line(f"bluesky {current}", detail, advice=_advice(status, current, actor, exc),
                               failure=failure_of(exc)), secrets)
        if session is not None:
            session.finish(line)
        raise PullError(line) from None
    finally:
        if session is not None:
            session.release()
        client.request.close()
    return session.finish()


def _session_name(base: str, login: str) -> str:
    return f"session:{login.lower()}@{host_of(base)}"


def _resume_session(client: Any, base: str, login: str, secrets: list[str | None]) -> bool:
    """Reuse the session kept in the OS keyring for (login, host), and keep it there from now on (the SDK
    reports each new or refreshed session). True when the saved session works (checked with
    com.atproto.server.getSession; the SDK refreshes an expired access token first); False when there is
    none, no keyring, or it was refused: then the caller logs in with the app password."""
    name = _session_name(base, login)
    client.on_session_change(lambda _event, session: keep_private(SOURCE, name, session.encode()))
    saved = load_private(SOURCE, name)
    if not saved:
        return False
    secrets.append(saved)
    try:
        client.login(session_string=saved, fetch_bsky_profile=False)
        client.com.atproto.server.get_session()
        return True
    except LeadsError:
        raise
    except Exception as exc:  # noqa: BLE001 - an expired or revoked session: log in again with the password
        if failure_of(exc) is not None:
            raise      # the server failed or asked to wait: the session is kept, the pull stops (no new login)
        keep_private(SOURCE, name, None)
        return False


def _describe(exc: BaseException, policy: Policy) -> tuple[str, int | None]:
    """What went wrong, on one line (naming the server and path of the request), and the HTTP status."""
    tf = failure_of(exc)
    if tf is not None:
        return str(tf), tf.status
    place = f"{policy.last_method} {policy.last_url}: " if policy.last_url else ""
    resp = getattr(exc, "response", None)
    status = getattr(resp, "status_code", None)
    content = getattr(resp, "content", None)
    err = getattr(content, "error", None) or ""
    text = getattr(content, "message", None) or ""
    if status:
        return one_line(f"{place}HTTP {status} {err} {text}".strip()), status
    cause = exc.__cause__
    errors = getattr(cause, "errors", None)
    if callable(errors):                       # pydantic: the answer does not fit the lexicon's schema
        try:
            errs = errors()
        except Exception:  # noqa: BLE001
            errs = []
        if errs:
            first = errs[0]
            loc = ".".join(str(x) for x in first.get("loc", ())) or "the answer"
            more = f" (and {len(errs) - 1} more)" if len(errs) > 1 else ""
            return one_line(f"{place}the answer does not match the lexicon: {loc}: {first.get('msg', '')}{more}",
                            300), None
    if type(exc).__name__ == "ModelError":
        return one_line(f"{place}the answer does not match the lexicon: {exc}", 300), None
    return one_line(f"{place}{type(exc).__name__}: {exc}"), None


def _advice(status: int | None, current: str, actor: str, exc: BaseException) -> str | None:
    """What a refusal means (8c: say what is wrong rather than "run again")."""
    if status == 401:
        if current == "com.atproto.server.createSession":
            return "the handle or app password was refused (check --handle and --app-password / LEADS_BLUESKY_APP_PASSWORD)"
        return "the server refused the session (authentication required)"
    if status == 400:
        if current == "com.atproto.identity.resolveHandle":
            return f"the handle {actor!r} was not found"
        return "the server refused the request (an unknown, blocked or taken-down account?)"
    if status == 403:
        return "access denied (a blocked or taken-down account, or an endpoint the server does not allow)"
    if status == 404:
        return "not found: check --base-url"
    return None


def tmark(value: Any) -> str | None:
    """A time as a fixed-width UTC string (sorts as text), for high-water comparisons."""
    t = bsky_time(value)
    if t is None:
        return None
    return dt.datetime.fromisoformat(t.replace("Z", "+00:00")).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _feed_marker(item: Any) -> str | None:
    if not isinstance(item, dict):
        return None
    reason = item.get("reason")
    if isinstance(reason, dict) and reason.get("$type", "").endswith("#reasonPin"):
        return None                               # a pinned post is out of order
    if isinstance(reason, dict) and reason.get("indexedAt"):
        return tmark(reason["indexedAt"])
    post = item.get("post") or {}
    return tmark(post.get("indexedAt")) if isinstance(post, dict) else None


def _owner_posts(store: Any, did: str, n: int) -> list[str]:
    rows = store.con.execute(
        "SELECT post_key FROM posts WHERE author_key = ? AND kind <> 'repost' ORDER BY created_at DESC, post_key "
        "LIMIT ?", [did, n]).fetchall()
    return [r[0] for r in rows]

