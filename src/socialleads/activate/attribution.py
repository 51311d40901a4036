"""Clicks and conversions attributed to O's posts (METRICS.md §3), per post and per campaign.

A click is attributed, in this order (`method`):
1. `post_key` — the analytics named an O post (clicks.post_key);
2. `utm_content` — its utm_content equals the utm_content of a link carried by exactly one O post;
3. `last_touch` — the latest O post, at or before the click and within the lookback (default 7 days),
   that carried a link with the same normalized URL (links.normalized_sql) or the same utm_campaign;
4. otherwise unattributed.
A conversion goes to the post of the same visitor's latest attributed click at or before it within
the lookback (and, per campaign, to that click's campaign); failing that, by its own utm_content / URL /
campaign as a click would.

`attribution(..., start=, end=)` counts over the window W: the clicks and conversions that occurred in W
(attributed as above, over all history, so a click in W may go to a post made before W within the
lookback) and the link posts created in W.

CTR = clicks ÷ impressions when metrics snapshots carry impressions (none of the supported sources
do yet), else clicks ÷ followers at post time — `ctr_basis` says which.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from socialleads.activate.links import clean_sql, normalized_sql, owner_links_sql, owner_sql
from socialleads.activate.posts import followers_at
from socialleads.store.db import run_sql

LOOKBACK_DAYS = 7


def _build(con: Any, owner_keys: list[str], lookback_days: int) -> None:
    """Temp tables act_links, act_clicks, act_conversions (one row per click / conversion, attributed)."""
    o = owner_sql(owner_keys)
    lb = f"INTERVAL {int(lookback_days)} DAY"
    run_sql(con, f"CREATE OR REPLACE TEMP TABLE act_links AS {owner_links_sql(o)}")
    # utm_content carried by exactly one O post
    run_sql(con, """CREATE OR REPLACE TEMP TABLE act_utm AS SELECT utm_content, any_value(post_key) AS post_key
                    FROM act_links WHERE utm_content IS NOT NULL GROUP BY utm_content
                    HAVING count(DISTINCT post_key) = 1""")
    run_sql(con, """CREATE OR REPLACE TEMP TABLE act_by_url AS SELECT DISTINCT normalized, created_at, post_key
                    FROM act_links""")
    run_sql(con, """CREATE OR REPLACE TEMP TABLE act_by_camp AS SELECT DISTINCT utm_campaign, created_at, post_key
                    FROM act_links WHERE utm_campaign IS NOT NULL""")

    def attribute(src: str, key: str, t: str, explicit: str, visitor: str = "visitor_key") -> str:
        # each distinct URL is normalized once (clicks repeat a few thousand URLs), then joined back
        return f"""
        WITH s0 AS (SELECT * FROM {src}),
        nu AS (SELECT url AS _url, {normalized_sql('_u', cleaned=True)} AS _normalized
               FROM (SELECT url, {clean_sql('url')} AS _u FROM (SELECT DISTINCT url FROM s0))),
        c AS (SELECT {key} AS k, {t} AS t, nu._normalized AS normalized, utm_campaign,
                     utm_content, {explicit} AS explicit, {visitor} AS visitor_key
              FROM s0 LEFT JOIN nu ON nu._url = s0.url),
        u AS (SELECT c.*, a.post_key AS by_utm FROM c LEFT JOIN act_utm a USING (utm_content)),
        v AS (SELECT u.*, l.post_key AS url_post, l.created_at AS url_t FROM u
              ASOF LEFT JOIN act_by_url l ON u.normalized = l.normalized AND u.t >= l.created_at),
        w AS (SELECT v.*, m.post_key AS camp_post, m.created_at AS camp_t FROM v
              ASOF LEFT JOIN act_by_camp m ON v.utm_campaign = m.utm_campaign AND v.t >= m.created_at),
        x AS (SELECT *, CASE WHEN url_t >= t - {lb} AND (camp_t IS NULL OR camp_t < t - {lb} OR url_t >= camp_t)
                             THEN url_post
                             WHEN camp_t >= t - {lb} THEN camp_post END AS last_touch FROM w)
        SELECT k, t, utm_campaign, utm_content, visitor_key,
               coalesce(explicit, by_utm, last_touch) AS post_key,
               CASE WHEN explicit IS NOT NULL THEN 'post_key' WHEN by_utm IS NOT NULL THEN 'utm_content'
                    WHEN last_touch IS NOT NULL THEN 'last_touch' END AS method
        FROM x"""

    # clicks that name a post: kept as explicit attribution only when it is an O post
    run_sql(con, f"""CREATE OR REPLACE TEMP TABLE act_named AS SELECT DISTINCT post_key FROM posts
                     WHERE author_key IN ({o}) AND post_key IN (SELECT post_key FROM clicks WHERE post_key IS NOT NULL)""")
    run_sql(con, "CREATE OR REPLACE TEMP TABLE act_clicks AS " + attribute(
        "(SELECT c.*, n.post_key AS named FROM clicks c LEFT JOIN act_named n USING (post_key))",
        "click_key", "occurred_at", "named"))
    run_sql(con, "CREATE OR REPLACE TEMP TABLE act_conv_own AS " + attribute(
        "conversions", "conversion_key", "occurred_at", "NULL::VARCHAR"))
    run_sql(con, f"""CREATE OR REPLACE TEMP TABLE act_conversions AS
        WITH v AS (SELECT c.conversion_key AS k, c.occurred_at AS t, c.visitor_key, c.value, c.goal FROM conversions c),
        ac AS (SELECT visitor_key, t AS click_t, post_key, utm_campaign AS click_campaign FROM act_clicks
               WHERE post_key IS NOT NULL AND visitor_key IS NOT NULL),
        j AS (SELECT v.*, ac.post_key AS click_post, ac.click_t, ac.click_campaign FROM v
              ASOF LEFT JOIN ac ON v.visitor_key = ac.visitor_key AND v.t >= ac.click_t)
        SELECT j.k, j.t, j.value, j.goal, j.visitor_key,
               -- the campaign of the click the conversion is attributed to (per-campaign figures count a
               -- conversion where its click counts), else the conversion's own
               CASE WHEN j.click_t >= j.t - {lb} THEN j.click_campaign ELSE o.utm_campaign END AS utm_campaign,
               CASE WHEN j.click_t >= j.t - {lb} THEN j.click_post ELSE o.post_key END AS post_key,
               CASE WHEN j.click_t >= j.t - {lb} THEN 'visitor_click' ELSE o.method END AS method
        FROM j JOIN act_conv_own o ON o.k = j.k""")


def _in_window(con: Any, start: Any, end: Any) -> tuple[str, str, str]:
    """The names of the tables of links, clicks and conversions to count: act_links / act_clicks /
    act_conversions (all history) when `start` and `end` are None, else copies holding the links of the
    posts created in W and the clicks and conversions that occurred in W (bounds included, as the
    funnel's). The attribution itself is made over all history first (`_build`), so a click in W keeps
    the post it goes to under the usual rule, be it made before W (within the lookback)."""
    if start is None and end is None:
        return "act_links", "act_clicks", "act_conversions"
    cond, params = [], []
    if start is not None:
        cond.append("{col} >= ?")
        params.append(start)
    if end is not None:
        cond.append("{col} <= ?")
        params.append(end)
    where = " AND ".join(cond)
    run_sql(con, "CREATE OR REPLACE TEMP TABLE act_w_links AS SELECT * FROM act_links WHERE "
            + where.format(col="created_at"), params)
    run_sql(con, "CREATE OR REPLACE TEMP TABLE act_w_clicks AS SELECT * FROM act_clicks WHERE "
            + where.format(col="t"), params)
    run_sql(con, "CREATE OR REPLACE TEMP TABLE act_w_conversions AS SELECT * FROM act_conversions WHERE "
            + where.format(col="t"), params)
    return "act_w_links", "act_w_clicks", "act_w_conversions"


def attribution(con: Any, owner_keys: list[str], lookback_days: int = LOOKBACK_DAYS,
                top: int = 10, start: Any = None, end: Any = None) -> dict[str, Any]:
    """Links, clicks and conversions of O: totals, attributed shares by method, per post, per campaign.

    `start` / `end` (naive UTC, both included; None = no bound): the window W. Clicks and conversions are
    those that occurred in W, attributed by the rule of the module docstring (a click in W may go to a
    post made before W, within the lookback); links, link posts, the per-post rows (top posts, CTR,
    clicks per link post) and the link posts per campaign are those of the posts created in W. Without
    them (the default) all history is counted."""
    _build(con, owner_keys, lookback_days)
    links_t, clicks_t, convs_t = _in_window(con, start, end)
    n_links, n_link_posts, n_short, n_tracked = run_sql(con, f"""SELECT count(*), count(DISTINCT post_key),
        count(*) FILTER (is_shortener), count(*) FILTER (utm_source IS NOT NULL OR utm_campaign IS NOT NULL
        OR array_length(tracking) > 0) FROM {links_t}""")[0]
    clicks = dict(run_sql(con, f"SELECT coalesce(method, 'unattributed'), count(*) FROM {clicks_t} GROUP BY 1"))
    convs = dict(run_sql(con, f"SELECT coalesce(method, 'unattributed'), count(*) FROM {convs_t} GROUP BY 1"))
    n_clicks, n_conv = sum(clicks.values()), sum(convs.values())
    per_post = con.sql(f"""
        WITH c AS (SELECT post_key, count(*) AS clicks, count(DISTINCT visitor_key) AS visitors FROM {clicks_t}
                   WHERE post_key IS NOT NULL GROUP BY 1),
        k AS (SELECT post_key, count(*) AS conversions, sum(coalesce(value, 0)) AS value FROM {convs_t}
              WHERE post_key IS NOT NULL GROUP BY 1),
        l AS (SELECT post_key, any_value(author_key) AS author_key, any_value(platform) AS platform,
                     min(created_at) AS created_at, any_value(utm_campaign) AS campaign,
                     count(*) AS links FROM {links_t} GROUP BY 1)
        SELECT l.*, coalesce(c.clicks, 0)::BIGINT AS clicks, coalesce(c.visitors, 0)::BIGINT AS visitors,
               coalesce(k.conversions, 0)::BIGINT AS conversions, coalesce(k.value, 0)::DOUBLE AS value
        FROM l LEFT JOIN c USING (post_key) LEFT JOIN k USING (post_key)
        ORDER BY clicks DESC, created_at, post_key""").to_arrow_table()
    author = per_post["author_key"].to_numpy(zero_copy_only=False)
    t = per_post["created_at"].to_numpy(zero_copy_only=False).astype("datetime64[us]")
    fol, basis = followers_at(con, author, t, owner_keys)
    rows = per_post.to_pylist()
    for r, f in zip(rows, fol.tolist()):
        r["followers_at_post_time"] = None if f != f else int(f)
        r["ctr"] = r["clicks"] / f if f == f and f > 0 else None
        r["created_at"] = r["created_at"].isoformat() if r["created_at"] else None
    camp = run_sql(con, f"""SELECT coalesce(utm_campaign, '(none)'), count(*), count(DISTINCT post_key)
                           FROM {clicks_t} WHERE post_key IS NOT NULL GROUP BY 1""")
    kc = dict(run_sql(con, f"""SELECT coalesce(utm_campaign, '(none)'), count(*) FROM {convs_t}
                              WHERE post_key IS NOT NULL GROUP BY 1"""))
    posts_by_camp: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        posts_by_camp.setdefault(r["campaign"] or "(none)", []).append(r)
    campaigns = []
    for name, n, n_posts in sorted(camp, key=lambda x: (-x[1], x[0])):
        ps = posts_by_camp.get(name, [])
        den = sum(p["followers_at_post_time"] or 0 for p in ps)
        campaigns.append({"campaign": name, "clicks": int(n), "posts_clicked": int(n_posts), "link_posts": len(ps),
                          "conversions": int(kc.get(name, 0)), "ctr": n / den if den else None})
    attributed = n_clicks - clicks.get("unattributed", 0)
    link_clicks = sum(r["clicks"] for r in rows)
    link_fol = sum(r["followers_at_post_time"] or 0 for r in rows)
    return {
        "lookback_days": lookback_days,
        "window": None if start is None and end is None else {
            "start": start.isoformat() if start is not None else None,
            "end": end.isoformat() if end is not None else None},
        "links": int(n_links), "link_posts": int(n_link_posts), "shortened_links": int(n_short),
        "tagged_links": int(n_tracked),
        "shortener_note": "shortened links cannot be expanded offline: they match clicks only by UTM fields or "
                          "their own URL",
        "clicks": n_clicks, "clicks_by_method": clicks,
        "attributed_click_share": attributed / n_clicks if n_clicks else None,
        "conversions": n_conv, "conversions_by_method": convs,
        "attributed_conversion_share": (n_conv - convs.get("unattributed", 0)) / n_conv if n_conv else None,
        "ctr": link_clicks / link_fol if link_fol else None,
        "ctr_basis": "clicks ÷ followers at post time (no impressions in the sources)" if basis != "none" else None,
        "clicks_per_link_post": link_clicks / len(rows) if rows else None,
        "conversion_rate": (n_conv - convs.get("unattributed", 0)) / attributed if attributed else None,
        "per_campaign": campaigns,
        "top_posts": rows[:top],
        "posts": len(rows),
    }


def click_attribution(con: Any, owner_keys: list[str], lookback_days: int = LOOKBACK_DAYS) -> pa.Table:
    """Every click with the post it is attributed to and how: click_key, occurred_at, post_key, method."""
    _build(con, owner_keys, lookback_days)
    return con.sql("SELECT k AS click_key, t AS occurred_at, post_key, method FROM act_clicks ORDER BY k").to_arrow_table()


def clicks_per_post(con: Any, owner_keys: list[str], lookback_days: int = LOOKBACK_DAYS) -> dict[str, int]:
    _build(con, owner_keys, lookback_days)
    return dict(run_sql(con, "SELECT post_key, count(*) FROM act_clicks WHERE post_key IS NOT NULL GROUP BY 1"))
