"""`leads report --pdf`: the HTML report printed by headless Chromium (skipped without a browser)."""

from __future__ import annotations

import shutil

import pytest

from socialleads.report.pdf import find_browser
from socialleads.simulate import simulate
from tests.conftest import leads


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    base = tmp_path_factory.mktemp("pdf")
    simulate(base / "sim", posts=2_000, seed=4)
    ws = base / "ws"
    assert leads("init", str(ws)).returncode == 0
    shutil.copy(base / "sim" / "leads.toml", ws / "leads.toml")
    assert leads("import", str(base / "sim"), "-w", str(ws)).returncode == 0
    return ws


@pytest.mark.skipif(find_browser() is None, reason="no Chromium browser (apt-get install -y chromium)")
def test_report_pdf(workspace, tmp_path):
    r = leads("report", "-w", str(workspace), "-o", str(tmp_path / "r.html"), "--pdf", str(tmp_path / "r.pdf"))
    assert r.returncode == 0, r.stderr
    data = (tmp_path / "r.pdf").read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") + data.count(b"/Type/Page") >= 1 or \
        b"/Page" in data
    assert len(data) > 20_000  # charts and tables, not an empty page


def test_report_pdf_without_browser_is_one_line(workspace, tmp_path):
    r = leads("report", "-w", str(workspace), "-o", str(tmp_path / "r.html"), "--pdf", str(tmp_path / "r.pdf"),
              env={"LEADS_CHROMIUM": str(tmp_path / "no-such-browser")})
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "needs a Chromium browser" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert (tmp_path / "r.html").is_file()  # the HTML report is kept
