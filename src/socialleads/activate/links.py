"""Links in O's posts, normalized, with their UTM and tracking parameters parsed (METRICS.md §3).

Normalization (one SQL expression, `normalized_sql`, applied to post links and to click URLs alike):
the fragment is dropped; scheme and host are lower-cased; the default port (:80 for http, :443 for
https) is dropped; trailing slashes of the path are dropped; `utm_*` and the tracking parameters of
`TRACKING` are moved out of the URL into their own columns (never dropped); the remaining query
parameters are kept, sorted. A URL without a scheme is read as https.

Each row is one (post, link): a link is attributed to the post that carried it, never to the link hash
alone, so the same URL in two posts is two rows. Shortened links (bit.ly, t.co, …) cannot be expanded
offline: they are flagged `is_shortener` and match clicks only by their UTM fields or their own URL.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from socialleads.store.db import run_sql

UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
TRACKING = ("fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid",
            "twclid", "li_fat_id", "_hsenc", "_hsmi", "mkt_tok", "ref_src", "s_cid")
SHORTENERS = ("bit.ly", "t.co", "buff.ly", "ow.ly", "tinyurl.com", "lnkd.in", "goo.gl", "is.gd", "rebrand.ly",
              "dlvr.it", "trib.al", "shorturl.at", "cutt.ly", "t.ly", "bl.ink", "youtu.be", "amzn.to", "fb.me")
_TRACK_RE = "^(utm_[a-z_]+|" + "|".join(TRACKING) + ")$"


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def clean_sql(col: str) -> str:
    """SQL: `col` with a scheme (https when missing) and without its fragment."""
    u = f"(CASE WHEN regexp_matches({col}, '^[A-Za-z][A-Za-z0-9+.-]*://') THEN {col} ELSE 'https://' || {col} END)"
    return f"regexp_replace(trim({u}), '#.*$', '')"


def _parts(col: str, cleaned: bool = False) -> dict[str, str]:
    u = col if cleaned else clean_sql(col)
    scheme = f"lower(regexp_extract({u}, '^([A-Za-z][A-Za-z0-9+.-]*)://', 1))"
    hostport = f"lower(regexp_extract({u}, '^[^:]+://([^/?]*)', 1))"
    host = (f"CASE WHEN ({scheme} = 'http' AND {hostport} LIKE '%:80') OR ({scheme} = 'https' AND {hostport} "
            f"LIKE '%:443') THEN regexp_replace({hostport}, ':[0-9]+$', '') ELSE {hostport} END")
    path = f"regexp_replace(regexp_extract({u}, '^[^:]+://[^/?]*([^?]*)', 1), '/+$', '')"
    query = f"regexp_extract({u}, '\\?(.*)$', 1)"
    return {"u": u, "scheme": scheme, "host": host, "path": path, "query": query}


def normalized_sql(col: str, cleaned: bool = False) -> str:
    """SQL expression: the normalized form of URL column `col` (see the module docstring). With
    `cleaned`, `col` is already `clean_sql(...)` of the URL (cheaper: computed once in a subquery)."""
    p = _parts(col, cleaned)
    kept = (f"array_to_string(list_sort(list_filter(string_split({p['query']}, '&'), "
            f"lambda x: x <> '' AND NOT regexp_matches(lower(split_part(x, '=', 1)), {_q(_TRACK_RE)}))), '&')")
    return (f"({p['scheme']} || '://' || {p['host']} || {p['path']} || coalesce('?' || nullif({kept}, ''), ''))")


def host_sql(col: str) -> str:
    return _parts(col)["host"]


def param_sql(col: str, name: str) -> str:
    """SQL: the decoded value of query parameter `name` of `col` (NULL when absent or empty)."""
    return f"nullif(url_decode(regexp_extract({col}, '[?&]{name}=([^&#]*)', 1)), '')"


def tracking_sql(col: str) -> str:
    """SQL: the non-UTM tracking parameters of `col` as a list of 'name=value' strings."""
    q = _parts(col)["query"]
    pat = "^(" + "|".join(TRACKING) + ")$"
    return f"list_filter(string_split({q}, '&'), lambda x: regexp_matches(lower(split_part(x, '=', 1)), {_q(pat)}))"


def owner_links_sql(owner_sql: str) -> str:
    """SELECT of one row per (O post, link entity): post_key, platform, created_at, url, normalized, host,
    utm_*, tracking, is_shortener. `owner_sql` is a SQL list of the owner keys."""
    shorteners = ", ".join(_q(s) for s in SHORTENERS)
    utm = ", ".join(f"{param_sql('e.value', u)} AS {u}" for u in UTM)
    return f"""SELECT p.post_key, p.platform, p.author_key, p.created_at, e.value AS url,
          {normalized_sql('e.value')} AS normalized, {host_sql('e.value')} AS host, {utm},
          {tracking_sql('e.value')} AS tracking, {host_sql('e.value')} IN ({shorteners}) AS is_shortener
        FROM post_entities e JOIN posts p ON p.post_key = e.post_key
        WHERE e.etype = 'link' AND e.value IS NOT NULL AND p.author_key IN ({owner_sql})"""


def owner_sql(owner_keys: list[str]) -> str:
    return ", ".join(_q(k) for k in owner_keys) if owner_keys else "NULL"


def owner_links(con: Any, owner_keys: list[str]) -> pa.Table:
    """One row per (O post, link) — see `owner_links_sql`."""
    return con.sql(owner_links_sql(owner_sql(owner_keys)) + " ORDER BY created_at, post_key, url").to_arrow_table()


def normalize_urls(con: Any, urls: list[str]) -> list[str | None]:
    """The normalized form of each URL (for small lists: tests, the CLI)."""
    t = pa.table({"u": pa.array(urls, pa.string())})
    con.register("_norm_in", t)
    try:
        rows = run_sql(con, f"SELECT {normalized_sql('u')} FROM _norm_in")
    finally:
        con.unregister("_norm_in")
    return [r[0] for r in rows]
