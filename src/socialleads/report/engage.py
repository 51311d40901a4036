"""The Engage section of the HTML report: who matters, the inbox, response figures and their
distribution, the community map and the community-building behaviours.

`render(section)` takes the JSON-ready section of socialleads.engage.section (the grade block is drawn by
report/html.py) and returns HTML; every value from data goes through parts.esc / parts.table.
"""

from __future__ import annotations

from typing import Any

from socialleads.report.engage_charts import community_map, response_time_chart
from socialleads.report.parts import esc, figure_div, num, pct, table, tile, tiles


def _hours(v: Any) -> str:
    return f"{v:.1f} h" if v < 48 else f"{v / 24:.1f} d"


def _rate(block: dict[str, Any], un: dict[str, str], name: str, label: str) -> str:
    rate, count = block.get("rate"), block.get("count")
    note = f"{count:,} · {block.get('denominator', '')}" if count is not None else ""
    return tile(label, rate, pct, un.get(f"{name}.rate") or un.get(f"{name}.count"), note)


def render(section: dict[str, Any]) -> str:
    if not section.get("available"):
        return f'<div class="stage">{esc(section.get("reason") or "not available")}</div>'
    out: list[str] = []
    r = section.get("response") or {}
    un = r.get("unavailable") or {}
    box = section.get("inbox") or {}
    bands = box.get("by_band") or {}
    sla = r.get("sla_hours")
    out.append(tiles([
        tile("Open inbox items", box.get("open"), num,
             note=f"high {bands.get('high', 0):,} · medium {bands.get('medium', 0):,} · low {bands.get('low', 0):,}"
                  f" · overdue {box.get('overdue', 0):,}"),
        tile("Response rate", r.get("response_rate"), pct, un.get("response_rate"),
             f"{r.get('answered') or 0:,} of {r.get('inbound') or 0:,} inbound items"),
        tile("Median time to first reply", r.get("median_response_hours"), _hours, un.get("median_response_hours")),
        tile("p90 time to first reply", r.get("p90_response_hours"), _hours, un.get("p90_response_hours")),
        tile("Within SLA" + (f" ({sla:g} h)" if sla else ""), r.get("within_sla_share"), pct,
             un.get("within_sla_share")),
        tile("Listened and acted", r.get("listened_and_acted_rate"), pct, un.get("listened_and_acted_rate"),
             "questions and complaints answered within the SLA"),
        tile("Conversation ratio", r.get("conversation_ratio"), lambda v: f"{v:.2f}", un.get("conversation_ratio"),
             "replies + quotes with comment ÷ all own posts"),
        tile("Conversation starts", r.get("conversation_start_share"), pct, un.get("conversation_start_share"),
             "own posts that got a reply"),
        tile("Reciprocity", r.get("reciprocity"), pct, un.get("reciprocity"),
             f"{r.get('engaged_back') or 0:,} of {r.get('engagers') or 0:,} engagers engaged back"),
    ]))

    out.append("<h3>Who matters most</h3>")
    who = section.get("who_matters") or []
    if who:
        rows = [{**w, "who": w.get("handle") or w["account"]} for w in who]
        out.append(table([("rank", "#"), ("who", "account"), ("platform", "platform"), ("pagerank", "PageRank"),
                          ("reason", "why")], rows, {"pagerank": lambda v: f"{v:.4f}"},
                         caption="weighted PageRank on the interaction graph of the window"))
    else:
        out.append(f'<div class="stage">{esc((section.get("unavailable") or {}).get("who_matters", "none"))}</div>')

    hist = section.get("response_distribution") or []
    if any(b.get("count") for b in hist):
        out.append(figure_div(response_time_chart(hist, sla), "engage-response-time"))

    out.append("<h3>Communities around you</h3>")
    comms = section.get("communities")
    if comms:
        out.append(figure_div(community_map(comms), "engage-community-map"))
        rows = [{**c, "members": ", ".join(str(m) for m in c.get("top_members", [])),
                 "terms": ", ".join(str(t) for t in c.get("top_terms", []))} for c in comms]
        out.append(table([("community", "#"), ("size", "members"), ("reach", "your reach"),
                          ("members", "top members"), ("terms", "top terms")], rows, {"reach": pct},
                         caption="Leiden communities of the accounts that interacted with you (you left out)"))
    else:
        out.append(f'<div class="stage">{esc((section.get("unavailable") or {}).get("communities", "none"))}</div>')

    beh = section.get("behaviours")
    if beh:
        bu = beh.get("unavailable") or {}
        out.append("<h3>Community building</h3>")
        out.append(tiles([
            _rate(beh["welcomes"], bu, "welcomes", f"Welcomes (within {beh.get('welcome_days', 7)} days)"),
            _rate(beh["introductions"], bu, "introductions", "Introductions"),
            _rate(beh["affirmations"], bu, "affirmations", "Affirmations"),
        ]))
    return "".join(out)


__all__ = ["render"]
