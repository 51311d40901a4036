"""The offline HTML report: written, self-contained, the four charts, data HTML-escaped."""

from __future__ import annotations

import re

from socialleads.report import write_report
from socialleads.report.charts import TITLES
from socialleads.workspace import Config
from tests.test_metrics_audience import hand_world, random_world


def test_report_offline_charts_escaped(tmp_path):
    hostile = "<script>alert(1)</script>"
    path = write_report(random_world(7), ["o1", "o2"], Config(name=hostile), tmp_path / "out" / "report.html",
                        window_days=60)
    assert path.exists()
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"""src\s*=\s*["']?\s*(https?:)?//""", text, re.I)  # no CDN, no remote script/img
    assert not re.search(r"""<link[^>]+href\s*=\s*["']?https?://""", text, re.I)
    for title in TITLES.values():
        assert title in text
    assert hostile not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert text.count("plotly.js v") <= 2  # the library is embedded once (its banner mentions the version)
    assert "Social mandate" in text and "Engage" in text
    assert "<h2>Listen</h2>" in text


def test_report_with_unavailable_figures(tmp_path):
    path = write_report(hand_world(), ["o"], Config(name="Tiny"), tmp_path / "r.html", window_days=3)
    text = path.read_text(encoding="utf-8")
    assert "n/a" in text and "Week-4 retention" in text
    assert "1 actions on the owner have no time" in text
