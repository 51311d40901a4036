"""The Social mandate stage of the scorecard (metrics/stages.py): grade and evidence.

Checks and their targets (defaults, documented in docs/dominate-mandate.md):
* on-mandate share ≥ 0.5 — at least half of the posts carry a declared principle or cause;
* self-promotion ratio ≤ 0.2 — the "80/20 rule" of social media practice (a default, not a law);
* out-of-character share ≤ 0.05;
* on-mandate posts draw at least as many engagers per post as the others (the difference's 95%
  interval is not entirely below 0; the check is left undecided when the samples are too small).
"""

from __future__ import annotations

from typing import Any

from socialleads.mandate.data import MandateError
from socialleads.mandate.report import mandate_report
from socialleads.metrics.stages import Check, StageContext, graded, unavailable

ON_MANDATE_TARGET = 0.5
SELF_PROMOTION_MAX = 0.2
OUT_OF_CHARACTER_MAX = 0.05


def section(ctx: StageContext) -> dict[str, Any]:
    if ctx.window is None:
        return unavailable("no timestamped posts or interactions in the workspace")
    if not ctx.owner_keys:
        from socialleads.workspace.workspace import no_owner_reason

        return unavailable(no_owner_reason(ctx.config))
    try:
        rep = ctx.cached("mandate", lambda: mandate_report(ctx.store, ctx.owner_keys, ctx.config.brand,
                                                           ctx.window.start, ctx.window.end))
    except MandateError as exc:
        return unavailable(str(exc))
    if not rep["posts"]:
        return unavailable("the owner has no posts in the window")
    al = rep["alignment"]
    checks = []
    if al is not None:
        checks.append(Check("on-mandate share", al["on_mandate_share"], ON_MANDATE_TARGET, "min",
                            f"{al['on_mandate']} of {al['posts']} posts match a principle or cause "
                            f"(similarity ≥ {al['threshold']})"))
        r = al["response"]["engagers_per_post"]
        ok = None if r["high"] is None else (1.0 if r["high"] >= 0 else 0.0)
        checks.append(Check("on-mandate response (engagers per post, on − other)", ok, 1.0, "min",
                            "met unless the 95% interval of the difference is entirely below 0"
                            if ok is not None else "too few posts to compare", unit="flag"))
    else:
        checks.append(Check("on-mandate share", None, ON_MANDATE_TARGET, "min",
                            rep["unavailable"].get("alignment", "")))
    sp = rep["self_promotion"]
    checks.append(Check("self-promotion ratio", sp["self_promotion_ratio"], SELF_PROMOTION_MAX, "max",
                        sp["reason"] or f"{sp['promotional']} of {sp['posts']} posts promote own products or offers "
                        "(80/20 rule, a default)"))
    ch = rep["character"]
    checks.append(Check("out-of-character share", ch["out_of_character_share"], OUT_OF_CHARACTER_MAX, "max",
                        f"{ch['out_of_character']} of {ch['posts']} posts beyond the account's own 95th percentile"))
    return graded(checks, **rep)


__all__ = ["section"]
