"""HTML of the Social mandate stage: alignment per statement, audience response, in character, voice drift,
self-promotion and cross-posting."""

from __future__ import annotations

from typing import Any

from socialleads.report.dominate_charts import drift_chart
from socialleads.report.parts import esc, figure_div, pct, table, tile, tiles


def _ci(r: dict[str, Any]) -> str:
    if r.get("mean") is None:
        return "n/a"
    if r.get("low") is None:
        return f"{r['mean']:.2f} (n={r['n']})"
    return f"{r['mean']:.2f} [{r['low']:.2f}, {r['high']:.2f}] (n={r['n']})"


def render(section: dict[str, Any]) -> str:
    al = section.get("alignment")
    sp, ch, cp = section.get("self_promotion", {}), section.get("character", {}), section.get("cross_posting", {})
    un = section.get("unavailable", {})
    out = [tiles([
        tile("on-mandate share", al and al.get("on_mandate_share"), pct, reason=un.get("alignment")),
        tile("self-promotion ratio", sp.get("self_promotion_ratio"), pct, reason=sp.get("reason")),
        tile("out-of-character share", ch.get("out_of_character_share"), pct),
        tile("cross-posted share", cp.get("cross_post_share"), pct)])]
    if al:
        out.append("<h3>Alignment with the declared principles and causes</h3>")
        out.append(table([("kind", "kind"), ("text", "statement"), ("posts", "posts"), ("share", "share")],
                         al["by_statement"], formats={"share": lambda v: pct(v)}))
        r = al["response"]["engagers_per_post"]
        diff = ("n/a" if r["difference"] is None or r["low"] is None else
                f"{r['difference']:+.2f} [{r['low']:+.2f}, {r['high']:+.2f}]"
                + ("" if r["decided"] else " — the interval includes 0: no difference claimed"))
        out.append(f"<p>Engagers per post: on-mandate {esc(_ci(r['on_mandate']))}, other {esc(_ci(r['other']))}; "
                   f"difference {esc(diff)}.</p>")
    if ch.get("drift"):
        out.append(figure_div(drift_chart(ch["drift"]), "mandate-drift"))
    if ch.get("out_of_character_posts"):
        out.append("<h3>Out-of-character posts</h3>")
        out.append(table([("text", "post"), ("distance", "distance to voice")], ch["out_of_character_posts"]))
    return "".join(out)


__all__ = ["render"]
