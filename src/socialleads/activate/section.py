"""The Activate stage of the scorecard (metrics/stages.py): links, clicks, conversions, attribution,
CTR, the funnel, top posts and campaigns, experiments and what works, graded by Checks.

Targets (no config keys exist for Activate yet, so these defaults are stated in each check's note):
clicks per link post ≥ 1.0; attributed click share ≥ 0.8; conversion rate (attributed conversions ÷
attributed clicks) ≥ 0.02; CTR (clicks ÷ followers at post time) ≥ 0.01; engagers ÷ followers in W
≥ 0.10; and every experiment reaches a decision (none is "too small to decide").
"""

from __future__ import annotations

from typing import Any

import pyarrow.compute as pc

from socialleads.activate import attribution as A
from socialleads.activate.experiments import assignments, experiment_report
from socialleads.activate.funnel import data_window, funnel
from socialleads.activate.posts import owner_posts
from socialleads.activate.whatworks import what_works
from socialleads.metrics.stages import Check, graded, unavailable
from socialleads.metrics.window import naive, window_days
from socialleads.store.db import run_sql

TARGETS = {"clicks_per_link_post": 1.0, "attributed_click_share": 0.8, "conversion_rate": 0.02, "ctr": 0.01,
           "engager_rate": 0.10}
DEFAULT = "default target (no config key yet)"


def activate_figures(con: Any, owner_keys: list[str], start: Any, end: Any,
                     lookback_days: int = A.LOOKBACK_DAYS) -> dict[str, Any]:
    """Every Activate figure (JSON-ready): attribution over W = [start, end] (clicks and conversions that
    occurred in W, link posts created in W), the funnel of W, experiments, what works."""
    att = A.attribution(con, owner_keys, lookback_days, start=start, end=end)
    fun = funnel(con, owner_keys, start, end, lookback_days, built=True)
    posts = owner_posts(con, owner_keys, kinds=("original", "quote", "reply"))
    exps = []
    names = sorted(set(assignments(con)["experiment"].to_pylist()))
    for name in names:
        r = experiment_report(con, owner_keys, name, posts=posts)
        c = r["comparisons"][0] if r["comparisons"] else {}
        exps.append({"experiment": name, "metric": r["metric"], "posts": r["posts_of_owner"],
                     "variants": {v["variant"]: v["rate"] for v in r["variants"]},
                     "difference": c.get("difference"), "interval": c.get("decision_interval"),
                     "p_value": c.get("p_value"),
                     "p_best": {v["variant"]: v["p_best"] for v in r["variants"]},
                     "verdict": c.get("verdict", "fewer than two variants"), "warning": c.get("warning") or r["warning"]})
    kinds = posts.filter(pc.not_equal(posts["kind"], "reply")) if posts.num_rows else posts
    ww = what_works(con, owner_keys, posts=kinds)
    return {"attribution": att, "funnel": fun, "experiments": exps, "what_works": ww}


def highlights(ww: dict[str, Any]) -> list[dict[str, Any]]:
    """One line per what-works dimension: the clear best bucket or 'no clear best'."""
    out = []
    for dim, d in ww.get("dimensions", {}).items():
        out.append({"dimension": dim, "best": d.get("best"), "verdict": d.get("verdict") or d.get("reason")})
    return out


def section(ctx: Any) -> dict[str, Any]:
    con, owners = ctx.store.con, list(ctx.owner_keys)
    if not owners:
        from socialleads.workspace.workspace import no_owner_reason

        return unavailable(no_owner_reason(ctx.config))
    n_posts = run_sql(con, f"SELECT count(*) FROM posts WHERE author_key IN ({A.owner_sql(owners)})")[0][0]
    if not n_posts:
        return unavailable("no posts of the owner accounts: import them first")
    if ctx.window is not None:
        start, end = naive(ctx.window.start), naive(ctx.window.end)
    else:
        w = data_window(con, window_days(None, ctx.config))
        if w is None:
            return unavailable("no timestamped data")
        start, end = w
    f = ctx.cached("activate", lambda: activate_figures(con, owners, start, end))
    att, fun = f["attribution"], f["funnel"]
    no_clicks = "no clicks imported (import the analytics as CSV / JSON lines: docs/generic-format.md)"
    checks = [
        Check("clicks per link post", att["clicks_per_link_post"] if att["clicks"] else None,
              TARGETS["clicks_per_link_post"], "min", DEFAULT if att["clicks"] else no_clicks, unit="number"),
        Check("attributed click share", att["attributed_click_share"], TARGETS["attributed_click_share"], "min",
              DEFAULT + "; methods: post_key, utm_content, last touch within "
              f"{att['lookback_days']} days" if att["clicks"] else no_clicks),
        Check("conversion rate", att["conversion_rate"] if att["conversions"] else None, TARGETS["conversion_rate"],
              "min", DEFAULT + " (attributed conversions ÷ attributed clicks)" if att["conversions"]
              else "no conversions imported"),
        Check("CTR", att["ctr"] if att["clicks"] else None, TARGETS["ctr"], "min",
              f"{DEFAULT}; {att['ctr_basis'] or 'no followers at post time'}" if att["clicks"] else no_clicks),
        Check("engagers ÷ followers in W", fun["stages"][1]["rate"], TARGETS["engager_rate"], "min",
              fun["stages"][1].get("reason") or DEFAULT),
    ]
    if f["experiments"]:
        undecided = sum(e["verdict"] == "too small to decide" for e in f["experiments"])
        checks.append(Check("experiments too small to decide", undecided, 0, "max",
                            f"{len(f['experiments'])} experiment(s); an A/A test is expected to read "
                            "'no difference detected' or 'too small to decide'", unit="count"))
    return graded(checks, window={"start": start.isoformat(), "end": end.isoformat()},
                  links=att["links"], link_posts=att["link_posts"], clicks=att["clicks"],
                  conversions=att["conversions"], attributed_click_share=att["attributed_click_share"],
                  attributed_conversion_share=att["attributed_conversion_share"], ctr=att["ctr"],
                  ctr_basis=att["ctr_basis"], clicks_by_method=att["clicks_by_method"],
                  funnel=fun, top_posts=att["top_posts"][:10], campaigns=att["per_campaign"],
                  experiments=f["experiments"], what_works=highlights(f["what_works"]),
                  shortener_note=att["shortener_note"])
