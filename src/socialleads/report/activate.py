"""HTML body of the Activate stage (after its grade block): tiles, the funnel chart, campaigns, top
posts, experiments and what works. Everything from data is escaped by report/parts helpers."""

from __future__ import annotations

from typing import Any

from socialleads.report.activate_charts import campaign_chart, experiment_chart, funnel_chart
from socialleads.report.parts import esc, figure_div, pct, table, tile, tiles


def _rate(v: Any) -> str:
    return f"{100 * v:.2f}%"


def render(section: dict[str, Any]) -> str:
    if not section.get("available"):
        return ""
    s = section
    parts = [tiles([
        tile("Links in posts", s.get("links"), note=f"in {s.get('link_posts', 0)} posts"),
        tile("Clicks", s.get("clicks")), tile("Conversions", s.get("conversions")),
        tile("Attributed clicks", s.get("attributed_click_share"), pct, reason="no clicks imported"),
        tile("CTR", s.get("ctr"), _rate, reason="no clicks or no followers at post time",
             note=s.get("ctr_basis") or ""),
    ])]
    fun = s.get("funnel") or {}
    if fun.get("stages"):
        parts.append(figure_div(funnel_chart(fun), "activate-funnel"))
        parts.append(table([("stage", "stage"), ("unit", "unit"), ("count", "count"), ("rate", "rate"),
                            ("rate_label", "rate is")], fun["stages"], {"rate": _rate}, caption=fun.get("note", "")))
    if s.get("campaigns"):
        parts.append(figure_div(campaign_chart(s["campaigns"]), "activate-campaigns"))
        parts.append(table([("campaign", "campaign"), ("link_posts", "link posts"), ("clicks", "clicks"),
                            ("conversions", "conversions"), ("ctr", "CTR")], s["campaigns"], {"ctr": _rate}))
    if s.get("top_posts"):
        parts.append("<h3>Top posts by clicks</h3>" + table(
            [("post_key", "post"), ("created_at", "posted"), ("campaign", "campaign"), ("clicks", "clicks"),
             ("conversions", "conversions"), ("ctr", "CTR")], s["top_posts"], {"ctr": _rate}))
    if s.get("experiments"):
        parts.append("<h3>Experiments</h3>" + figure_div(experiment_chart(s["experiments"]), "activate-exp"))
        rows = [{**e, "interval": "" if not e.get("interval") else f"[{e['interval'][0]:.4f}, {e['interval'][1]:.4f}]",
                 "p_best": ", ".join(f"{k} {v:.2f}" for k, v in (e.get("p_best") or {}).items() if v is not None)}
                for e in s["experiments"]]
        parts.append(table([("experiment", "experiment"), ("metric", "metric"), ("posts", "posts"),
                            ("difference", "difference"), ("interval", "95% interval"), ("p_value", "p"),
                            ("p_best", "P(best)"), ("verdict", "verdict"), ("warning", "warning")], rows,
                           {"difference": lambda v: f"{v:+.4f}", "p_value": lambda v: f"{v:.3g}"}))
    if s.get("what_works"):
        parts.append("<h3>What works</h3>" + table([("dimension", "dimension"), ("verdict", "verdict")],
                                                   s["what_works"]))
    if s.get("shortener_note"):
        parts.append(f'<p class="note">{esc(s["shortener_note"])}</p>')
    return "".join(parts)
