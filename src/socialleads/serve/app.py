"""The FastAPI application of `leads serve`: server-rendered pages, their JSON twins, exports, live view.

Every page `/X` answers `?format=json` with the same data as its `/api/X` twin (the API is described
by `/openapi.json`). Pages are Jinja2 templates (autoescaped) around fragments built with the report's
helpers; charts are drawn by /static/dashboard.js from JSON (no inline script: see security.py).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import plotly
from fastapi import FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from pydantic import BaseModel

from socialleads import __version__
from socialleads.errors import LeadsError
from socialleads.report.charts import volume_chart, who_chart
from socialleads.report.parts import CSS
from socialleads.serve import render
from socialleads.serve.data import Dashboard, NotFound, ServeError, stage_title
from socialleads.serve.figures import chart_div
from socialleads.serve.security import COOKIE, SecurityMiddleware, check_bind
from socialleads.serve.tables import table_names, table_rows, to_arrow, to_bytes

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
BoolFilter = Annotated[str | None, Query(pattern="^(|any|true|false|yes|no|1|0)$",
                                         description="true | false | any (empty = any)")]
Priority = Annotated[str | None, Query(pattern=r"^(|\d{1,6}(\.\d{1,6})?)$", description="minimum priority (empty = any)")]
Limit = Annotated[int, Query(ge=1, le=10_000)]
Kind = Annotated[str | None, Query(pattern="^(|reply|quote|mention)$")]
Platform = Annotated[str | None, Query(max_length=64)]
Cursor = Annotated[str | None, Query(max_length=40)]
Interval = Annotated[float, Query(ge=0.2, le=60)]
MaxSeconds = Annotated[float | None, Query(ge=0, le=86_400)]


# ---------------------------------------------------------------- response models (the API's documentation)
class Overview(BaseModel):
    workspace: str | None
    scorecard: dict[str, Any]
    series: dict[str, Any]
    stages: list[dict[str, Any]]
    stage_of_influence: Any = None


class StagePage(BaseModel):
    stage: str
    title: str
    section: dict[str, Any]


class ListenPage(BaseModel):
    section: dict[str, Any]
    monitors: list[dict[str, Any]]
    monitor: str | None
    mentions: dict[str, Any] | None
    topics: dict[str, Any]
    alerts: dict[str, Any]


class EngagePage(BaseModel):
    section: dict[str, Any]
    who: list[dict[str, Any]]
    communities: dict[str, Any]


class InboxPage(BaseModel):
    filters: dict[str, Any]
    total: int
    items: list[dict[str, Any]]
    stats: dict[str, Any] | None
    platforms: list[str]
    sla_hours: float | None


class PersonPage(BaseModel):
    handle: str
    accounts: list[str]
    source: str
    profile: list[dict[str, Any]] | None = None
    counts: dict[str, Any] | None = None
    timeline: list[dict[str, Any]] | None = None
    person: Any = None


class TableList(BaseModel):
    tables: list[str]


class TableData(BaseModel):
    table: str
    rows: list[dict[str, Any]]


class LiveBatch(BaseModel):
    cursor: str | None
    new_posts: int
    posts: list[dict[str, Any]]
    alerts: list[dict[str, Any]]


class ErrorBody(BaseModel):
    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {400: {"model": ErrorBody}, 404: {"model": ErrorBody}}


def _flag(value: str | None) -> bool | None:
    if value is None or value in ("", "any"):
        return None
    return value in ("true", "yes", "1")


def create_app(workspace: Path | str | None, *, host: str = "127.0.0.1", token: str | None = None,
               window_days: int | None = None, warm: bool = False) -> FastAPI:
    """The dashboard app over the workspace (opened read-only). Refuses a non-loopback `host` without a
    `token` (ServeError); with a token, every request must carry it (see security.py)."""
    check_bind(host, token)
    dash = Dashboard(workspace, window_days=window_days)
    app = FastAPI(title="socialleads dashboard", version=__version__, docs_url=None, redoc_url=None,
                  description="The LEADS scorecard of one workspace: every page's JSON twin, table exports "
                              "(CSV, Parquet) and a server-sent-events feed of new posts and alerts. Read-only.")
    app.state.dashboard = dash
    app.add_middleware(SecurityMiddleware, token=token)
    env = Environment(loader=PackageLoader("socialleads.serve", "templates"), autoescape=select_autoescape(["html"]))
    env.filters["cell"] = lambda v: "" if v is None else render.fmt(v)
    env.filters["fmt"] = render.fmt
    memo: dict[str, Any] = {}
    memo_lock = threading.Lock()

    def rendered(key: str, build: Any) -> Any:
        """Rendered HTML fragments, cached like the data (per state of the store)."""
        state = dash.state()
        with memo_lock:
            if memo.get("_state") != state:
                memo.clear()
                memo["_state"] = state
            if key in memo:
                return memo[key]
        value = build()
        with memo_lock:
            memo[key] = value
        return value

    def nav() -> list[tuple[str, str]]:
        items = [("/", "Overview"), ("/listen", "Listen"), ("/engage", "Engage"), ("/inbox", "Inbox")]
        items += [(f"/stage/{s}", stage_title(s)) for s in dash.stages() if s not in ("listen", "engage")]
        return items + [("/live", "Live"), ("/tables", "Exports")]

    def page(request: Request, template: str, title: str, active: str, json_url: str, subtitle: str = "",
             **ctx: Any) -> HTMLResponse:
        html = env.get_template(template).render(title=title, subtitle=subtitle, workspace=dash.name or "socialleads",
                                                 nav=nav(), active=active, json_url=json_url,
                                                 page=active.strip("/").replace("/", "-") or "overview", **ctx)
        return HTMLResponse(html)

    def wants_json(fmt: str | None) -> bool:
        return fmt == "json"

    def as_json(data: Any) -> JSONResponse:
        return JSONResponse(data)

    # ---------------------------------------------------------------- errors
    @app.exception_handler(ServeError)
    async def _serve_error(request: Request, exc: ServeError) -> Response:
        status = 404 if isinstance(exc, NotFound) else 400
        if request.url.path.startswith("/api/") or request.query_params.get("format") == "json":
            return JSONResponse({"detail": str(exc)}, status_code=status)
        html = env.get_template("error.html").render(title="Not found" if status == 404 else "Cannot show this",
                                                     workspace=dash.name or "socialleads", nav=[], active="",
                                                     json_url=str(request.url.path), message=str(exc), page="error")
        return HTMLResponse(html, status_code=status)

    # ---------------------------------------------------------------- static files and login
    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(PLOTLY_JS, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/static/report.css", include_in_schema=False)
    def report_css() -> Response:
        return Response(CSS, media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        files = resources.files("socialleads.serve") / "static"
        if name not in {"dashboard.js", "dashboard.css"}:
            raise NotFound(f"no static file {name!r}")
        media = "text/javascript" if name.endswith(".js") else "text/css"
        return Response((files / name).read_bytes(), media_type=media, headers={"Cache-Control": "max-age=3600"})

    @app.get("/login", include_in_schema=False)
    def login(token: str = "") -> Response:
        """Set the token cookie (the middleware has already checked the token) and go to the overview."""
        resp = RedirectResponse("/", status_code=303)
        if app.state.token:
            resp.set_cookie(COOKIE, app.state.token, httponly=True, samesite="strict", path="/")
        return resp

    app.state.token = token

    # ---------------------------------------------------------------- overview
    def overview_data() -> dict[str, Any]:
        card = dash.scorecard()
        return {"workspace": card.get("workspace"), "scorecard": card, "series": dash.series(),
                "stages": render.stage_cards(card, dash.stages()), "stage_of_influence": card.get("stage_of_influence")}

    @app.get("/api/overview", response_model=Overview, tags=["pages"])
    def api_overview() -> JSONResponse:
        """The LEADS scorecard: audience figures, chart series, each stage's grade, the stage of influence."""
        return as_json(overview_data())

    @app.get("/", include_in_schema=False)
    def overview(request: Request, format: str | None = None) -> Response:
        data = overview_data()
        if wants_json(format):
            return as_json(data)
        a = data["scorecard"]["audience"]
        win = a.get("window")
        sub = (f"Window {win['start'][:10]} to {win['end'][:10]} ({win['days']} days, ending at the latest data)"
               if win else "No timestamped data yet: import some data")
        blocks: list[dict[str, Any]] = []
        soi = data["stage_of_influence"]
        if soi is not None:
            blocks += [{"kind": "h2", "id": "stage-of-influence", "text": "Stage of influence"},
                       {"kind": "html", "html": Markup(rendered("soi", lambda: render.generic_html(soi)))}]
        cards = [{**c, "href": "/listen" if c["stage"] == "listen" else "/engage" if c["stage"] == "engage"
                  else f"/stage/{c['stage']}"} for c in data["stages"]]
        blocks += [
            {"kind": "h2", "id": "stages", "text": "LEADS stages"}, {"kind": "stages", "cards": cards},
            {"kind": "h2", "id": "audience", "text": "Audience"},
            {"kind": "html", "html": Markup(rendered("tiles", lambda: render.audience_tiles(a)))},
            {"kind": "table", "name": "audience_per_platform", "columns": [
                ("platform", "platform"), ("followers", "followers"), ("followers_start", "at start"),
                ("net_growth", "net growth")],
             "rows": table_rows(dash, "audience_per_platform"), "download": "audience_per_platform"},
            {"kind": "html", "html": Markup(rendered("charts", lambda: render.audience_charts(data["series"])))},
            {"kind": "h2", "id": "listen", "text": "Listen"},
            {"kind": "html", "html": Markup(rendered("listen-summary", lambda: render.listen_summary_html(
                data["scorecard"].get("listen"))))},
        ]
        return page(request, "page.html", "LEADS scorecard", "/", "/api/overview", sub, blocks=blocks)

    # ---------------------------------------------------------------- stages
    def stage_data(stage: str) -> dict[str, Any]:
        return {"stage": stage, "title": stage_title(stage), "section": dash.section(stage)}

    @app.get("/api/stages/{stage}", response_model=StagePage, responses=ERRORS, tags=["pages"])
    def api_stage(stage: str) -> JSONResponse:
        """One stage's section of the scorecard: available, grade, evidence and its own figures."""
        return as_json(stage_data(stage))

    def stage_blocks(stage: str, section: dict[str, Any]) -> list[dict[str, Any]]:
        html = rendered(f"stage:{stage}", lambda: render.section_html(stage, section))
        blocks: list[dict[str, Any]] = [{"kind": "html", "html": Markup(html)}]
        names = set(table_names(dash))
        downloads = [n for n in names if n.startswith(stage + "_")]
        if downloads:
            links = " · ".join(f'<a href="/api/{n}.csv">{n}.csv</a> <a href="/api/{n}.parquet">.parquet</a>'
                               for n in sorted(downloads))
            blocks.append({"kind": "html", "html": Markup(f'<p class="dl">Download: {links}</p>')})
        return blocks

    @app.get("/stage/{stage}", include_in_schema=False)
    def stage_page(request: Request, stage: str, format: str | None = None) -> Response:
        data = stage_data(stage)
        if wants_json(format):
            return as_json(data)
        return page(request, "page.html", data["title"], f"/stage/{stage}", f"/api/stages/{stage}",
                    blocks=stage_blocks(stage, data["section"]))

    # ---------------------------------------------------------------- listen
    def listen_data(monitor: str | None) -> dict[str, Any]:
        monitors = dash.monitors()
        current = monitor or (monitors[0]["name"] if monitors else None)
        return {"section": dash.section("listen"), "monitors": monitors, "monitor": current,
                "mentions": dash.mentions(current) if current else None, "topics": dash.topics(),
                "alerts": dash.alerts()}

    @app.get("/api/listen", response_model=ListenPage, responses=ERRORS, tags=["pages"])
    def api_listen(monitor: str | None = None) -> JSONResponse:
        """Listen: the summary, saved monitors, mentions of one monitor (default: the first), topics, alerts."""
        return as_json(listen_data(monitor))

    @app.get("/listen", include_in_schema=False)
    def listen_page(request: Request, monitor: str | None = None, format: str | None = None) -> Response:
        data = listen_data(monitor)
        if wants_json(format):
            return as_json(data)
        cur = data["monitor"]
        blocks: list[dict[str, Any]] = [
            {"kind": "html", "html": Markup(rendered("listen-summary", lambda: render.listen_summary_html(
                data["section"])))},
            {"kind": "h2", "id": "monitors", "text": "Monitors"}]
        if data["monitors"]:
            blocks.append({"kind": "monitors", "rows": data["monitors"], "current": cur})
        else:
            blocks.append({"kind": "p", "text": "No saved monitor yet: `leads monitor add NAME QUERY`."})
        if cur and data["mentions"] is not None:
            m = data["mentions"]
            blocks += [{"kind": "h2", "id": "mentions", "text": f"Mentions: {cur}"},
                       {"kind": "html", "html": Markup(rendered(f"volume:{cur}", lambda: chart_div(
                           volume_chart(m["volume_daily"], f"Posts matching {cur} per day"), "chart-volume")))},
                       {"kind": "table", "name": "mentions", "rows": m["mentions"], "links": {"author": "author"},
                        "columns": [("created_at", "time"), ("platform", "platform"), ("author", "author"),
                                    ("text", "text")], "download": f"mentions?monitor={cur}"}]
        for key, title, cols in (
                ("topics", "Topics", [("topic_id", "#"), ("label", "label"), ("size", "posts")]),
                ("alerts", "Alerts", [("raised_at", "raised"), ("monitor", "monitor"), ("kind", "kind"),
                                      ("window_start", "from"), ("window_end", "to"), ("peak_count", "peak"),
                                      ("total_count", "total")])):
            t = data[key]
            blocks.append({"kind": "h2", "id": key, "text": title})
            if t["available"]:
                blocks.append({"kind": "table", "name": key, "rows": t["rows"], "columns": cols, "download": key})
            else:
                blocks.append({"kind": "p", "text": t["reason"], "cls": "empty"})
        return page(request, "page.html", "Listen", "/listen", "/api/listen" + (f"?monitor={cur}" if monitor else ""),
                    blocks=blocks)

    # ---------------------------------------------------------------- engage
    def engage_data() -> dict[str, Any]:
        return {"section": dash.section("engage"), "who": dash.who(), "communities": dash.communities()}

    @app.get("/api/engage", response_model=EngagePage, tags=["pages"])
    def api_engage() -> JSONResponse:
        """Engage: the stage section, who matters most, and the owner's communities."""
        return as_json(engage_data())

    @app.get("/engage", include_in_schema=False)
    def engage_page(request: Request, format: str | None = None) -> Response:
        data = engage_data()
        if wants_json(format):
            return as_json(data)
        who = [{**r, "ref": r.get("handle") or r["account"], "why": (r.get("reasons") or [""])[0]}
               for r in data["who"]]
        blocks: list[dict[str, Any]] = stage_blocks("engage", data["section"]) + [
            {"kind": "h2", "id": "who", "text": "Who matters most"},
            {"kind": "html", "html": Markup(rendered("who-chart", lambda: chart_div(who_chart(data["who"]),
                                                                                    "chart-who")))},
            {"kind": "table", "name": "who", "rows": who, "links": {"handle": "ref"}, "download": "who",
             "columns": [("rank", "#"), ("handle", "account"), ("platform", "platform"), ("pagerank", "PageRank"),
                         ("audience", "audience"), ("spread", "spread"), ("conversation", "conversation"),
                         ("why", "why")]},
            {"kind": "h2", "id": "communities", "text": "Communities"}]
        c = data["communities"]
        if c["available"]:
            blocks.append({"kind": "table", "name": "communities", "rows": table_rows(dash, "communities"),
                           "download": "communities",
                           "columns": [("community", "#"), ("size", "members"), ("acted_on_owner", "acted on you"),
                                       ("reach", "reach"), ("top_members", "top members"), ("top_terms", "top terms")]})
        else:
            blocks.append({"kind": "p", "text": c["reason"], "cls": "empty"})
        blocks.append({"kind": "p", "text": "The inbox has its own page: Inbox."})
        return page(request, "page.html", "Engage", "/engage", "/api/engage", blocks=blocks)

    # ---------------------------------------------------------------- inbox
    def inbox_data(priority: str | None, question: str | None, negative: str | None, platform: str | None,
                   kind: str | None, answered: str | None, limit: int) -> dict[str, Any]:
        return dash.inbox(priority=float(priority) if priority else None, question=_flag(question), negative=_flag(negative),
                          platform=platform or None, kind=kind or None,
                          answered=False if answered is None else _flag(answered), limit=limit)

    @app.get("/api/inbox", response_model=InboxPage, tags=["pages"])
    def api_inbox(priority: Priority = None, question: BoolFilter = None, negative: BoolFilter = None,
                  platform: Platform = None, kind: Kind = None, answered: BoolFilter = "false",
                  limit: Limit = 100) -> JSONResponse:
        """The engagement inbox, highest priority first, filtered (answered=false: unanswered only)."""
        return as_json(inbox_data(priority, question, negative, platform, kind, answered, limit))

    @app.get("/inbox", include_in_schema=False)
    def inbox_page(request: Request, priority: Priority = None, question: BoolFilter = None,
                   negative: BoolFilter = None, platform: Platform = None, kind: Kind = None,
                   answered: BoolFilter = "false", limit: Limit = 100, format: str | None = None) -> Response:
        data = inbox_data(priority, question, negative, platform, kind, answered, limit)
        if wants_json(format):
            return as_json(data)
        rows = [{**r, "ref": r.get("handle") or r["author"], "question": "?" if r.get("is_question") else "",
                 "text": (r.get("text") or "")[:280]} for r in data["items"]]
        qs = request.url.query
        qs = "&".join(p for p in qs.split("&") if p and not p.startswith("format="))
        st = data["stats"] or {}
        stats_html = Markup(render.tiles_html([
            ("Response rate", st.get("response_rate"), "pct"), ("Median response", st.get("median_response_hours"), "h"),
            ("Within SLA", st.get("within_sla_share"), "pct"), ("Conversation ratio", st.get("conversation_ratio"), "")],
            st.get("unavailable") or {}))
        return page(request, "inbox.html", "Inbox", "/inbox", "/api/inbox" + (f"?{qs}" if qs else ""),
                    "Unanswered replies, quotes and mentions, highest priority first",
                    f=data["filters"], q={"question": question or "", "negative": negative or "",
                                          "answered": answered or "false"},
                    platforms=data["platforms"], total=data["total"], rows=rows, stats_html=stats_html,
                    download="inbox" + (f"?{qs}" if qs else ""),
                    columns=[("priority", "priority"), ("kind", "kind"), ("handle", "from"), ("platform", "platform"),
                             ("created_at", "time"), ("question", "?"), ("sentiment", "sentiment"),
                             ("text", "text")])

    # ---------------------------------------------------------------- person
    @app.get("/api/person/{handle:path}", response_model=PersonPage, responses=ERRORS, tags=["pages"])
    def api_person(handle: str) -> JSONResponse:
        """One account (by handle or key) and its interactions with the owner, newest first."""
        return as_json(dash.person(handle))

    @app.get("/person/{handle:path}", include_in_schema=False)
    def person_page(request: Request, handle: str, format: str | None = None) -> Response:
        data = dash.person(handle)
        if wants_json(format):
            return as_json(data)
        blocks: list[dict[str, Any]]
        if data["source"] == "timeline":
            counts = data["counts"]
            summary = "; ".join(f"{d}: " + ", ".join(f"{n} {t}" for t, n in c.items()) for d, c in counts.items()
                                if c) or "no interaction with you in the store"
            blocks = [
                {"kind": "table", "name": "profile", "rows": data["profile"],
                 "columns": [("platform", "platform"), ("handle", "handle"), ("display_name", "name"),
                             ("account", "key")]},
                {"kind": "p", "text": summary},
                {"kind": "h2", "id": "timeline", "text": "Timeline with you"},
                {"kind": "table", "name": "person", "rows": data["timeline"], "download": f"person?handle={handle}",
                 "columns": [("created_at", "time"), ("direction", "direction"), ("type", "type"),
                             ("platform", "platform"), ("text", "text")]}]
        else:
            person = data["person"] or {}
            rest = {k: v for k, v in person.items() if k != "events"}
            blocks = [{"kind": "html", "html": Markup(render.defuse(render.generic_html(rest)))},
                      {"kind": "h2", "id": "timeline", "text": "Timeline with you"},
                      {"kind": "table", "name": "person", "rows": person.get("events") or [],
                       "download": f"person?handle={handle}",
                       "columns": [("time", "time"), ("direction", "direction"), ("type", "type"),
                                   ("platform", "platform"), ("snippet", "text")]}]
        return page(request, "page.html", f"Person: {handle}", "/person", f"/api/person/{handle}", blocks=blocks)

    # ---------------------------------------------------------------- exports
    @app.get("/api/tables", response_model=TableList, tags=["exports"])
    def api_tables() -> JSONResponse:
        """The names of every table the dashboard shows (download each as /api/NAME.csv or .parquet)."""
        return as_json({"tables": table_names(dash)})

    ExportParams = dict[str, Any]

    def export_params(request: Request) -> ExportParams:
        p = dict(request.query_params)
        out: dict[str, Any] = {k: p[k] for k in ("monitor", "handle", "platform", "kind") if p.get(k)}
        for k in ("question", "negative", "answered"):
            if k in p:
                out[k] = _flag(p[k])
        if p.get("priority"):
            try:
                out["priority"] = float(p["priority"])
            except ValueError as exc:
                raise ServeError(f"priority: expected a number, got {p['priority']!r}") from exc
        return out

    @app.get("/api/tables/{name}", response_model=TableData, responses=ERRORS, tags=["exports"])
    def api_table(name: str, request: Request, monitor: str | None = None, handle: str | None = None) -> JSONResponse:
        """One table's rows as JSON (nested values as JSON text, as in the CSV and Parquet files)."""
        return as_json({"table": name, "rows": table_rows(dash, name, **export_params(request))})

    @app.get("/api/{name}.csv", responses={200: {"content": {"text/csv": {}}}, **ERRORS}, tags=["exports"])
    def api_csv(name: str, request: Request, monitor: str | None = None, handle: str | None = None) -> Response:
        """Download a table as CSV (UTF-8, header row)."""
        data = to_bytes(to_arrow(table_rows(dash, name, **export_params(request))), "csv")
        return Response(data, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})

    @app.get("/api/{name}.parquet", responses={200: {"content": {"application/vnd.apache.parquet": {}}}, **ERRORS},
             tags=["exports"])
    def api_parquet(name: str, request: Request, monitor: str | None = None, handle: str | None = None) -> Response:
        """Download a table as Parquet."""
        data = to_bytes(to_arrow(table_rows(dash, name, **export_params(request))), "parquet")
        return Response(data, media_type="application/vnd.apache.parquet",
                        headers={"Content-Disposition": f'attachment; filename="{name}.parquet"'})

    @app.get("/tables", include_in_schema=False)
    def tables_page(request: Request, format: str | None = None) -> Response:
        names = table_names(dash)
        if wants_json(format):
            return as_json({"tables": names})
        rows = "".join(f'<tr><td><code>{n}</code></td><td><a href="/api/{n}.csv">CSV</a> · '
                       f'<a href="/api/{n}.parquet">Parquet</a> · <a href="/api/tables/{n}">JSON</a></td></tr>'
                       for n in names if n not in ("mentions", "person"))
        html = Markup(f'<table class="data" data-table="tables"><thead><tr><th>table</th><th>download</th></tr>'
                      f'</thead><tbody>{rows}</tbody></table><p>The mentions and person tables take a parameter: '
                      f'<code>/api/mentions.csv?monitor=NAME</code>, <code>/api/person.csv?handle=HANDLE</code>. '
                      f'From the command line: <code>leads export TABLE|all --format csv|parquet --out DIR</code>.</p>')
        return page(request, "page.html", "Exports", "/tables", "/api/tables", blocks=[{"kind": "html", "html": html}])

    # ---------------------------------------------------------------- live
    @app.get("/api/live", response_model=LiveBatch, tags=["live"])
    def api_live(cursor: Cursor = None) -> JSONResponse:
        """Posts first seen and alerts raised after `cursor` (ISO time; none = the latest ones)."""
        try:
            return as_json(dash.live_since(cursor))
        except ValueError as exc:
            raise ServeError(f"cursor: expected an ISO time, got {cursor!r}") from exc

    @app.get("/api/live/stream", tags=["live"], responses={200: {"content": {"text/event-stream": {}}}})
    async def live_stream(request: Request, interval: Interval = 1.0, max_seconds: MaxSeconds = None) -> StreamingResponse:
        """Server-sent events: a `batch` event with the latest posts and alerts, then one whenever the
        store changes (checked every `interval` seconds); `status` events when the store is busy."""

        async def events() -> Any:
            cursor = None
            state = None
            started = time.monotonic()
            first = True
            while max_seconds is None or time.monotonic() - started <= max_seconds:
                if await request.is_disconnected():
                    break
                now = dash.state()
                if now != state:
                    try:
                        batch = await asyncio.to_thread(dash.live_since, cursor)
                    except LeadsError as exc:  # e.g. the store is held by a writer: say so, retry
                        yield f"event: status\ndata: {json.dumps({'message': f'store busy: {exc}; retrying'})}\n\n"
                    else:
                        state = now
                        if first or batch["new_posts"] or batch["alerts"]:
                            cursor = batch["cursor"] or cursor
                            yield f"event: batch\ndata: {json.dumps(batch)}\n\n"
                            first = False
                else:
                    yield ": keep-alive\n\n"
                await asyncio.sleep(interval)

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @app.get("/live", include_in_schema=False)
    def live_page(request: Request) -> Response:
        return page(request, "live.html", "Live", "/live", "/api/live")

    if warm:
        threading.Thread(target=_warm, args=(dash,), daemon=True, name="leads-serve-warm").start()
    return app


def _warm(dash: Dashboard) -> None:
    try:
        dash.warm()
    except Exception:  # noqa: BLE001 — a page will show the error when it asks for the same section
        pass


__all__ = ["create_app"]
