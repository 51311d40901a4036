"""A local HTTP server on 127.0.0.1 for the live clients' tests (never a real host).

`FakeServer` routes requests to handler functions, logs every request, and can be told to fail:
`fail(path_part, status, headers, times)` answers the next `times` matching requests with `status`,
`hang(path_part, times)` keeps matching requests waiting (longer than the client's timeout).
Handlers return (status, headers, body) with a dict/list body sent as JSON.
Also: loaders for the recorded traffic in ../shared/fixtures (Mastodon.py vcr cassettes, PRAW data).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
FIXTURES = SHARED / "fixtures"

Handler = Callable[["Request"], tuple[int, dict[str, str], Any]]


class Request:
    def __init__(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
                 body: bytes) -> None:
        self.method, self.path, self.query, self.headers, self.body = method, path, query, headers, body

    def q(self, name: str, default: str | None = None) -> str | None:
        v = self.query.get(name)
        return v[-1] if v else default

    def json(self) -> Any:
        return json.loads(self.body or b"{}")


class FakeServer:
    def __init__(self) -> None:
        self.routes: list[tuple[str, str, Handler]] = []       # (method, path prefix, handler)
        self.log: list[Request] = []
        self.faults: list[list[Any]] = []                     # [path_part, status|'hang', headers, times]
        self._release = threading.Event()
        server = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def _do(self) -> None:
                u = urlsplit(self.path)
                n = int(self.headers.get("content-length") or 0)
                req = Request(self.command, u.path, parse_qs(u.query), {k.lower(): v for k, v in self.headers.items()},
                              self.rfile.read(n) if n else b"")
                server.log.append(req)
                for f in server.faults:
                    if f[3] > 0 and f[0] in self.path:
                        f[3] -= 1
                        if f[1] == "hang":
                            server._release.wait(10)
                            return
                        self._send(f[1], f[2], {"error": "Fault", "message": f"injected {f[1]}"})
                        return
                for method, prefix, handler in server.routes:
                    if method == self.command and u.path.startswith(prefix):
                        status, headers, body = handler(req)
                        self._send(status, headers, body)
                        return
                self._send(404, {}, {"error": "NotFound", "message": u.path})

            def _send(self, status: int, headers: dict[str, str], body: Any) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    if not any(k.lower() == "content-type" for k in headers):
                        self.send_header("content-type", "application/json; charset=utf-8")
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_DELETE = _do

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def route(self, method: str, prefix: str, handler: Handler) -> None:
        self.routes.append((method, prefix, handler))

    def fail(self, path_part: str, status: int, headers: dict[str, str] | None = None, times: int = 1) -> None:
        self.faults.append([path_part, status, headers or {}, times])

    def hang(self, path_part: str, times: int = 1) -> None:
        self.faults.append([path_part, "hang", {}, times])

    def requests_to(self, path_part: str) -> list[Request]:
        return [r for r in self.log if path_part in r.path]

    def __enter__(self) -> FakeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def no_sleep_policy(**kw: Any) -> Any:
    """A policy whose waits are recorded, not slept (tests stay fast)."""
    from socialleads.sources.live.http import Policy

    slept: list[float] = []
    p = Policy(timeout=kw.pop("timeout", 2.0), attempts=kw.pop("attempts", 3), backoff=0.01,
               sleep=slept.append, **kw)
    p.slept = slept  # type: ignore[attr-defined]
    return p


# ---------------------------------------------------------------------------------------------------
# recorded traffic

def cassette(name: str) -> list[dict[str, Any]]:
    """The interactions of a Mastodon.py vcr cassette: method, uri, status, headers, body (parsed JSON)."""
    import yaml

    d = yaml.safe_load((FIXTURES / "mastodon" / "mastodon_py_cassettes" / name).read_text(encoding="utf-8"))
    out = []
    for it in d["interactions"]:
        body = it["response"]["body"]["string"]
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = body
        out.append({"method": it["request"]["method"], "uri": it["request"]["uri"],
                    "status": it["response"]["status"]["code"], "headers": it["response"]["headers"],
                    "body": parsed})
    return out


def ndjson(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def page_by_offset(items: list[Any], req: Request, default_limit: int = 50) -> tuple[list[Any], str | None]:
    """Opaque-cursor paging (Bluesky style): the cursor is an offset the client never parses."""
    limit = int(req.q("limit") or default_limit)
    start = int(req.q("cursor") or 0)
    chunk = items[start:start + limit]
    nxt = start + limit
    return chunk, (str(nxt) if nxt < len(items) else None)


def first_header(headers: dict[str, Any], name: str) -> str | None:
    """A header of a recorded response (vcr stores each value as a list)."""
    for k, v in headers.items():
        if k.lower() == name:
            return v[0] if isinstance(v, list) else v
    return None


def page_by_id(rows: list[tuple[int, Any]], req: Request, base: str, default_limit: int = 20) -> tuple[list[Any], dict[str, str]]:
    """Mastodon paging over (id, item) rows sorted newest first: `max_id` (older than), `since_id` (newer
    than, newest first), `min_id` (just newer than, the oldest of them first in time but served newest
    first), `limit`; the `Link` header carries `rel="next"` (max_id = the last row's id) and
    `rel="prev"` (min_id = the first row's id), as Mastodon sends it. The id may be an internal row id."""
    limit = min(int(req.q("limit") or default_limit), 80)
    sel = rows
    for name, keep in (("max_id", lambda i, v: i < v), ("since_id", lambda i, v: i > v),
                       ("min_id", lambda i, v: i > v)):
        v = req.q(name)
        if v is not None:
            sel = [r for r in sel if keep(r[0], int(v))]
    chunk = sel[-limit:] if req.q("min_id") is not None else sel[:limit]
    headers: dict[str, str] = {}
    if chunk:
        lim = f"limit={req.q('limit')}&" if req.q("limit") else ""
        headers["link"] = (f'<{base}{req.path}?{lim}max_id={chunk[-1][0]}>; rel="next", '
                           f'<{base}{req.path}?{lim}min_id={chunk[0][0]}>; rel="prev"')
    return [item for _, item in chunk], headers
