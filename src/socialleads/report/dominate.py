"""HTML of the Dominate stage: share of voice (each kind labelled), first movers, authority, whitespace,
plan vs execution."""

from __future__ import annotations

from typing import Any

from socialleads.report.dominate_charts import sov_chart
from socialleads.report.parts import esc, figure_div, pct, table


def _fmt(v: Any) -> str:
    return "n/a" if v is None else pct(v)


def render(section: dict[str, Any]) -> str:
    sov = section.get("sov") or {}
    names = [m["name"] for m in section.get("members", [])]
    rows = [{"member": n, **{k: _fmt(v["share"].get(n)) for k, v in sov.get("kinds", {}).items()}} for n in names]
    cols = [("member", "member")] + [(k, v["label"]) for k, v in sov.get("kinds", {}).items()]
    out = ["<h3>Share of voice</h3>", table(cols, rows)]
    weekly = (sov.get("weekly") or {}).get("posts")
    if weekly:
        out.append(figure_div(sov_chart(weekly, "post-SoV"), "dominate-sov-posts"))
    if sov.get("topics_reason"):
        out.append(f"<p>Per topic: {esc(sov['topics_reason'])}</p>")
    fm = section.get("first_movers") or {}
    if fm.get("topics"):
        out.append("<h3>First movers on emerging topics</h3>")
        out.append(table([("label", "topic"), ("emergence", "emerged"), ("first_mover", "first mover")], fm["topics"]))
    ws = section.get("whitespace") or {}
    if ws.get("topics"):
        out.append("<h3>Whitespace (demand without supply)</h3>")
        out.append(table([("rank", "#"), ("label", "topic"), ("volume", "volume"), ("questions", "questions"),
                          ("supply", "posts by S"), ("score", "demand ÷ (1 + supply)")], ws["topics"]))
    plan = section.get("plan") or {}
    if plan.get("weeks"):
        out.append("<h3>Plan vs execution per week</h3>")
        out.append(table([("week", "week"), ("posts", "posts"), ("conversation_ratio", "conversation ratio"),
                          ("median_response_hours", "median response (h)"), ("within_sla_share", "within SLA")],
                         plan["weeks"]))
    return "".join(out)


__all__ = ["render"]
