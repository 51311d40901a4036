"""`leads pull mastodon ACCOUNT --instance URL`: the account's statuses, followers, following, its
notifications (with a token), and who favourited / boosted its recent statuses (CONNECTORS.md §2.2–2.5).

Through `Mastodon.py` (`Mastodon(api_base_url=…, session=<the policy's requests session>)`). The SDK is
run with `ratelimit_method="throw"` and the `x-ratelimit-*` headers are consumed by our policy (http.py),
so all waiting (429 + Retry-After, the header budget, 300 requests / 5 min) happens in one injectable
place and never in the SDK's own `time.sleep`. `version_check_mode="none"`: no `/api/v1/instance` call.

Pages follow the `Link` header as Mastodon.py reads it (`_pagination_next` → `max_id`). For followers,
following, favourited_by and reblogged_by that `max_id` is an internal row id, never an account id, so
it is only ever taken from the link. `status_favourited_by` / `status_reblogged_by` take no paging
arguments: their first page comes from the SDK method, the next ones from `fetch_next` with the link's
`max_id`. Statuses and notifications are ordered by id: a second run asks with `since_id` = the newest id
stored, so it fetches only what is new.

Records: statuses through the live listener's REST-status mapper (`listen.live.mastodon_status_records`,
the same Status entity the stream delivers); accounts through its `_account`; follows, favourites and
boosts become interactions. `favourited_by` / `reblogged_by` / follower lists have no times (§6.3); the
notifications carry them. Both give the same interaction key (platform, type, actor, target), so a
favourite seen both ways is stored once.
"""

from __future__ import annotations

import datetime as dt
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
    last_json,
    one_line,
    requests_session,
    stop_line,
)
from socialleads.sources.live.sync import Page, PullSession, PullSummary, walk

SOURCE = "mastodon"
CONNECTOR = "masto_api"
PLATFORM = "mastodon"
ENDPOINTS = ("statuses", "followers", "following", "notifications", "favourited_by", "reblogged_by")
BUDGET = (300, 300.0)          # requests per 5 min per account and per IP (§2.2)
ID_WIDTH = 24                  # ids are compared as zero-padded text


def _sdk() -> Any:
    try:
        from mastodon import Mastodon
    except ImportError:  # pragma: no cover
        from socialleads.errors import NotInstalled
        raise NotInstalled("leads pull mastodon needs the `Mastodon.py` package: "
                           "pip install 'socialleads[mastodon]'") from None
    return Mastodon


def _mappers() -> tuple[Any, Any, Any]:
    from socialleads.listen.live import _account, mastodon_status_records
    from socialleads.sources.platforms.bluesky_files import BadItem

    return mastodon_status_records, _account, BadItem


def plain(value: Any) -> Any:
    """A Mastodon.py entity as the JSON the server sent: what `Entity.to_json()` writes (its renamed
    fields dropped, times as ISO text), without its deep copy and JSON round trip."""
    if isinstance(value, dict):
        d = dict(value)
        cls = type(value)
        for alias, field in (getattr(cls, "_rename_map", None) or {}).items():
            if callable(getattr(cls, field, None)):
                if alias in d:
                    d[field] = d.pop(alias)
            else:
                d.pop(field, None)
        return {k: plain(v) for k, v in d.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def id_mark(value: Any) -> str | None:
    """A Mastodon id as sortable text (ids are integers cast to strings; §2.1)."""
    if value is None:
        return None
    s = str(value)
    return s.zfill(ID_WIDTH) if s.isdigit() else s


def _unmark(mark: str | None) -> str | None:
    if mark is None:
        return None
    return (mark.lstrip("0") or "0") if mark.isdigit() else mark


def _next_max_id(page: Any) -> str | None:
    nxt = getattr(page, "_pagination_next", None)
    if not nxt or nxt.get("max_id") is None:
        return None
    return str(nxt["max_id"])


def pull_mastodon(store: Any, account: str, *, instance: str, token: str | None = None,
                  endpoints: tuple[str, ...] = ENDPOINTS, policy: Policy | None = None, limit: int = 40,
                  engagement_posts: int = 20, max_pages: int | None = None) -> PullSummary:
    """Pull `account` (`user` or `user@host`) from the Mastodon instance at `instance` into `store`.
    Raises PullError (after storing what came) when a request fails for good."""
    Mastodon = _sdk()
    status_records, account_record, BadItem = _mappers()
    unknown = set(endpoints) - set(ENDPOINTS)
    if unknown:
        raise LeadsError(f"mastodon: unknown endpoint(s) {', '.join(sorted(unknown))} (known: {', '.join(ENDPOINTS)})")
    check_server_url(instance, "mastodon --instance")
    token = clean(token)
    policy = policy or Policy(budget=BUDGET)
    if policy.budget is None:
        policy.budget = BUDGET
    counted_from = policy.counters()
    http = requests_session(policy, consume_ratelimit_headers=True)
    m = Mastodon(api_base_url=instance, access_token=token or None, session=http, ratelimit_method="throw",
                 version_check_mode="none", request_timeout=policy.timeout, user_agent="socialleads")
    secrets = (token,)
    session: PullSession | None = None
    current = "accounts/lookup"
    try:
        acct = account.lstrip("@")
        owner = plain(m.account_lookup(acct))
        if not isinstance(owner, dict) or owner.get("id") is None:
            raise BadAnswer(f"GET {policy.last_url}: the answer is not an account ({_shape(owner)})")
        try:
            owner_rec, owner_key = account_record(owner)
        except BadItem as exc:
            raise PullError(f"mastodon accounts/lookup: {acct}: {exc}") from None
        owner_id = str(owner["id"])
        session = PullSession(store, SOURCE, CONNECTOR, owner_key,
                              {"instance": instance, "endpoints": list(endpoints), "authenticated": bool(token)},
                              policy=policy, counted_from=counted_from)
        session.commit_page("owner", [{**owner_rec, "is_owner": True,
                                       "source_ids": {"id": owner_id, "instance": instance}}],
                            session.state("owner"), 0)

        def at(path: str) -> str:
            return f"GET {instance.rstrip('/')}/api/v1/{path}"

        def status_page(page: Page, keep: list[Any]):
            recs, rejects = [], []
            for st in keep:
                if not isinstance(st, dict):
                    rejects.append((f"{current} item", _NOT_OBJECT, json.dumps(st, default=str)))
                    continue
                try:
                    recs += status_records(st)
                except BadItem as exc:
                    rejects.append((f"{current} id {st.get('id') if isinstance(st, dict) else '?'}", str(exc),
                                    json.dumps(st, default=str)))
            return recs, rejects

        def account_page(kind: str, target: dict[str, Any] | None = None):
            def to_records(page: Page, keep: list[Any]):
                recs, rejects = [], []
                for acc in keep:
                    if not isinstance(acc, dict):
                        rejects.append((f"{current} item", _NOT_OBJECT, json.dumps(acc, default=str)))
                        continue
                    try:
                        rec, key = account_record(acc)
                    except BadItem as exc:
                        rejects.append((f"{current} account {acc.get('id') if isinstance(acc, dict) else '?'}",
                                        str(exc), json.dumps(acc, default=str)))
                        continue
                    recs.append(rec)
                    if kind == "follower":
                        recs.append(_interaction("follow", key, target_account=owner_key))
                    elif kind == "following":
                        recs.append(_interaction("follow", owner_key, target_account=key))
                    else:                                   # like / repost of `target` (a status)
                        recs.append(_interaction(kind, key, target_account=owner_key, target_post=target["uri"]))
                return recs, rejects
            return to_records

        def notification_page(page: Page, keep: list[Any]):
            recs, rejects = [], []
            for n in keep:
                if not isinstance(n, dict):
                    rejects.append(("notifications item", _NOT_OBJECT, json.dumps(n, default=str)))
                    continue
                try:
                    recs += _notification_records(n, owner_key, status_records, account_record)
                except BadItem as exc:
                    rejects.append((f"notifications id {n.get('id') if isinstance(n, dict) else '?'}", str(exc),
                                    json.dumps(n, default=str)))
            return recs, rejects

        def listed(call: Any, **fixed: Any):
            def fetch(cursor: str | None, stop_at: str | None) -> Page:
                page = call(**fixed, limit=limit, max_id=cursor, since_id=_unmark(stop_at))
                return Page(_items(page, policy, http), _next_max_id(page), page)
            return fetch

        for ep in endpoints:
            if ep == "statuses":
                current = f"accounts/{owner_id}/statuses"
                walk(session, "statuses", listed(m.account_statuses, id=owner_id), status_page,
                     _id_marker, max_pages=max_pages, where=at(current))
            elif ep in ("followers", "following"):
                current = f"accounts/{owner_id}/{ep}"
                call = m.account_followers if ep == "followers" else m.account_following

                def fetch(cursor: str | None, _s: str | None, call=call) -> Page:
                    page = call(owner_id, limit=min(limit * 2, 80), max_id=cursor)
                    return Page(_items(page, policy, http), _next_max_id(page), page)

                walk(session, ep, fetch, account_page("follower" if ep == "followers" else "following"),
                     lambda a: str(a.get("id")) if isinstance(a, dict) else None, ordered=False,
                     max_pages=max_pages, where=at(current))
            elif ep == "notifications":
                if not token:
                    continue                                 # needs a user token with read:notifications
                current = "notifications"
                walk(session, "notifications", listed(m.notifications), notification_page,
                     _id_marker, max_pages=max_pages, where=at(current))
            else:                                            # favourited_by / reblogged_by of recent statuses
                first = m.status_favourited_by if ep == "favourited_by" else m.status_reblogged_by
                kind = "like" if ep == "favourited_by" else "repost"
                for sid, uri in _owner_statuses(store, owner_key, engagement_posts):
                    current = f"statuses/{sid}/{ep}"

                    def fetch(cursor: str | None, _s: str | None, sid=sid, first=first, ep=ep) -> Page:
                        if cursor is None:
                            page = first(sid)
                        else:               # the SDK method takes no paging arguments: follow the link
                            page = m.fetch_next({"_pagination_method": "GET",
                                                 "_pagination_endpoint": f"/api/v1/statuses/{sid}/{ep}",
                                                 "max_id": cursor})
                        return Page(_items(page, policy, http), _next_max_id(page), page)

                    walk(session, f"{ep}:{sid}", fetch, account_page(kind, {"uri": uri}),
                         lambda a: str(a.get("id")) if isinstance(a, dict) else None, ordered=False,
                         max_pages=max_pages, where=at(current))
    except LeadsError:
        if session is not None:
            session.finish("stopped")
        raise
    except Exception as exc:  # noqa: BLE001 - SDK and transport errors become one line
        detail, status = _describe(exc, policy)
        line = scrub(stop_line(f"mastodon {current}", detail, advice=_advice(status, current, account, instance),
                               failure=failure_of(exc)), secrets)
        if session is not None:
            session.finish(line)
        raise PullError(line) from None
    finally:
        if session is not None:
            session.release()
        http.close()
    return session.finish()


def _interaction(itype: str, actor: str, *, target_account: str | None = None, target_post: str | None = None,
                 created_at: str | None = None) -> dict[str, Any]:
    rec = {"record_type": "interaction", "platform": PLATFORM, "type": itype, "actor_key": actor,
           "target_account_key": target_account, "target_post_key": target_post, "created_at": created_at,
           "time_precision": "exact" if created_at else "unknown"}
    return {k: v for k, v in rec.items() if v is not None or k == "created_at"}


def _notification_records(n: Any, owner_key: str, status_records: Any, account_record: Any) -> list[dict[str, Any]]:
    """Records of one Notification: the account, and by type a timed follow / favourite / boost of the
    owner (the only timed inbound ones, §2.3), or the status of a mention / reply / quote."""
    from socialleads.sources.platforms.bluesky_files import BadItem, bsky_time

    if not isinstance(n, dict) or not isinstance(n.get("type"), str):
        raise BadItem("notification without a type")
    ntype, when = n["type"], bsky_time(n.get("created_at"))
    if when is None:
        raise BadItem("notification without a created_at time")
    acc_rec, actor = account_record(n.get("account"))
    status = n.get("status") if isinstance(n.get("status"), dict) else None
    out = [acc_rec]
    if ntype == "follow":
        return out + [_interaction("follow", actor, target_account=owner_key, created_at=when)]
    if ntype in ("favourite", "reblog"):
        if status is None or not isinstance(status.get("uri"), str):
            raise BadItem(f"{ntype} notification without status.uri")
        return out + status_records(status) + [
            _interaction("like" if ntype == "favourite" else "repost", actor, target_account=owner_key,
                         target_post=status["uri"], created_at=when)]
    if ntype in ("mention", "status", "quote", "update") and status is not None:
        return out + status_records(status)
    return out                                   # other types (poll, admin.*, …): only the account


_NOT_OBJECT = "not a JSON object (the server sent a list item of another type)"


def _shape(value: Any) -> str:
    if isinstance(value, dict) and "error" in value:
        return f"an error object: {one_line(value.get('error'), 100)!r}"
    return f"a JSON {type(value).__name__}" if value is not None else "nothing"


def _items(page: Any, policy: Policy, http: Any) -> list[Any]:
    """The items of a list answer, as the server sent them; an answer that is not a list (an error object
    sent with HTTP 200, say, which Mastodon.py turns into the list of its keys) fails the endpoint.
    Non-object items are kept: the mappers quarantine them."""
    sent = last_json(http)
    if sent is not None and not isinstance(sent, list):
        raise BadAnswer(f"GET {policy.last_url}: the answer is not a list ({_shape(sent)})")
    if page is None:
        return []
    if not isinstance(page, list):
        raise BadAnswer(f"GET {policy.last_url}: the answer is not a list ({_shape(page)})")
    return [plain(x) for x in page]


def _id_marker(item: Any) -> str | None:
    return id_mark(item.get("id")) if isinstance(item, dict) else None


def _describe(exc: BaseException, policy: Policy) -> tuple[str, int | None]:
    """What went wrong, on one line (naming the server and path of the request), and the HTTP status."""
    tf = failure_of(exc)
    if tf is not None:
        return str(tf), tf.status
    place = f"{policy.last_method} {policy.last_url}: " if policy.last_url else ""
    args = getattr(exc, "args", ())
    if len(args) >= 2 and isinstance(args[1], int):          # MastodonAPIError(msg, status, reason, error)
        detail = " ".join(str(a) for a in args[2:] if a)
        return one_line(f"{place}HTTP {args[1]} {detail}".strip()), args[1]
    return one_line(f"{place}{type(exc).__name__}: {exc}"), None


def _advice(status: int | None, current: str, account: str, instance: str) -> str | None:
    """What a refusal means (rather than "run the pull again")."""
    if status == 401:
        return "the access token was refused (check --token / LEADS_MASTODON_TOKEN)"
    if status == 403:
        return "access denied (the token lacks a read scope, or the account hides this list)"
    if status == 404:
        if current == "accounts/lookup":
            return f"the account {account.lstrip('@')!r} was not found on {instance}"
        return "not found (a deleted account or status, or the wrong --instance)"
    if status == 410:
        return "the account is gone (suspended or deleted)"
    return None


def _owner_statuses(store: Any, owner_key: str, n: int) -> list[tuple[str, str]]:
    """(local status id, status URI) of the owner's most recent statuses (not boosts)."""
    rows = store.con.execute(
        "SELECT source_ids->>'id', post_key FROM posts WHERE author_key = ? AND platform = ? AND kind <> 'repost' "
        "AND source_ids->>'id' IS NOT NULL ORDER BY created_at DESC, post_key LIMIT ?",
        [owner_key, PLATFORM, n]).fetchall()
    return [(str(a), b) for a, b in rows]
