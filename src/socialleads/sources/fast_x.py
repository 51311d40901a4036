"""X archives at scale: the columnar path of `leads import` for the tweets of a YTD `tweets.js` / `tweet.js`.

The Python reader (platforms/x_archive.py `_Reader.tweet`) makes one dict per record; here a tweets part (the
file is one JS array: `window.YTD.tweets.part0 = [...]`, read whole as the reader reads it) is read by DuckDB's
JSON reader straight into typed columns (`_TWEET`: the fields the reader reads, every value a JSON leaf), and
the posts, reply / repost interactions, account stubs of the mentioned accounts and metrics snapshots are built
in SQL as typed structs (`G.RowsSource`; a post's entities as a typed list), numbered as the reader numbers its
records. DuckDB reads files: the array (the text after the first '=') is written to temporary files, cut at item
boundaries into pieces of about CHUNK_BYTES that it reads in parallel and keeps in order.

Only a part whose every tweet has the regular YTD shape is taken (`_tweets_sql`: digit ids, the
`Www Mmm DD HH:MM:SS +0000 YYYY` time, a `full_text` without HTML escapes, no `retweeted_status` or `user`,
entity lists of objects with the usual fields; DuckDB's reader refuses other shapes and a key given twice in an
object it reads; no comma before a closing bracket, which json.loads refuses) and only when the archive has no
note tweets to join; any other part goes through the reader item by item, unchanged.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from socialleads.sources import generic as G
from socialleads.sources import records as R
from socialleads.sources.generic import RowsSource, rows_sql, struct_pack_sql
from socialleads.sources.generic import sql_str as _q
from socialleads.store import merge as M
from socialleads.store.db import run_sql

_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
_TIME = rf"^[A-Za-z]{{3}} ({_MONTHS}) [0-9]{{2}} ([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9] \+0000 [1-9][0-9]{{3}}$"
_STATUS = (r"https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/(?:#!/)?(?:[A-Za-z0-9_]{1,50}|i/web|i)/status(?:es)?/"
           r"([0-9]{1,25})/?(?:[?#].*)?")
_DIGITS = "^[0-9]+$"
_SMALL = "^[0-9]{1,18}$"     # whole numbers that fit 64 bits
_SPECS = {"post": R.POST, "interaction": R.INTERACTION, "account": R.ACCOUNT, "metrics_snapshot": R.METRICS_SNAPSHOT}
# a comma before a closing bracket: DuckDB's JSON parser takes it, json.loads does not (the reader quarantines
# the item); it may also match inside a string, which only sends the part to the reader
_TRAILING_COMMA = r",[ \t\n\r]*[\]}]"

# What the reader reads of a tweet, as DuckDB's JSON reader types it: every value a JSON leaf (its JSON type is
# read from its text: a string starts with a quote, a whole number is digits), objects and lists typed, so that
# one of another shape is an error (a part with one goes to the reader). Not read: `text` and `id`, only used
# when `full_text` / `id_str` is not a string (an irregular tweet). The reader also errs on a key given twice in
# an object of this schema (json.loads keeps the last, DuckDB would take the first).
_FIELDS = ("id_str", "created_at", "full_text", "lang", "in_reply_to_status_id_str", "in_reply_to_status_id",
           "in_reply_to_user_id_str", "in_reply_to_user_id", "retweeted_status", "user", "favorite_count",
           "retweet_count")


def _struct(fields: dict[str, str]) -> str:
    return "STRUCT(" + ", ".join(f'"{k}" {v}' for k, v in fields.items()) + ")"


_MEDIA = ("media_url_https", "media_url", "indices")
_TWEET = {f: "JSON" for f in _FIELDS} | {
    "entities": _struct({
        "user_mentions": _struct({f: "JSON" for f in ("id_str", "screen_name", "name", "indices")}) + "[]",
        "hashtags": _struct({"text": "JSON", "indices": "JSON"}) + "[]",
        "symbols": _struct({"text": "JSON", "indices": "JSON"}) + "[]",
        "urls": _struct({f: "JSON" for f in ("expanded_url", "url", "indices")}) + "[]",
        "media": _struct({f: "JSON" for f in (*_MEDIA, "source_status_id_str", "source_user_id_str")}) + "[]"}),
    "extended_entities": _struct({"media": _struct({f: "JSON" for f in _MEDIA}) + "[]"})}
# an item is a tweet ({"tweet": {…}}, YTD) or a bare one (2019)
_COLUMNS = "{" + ", ".join(f"{_q(k)}: {_q(v)}" for k, v in ({"tweet": _struct(_TWEET)} | _TWEET).items()) + "}"


def _js(x: str) -> str:
    """SQL: the value of JSON leaf `x` when it is a string, else NULL (no JSON parse unless it has escapes)."""
    return f"CASE WHEN starts_with({x}, '\"') THEN CASE WHEN contains({x}, '\\') THEN {x}->>'$' ELSE trim({x}, '\"') END END"


def _jopt(x: str) -> str:
    """JSON leaf `x` is absent / null or a string."""
    return f"({x} IS NULL OR starts_with({x}, '\"'))"


def _jdigits(x: str) -> str:
    """JSON leaf `x` is a string of digits."""
    return f"regexp_matches(coalesce({_js(x)}, ''), '{_DIGITS}')"


def _count_ok(x: str) -> str:
    """absent / null, a whole number or a string of digits, of at most 18 digits (`_int` of the reader)."""
    return f"({x} IS NULL OR regexp_matches({x}, '{_SMALL}') OR regexp_matches(coalesce({_js(x)}, ''), '{_SMALL}'))"


def _count(x: str) -> str:
    return f"CASE WHEN {x} IS NOT NULL THEN TRY_CAST(coalesce({_js(x)}, {x}::VARCHAR) AS HUGEINT)::VARCHAR END"


def _ix(x: str) -> str:
    """The fields of an element's `indices` (JSON leaf x): `ixn` absent / null, `ixa` an array, `ix` its items
    as text (a number's digits, a string's text)."""
    return f"'ixn': {x} IS NULL, 'ixa': starts_with({x}, '['), 'ix': from_json({x}, '[\"VARCHAR\"]')"


def _ix_ok(z: str) -> str:
    """`indices` absent, or a list of two whole numbers (numbers or strings of at most 18 digits)."""
    return (f"({z}.ixn OR ({z}.ixa AND len({z}.ix) = 2 AND regexp_matches(coalesce({z}.ix[1], ''), '{_SMALL}') "
            f"AND regexp_matches(coalesce({z}.ix[2], ''), '{_SMALL}')))")


def _at(z: str, i: int) -> str:
    return f"TRY_CAST({z}.ix[{i + 1}] AS HUGEINT)"


def _all(lst: str, var: str, cond: str) -> str:
    return f"list_bool_and(list_transform({lst}, lambda {var}: {cond})) IS NOT FALSE"


def _tweets_sql(paths: list[str], generated: bool) -> str:
    """fx_t0: one row per tweet of the part, in the part's order (its rowid is the tweet's place), `regular`
    (can the SQL map it) and the columns its records are made of, read by DuckDB's JSON reader from `paths` (the
    part's array, cut into several arrays: read in parallel, in order) into `_TWEET`. Casts are `try_` ones: an
    irregular tweet sends the whole part to the reader, so its values are never used."""
    lists = {
        "mn": ("j.entities.user_mentions", "u", f"'id': {_js('u.id_str')}, 'sn': {_js('u.screen_name')}, "
               f"'sn_ok': {_jopt('u.screen_name')}, 'nm': {_js('u.name')}, {_ix('u.indices')}"),
        "hs": ("j.entities.hashtags", "h", f"'v': {_js('h.text')}, 'ok': {_jopt('h.text')}, {_ix('h.indices')}"),
        "sy": ("j.entities.symbols", "h", f"'v': {_js('h.text')}, 'ok': {_jopt('h.text')}, {_ix('h.indices')}"),
        "us": ("j.entities.urls", "u", f"'eu': {_js('u.expanded_url')}, 'u': {_js('u.url')}, "
               f"'ok': {_jopt('u.expanded_url')} AND {_jopt('u.url')}, {_ix('u.indices')}"),
        "md": ("j.entities.media", "m", f"'v': coalesce(nullif({_js('m.media_url_https')}, ''), {_js('m.media_url')}), "
               f"'ok': {_jopt('m.media_url_https')} AND {_jopt('m.media_url')}, 'ss': {_js('m.source_status_id_str')}, "
               f"'su': {_js('m.source_user_id_str')}, 'ss_ok': m.source_status_id_str IS NULL OR "
               f"{_jdigits('m.source_status_id_str')}, 'su_ok': m.source_user_id_str IS NULL OR "
               f"{_jdigits('m.source_user_id_str')}, {_ix('m.indices')}"),
        "xm": ("j.extended_entities.media", "m", f"'v': coalesce(nullif({_js('m.media_url_https')}, ''), "
               f"{_js('m.media_url')}), 'ok': {_jopt('m.media_url_https')} AND {_jopt('m.media_url')}, "
               f"{_ix('m.indices')}"),
    }
    enrich = ",\n      ".join(f"list_transform(coalesce({src}, []), lambda {v}: {{{body}}}) AS {name}"
                              for name, (src, v, body) in lists.items())
    checks = " AND ".join([
        _all("mn", "z", f"regexp_matches(coalesce(z.id, ''), '{_DIGITS}') AND z.sn_ok AND {_ix_ok('z')}"),
        _all("hs", "z", f"z.ok AND {_ix_ok('z')}"), _all("sy", "z", f"z.ok AND {_ix_ok('z')}"),
        _all("us", "z", f"z.ok AND {_ix_ok('z')} AND regexp_full_match(coalesce(z.eu, ''), '[ -~]*')"),
        _all("md", "z", f"z.ok AND {_ix_ok('z')} AND z.ss_ok AND z.su_ok"), _all("xm", "z", f"z.ok AND {_ix_ok('z')}")])
    ent = M.ENTITY_LIST[:-2]

    def ents(lst: str, etype: str, value: str, account: str = "NULL") -> str:
        keep = "" if etype == "mention" else f"list_filter({lst}, lambda z: coalesce({value}, '') <> '')"
        return (f"list_transform({keep or lst}, lambda z: {{'etype': '{etype}', 'value': {value}, "
                f"'target_account_key': {account}, 'start_idx': TRY_CAST({_at('z', 0)} AS INTEGER), "
                f"'end_idx': TRY_CAST({_at('z', 1)} AS INTEGER), 'idx_unit': 'codepoint'}}::{ent})")

    entities = ", ".join([
        ents("mn", "mention", "z.sn", "'x:' || z.id"), ents("hs", "hashtag", "z.v"), ents("sy", "cashtag", "z.v"),
        ents("us", "link", "coalesce(nullif(z.eu, ''), z.u)"),
        ents("CASE WHEN len(xm) > 0 THEN xm ELSE list_transform(md, lambda m: {'v': m.v, 'ixn': m.ixn, 'ixa': m.ixa, "
             "'ix': m.ix}) END", "media", "z.v")])
    bare = "{" + ", ".join(f'{_q(f)}: "{f}"' for f in _TWEET) + "}"
    return f"""
    CREATE OR REPLACE TEMP TABLE fx_t0 AS
    WITH r AS (SELECT CASE WHEN tweet IS NOT NULL THEN tweet ELSE {bare} END AS j
               FROM read_json([{", ".join(_q(p) for p in paths)}], format = 'array', records = 'true',
                              columns = {_COLUMNS})),
    s AS (SELECT j, {_js("j.id_str")} AS id_str, {_js("j.created_at")} AS created_at,
            {_js("j.full_text")} AS txt, {_js("j.in_reply_to_status_id_str")} AS reply_id,
            {_js("j.in_reply_to_user_id_str")} AS to_user_id FROM r),
    e AS (SELECT j, id_str, created_at, try_strptime(created_at, '%a %b %d %H:%M:%S +0000 %Y') AS ts, txt, reply_id,
            to_user_id,
      {enrich}
          FROM s),
    b AS (SELECT coalesce(regexp_matches(coalesce(id_str, ''), '{_DIGITS}')
        AND regexp_matches(coalesce(created_at, ''), '{_TIME}')
        AND ts IS NOT NULL
        AND txt IS NOT NULL AND NOT contains(txt, '&')
        AND j.retweeted_status IS NULL AND j."user" IS NULL
        AND (regexp_matches(coalesce(reply_id, ''), '{_DIGITS}')
             OR (j.in_reply_to_status_id_str IS NULL AND j.in_reply_to_status_id IS NULL))
        AND (regexp_matches(coalesce(to_user_id, ''), '{_DIGITS}')
             OR (j.in_reply_to_user_id_str IS NULL AND j.in_reply_to_user_id IS NULL))
        AND {_count_ok("j.favorite_count")} AND {_count_ok("j.retweet_count")}
        AND {checks}, FALSE) AS regular,
          id_str, strftime(ts, '%Y-%m-%dT%H:%M:%SZ') AS created,
          txt, {_js("j.lang")} AS lang, starts_with(txt, 'RT @') AS is_rt,
          'x:' || reply_id AS reply_to, 'x:' || to_user_id AS to_user,
          {_count("j.favorite_count")} AS likes, {_count("j.retweet_count")} AS reposts,
          list_filter(md, lambda m: m.ss IS NOT NULL)[1] AS src_media,
          list_filter(mn, lambda u: {_at('u', 0)} = 3)[1] AS rt_mention,
          list_filter(list_transform(us, lambda u: regexp_extract(coalesce(u.eu, ''), '^{_STATUS}$', 1)),
                      lambda x: x <> '') AS status_ids,
          list_concat({entities}) AS ents,
          list_transform(mn, lambda u: {{'id': u.id, 'sn': u.sn, 'nm': u.nm}}) AS mentions
        FROM e),
    c AS (SELECT *, reply_to IS NOT NULL AS has_reply,
            coalesce('x:' || src_media.ss, 'x:unknown-rt:' || id_str) AS rt_of,
            coalesce(CASE WHEN src_media IS NOT NULL THEN 'x:' || src_media.su END, 'x:' || rt_mention.id) AS rt_user,
            list_filter(status_ids, lambda s: s <> id_str AND 'x:' || s IS DISTINCT FROM reply_to)[-1] AS quoted0
          FROM b)
    SELECT regular, id_str, 'x:' || id_str AS pk, created, txt, lang, is_rt, has_reply, reply_to, to_user,
      likes, reposts, rt_of, rt_user, CASE WHEN quoted0 IS NOT NULL THEN 'x:' || quoted0 END AS quoted,
      CASE WHEN is_rt THEN 'repost' WHEN has_reply THEN 'reply' WHEN quoted0 IS NOT NULL THEN 'quote'
           ELSE 'original' END AS kind,
      CASE WHEN len(ents) > 0 THEN ents END AS ents,
      mentions, is_rt OR has_reply AS has_i,
      {'TRUE' if generated else 'FALSE'} AND NOT is_rt AND (likes IS NOT NULL OR reposts IS NOT NULL) AS has_m
    FROM c"""


# the new stubs of the part: a mentioned account where it is first seen (k: its place in the tweet's mentions;
# r: its number among the tweet's new stubs), not the owner, not seen in an earlier part
_STUBS_SQL = """CREATE OR REPLACE TEMP TABLE fx_s AS
    SELECT idx, key, sn, nm, row_number() OVER (PARTITION BY idx ORDER BY k) AS r FROM (
      SELECT idx, k, 'x:' || m.id AS key, m.sn, m.nm
      FROM (SELECT idx, unnest(mentions) AS m, unnest(generate_series(1, len(mentions))) AS k
            FROM fx_t WHERE len(mentions) > 0)
      WHERE 'x:' || m.id NOT IN (SELECT unnest(?::VARCHAR[]))
      QUALIFY row_number() OVER (PARTITION BY m.id ORDER BY idx, k) = 1)"""
# each tweet's records (new stubs, interaction, post, metrics snapshot) numbered on from `base`
_NUMBERS_SQL = """CREATE OR REPLACE TEMP TABLE fx_n AS
    SELECT idx, n_new, sum(cnt) OVER (ORDER BY idx ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - cnt AS base
    FROM (SELECT t.idx, coalesce(s.n, 0) AS n_new, coalesce(s.n, 0) + t.has_i::INTEGER + 1 + t.has_m::INTEGER AS cnt
          FROM fx_t t LEFT JOIN (SELECT idx, count(*) AS n FROM fx_s GROUP BY idx) s USING (idx))"""


def _rows(owner_key: str, owner_handle: str | None, generated_at: str | None, n0: int) -> dict[str, str]:
    """`route_sql`'s rows per record type, numbered n0 + 1 … in the reader's order: per tweet its new stubs,
    its interaction, the post, its metrics snapshot."""
    own = _q(owner_key)
    post = struct_pack_sql(
        R.POST, record_type="'post'", platform="'x'", post_key="t.pk", author_key=own, created_at="t.created",
        kind="t.kind",
        kind_confidence="CASE WHEN t.is_rt OR (NOT t.has_reply AND t.quoted IS NOT NULL) THEN 'heuristic' END",
        repost_of_key="CASE WHEN t.is_rt THEN t.rt_of END", reply_to_key="CASE WHEN NOT t.is_rt THEN t.reply_to END",
        quote_of_key="CASE WHEN NOT t.is_rt THEN t.quoted END", text="t.txt", lang="t.lang",
        url=(f"{_q('https://x.com/' + owner_handle + '/status/')} || t.id_str" if owner_handle else
             "'https://x.com/i/web/status/' || t.id_str"))
    inter = struct_pack_sql(
        R.INTERACTION, record_type="'interaction'", platform="'x'",
        type="CASE WHEN t.is_rt THEN 'repost' ELSE 'reply' END", actor_key=own, via_post_key="t.pk",
        target_post_key="CASE WHEN t.is_rt THEN t.rt_of ELSE t.reply_to END", created_at="t.created",
        time_precision="'exact'", interaction_key="CASE WHEN t.is_rt THEN t.pk END",
        target_account_key="CASE WHEN t.is_rt THEN t.rt_user ELSE t.to_user END")
    metrics = struct_pack_sql(
        R.METRICS_SNAPSHOT, record_type="'metrics_snapshot'", subject_key="t.pk", subject_type="'post'",
        observed_at=_q(generated_at or ""), likes="t.likes", reposts="t.reposts")
    stub = struct_pack_sql(
        R.ACCOUNT, record_type="'account'", platform="'x'", account_key="s.key",
        handle="nullif(s.sn, '')", url="CASE WHEN s.sn <> '' THEN 'https://x.com/' || s.sn END",
        display_name="nullif(s.nm, '')")
    tweets = "fx_t t JOIN fx_n n USING (idx)"
    rels = {
        "post": f"(SELECT {n0} + n.base + n.n_new + t.has_i::INTEGER + 1 AS line_no, {post} AS j, NULL::JSON AS extra, "
                f"t.ents FROM {tweets})",
        "interaction": f"(SELECT {n0} + n.base + n.n_new + 1 AS line_no, {inter} AS j, NULL::JSON AS extra "
                       f"FROM {tweets} WHERE t.has_i)",
        "account": f"(SELECT {n0} + n.base + s.r AS line_no, {stub} AS j, NULL::JSON AS extra "
                   f"FROM fx_s s JOIN fx_n n USING (idx))",
        "metrics_snapshot": f"(SELECT {n0} + n.base + n.n_new + t.has_i::INTEGER + 2 AS line_no, {metrics} AS j, "
                            f"NULL::JSON AS extra FROM {tweets} WHERE t.has_m)",
    }
    return {rt: rows_sql(_SPECS[rt], rel, ", ents" if rt == "post" else "") for rt, rel in rels.items()}


@dataclass
class Block(G.Block):
    """The records of one tweets part made in SQL; staged in the reader's place by `mixed_sources`."""
    con: duckdb.DuckDBPyConnection
    count: int
    owner: tuple[str, str | None, str | None]     # key, handle, generated_at

    def sources(self, n0: int) -> Iterator[RowsSource]:
        try:
            yield RowsSource(_rows(*self.owner, n0), "fx_t", "record", ents=True)
        finally:
            _drop(self.con)


_WS = b" \t\r\n"


def _body(data: bytes) -> tuple[int, int] | None:
    """Where the JSON array of a JS data file is (the text after the first '=', as the reader takes it), or None."""
    lo = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    eq = data.find(b"=", lo)
    lo, hi = (eq + 1 if eq >= 0 else lo), len(data)
    while lo < hi and data[lo] in _WS:
        lo += 1
    while hi > lo and data[hi - 1] in _WS:
        hi -= 1
    while hi > lo and data[hi - 1] == 0x3B:        # ;
        hi -= 1
    while hi > lo and data[hi - 1] in _WS:
        hi -= 1
    if hi - lo < 2 or data[lo] != 0x5B or data[hi - 1] != 0x5D:    # [ … ]
        return None
    return lo, hi


def _no_trailing_comma(con: duckdb.DuckDBPyConnection, body: memoryview) -> bool:
    """No `,` before a `]` / `}` in the text (DuckDB's JSON reader would take it, json.loads does not); the text
    is handed to DuckDB without a copy (and checked as UTF-8 on the way)."""
    offsets = pa.py_buffer(np.array([0, len(body)], dtype=np.int64))
    con.register("fx_text", pa.table({"b": pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets,
                                                                                     pa.py_buffer(body)])}))
    try:
        return not run_sql(con, f"SELECT regexp_matches(decode(b), '{_TRAILING_COMMA}') FROM fx_text")[0][0]
    finally:
        con.unregister("fx_text")


# where one YTD item ends and the next begins: `}, {"tweet":`
_NEXT_ITEM = re.compile(rb'\}[ \t\r\n]*,[ \t\r\n]*\{[ \t\r\n]*"tweet"[ \t\r\n]*:')
CHUNK_BYTES = 8 << 20


def _cuts(body: memoryview) -> list[int]:
    """Places of commas between items that cut the array into pieces of about CHUNK_BYTES. A place found by the
    pattern may be wrong (inside a string, or deeper: an object with a key "tweet" in a list); then the piece
    that ends there is not JSON (a string or a bracket left open) and the reading fails."""
    cuts: list[int] = []
    for k in range(1, len(body) // CHUNK_BYTES):
        m = _NEXT_ITEM.search(body, k * len(body) // (len(body) // CHUNK_BYTES))
        if m is None:
            break
        c = m.start() + bytes(body[m.start():m.end()]).index(b",")
        if not cuts or c > cuts[-1]:
            cuts.append(c)
    return cuts


def _write_pieces(folder: str, body: memoryview, cuts: list[int]) -> list[str]:
    """The array as one file per piece, each an array of its items."""
    paths, start = [], 0
    for i, end in enumerate([*cuts, len(body)]):
        paths.append(os.path.join(folder, f"part{i}.json"))
        with open(paths[-1], "wb") as fh:
            if start:
                fh.write(b"[")
            fh.write(body[start:end])
            if end < len(body):
                fh.write(b"]")
        start = end + 1
    return paths


def _read_tweets(con: duckdb.DuckDBPyConnection, body: memoryview, generated: bool) -> bool:
    """fx_t0 from the part's array `body`, or False when DuckDB's JSON reader refuses it. The reader reads files:
    the array (the text after '=') is written to temporary files, in pieces that it reads in parallel (in one
    piece when cutting it up went wrong)."""
    cuts = _cuts(body)
    try:
        with tempfile.TemporaryDirectory(prefix="leads-x-") as folder:
            for attempt in ([cuts, []] if cuts else [[]]):
                try:
                    run_sql(con, _tweets_sql(_write_pieces(folder, body, attempt), generated))
                    return True
                except duckdb.Error:
                    continue
    except OSError:       # no room for the temporary files: the reader reads the part
        pass
    return False


def part(con: duckdb.DuckDBPyConnection, data: bytes, reader: Any) -> Block | None:
    """The records of a tweets part (`data`, the file's bytes) as a Block, or None when the reader must read
    it (not UTF-8, not one JSON array after '=', an irregular tweet, note tweets to join)."""
    if reader.notes.by_second or reader.owner.key is None:
        return None
    span = _body(data)
    if span is None:
        return None
    o = reader.owner
    body = memoryview(data)[span[0]:span[1]]
    try:
        if not _no_trailing_comma(con, body):
            return None
    except duckdb.Error:
        return None                                          # not UTF-8
    if not _read_tweets(con, body, bool(o.generated_at)):
        return None       # not JSON, an item of another shape: the reader reads it item by item
    run_sql(con, "CREATE OR REPLACE TEMP VIEW fx_t AS SELECT rowid AS idx, * FROM fx_t0")
    if int(run_sql(con, "SELECT count(*) FROM fx_t WHERE NOT regular")[0][0]):
        _drop(con)
        return None
    run_sql(con, _STUBS_SQL, [sorted(k for k in reader.seen_accounts if k)])
    run_sql(con, _NUMBERS_SQL)
    reader.seen_accounts.update(r[0] for r in run_sql(con, "SELECT key FROM fx_s"))
    count = int(run_sql(con, "SELECT (SELECT count(*) FROM fx_s) + count(*) + coalesce(count_if(has_i), 0) "
                             "+ coalesce(count_if(has_m), 0) FROM fx_t")[0][0])
    if not count:
        _drop(con)        # an empty part: nothing to stage (`mixed_sources` does not ask a block of 0 records)
    return Block(con, count, (o.key, o.handle or None, o.generated_at))


def _drop(con: duckdb.DuckDBPyConnection) -> None:
    run_sql(con, "DROP VIEW IF EXISTS fx_t")
    for t in ("fx_t0", "fx_s", "fx_n"):
        run_sql(con, f"DROP TABLE IF EXISTS {t}")
