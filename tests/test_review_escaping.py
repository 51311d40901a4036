"""Review: the HTML report keeps hostile data as text.

A simulated world is imported, then every piece of data a user or a stranger controls is made hostile:
handles, display names, post text, topic labels and terms, monitor names, experiment names, campaign
names (utm_campaign in links and clicks), the workspace name, competitor names and brand statements.
The full report (`render_report` over `scorecard_and_series`) is parsed with html.parser: no element and
no attribute may come from the data, and no chart label may carry raw markup (plotly.js renders a few
tags — <a href>, <b>, <br>, <span style> — from labels, so labels must be escaped too).
"""

from __future__ import annotations

import json
import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from socialleads.enrich.signals import enrich
from socialleads.listen.topics import fit_topics
from socialleads.metrics.scorecard import scorecard_and_series
from socialleads.report.html import STAGE_RENDERERS, render_report
from socialleads.simulate import simulate
from socialleads.sources.importer import import_path
from socialleads.store import open_store
from socialleads.store.db import run_sql
from socialleads.workspace.config import parse_config

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = '"><script>alert(2)</script>'
LINK = '<a href="https://evil.example">click</a>'
HOSTILE = f"{IMG}{SCRIPT}{LINK}"
# the tag names and attribute names an attacker's markup would add
BAD_TAGS = {"img", "a", "svg", "iframe"}
BAD_ATTRS = {"onerror", "onload", "src", "href"}


class Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def _hostile_world(base: Path) -> Path:
    sim = base / "sim"
    simulate(sim, posts=2_000, seed=4)
    # a hostile campaign name travels in the links of the owner's posts and in the clicks (the campaign of
    # the last months: the Activate section counts the clicks of the window)
    for name in ("posts-0001.jsonl", "clicks.csv"):
        p = sim / name
        p.write_text(p.read_text(encoding="utf-8").replace(
            "utm_campaign=autumn-pro", "utm_campaign=%3Cimg%20src%3Dx%20onerror%3Dalert(3)%3E"),
            encoding="utf-8")
    return sim


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    sim = _hostile_world(tmp_path_factory.mktemp("hostile"))
    raw = tomllib.loads((sim / "leads.toml").read_text(encoding="utf-8"))
    raw["workspace"]["name"] = HOSTILE
    raw["competitors"][0]["name"] = IMG + " Gridly"
    raw["brand"]["principles"] = [SCRIPT + " " + p for p in raw["brand"]["principles"]]
    config = parse_config(raw)
    store = open_store(None)
    import_path(store, sim)
    con = store.con
    run_sql(con, "UPDATE accounts SET handle = ? || coalesce(handle, account_key), display_name = ?",
            [IMG, HOSTILE])
    run_sql(con, "UPDATE posts SET text = ? || ' ' || coalesce(text, '')", [SCRIPT])
    run_sql(con, "UPDATE experiment_assignments SET experiment = ? || experiment", [IMG])
    run_sql(con, "INSERT INTO monitors (name, query, created_at) VALUES (?, 'voltwise', now())", [HOSTILE])
    enrich(store)
    fit_topics(store, k=4, seed=0)
    run_sql(con, "UPDATE topics SET label = ? || label, terms = list_prepend(?, terms)", [HOSTILE, LINK])
    owners = [a.key for a in config.owner]
    both = scorecard_and_series(store, owners, config, None, series=True)
    html = render_report(both["scorecard"], both["series"])
    yield both["scorecard"], html
    store.close()


def test_the_world_really_is_hostile(report):
    """The hostile values reach the sections the renderers draw (else the test below proves nothing)."""
    card, _ = report
    text = json.dumps(card)
    assert IMG in text and "<script>alert(2)" in text
    for stage in ("listen", *STAGE_RENDERERS):
        assert card[stage].get("available"), (stage, card[stage].get("reason"))
    assert any(IMG in e["experiment"] for e in card["activate"]["experiments"])
    assert any("<img" in (c.get("campaign") or "") for c in card["activate"]["campaigns"])
    assert any(IMG in (m.get("name") or "") for m in card["dominate"]["members"])
    assert any(HOSTILE in (t.get("label") or "") for t in card["listen"]["topics"]["topics"])


def test_no_markup_from_data_in_the_report(report):
    _, html = report
    p = Collect()
    p.feed(html)
    tags = {t for t, _ in p.tags}
    assert not tags & BAD_TAGS, tags & BAD_TAGS
    attrs = {k for _, a in p.tags for k, _ in a}
    assert not attrs & BAD_ATTRS, attrs & BAD_ATTRS
    # the only scripts are plotly.js itself and the Plotly.newPlot calls (hostile text never opens one)
    assert sum(t == "script" for t, _ in p.tags) == len(p.scripts)
    assert "alert(2)</script>" not in html
    # escaped text is still shown to the reader
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_chart_labels_carry_no_raw_markup(report):
    """Plotly JSON-escapes '<' as \\u003c inside its script; a raw '<img'/'<a ' in a label would show up
    as \\u003cimg / \\u003ca in a Plotly.newPlot call, and plotly.js draws <a href> as a live link."""
    _, html = report
    calls = [m.group(0) for m in re.finditer(r"Plotly\.newPlot\(.*?</script>", html, re.S)]
    assert calls, "no chart in the report"
    for call in calls:
        low = call.lower()
        assert "\\u003cimg" not in low and "\\u003ca href" not in low and "\\u003cscript" not in low, call[:300]
