"""One request policy for every live client: timeouts, retries, 429 + Retry-After, rate-limit budgets.

The SDKs (atproto on httpx, Mastodon.py and PRAW on requests) are given a transport / adapter built
here, so the policy is the same whatever the SDK does on its own:

* every request has a timeout (`Policy.timeout`, connect and each read) and a deadline for the whole
  answer (`Policy.deadline`, by default `TOTAL_FACTOR` × the timeout): a server that trickles its answer
  a byte at a time is cut off and the request counts as timed out;
* 429 waits `Retry-After` (seconds or an HTTP date) or, without it, until the rate-limit reset;
  408 / 5xx / timeouts / refused connections are retried with exponential backoff; after
  `Policy.attempts` tries the request fails with `TransportFailure` (one line naming the host and path);
* a server that asks for a wait longer than `Policy.max_wait` is not retried early: the request fails at
  once with `RetryLater` ("rate limited by HOST: retry after N min (at HH:MM UTC)"), so that a pull
  stops (what it stored is kept) instead of hammering the server before the time it gave;
* rate-limit headers (`ratelimit-*` on Bluesky, `x-ratelimit-*` on Mastodon and Reddit) are read after
  each response: when the remaining budget is spent, the next request waits for the reset;
* a client-side budget (`Policy.budget = (requests, seconds)`, the documented per-window limit)
  spaces requests even when a server sends no headers.

`sleep` and the clocks are injectable so that tests run in milliseconds. Credentials never appear in
messages: a failure names only the method, host and path (no query, no headers, no body). Rate-limit
waits of a second or more are announced through `Policy.notify` (the CLI prints them on stderr).
"""

from __future__ import annotations

import collections
import datetime as dt
import email.utils
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from socialleads.errors import LeadsError

RETRY_STATUSES = frozenset({408, 500, 502, 503, 504, 520, 522})
TOTAL_FACTOR = 4.0          # an answer must be complete within this many times the (idle) timeout
NOTIFY_WAIT = 1.0           # rate-limit waits at least this long are announced through Policy.notify


class PullError(LeadsError):
    """A pull stopped before it was complete; what was stored so far is kept (run again to resume)."""

    exit_code = 4


class TransportFailure(Exception):
    """A request that failed for good after the policy's retries. The message is one line and safe to
    show: method, host, path and what went wrong."""

    permanent = False          # True: running the pull again will not help (a broken or refusing server)

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class BadAnswer(TransportFailure):
    """The server answered, but not with what the API documents: the wrong JSON shape, or a next-page
    cursor it already sent (which would make the walk loop forever)."""

    permanent = True


class RetryLater(TransportFailure):
    """The server asked for a wait longer than the policy's `max_wait` (a 429 / 503 `Retry-After`, or a
    rate-limit reset): the request is not retried early. `retry_at` is the wall time it gave."""

    def __init__(self, message: str, status: int | None, retry_at: float) -> None:
        super().__init__(message, status)
        self.retry_at = retry_at


class AnswerTooSlow(Exception):
    """Raised by the transports when an answer is not complete by the request's deadline."""


class AnswerCutOff(Exception):
    """Raised by the transports when the connection breaks in the middle of an answer (retried)."""


def one_line(text: object, limit: int = 200) -> str:
    """`text` on one line (whitespace runs, newlines included, become one space), cut at `limit`; every
    secret looked up in this process is scrubbed first (flattened or cut, it would no longer match)."""
    from socialleads.sources.live.credentials import scrub

    t = scrub(" ".join(scrub(str(text), ()).split()), ())     # before and after: the spaces may differ
    return t if len(t) <= limit else t[:limit - 1].rstrip() + "…"


def host_of(url: str) -> str:
    return urlsplit(str(url)).netloc or str(url)


def when_text(seconds: float, wall: float) -> str:
    """'N min (at HH:MM UTC)' for a wait of `seconds` from the wall time `wall`."""
    at = dt.datetime.fromtimestamp(wall + seconds, dt.UTC)
    stamp = at.strftime("%H:%M" if seconds < 20 * 3600 else "%Y-%m-%d %H:%M")
    return f"{max(1, math.ceil(seconds / 60))} min (at {stamp} UTC)"


def check_server_url(url: str | None, what: str) -> None:
    """Refuse a server URL that carries credentials (`http://user:pass@host`) before any request: they
    would end up in messages and in the workspace (ingest_runs.params, account source ids)."""
    if not url:
        return
    parts = urlsplit(str(url))
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise LeadsError(f"{what}: a server URL with a user name or password (user:pass@host) is refused, so that "
                         "the credentials are never printed or stored; give the URL without them")


def where(method: str, url: str) -> str:
    u = urlsplit(str(url))
    netloc = u.netloc.rpartition("@")[2]          # never a user:password@ part
    return f"{method} {u.scheme}://{netloc}{u.path}"


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
    """How a client talks to one host. `budget` is the documented per-window limit (requests, seconds).
    `total` bounds one whole answer (default: `TOTAL_FACTOR` × `timeout`, see `deadline`)."""

    timeout: float = 30.0
    attempts: int = 4
    backoff: float = 1.0                   # first retry wait for 5xx / timeouts; doubled each time
    max_wait: float = 900.0                # a longer requested wait stops the request (RetryLater)
    budget: tuple[int, float] | None = None
    total: float | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    notify: Callable[[str], None] | None = None
    requests: int = 0                      # counters, for summaries and tests
    retries: int = 0
    waited: float = 0.0
    last_method: str | None = None         # the request in flight / last sent (no query): for messages
    last_url: str | None = None
    last_status: int | None = None
    _remaining: int | None = None
    _reset_at: float | None = None         # monotonic time the header window resets
    _sent: collections.deque = field(default_factory=collections.deque)

    @property
    def deadline(self) -> float:
        """Seconds one answer may take in all (connect, headers and body)."""
        return self.total if self.total is not None else TOTAL_FACTOR * self.timeout

    def counters(self) -> tuple[int, int, float]:
        return self.requests, self.retries, self.waited

    def _wait(self, seconds: float) -> None:
        seconds = min(max(0.0, seconds), self.max_wait)
        if seconds > 0:
            self.waited += seconds
            self.sleep(seconds)

    def _too_long(self, seconds: float, method: str, url: str, status: int | None) -> None:
        """Raise RetryLater when the server asks for a wait longer than `max_wait`."""
        if seconds <= self.max_wait:
            return
        host = host_of(url)
        what = f"rate limited by {host}" if status in (429, None) else f"{host} is unavailable (HTTP {status})"
        raise RetryLater(f"{where(method, url)}: {what}: retry after {when_text(seconds, self.wall())}",
                         status, self.wall() + seconds)

    def _announce(self, seconds: float, url: str, why: str) -> None:
        if self.notify is not None and seconds >= NOTIFY_WAIT:
            self.notify(f"rate limited by {host_of(url)} ({why}): waiting {seconds:.0f} s, until "
                        f"{dt.datetime.fromtimestamp(self.wall() + seconds, dt.UTC):%H:%M:%S} UTC")

    def before(self, method: str = "GET", url: str = "") -> None:
        """Wait as the rate-limit headers and the client-side budget require, then count the request."""
        now = self.clock()
        if self._remaining is not None and self._remaining <= 0 and self._reset_at is not None:
            if self._reset_at > now:
                self._too_long(self._reset_at - now, method, url, None)
                self._announce(self._reset_at - now, url, "no requests left in this window")
                self._wait(self._reset_at - now)
            self._remaining, self._reset_at = None, None
        if self.budget:
            limit, window = self.budget
            now = self.clock()
            while self._sent and self._sent[0] <= now - window:
                self._sent.popleft()
            if len(self._sent) >= limit:
                wait = self._sent[0] + window - now
                self._announce(wait, url, f"at most {limit} requests per {window:g} s")
                self._wait(wait)
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

    def requested_wait(self, status: int | None, headers: Any, attempt: int) -> float | None:
        """Seconds to wait before trying again (what the server asked for, else the backoff), or None when
        the response is final. Does not look at the number of attempts."""
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

    def retry_wait(self, status: int | None, headers: Any, attempt: int) -> float | None:
        """Seconds to wait before trying again, or None when the response is final or the tries are spent."""
        if attempt + 1 >= self.attempts:
            return None
        return self.requested_wait(status, headers, attempt)

    def _timeout_text(self, exc: BaseException, is_timeout: bool) -> str:
        if isinstance(exc, AnswerTooSlow):
            return f"the answer was not complete within {self.deadline:g} s (timeout)"
        if isinstance(exc, AnswerCutOff):
            return "the connection broke in the middle of the answer"
        return f"no answer within {self.timeout:g} s (timeout)" if is_timeout else "connection failed"

    def run(self, method: str, url: str, send: Callable[[], Any], status_of: Callable[[Any], int],
            headers_of: Callable[[Any], Any], is_timeout: Callable[[BaseException], bool],
            is_network: Callable[[BaseException], bool], close: Callable[[Any], None]) -> Any:
        """Send with the policy; returns the final successful (or non-retryable) response."""
        attempt = 0
        while True:
            self.before(method, url)
            self.last_method, self.last_url, self.last_status = method, where(method, url).split(" ", 1)[1], None
            try:
                resp = send()
            except BaseException as exc:
                timed_out = isinstance(exc, AnswerTooSlow) or is_timeout(exc)
                if not (timed_out or isinstance(exc, AnswerCutOff) or is_network(exc)):
                    raise
                what = self._timeout_text(exc, timed_out)
                wait = self.retry_wait(None, None, attempt)
                if wait is None:
                    raise TransportFailure(f"{where(method, url)}: {what} after {attempt + 1} attempts") from None
                self.retries += 1
                self._wait(wait)
                attempt += 1
                continue
            status = status_of(resp)
            self.last_status = status
            headers = headers_of(resp)
            self.observe(headers)
            if status == 429 or status in RETRY_STATUSES:
                wait = self.requested_wait(status, headers, attempt)
                if wait is not None and wait > self.max_wait:
                    close(resp)
                    self._too_long(wait, method, url, status)
                if wait is None or attempt + 1 >= self.attempts:
                    close(resp)
                    label = "rate limited (429)" if status == 429 else f"HTTP {status}"
                    raise TransportFailure(f"{where(method, url)}: {label} after {attempt + 1} attempts",
                                           status)
                close(resp)
                self.retries += 1
                if status == 429 and attempt == 0:        # said once for a request, not at each retry
                    self._announce(wait, url, "HTTP 429, Retry-After")
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
                # the body is read here, chunk by chunk as it arrives, so that the whole answer is bounded
                # by the policy's deadline (httpx's own timeouts only bound each wait for a chunk)
                end = time.monotonic() + policy.deadline
                resp = self.inner.handle_request(request)
                chunks: list[bytes] = []
                try:
                    if time.monotonic() > end:
                        raise AnswerTooSlow()
                    for chunk in resp.stream:
                        chunks.append(chunk)
                        if time.monotonic() > end:
                            raise AnswerTooSlow()
                except httpx.RemoteProtocolError:
                    raise AnswerCutOff() from None
                finally:
                    resp.close()
                return httpx.Response(resp.status_code, headers=resp.headers, request=request,
                                      stream=httpx.ByteStream(b"".join(chunks)), extensions=resp.extensions)

            return policy.run(request.method, str(request.url), send, lambda r: r.status_code,
                              lambda r: r.headers, lambda e: isinstance(e, httpx.TimeoutException),
                              lambda e: isinstance(e, httpx.NetworkError),
                              lambda r: r.close())

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
                end = time.monotonic() + policy.deadline
                resp = super(PolicyAdapter, self).send(request, stream=True, timeout=policy.timeout,
                                                       verify=verify, cert=cert, proxies=proxies)
                _read_body(resp, end)
                return resp

            resp = policy.run(request.method or "GET", request.url or "", send, lambda r: r.status_code,
                              lambda r: r.headers,
                              lambda e: isinstance(e, requests.exceptions.Timeout),
                              lambda e: isinstance(e, requests.exceptions.ConnectionError),
                              lambda r: r.close())
            if consume_ratelimit_headers:
                for h in [h for h in resp.headers if h.lower().startswith("x-ratelimit-")]:
                    del resp.headers[h]
            self.last = resp
            return resp

    s = requests.Session()
    s.trust_env = False          # no .netrc / proxy credentials slipped into requests
    adapter = PolicyAdapter(max_retries=0)
    adapter.last = None          # the last response, to check what an SDK made of it (last_json)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    s.policy_adapter = adapter
    return s


def last_json(session: Any) -> Any:
    """The JSON of the last response a `requests_session` received (None if none or not JSON): an SDK may
    reshape a wrong answer (Mastodon.py turns an object sent where a list belongs into the list of its
    keys), so a client checks the shape the server really sent."""
    resp = getattr(getattr(session, "policy_adapter", None), "last", None)
    if resp is None:
        return None
    try:
        return resp.json()
    except ValueError:
        return None


def _read_body(resp: Any, end: float) -> None:
    """Read a requests Response's body now (inside the policy, so that a timeout or a cut-off answer is
    retried like any other), a chunk as it arrives, raising AnswerTooSlow past the monotonic time `end`.
    Session.send then finds the content already read."""
    import requests
    from urllib3.exceptions import ProtocolError, ReadTimeoutError

    chunks: list[bytes] = []
    try:
        while True:
            if time.monotonic() > end:
                raise AnswerTooSlow()
            b = resp.raw.read1(65536, decode_content=True)
            if not b:
                break
            chunks.append(b)
    except ReadTimeoutError:
        resp.close()
        raise requests.exceptions.ReadTimeout("read timed out") from None
    except ProtocolError:
        resp.close()
        raise AnswerCutOff() from None
    except BaseException:
        resp.close()
        raise
    resp._content = b"".join(chunks)
    resp._content_consumed = True


KEPT = "what was fetched before is stored"


def stop_line(head: str, detail: str, *, advice: str | None = None, failure: TransportFailure | None = None) -> str:
    """The one line a stopped pull ends with: where (`head`: client and endpoint), what happened
    (`detail`), what it means (`advice`, for a refusal such as a wrong token or an unknown account), and
    whether running it again helps: not for a refusal or a broken server, later for a long rate limit,
    at once for a timeout or a 5xx."""
    line = f"{head}: {detail}" + (f" — {advice}" if advice else "")
    if isinstance(failure, RetryLater):
        tail = f"{KEPT} — run the pull again after that time to resume"
    elif advice or (failure is not None and failure.permanent):
        tail = KEPT
    else:
        tail = f"{KEPT} — run the pull again to resume"
    return one_line(f"{line}; {tail}", 600)


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
