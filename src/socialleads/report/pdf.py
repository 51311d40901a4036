"""The report as a PDF: the offline HTML report printed by a headless Chromium (`leads report --pdf`).

No PDF library is needed: the browser that renders the report's Plotly charts also prints them. The
browser is found at $LEADS_CHROMIUM, else `chromium` / `chromium-browser` / `google-chrome` on PATH.
It runs with no network access needed (the report embeds plotly.js) and a throwaway profile.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from socialleads.errors import LeadsError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw",
         "--virtual-time-budget=10000")


class PdfError(LeadsError):
    """No browser to print with, or the browser failed."""


def find_browser() -> str | None:
    env = os.environ.get("LEADS_CHROMIUM")
    if env:
        return env if Path(env).exists() or shutil.which(env) else None
    return next((p for p in map(shutil.which, BROWSERS) if p), None)


def html_to_pdf(html_path: Path | str, pdf_path: Path | str, *, timeout: float = 120.0) -> Path:
    """Print `html_path` to `pdf_path` with headless Chromium; returns the PDF's path."""
    browser = find_browser()
    if browser is None:
        raise PdfError("--pdf needs a Chromium browser: install it (Debian: apt-get install chromium) or set "
                       "LEADS_CHROMIUM to its path")
    src, out = Path(html_path).resolve(), Path(pdf_path).resolve()
    if src.suffix.lower() not in (".html", ".htm"):   # Chromium opens a file by its name: x.pdf as a PDF (blank)
        raise PdfError(f"{html_path}: the HTML to print must be named .html (Chromium reads a file by its suffix)")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="leads-chromium-") as profile:
        cmd = [browser, *FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={out}", src.as_uri()]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise PdfError(f"{browser}: printing {src.name} took more than {timeout:.0f} s") from exc
    if done.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
        last = (done.stderr or "").strip().splitlines()[-1:] or ["no output"]
        raise PdfError(f"{browser}: could not print {src.name} to PDF ({last[0][:200]})")
    return out


__all__ = ["PdfError", "find_browser", "html_to_pdf"]
