"""The Listen section of the HTML report: grade and evidence, mentions, sentiment, spike alerts, topics
and hot questions (the `listen` section built by socialleads.metrics.listen.listen_summary)."""

from __future__ import annotations

from typing import Any

from socialleads.report.parts import esc, grade_block, num, pct, table, tile


def _mentions(ls: dict[str, Any]) -> str:
    """The Listen section: mentions of the owner in the window, their sentiment, questions, alerts."""
    if not ls or not ls.get("available"):
        return f'<div class="stage">{esc((ls or {}).get("reason", "not available"))}</div>'
    un = ls.get("unavailable") or {}
    tiles = "".join([
        tile("Mentions", ls.get("mentions"), num, un.get("mentions"), "of the owner in the window"),
        tile("Negative", ls.get("negative_share"), pct, un.get("negative_share"), "share of scored mentions"),
        tile("Net sentiment", ls.get("net_sentiment"), lambda v: f"{v:+.2f}", un.get("net_sentiment"),
              "(pos − neg) / (pos + neg)"),
        tile("Questions", ls.get("questions"), num, un.get("questions"), "among the mentions"),
    ])
    alerts = ls.get("spike_alerts")
    if alerts:
        rows = "".join(
            f"<li>{esc(str(a.get('start'))[:16])} → {esc(str(a.get('end'))[:16])}: peak {esc(a.get('peak_count'))} "
            f"negative mentions in an hour (baseline {esc(round(float(a.get('baseline_mean') or 0), 2))})</li>"
            for a in alerts)
        alert_html = f"<h3>Negative-mention spikes</h3><ul>{rows}</ul>"
    elif alerts is None:
        alert_html = f"<p>{esc(un.get('spike_alerts', 'spike alerts not available'))}</p>"
    else:
        alert_html = "<p>No negative-mention spike in the window.</p>"
    return f'<div class="tiles">{tiles}</div>{alert_html}'


def _topics(tp: dict[str, Any] | None) -> str:
    if not tp or not tp.get("available"):
        return f"<h3>Topics</h3><p>{esc((tp or {}).get('reason') or 'topics not available')}</p>"
    share = tp.get("outlier_share")
    head = (f"<h3>Topics</h3><p>{tp.get('n_topics', 0):,} topics over {tp.get('posts') or 0:,} posts; outliers "
            f"{'n/a' if share is None else pct(share)} (not hidden). Growth = (last {tp.get('period_days')} days + 1) "
            f"/ (previous {tp.get('period_days')} days + 1).</p>")
    signed = lambda v: f"{v:+.2f}"  # noqa: E731
    cols = [("topic_id", "id"), ("label", "label"), ("size", "posts"), ("growth", "growth"),
            ("net_sentiment", "net sentiment"), ("questions", "questions")]
    return head + table(cols, tp.get("topics") or [], {"size": num, "growth": lambda v: f"{v:.2f}",
                                                       "net_sentiment": signed, "questions": num})


def _questions(hq: dict[str, Any] | None) -> str:
    if not hq or not hq.get("available"):
        return f"<h3>Hot questions</h3><p>{esc((hq or {}).get('reason') or 'hot questions not available')}</p>"
    items = []
    for t in hq.get("topics") or []:
        qs = "".join(f"<li>{esc(q.get('handle') or q.get('author_key') or '?')} ("
                     + ("followers unknown" if q.get("followers") is None else f"{num(int(q['followers']))} followers")
                     + f"): {esc((q.get('text') or '')[:200])}</li>" for q in t.get("top") or [])
        items.append(f"<li><b>{esc(t.get('label') or '')}</b>: {num(t['questions'])} questions from "
                     f"{num(t['askers'])} askers<ul>{qs}</ul></li>")
    return "<h3>Hot questions</h3>" + (f"<ol>{''.join(items)}</ol>" if items else "<p>No question posts.</p>")


def render(section: dict[str, Any] | None) -> str:
    """The whole Listen section as HTML (pure)."""
    ls = section or {}
    if not ls.get("available"):
        return _mentions(ls)
    grade = grade_block(ls) if ls.get("grade") else ""
    return grade + _mentions(ls) + _topics(ls.get("topics")) + _questions(ls.get("hot_questions"))


__all__ = ["render"]
