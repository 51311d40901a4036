"""X archives at scale: the columnar path of `leads import` for the tweets of a YTD `tweets.js` / `tweet.js`.

The Python reader (platforms/x_archive.py `_Reader.tweet`) makes one dict per record; here a tweets part is
handed to DuckDB whole (the file is one JS array: `window.YTD.tweets.part0 = [...]`, so it is read whole,
as the Python reader reads it; the text after the first `=` is parsed once by DuckDB's JSON reader) and
the posts, reply / repost interactions, account stubs of the mentioned accounts and metrics snapshots are
built in SQL as typed structs (`G.RowsSource`), numbered as the reader numbers its records.

Only a part whose every tweet has the regular YTD shape is taken (`_regular_sql`: digit ids, the
`Www Mmm DD HH:MM:SS +0000 YYYY` time, a `full_text` without HTML escapes, no `retweeted_status` or `user`,
entity lists of objects with the usual fields, no duplicate keys at the top two levels) and only when the
archive has no note tweets to join; any other part goes through the reader item by item, unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from socialleads.sources import generic as G
from socialleads.sources import records as R
from socialleads.sources.generic import SCAN_ROWS, RowsSource, rows_sql, struct_pack_sql
from socialleads.sources.generic import distinct_sql as _uniq
from socialleads.sources.generic import json_str_sql as _s
from socialleads.sources.generic import sql_str as _q
from socialleads.store.db import run_sql

_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
_TIME = rf"^[A-Za-z]{{3}} ({_MONTHS}) [0-9]{{2}} ([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9] \+0000 [1-9][0-9]{{3}}$"
_STATUS = (r"https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/(?:#!/)?(?:[A-Za-z0-9_]{1,50}|i/web|i)/status(?:es)?/"
           r"([0-9]{1,25})/?(?:[?#].*)?")
_DIGITS = "^[0-9]+$"
_SMALL = "^[0-9]{1,18}$"     # whole numbers that fit 64 bits
_SPECS = {"post": R.POST, "interaction": R.INTERACTION, "account": R.ACCOUNT, "metrics_snapshot": R.METRICS_SNAPSHOT}
_COL = {"post": "jp", "interaction": "ji", "account": "ja", "metrics_snapshot": "jm"}

_TWEET = json.dumps({f: "JSON" for f in (
    "id_str", "created_at", "full_text", "lang", "in_reply_to_status_id_str", "in_reply_to_status_id",
    "in_reply_to_user_id_str", "in_reply_to_user_id", "retweeted_status", "user", "favorite_count",
    "retweet_count", "text", "id")} | {
    "entities": {"user_mentions": [{"id_str": "JSON", "screen_name": "JSON", "name": "JSON", "indices": "JSON"}],
                 "hashtags": [{"text": "JSON", "indices": "JSON"}], "symbols": [{"text": "JSON", "indices": "JSON"}],
                 "urls": [{"expanded_url": "JSON", "url": "JSON", "indices": "JSON"}],
                 "media": [{"media_url_https": "JSON", "media_url": "JSON", "indices": "JSON",
                            "source_status_id_str": "JSON", "source_user_id_str": "JSON"}]},
    "extended_entities": {"media": [{"media_url_https": "JSON", "media_url": "JSON", "indices": "JSON"}]}})


_LISTS = ["$.entities", "$.extended_entities", "$.entities.user_mentions", "$.entities.hashtags",
          "$.entities.symbols", "$.entities.urls", "$.entities.media", "$.extended_entities.media"]
# every JSON type a tweet's checks need, from one parse: the item, its `tweet`, the lists of a bare tweet, the
# lists of a wrapped one (each json_* call on the item's text parses it again)
_TOP = ["$", "$.tweet", *_LISTS, *[("$.tweet" + p[1:]) for p in _LISTS]]


def _none(x: str) -> str:
    return f"coalesce(json_type({x}), 'NULL') = 'NULL'"


def _opt_digits(x: str) -> str:
    """JSON `x` is absent / null or a string of digits."""
    return f"({_none(x)} OR regexp_matches(coalesce({_s(x)}, ''), '{_DIGITS}'))"


def _opt_str(x: str) -> str:
    return f"({_none(x)} OR json_type({x}) = 'VARCHAR')"


def _count_ok(x: str) -> str:
    return (f"({_none(x)} OR json_type({x}) = 'UBIGINT' OR CASE WHEN json_type({x}) = 'BIGINT' "
            f"THEN {x}::VARCHAR::HUGEINT >= 0 ELSE FALSE END OR regexp_matches(coalesce({_s(x)}, ''), '{_SMALL}'))")


def _count(x: str) -> str:
    return f"CASE WHEN {_none(x)} THEN NULL ELSE coalesce({_s(x)}, {x}::VARCHAR)::HUGEINT::VARCHAR END"


def _idx_ok(x: str) -> str:
    """`indices` absent, or a list of two whole numbers (strings of digits or numbers)."""
    el = f"json_extract({x}, '$[*]')"
    return (f"({_none(x)} OR (json_type({x}) = 'ARRAY' AND json_array_length({x}) = 2 AND list_bool_and("
            f"list_transform({el}, lambda v: json_type(v) = 'UBIGINT' OR regexp_matches(coalesce({_s('v')}, ''), "
            f"'{_SMALL}')))))")


def _idx(x: str, i: int) -> str:
    return (f"CASE WHEN json_type({x}) = 'ARRAY' THEN coalesce({_s(f'({x})->{i}')}, (({x})->{i})::VARCHAR)"
            f"::HUGEINT::VARCHAR END")


def _items_sql() -> str:
    """fx_t: the part's tweets (idx, j: the tweet struct, regular: can the SQL map it)."""
    mention_ok = (f"list_bool_and(list_transform(coalesce(e.entities.user_mentions, []), lambda u: "
                  f"regexp_matches(coalesce({_s('u.id_str')}, ''), '{_DIGITS}') AND {_opt_str('u.screen_name')} "
                  f"AND {_idx_ok('u.indices')})) IS NOT FALSE")
    tag_ok = " AND ".join(
        f"list_bool_and(list_transform(coalesce(e.entities.{k}, []), lambda h: {_opt_str('h.text')} "
        f"AND {_idx_ok('h.indices')})) IS NOT FALSE" for k in ("hashtags", "symbols"))
    url_ok = (f"list_bool_and(list_transform(coalesce(e.entities.urls, []), lambda u: {_opt_str('u.expanded_url')} "
              f"AND {_opt_str('u.url')} AND {_idx_ok('u.indices')} "
              f"AND regexp_full_match(coalesce({_s('u.expanded_url')}, ''), '[ -~]*'))) IS NOT FALSE")
    media_ok = " AND ".join(
        f"list_bool_and(list_transform(coalesce({lst}, []), lambda m: {_opt_str('m.media_url_https')} "
        f"AND {_opt_str('m.media_url')} AND {_idx_ok('m.indices')}{extra})) IS NOT FALSE"
        for lst, extra in (("e.entities.media", f" AND {_opt_digits('m.source_status_id_str')} "
                                                f"AND {_opt_digits('m.source_user_id_str')}"),
                           ("e.extended_entities.media", "")))
    # A list element that is not an object becomes a struct of NULLs: the reader skips such elements, and so
    # does the SQL (no text / url / media value; a mention without id_str makes the tweet irregular).
    wrapped = "wrapped"
    return f"""
    CREATE OR REPLACE TEMP TABLE fx_t AS
    WITH v AS (SELECT idx, item, json_type(item, {_TOP}) AS top FROM fx_items),
    w AS (SELECT idx, item, top, top[1] = 'OBJECT' AS obj, coalesce(top[2] = 'OBJECT', FALSE) AS wrapped FROM v),
    x AS (SELECT idx, obj, wrapped, top, CASE WHEN obj THEN json_keys(item, ['$', '$.tweet']) END AS keys,
            CASE WHEN NOT obj THEN NULL WHEN {wrapped} THEN json_transform(item, '{{"tweet": {_TWEET}}}').tweet
                 ELSE json_transform(item, '{_TWEET}') END AS e FROM w),
    e AS (SELECT idx, obj, keys[1] AS k1, CASE WHEN {wrapped} THEN keys[2] ELSE keys[1] END AS k2, e,
            CASE WHEN NOT obj THEN NULL WHEN {wrapped} THEN top[{3 + len(_LISTS)}:] ELSE top[3:{2 + len(_LISTS)}] END
              AS ty FROM x)
    SELECT idx, e AS j, coalesce(obj AND {_uniq("k1")} AND {_uniq("k2")}
        AND regexp_matches(coalesce({_s("e.id_str")}, ''), '{_DIGITS}')
        AND regexp_matches(coalesce({_s("e.created_at")}, ''), '{_TIME}')
        AND try_strptime({_s("e.created_at")}, '%a %b %d %H:%M:%S +0000 %Y') IS NOT NULL
        AND json_type(e.full_text) = 'VARCHAR' AND NOT contains({_s("e.full_text")}, '&')
        AND {_none("e.retweeted_status")} AND {_none("e.user")}
        AND (regexp_matches(coalesce({_s("e.in_reply_to_status_id_str")}, ''), '{_DIGITS}')
             OR ({_none("e.in_reply_to_status_id_str")} AND {_none("e.in_reply_to_status_id")}))
        AND (regexp_matches(coalesce({_s("e.in_reply_to_user_id_str")}, ''), '{_DIGITS}')
             OR ({_none("e.in_reply_to_user_id_str")} AND {_none("e.in_reply_to_user_id")}))
        AND {_count_ok("e.favorite_count")} AND {_count_ok("e.retweet_count")}
        AND coalesce(ty[1], 'NULL') IN ('NULL', 'OBJECT') AND coalesce(ty[2], 'NULL') IN ('NULL', 'OBJECT')
        AND list_bool_and(list_transform(ty[3:], lambda x: coalesce(x, 'NULL') IN ('NULL', 'ARRAY'))) IS NOT FALSE
        AND {mention_ok} AND {tag_ok} AND {url_ok} AND {media_ok}, FALSE) AS regular
    FROM e"""


def _records_sql(owner_key: str, owner_handle: str | None, generated_at: str | None) -> str:
    """fx_rec (idx, sub, rt, jp, ji, ja, jm, stub_key): the records of each tweet in the reader's order:
    the stubs of its mentioned accounts (sub 0.k; kept later only where first seen), its interaction (1),
    the post (2), its metrics snapshot (3)."""
    own = _q(owner_key)
    created = f"strftime(strptime({_s('j.created_at')}, '%a %b %d %H:%M:%S +0000 %Y'), '%Y-%m-%dT%H:%M:%SZ')"
    idx = "'codepoint'"
    ent = "STRUCT(etype VARCHAR, value VARCHAR, target_account_key VARCHAR, start_idx VARCHAR, end_idx VARCHAR, " \
          "idx_unit VARCHAR)"

    def span(x: str) -> str:
        return f"{_idx(x, 0)}, {_idx(x, 1)}"

    mentions = (f"list_transform(coalesce(j.entities.user_mentions, []), lambda u: {{'etype': 'mention', "
                f"'value': {_s('u.screen_name')}, 'target_account_key': 'x:' || {_s('u.id_str')}, "
                f"'start_idx': {_idx('u.indices', 0)}, 'end_idx': {_idx('u.indices', 1)}, 'idx_unit': {idx}}}::{ent})")

    def simple(lst: str, etype: str, value: str, var: str) -> str:
        return (f"list_transform(list_filter(coalesce({lst}, []), lambda {var}: coalesce({value}, '') <> ''), "
                f"lambda {var}: {{'etype': '{etype}', 'value': {value}, 'target_account_key': NULL, "
                f"'start_idx': {_idx(f'{var}.indices', 0)}, 'end_idx': {_idx(f'{var}.indices', 1)}, "
                f"'idx_unit': {idx}}}::{ent})")

    tags = simple("j.entities.hashtags", "hashtag", _s("h.text"), "h")
    cash = simple("j.entities.symbols", "cashtag", _s("h.text"), "h")
    links = simple("j.entities.urls", "link", f"coalesce(nullif({_s('u.expanded_url')}, ''), {_s('u.url')})", "u")
    media_src = ("CASE WHEN len(coalesce(j.extended_entities.media, [])) > 0 THEN j.extended_entities.media "
                 "ELSE list_transform(j.entities.media, lambda m: {'media_url_https': m.media_url_https, "
                 "'media_url': m.media_url, 'indices': m.indices}) END")
    media = simple(media_src, "media", f"coalesce(nullif({_s('m.media_url_https')}, ''), {_s('m.media_url')})", "m")
    post = struct_pack_sql(
        R.POST, record_type="'post'", platform="'x'", post_key="pk", author_key=own, created_at="created",
        kind="kind", kind_confidence="CASE WHEN is_rt OR (NOT has_reply AND quoted IS NOT NULL) THEN 'heuristic' END",
        repost_of_key="CASE WHEN is_rt THEN rt_of END", reply_to_key="CASE WHEN NOT is_rt THEN reply_to END",
        quote_of_key="CASE WHEN NOT is_rt THEN quoted END", text="txt", lang=_s("j.lang"),
        url=(f"{_q('https://x.com/' + owner_handle + '/status/')} || id_str" if owner_handle else
             "'https://x.com/i/web/status/' || id_str"),
        entities="CASE WHEN len(ents) > 0 THEN to_json(list_transform(ents, lambda x: {'etype': x.etype, "
                 "'value': x.value, 'target_account_key': x.target_account_key, "
                 "'start_idx': x.start_idx::HUGEINT, 'end_idx': x.end_idx::HUGEINT, 'idx_unit': x.idx_unit})) END")
    inter = struct_pack_sql(
        R.INTERACTION, record_type="'interaction'", platform="'x'", type="CASE WHEN is_rt THEN 'repost' ELSE 'reply' END",
        actor_key=own, via_post_key="pk", target_post_key="CASE WHEN is_rt THEN rt_of ELSE reply_to END",
        created_at="created", time_precision="'exact'", interaction_key="CASE WHEN is_rt THEN pk END",
        target_account_key="CASE WHEN is_rt THEN rt_user ELSE to_user END")
    metrics = struct_pack_sql(
        R.METRICS_SNAPSHOT, record_type="'metrics_snapshot'", subject_key="pk", subject_type="'post'",
        observed_at=_q(generated_at or ""), likes="likes", reposts="reposts")
    stub = struct_pack_sql(
        R.ACCOUNT, record_type="'account'", platform="'x'", account_key="'x:' || s.id",
        handle="nullif(s.sn, '')", url="CASE WHEN s.sn <> '' THEN 'https://x.com/' || s.sn END",
        display_name="nullif(s.nm, '')")
    return f"""
    CREATE OR REPLACE TEMP TABLE fx_rec AS
    WITH b AS (SELECT idx, j, {_s("j.id_str")} AS id_str, 'x:' || {_s("j.id_str")} AS pk, {created} AS created,
                 {_s("j.full_text")} AS txt, starts_with({_s("j.full_text")}, 'RT @') AS is_rt,
                 'x:' || {_s("j.in_reply_to_status_id_str")} AS reply_to,
                 'x:' || {_s("j.in_reply_to_user_id_str")} AS to_user,
                 {_count("j.favorite_count")} AS likes, {_count("j.retweet_count")} AS reposts,
                 list_filter(coalesce(j.entities.media, []), lambda m: {_s('m.source_status_id_str')} IS NOT NULL)[1]
                   AS src_media,
                 list_filter(coalesce(j.entities.user_mentions, []), lambda u: {_idx('u.indices', 0)} = '3')[1]
                   AS rt_mention,
                 list_filter(list_transform(coalesce(j.entities.urls, []), lambda u: regexp_extract(
                   coalesce({_s('u.expanded_url')}, ''), '^{_STATUS}$', 1)), lambda x: x <> '') AS status_ids,
                 list_concat({mentions}, {tags}, {cash}, {links}, {media}) AS ents
               FROM fx_t),
    c AS (SELECT *, reply_to IS NOT NULL AS has_reply,
            coalesce('x:' || {_s("src_media.source_status_id_str")}, 'x:unknown-rt:' || id_str) AS rt_of,
            coalesce(CASE WHEN src_media IS NOT NULL THEN 'x:' || {_s("src_media.source_user_id_str")} END,
                     'x:' || {_s("rt_mention.id_str")}) AS rt_user,
            list_filter(status_ids, lambda s: s <> id_str AND 'x:' || s IS DISTINCT FROM reply_to)[-1] AS quoted0
          FROM b),
    d AS (SELECT *, CASE WHEN quoted0 IS NOT NULL THEN 'x:' || quoted0 END AS quoted,
            CASE WHEN is_rt THEN 'repost' WHEN has_reply THEN 'reply' WHEN quoted0 IS NOT NULL THEN 'quote'
                 ELSE 'original' END AS kind FROM c)
    SELECT idx, 0 AS sub, k AS k, 'account' AS rt, {stub} AS ja, 'x:' || s.id AS stub_key
    FROM (SELECT idx, unnest(generate_series(1, len(coalesce(j.entities.user_mentions, [])))) AS k,
                 unnest(list_transform(coalesce(j.entities.user_mentions, []), lambda u: {{'id': {_s('u.id_str')},
                   'sn': {_s('u.screen_name')}, 'nm': {_s('u.name')}}})) AS s FROM d)
    UNION ALL BY NAME SELECT idx, 1 AS sub, 0 AS k, 'interaction' AS rt, {inter} AS ji FROM d WHERE is_rt OR has_reply
    UNION ALL BY NAME SELECT idx, 2 AS sub, 0 AS k, 'post' AS rt, {post} AS jp FROM d
    UNION ALL BY NAME SELECT idx, 3 AS sub, 0 AS k, 'metrics_snapshot' AS rt, {metrics} AS jm FROM d
      WHERE {'TRUE' if generated_at else 'FALSE'} AND NOT is_rt AND (likes IS NOT NULL OR reposts IS NOT NULL)"""


@dataclass
class Block(G.Block):
    """The records of one tweets part made in SQL; staged in the reader's place by `mixed_sources`."""
    con: duckdb.DuckDBPyConnection
    count: int

    def sources(self, n0: int) -> Iterator[RowsSource]:
        con = self.con
        run_sql(con, f"""CREATE OR REPLACE TEMP TABLE fx_num AS SELECT idx, sub, k,
            {n0} + row_number() OVER (ORDER BY idx, sub, k) AS rec_no FROM fx_out""")
        rows = {rt: rows_sql(_SPECS[rt], f"(SELECT rec_no AS line_no, {_COL[rt]} AS j, NULL::JSON AS extra "
                                          f"FROM fx_out JOIN fx_num USING (idx, sub, k) WHERE rt = '{rt}')")
                for rt in _COL}
        try:
            yield RowsSource(rows, "fx_out", "record")
        finally:
            for t in ("fx_t", "fx_rec", "fx_first", "fx_out", "fx_num"):
                run_sql(con, f"DROP TABLE IF EXISTS {t}")


def part(con: duckdb.DuckDBPyConnection, data: bytes, reader: Any) -> Block | None:
    """The records of a tweets part (`data`, the file's bytes) as a Block, or None when the reader must read
    it (not UTF-8, not one JSON array after '=', an irregular tweet, note tweets to join)."""
    if reader.notes.by_second or reader.owner.key is None:
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    eq = data.find(b"=")
    body = (data[eq + 1:] if eq >= 0 else data).strip(b" \t\r\n").rstrip(b";").strip(b" \t\r\n")
    if not body.startswith(b"[") or not body.endswith(b"]"):
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    # DuckDB scans a temp table of < 122,880 rows on one thread, Arrow batches on all: the items are handed
    # back as small Arrow batches for the heavy per-tweet queries (straight from the parse: no temp table)
    try:   # the body starts with [ and ends with ]: when it is JSON, it is an array
        items = con.sql("""SELECT unnest(generate_series(0, len(l) - 1)) AS idx, unnest(l)::VARCHAR AS item
            FROM (SELECT json_extract(?, '$[*]') AS l)""", params=[text]).to_arrow_table()
    except duckdb.Error:
        return None                                  # not JSON: the reader splits it into items
    del text, body
    con.register("fx_items", pa.Table.from_batches(items.to_batches(max_chunksize=SCAN_ROWS // 4)))
    try:
        run_sql(con, _items_sql())
    finally:
        con.unregister("fx_items")
    del items
    if int(run_sql(con, "SELECT count(*) FROM fx_t WHERE NOT regular")[0][0]):
        run_sql(con, "DROP TABLE fx_t")
        return None
    o = reader.owner
    run_sql(con, _records_sql(o.key, o.handle or None, o.generated_at))
    # a mentioned account becomes a stub where it is first seen (not the owner, not one seen before this part)
    seen = sorted(k for k in reader.seen_accounts if k)
    run_sql(con, """CREATE OR REPLACE TEMP TABLE fx_first AS SELECT stub_key, min(idx * 100000 + k) AS pos
        FROM fx_rec WHERE rt = 'account' AND stub_key IS NOT NULL AND NOT list_contains(?::VARCHAR[], stub_key)
        GROUP BY stub_key""", [seen])
    run_sql(con, """CREATE OR REPLACE TEMP TABLE fx_out AS SELECT * EXCLUDE (stub_key) FROM fx_rec r
        WHERE rt <> 'account' OR (idx * 100000 + k) IN (SELECT pos FROM fx_first)""")
    new = run_sql(con, "SELECT ja.account_key FROM fx_out WHERE rt = 'account'")
    reader.seen_accounts.update(r[0] for r in new)
    count = int(run_sql(con, "SELECT count(*) FROM fx_out")[0][0])
    return Block(con, count)
