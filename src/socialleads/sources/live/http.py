"""One request policy for every live client: timeouts, retries, 429 + Retry-After, rate-limit budgets.

The SDKs (atproto on httpx, Mastodon.py and PRAW on requests) are given a transport / adapter built
here, so the policy is the same whatever the SDK does on its own:

* every request has a timeout (`Policy.timeout`, connect and read);
* 429 waits `Retry-After` (seconds or an HTTP date) or, without it, until the rate-limit reset;
  408 / 5xx / timeouts / refused connections are retried with exponential backoff; after
  `Policy.attempts` tries the request fails with `TransportFailure` (one line naming the host and path);
* rate-limit headers (`ratelimit-*` on Bluesky, `x-ratelimit-*` on Mastodon and Reddit) are read after
  each response: when the remaining budget is spent, the next request waits for the reset;
* a client-side budget (`Policy.budget = (requests, seconds)`, the documented per-window limit)
  spaces requests even when a server sends no headers.

`sleep` and the clocks are injectable so that tests run in milliseconds. Credentials never appear in
messages: a failure names only the method, host and path (no query, no headers, no body).
"""

from __future__ import annotations

import collections
import datetime as dt
import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from socialleads.errors import LeadsError

RETRY_STATUSES = frozenset({408, 500, 502, 503, 504, 520, 522})


class PullError(LeadsError):
    """A pull stopped before it was complete; what was stored so far is kept (run again to resume)."""

    exit_code = 4


class TransportFailure(Exception):
    """A request that failed for good after the policy's retries. The message is one line and safe to
    show: method, host, path and what went wrong."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def where(method: str, url: str) -> str:
    u = urlsplit(str(url))
    return f"{method} {u.scheme}://{u.netloc}{u.path}"


def _header(headers: Any, *names: str) -> str | None:
    for n in names:
        v = headers.get(n)
        if v is not None and str(v).strip() != "":
            return str(v).strip()
    return None


def parse_retry_after(value: str | None, now: float) -> float | None:
    """`Retry-After` as seconds from now: a number of seconds or an HTTP date; None if absent/unreadable."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - now)


def parse_reset(value: str | None, now: float) -> float | None:
    """A rate-limit reset as seconds from now. Mastodon sends an ISO time, Bluesky a Unix time in seconds,
    Reddit the seconds left in the window; all three are accepted."""
    if value is None:
        return None
    try:
        x = float(value)
    except ValueError:
        try:
            t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if t.tzinfo is None:
            t = t.replace(tzinfo=dt.UTC)
        return max(0.0, t.timestamp() - now)
    if x > 1e9:                      # a Unix time
        return max(0.0, x - now)
    return max(0.0, x)               # seconds left


@dataclass
class Policy:
    """How a client talks to one host. `budget` is the documented per-window limit (requests, seconds)."""

    timeout: float = 30.0
    attempts: int = 4
    backoff: float = 1.0                   # first retry wait for 5xx / timeouts; doubled each time
    max_wait: float = 900.0                # never wait longer than this for one 429 / reset
    budget: tuple[int, float] | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    requests: int = 0                      # counters, for summaries and tests
    retries: int = 0
    waited: float = 0.0
    _remaining: int | None = None
    _reset_at: float | None = None         # monotonic time the header window resets
    _sent: collections.deque = field(default_factory=collections.deque)

    def _wait(self, seconds: float) -> None:
        seconds = min(max(0.0, seconds), self.max_wait)
        if seconds > 0:
            self.waited += seconds
            self.sleep(seconds)

    def before(self) -> None:
        """Wait as the rate-limit headers and the client-side budget require, then count the request."""
        now = self.clock()
        if self._remaining is not None and self._remaining <= 0 and self._reset_at is not None:
            if self._reset_at > now:
                self._wait(self._reset_at - now)
            self._remaining, self._reset_at = None, None
        if self.budget:
            limit, window = self.budget
            now = self.clock()
            while self._sent and self._sent[0] <= now - window:
                self._sent.popleft()
            if len(self._sent) >= limit:
                self._wait(self._sent[0] + window - now)
                self._sent.popleft()
            self._sent.append(self.clock())
        self.requests += 1

    def observe(self, headers: Any) -> None:
        """Read the rate-limit headers of a response (any of the three platforms' spellings)."""
        remaining = _header(headers, "ratelimit-remaining", "x-ratelimit-remaining")
        reset = parse_reset(_header(headers, "ratelimit-reset", "x-ratelimit-reset"), self.wall())
        if remaining is not None:
            try:
                self._remaining = int(float(remaining))
            except ValueError:
                self._remaining = None
        if reset is not None:
            self._reset_at = self.clock() + reset

    def retry_wait(self, status: int | None, headers: Any, attempt: int) -> float | None:
        """Seconds to wait before trying again, or None when the response is final."""
        if attempt + 1 >= self.attempts:
            return None
        if status == 429:
            ra = parse_retry_after(_header(headers, "retry-after"), self.wall()) if headers is not None else None
            if ra is None and headers is not None:
                ra = parse_reset(_header(headers, "ratelimit-reset", "x-ratelimit-reset"), self.wall())
            return ra if ra is not None else self.backoff * 2 ** attempt
        if status is None or status in RETRY_STATUSES:
            if status is not None and headers is not None:
                ra = parse_retry_after(_header(headers, "retry-after"), self.wall())
                if ra is not None:
                    return ra
            return self.backoff * 2 ** attempt
        return None

    def run(self, method: str, url: str, send: Callable[[], Any], status_of: Callable[[Any], int],
            headers_of: Callable[[Any], Any], is_timeout: Callable[[BaseException], bool],
            is_network: Callable[[BaseException], bool], close: Callable[[Any], None]) -> Any:
        """Send with the policy; returns the final successful (or non-retryable) response."""
        attempt = 0
        while True:
            self.before()
            try:
                resp = send()
            except BaseException as exc:
                if not (is_timeout(exc) or is_network(exc)):
                    raise
                what = (f"no answer within {self.timeout:g} s (timeout)" if is_timeout(exc)
                        else "connection failed")
                wait = self.retry_wait(None, None, attempt)
                if wait is None:
                    raise TransportFailure(f"{where(method, url)}: {what} after {attempt + 1} attempts") from None
                self.retries += 1
                self._wait(wait)
                attempt += 1
                continue
            status = status_of(resp)
            headers = headers_of(resp)
            self.observe(headers)
            if status == 429 or status in RETRY_STATUSES:
                wait = self.retry_wait(status, headers, attempt)
                if wait is None:
                    close(resp)
                    label = "rate limited (429)" if status == 429 else f"HTTP {status}"
                    raise TransportFailure(f"{where(method, url)}: {label} after {attempt + 1} attempts",
                                           status)
                close(resp)
                self.retries += 1
                self._wait(wait)
                attempt += 1
                continue
            return resp


# ---------------------------------------------------------------------------------------------------
# the SDKs' transports

def httpx_transport(policy: Policy) -> Any:
    """An httpx transport applying `policy` (for the atproto SDK's `Request(transport=…)`)."""
    import httpx

    class PolicyTransport(httpx.BaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.HTTPTransport()

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            def send() -> httpx.Response:
                resp = self.inner.handle_request(request)
                resp.read()
                return resp

            return policy.run(request.method, str(request.url), send, lambda r: r.status_code,
                              lambda r: r.headers, lambda e: isinstance(e, httpx.TimeoutException),
                              lambda e: isinstance(e, httpx.NetworkError), lambda r: r.close())

        def close(self) -> None:
            self.inner.close()

    return PolicyTransport()


def httpx_timeout(policy: Policy) -> Any:
    import httpx

    return httpx.Timeout(policy.timeout)


def requests_session(policy: Policy, *, consume_ratelimit_headers: bool = False) -> Any:
    """A requests Session applying `policy` (Mastodon.py `session=`, PRAW `requestor_kwargs`).

    `consume_ratelimit_headers` removes the x-ratelimit-* headers once the policy has read them, so
    that an SDK with its own (non-injectable) sleeping limiter (prawcore) leaves the waiting to us."""
    import requests
    from requests.adapters import HTTPAdapter

    class PolicyAdapter(HTTPAdapter):
        def send(self, request: Any, stream: bool = False, timeout: Any = None, verify: Any = True,
                 cert: Any = None, proxies: Any = None) -> Any:
            def send() -> Any:
                return super(PolicyAdapter, self).send(request, stream=stream, timeout=policy.timeout,
                                                       verify=verify, cert=cert, proxies=proxies)

            resp = policy.run(request.method or "GET", request.url or "", send, lambda r: r.status_code,
                              lambda r: r.headers,
                              lambda e: isinstance(e, requests.exceptions.Timeout),
                              lambda e: isinstance(e, requests.exceptions.ConnectionError),
                              lambda r: r.close())
            if consume_ratelimit_headers:
                for h in [h for h in resp.headers if h.lower().startswith("x-ratelimit-")]:
                    del resp.headers[h]
            return resp

    s = requests.Session()
    s.trust_env = False          # no .netrc / proxy credentials slipped into requests
    adapter = PolicyAdapter(max_retries=0)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s


def failure_of(exc: BaseException) -> TransportFailure | None:
    """The TransportFailure behind an SDK exception (SDKs wrap what the transport raised)."""
    seen = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        if isinstance(e, TransportFailure):
            return e
        seen.add(id(e))
        orig = getattr(e, "original_exception", None)   # prawcore.RequestException
        e = orig if isinstance(orig, BaseException) else (e.__cause__ or e.__context__)
    return None
