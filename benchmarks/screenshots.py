"""Screenshots of the dashboard's main pages into docs/img/dashboard-*.png.

    python benchmarks/screenshots.py [WORKSPACE]

Without WORKSPACE it builds the small simulated workspace of the browser tests in a temporary folder.
Needs playwright (pip) and Debian's chromium (/usr/bin/chromium; no `playwright install`).
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]
OUT = ROOT / "docs" / "img"
PAGES = {"overview": "/", "listen": "/listen", "engage": "/engage", "inbox": "/inbox", "live": "/live",
         "activate": "/stage/activate", "dominate": "/stage/dominate", "mandate": "/stage/mandate"}


def main() -> None:
    import socket

    import uvicorn
    from playwright.sync_api import sync_playwright

    from socialleads.serve import create_app

    if len(sys.argv) > 1:
        ws = Path(sys.argv[1])
    else:
        sys.path.insert(0, str(ROOT))
        from tests.test_serve_world import build_world

        ws = build_world(Path(tempfile.mkdtemp()), posts=2500, seed=9)
    app = create_app(ws)
    app.state.dashboard.warm()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            for name, path in PAGES.items():
                page.goto(base + path, wait_until="load")
                if page.locator(".plotly-fig, .plotly-spec").count():
                    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=15_000)
                if name == "live":
                    page.wait_for_selector("#live-posts tbody tr", timeout=10_000)
                page.screenshot(path=str(OUT / f"dashboard-{name}.png"), full_page=True)
                print(OUT / f"dashboard-{name}.png")
            page.goto(base + "/inbox")
            page.locator('table[data-table=inbox] td[data-col="handle"] a').first.click()
            page.wait_for_url("**/person/**")
            page.screenshot(path=str(OUT / "dashboard-person.png"), full_page=True)
            print(OUT / "dashboard-person.png")
            browser.close()
    finally:
        server.should_exit = True
        thread.join(10)


if __name__ == "__main__":
    main()
