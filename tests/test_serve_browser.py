"""The dashboard in a real headless Chromium (Debian's /usr/bin/chromium driven by Playwright's Python
API; no browser download): every page loads without a console error, its charts render, the inbox
filters and opens a person, and the JSON twin's figures are what the page shows.

Set LEADS_SCREENSHOTS=1 to also write docs/img/dashboard-*.png (see benchmarks/screenshots.py).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (pip install playwright) is not installed")

CHROMIUM = os.environ.get("LEADS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip(f"no chromium at {CHROMIUM} (apt-get install -y chromium)", allow_module_level=True)

from socialleads.serve import create_app  # noqa: E402
from tests.test_serve_world import HOSTILE_POST, HOSTILE_TEXT, build_world  # noqa: E402

DOCS_IMG = Path(__file__).parents[1] / "docs" / "img"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """uvicorn on 127.0.0.1 in a thread, started and stopped by the test."""

    def __init__(self, app) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    ws = build_world(tmp_path_factory.mktemp("serve-browser"), posts=2500, seed=9)
    app = create_app(ws)
    app.state.dashboard.warm()
    with Server(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        except Exception as exc:  # noqa: BLE001
            pytest.skip(f"chromium did not start: {exc}")
        yield b
        b.close()


def open_page(browser, url: str):
    """A fresh page whose console errors and uncaught exceptions are collected."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until="load")
    return page, errors


def wait_charts(page) -> int:
    n = page.locator(".plotly-fig, .plotly-spec").count()
    if n:
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=15_000)
    return n


def shoot(page, name: str) -> None:
    if os.environ.get("LEADS_SCREENSHOTS"):
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_IMG / f"dashboard-{name}.png"), full_page=True)


def test_every_page_loads_and_draws_its_charts(browser, base_url):
    import httpx

    stages = [s["stage"] for s in httpx.get(f"{base_url}/api/overview", timeout=30).json()["stages"]]
    pages = {"overview": "/", "listen": "/listen", "engage": "/engage", "inbox": "/inbox", "live": "/live",
             "exports": "/tables", **{s: f"/stage/{s}" for s in stages if s not in ("listen", "engage")}}
    charted = 0
    for name, path in pages.items():
        page, errors = open_page(browser, base_url + path)
        n = wait_charts(page)
        if n:
            # every chart div got drawn by plotly
            assert page.locator(".js-plotly-plot").count() >= page.locator(".plotly-fig").count(), path
            charted += 1
        if path == "/live":
            page.wait_for_selector("#live-posts tbody tr", timeout=10_000)  # rows from the first SSE batch
            assert page.locator("#live-status").inner_text().startswith("live")
        shoot(page, name)
        assert errors == [], (path, errors)
        page.close()
    assert charted >= 3  # overview, listen, engage at least


def test_inbox_filters_and_opens_a_person(browser, base_url):
    page, errors = open_page(browser, base_url + "/inbox?answered=any")
    total_all = int(page.locator("p.count").get_attribute("data-total"))
    page.select_option("select[name=question]", "true")
    page.click("#inbox-filters button[type=submit]")
    page.wait_for_url("**question=true**")
    total_q = int(page.locator("p.count").get_attribute("data-total"))
    assert 0 < total_q < total_all
    marks = page.locator('table[data-table=inbox] td[data-col="question"]').all_inner_texts()
    assert marks and set(marks) == {"?"}
    # the hostile reply is shown as text
    page.goto(base_url + "/inbox?platform=x")
    assert HOSTILE_TEXT[:40] in page.locator('table[data-table=inbox]').inner_text()
    assert page.locator("table[data-table=inbox] img").count() == 0
    assert page.evaluate("window.__pwned === undefined")
    # open the first person
    page.goto(base_url + "/inbox")
    link = page.locator('table[data-table=inbox] td[data-col="handle"] a').first
    who = link.inner_text()
    link.click()
    page.wait_for_url("**/person/**")
    assert page.locator("h1").inner_text() == f"Person: {who}" or page.locator("h1").inner_text().startswith("Person:")
    assert page.locator('table[data-table=person] tbody tr').count() >= 1
    shoot(page, "person")
    assert errors == [], errors
    page.close()
    assert HOSTILE_POST


def test_json_twin_matches_what_the_page_shows(browser, base_url):
    import httpx

    api = httpx.get(f"{base_url}/api/overview", timeout=30).json()
    page, errors = open_page(browser, base_url + "/")
    wait_charts(page)
    # the audience chart's combined line is the series' 'all'
    traces = page.evaluate("Array.from(document.getElementById('chart-audience').data)"
                           ".map(t => ({name: t.name, x: t.x, y: t.y}))")
    combined = [t for t in traces if t["name"] == "combined"][0]
    series = api["series"]["audience_daily"]
    assert combined["x"] == series["dates"] and combined["y"] == series["series"]["all"]
    # the followers tile shows the scorecard's figure
    followers = api["scorecard"]["audience"]["followers"]
    tiles = page.locator(".tile").all_inner_texts()
    assert any(t.startswith("Followers") and f"{followers:,}" in t for t in tiles), tiles
    # each stage card shows its grade
    for s in api["stages"]:
        card = page.locator(f'.stagecard[data-stage="{s["stage"]}"] .grade').inner_text()
        assert card == (s["letter"] or "–")
    # inbox page vs its twin
    twin = httpx.get(f"{base_url}/api/inbox?question=true", timeout=30).json()
    page.goto(base_url + "/inbox?question=true")
    assert int(page.locator("p.count").get_attribute("data-total")) == twin["total"]
    shown = page.locator('table[data-table=inbox] td[data-col="priority"]').all_inner_texts()
    assert len(shown) == len(twin["items"])
    assert errors == [], errors
    page.close()
