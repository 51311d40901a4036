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


def test_check_values_read_the_same_in_the_terminal_and_the_report():
    """A share reads as a percentage, a count whole, hours with 'h', a per-post number with decimals — in
    the terminal's evidence table and the report's alike (the review saw '7.39 ≥ 100.0%' for clicks per
    link post, and raw fractions in the report next to percentages in the terminal)."""
    from socialleads.format import fmt_check_value
    from socialleads.metrics.stages import Check

    assert fmt_check_value(0.05) == "5.0%" and fmt_check_value(3) == "3" and fmt_check_value(None) == "—"
    assert fmt_check_value(1.0, "number") == "1.00" and fmt_check_value(7.04, "hours") == "7.0 h"
    c = Check("clicks per link post", 7.39, 1.0, "min", unit="number").to_json()
    from socialleads.report.parts import grade_block

    html = grade_block({"grade": {"letter": "A", "met": 1, "checks": 1}, "evidence": [c]})
    assert "7.39" in html and "≥ 1.00" in html and "100.0%" not in html
    share = grade_block({"grade": {"letter": "F", "met": 0, "checks": 1},
                         "evidence": [Check("CTR", 0.005, 0.01, "min").to_json()]})
    # below 1 %, two significant digits (a measured 0.024 % must not read 0.0 %)
    assert "0.50%" in share and "≥ 1.0%" in share
