"""The dashboard's safety rules: where it may bind, the access token, and the response headers.

* Bound to a loopback address (127.0.0.1, ::1, localhost) it needs no token, but only answers requests
  whose Host is a loopback name (a DNS-rebinding page cannot read it).
* Bound to any other address it refuses to start without a token; then every request must carry it,
  as `Authorization: Bearer TOKEN` or the `token` cookie that `/login?token=TOKEN` sets (HttpOnly,
  SameSite=Strict), or it is refused with 401. The token is never echoed in a page or JSON.
* Every response carries a strict Content-Security-Policy (no inline script, nothing from another
  origin, no framing), X-Content-Type-Options: nosniff and Referrer-Policy: no-referrer.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import parse_qs

from socialleads.serve.data import ServeError

LOOPBACK = {"127.0.0.1", "::1", "localhost", "[::1]"}
# The ASGI test client's Host: harmless (not resolvable), lets tests run the local-bind rules.
LOCAL_HOST_NAMES = LOOPBACK | {"testserver"}
TOKEN_ENV = "LEADS_TOKEN"
COOKIE = "token"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


def is_loopback(host: str) -> bool:
    return host.strip().lower() in LOOPBACK or host.startswith("127.")


def generate_token() -> str:
    return secrets.token_urlsafe(32)


def check_bind(host: str, token: str | None) -> None:
    """Refuse a non-loopback bind without an access token (and a token too short to be one)."""
    if token is not None and len(token) < 16:
        raise ServeError("the access token must be at least 16 characters (use --generate-token for a random one)")
    if not is_loopback(host) and not token:
        raise ServeError(f"refusing to serve on {host}: any address but 127.0.0.1 needs an access token "
                         f"(--token TOKEN, ${TOKEN_ENV}, or --generate-token)")


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for k, v in scope.get("headers") or []:
        if k == name:
            return v.decode("latin-1")
    return None


def _host_name(host: str) -> str:
    """The name part of a Host header ('[::1]:8000' → '[::1]', 'localhost:8000' → 'localhost')."""
    host = host.strip().lower()
    if host.startswith("["):
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0]


def _cookie(scope: dict[str, Any], name: str) -> str | None:
    raw = _header(scope, b"cookie") or ""
    for part in raw.split(";"):
        k, _, v = part.strip().partition("=")
        if k == name:
            return v
    return None


class SecurityMiddleware:
    """Pure ASGI (works with the server-sent events stream): token and Host checks, security headers."""

    def __init__(self, app: Any, token: str | None) -> None:
        self.app = app
        self.token = token

    def _authorized(self, scope: dict[str, Any]) -> bool:
        if self.token is None:
            host = _host_name(_header(scope, b"host") or "")
            return host in LOCAL_HOST_NAMES or host.startswith("127.")
        given = None
        auth = _header(scope, b"authorization") or ""
        if auth[:7].lower() == "bearer ":
            given = auth[7:].strip()
        given = given or _cookie(scope, COOKIE)
        if scope.get("path") == "/login":
            qs = parse_qs((scope.get("query_string") or b"").decode("latin-1"))
            given = (qs.get("token") or [None])[0] or given
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() not in {k for k, _ in HEADERS}]
                message = {**message, "headers": headers + HEADERS}
            await send(message)

        if not self._authorized(scope):
            body = (b'{"detail":"an access token is required: send Authorization: Bearer TOKEN or open '
                    b'/login?token=TOKEN"}' if self.token else b'{"detail":"this dashboard only answers on localhost"}')
            status = 401 if self.token else 403
            await send_with_headers({"type": "http.response.start", "status": status,
                                     "headers": [(b"content-type", b"application/json"),
                                                 (b"www-authenticate", b"Bearer")]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send_with_headers)


__all__ = ["CSP", "COOKIE", "TOKEN_ENV", "SecurityMiddleware", "check_bind", "generate_token", "is_loopback"]
