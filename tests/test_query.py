"""The monitor query language: every operator against a hand-made store (expected post keys written by
hand from the texts below), parser errors with exact columns, precedence, and SQL-injection safety."""

from __future__ import annotations

import pytest

from socialleads.listen.monitors import match_posts
from socialleads.listen.query import QuerySyntaxError, compile_query, parse, sql_literal, to_text
from socialleads.store.db import run_sql

ACCOUNTS = [
    ("acc:alice", "bluesky", "alice.bsky.social"),
    ("acc:bob", "mastodon", "bob@mastodon.social"),
    ("acc:carol", "x", "@carol"),
    ("acc:voltwise", "x", "voltwise"),
]
# key, author, lang, text, created_at day (2026-01-DD)
POSTS = [
    ("p01", "acc:alice", "en", "I love my new heat pump, it is great", 1),
    ("p02", "acc:bob", "en", "Heat pumps are overrated. Solar panels first!", 2),
    ("p03", "acc:carol", "de", "Die Wärmepumpe läuft über Nacht", 3),
    ("p04", "acc:alice", "en", "Solar and battery storage: the big shiny panels work", 4),
    ("p05", "acc:bob", "en", "Climate policy needs climate action #climate", 5),
    ("p06", "acc:carol", "en", "New grid rules for climatology nerds", 6),
    ("p07", "acc:alice", "en", "Thanks @voltwise for the fix", 7),
    ("p08", "acc:bob", "en", "Talking to @voltwise@fosstodon.org about colour", 8),
    ("p09", "acc:carol", "en", "hello everyone", 9),
    ("p10", "acc:voltwise", "en", "panels near solar: panels, then solar", 10),
    ("p11", "acc:alice", "fr", "C'est l'heure du \"café\" \\ o'clock", 11),
    ("p12", "acc:bob", "en-US", "heating costs are up", 12),
    ("p13", "acc:alice", None, None, 13),            # a repost: no text, no language
    ("p14", "acc:carol", "en", "heat pump heat pump", 14),  # deleted: never matches
]
ENTITIES = [
    ("p05", "hashtag", "climate", None),
    ("p06", "hashtag", "GridLife", None),           # in the entities only, not in the text
    ("p07", "mention", "voltwise", "acc:voltwise"),
    ("p09", "mention", "x", "acc:voltwise"),        # the mentioned account's handle matches, not the value
]
ALL = {k for k, *_ in POSTS} - {"p14"}


@pytest.fixture(scope="module")
def hand():
    from socialleads.store import open_store

    s = open_store(None)
    for key, platform, handle in ACCOUNTS:
        run_sql(s.con, "INSERT INTO accounts (account_key, platform, handle) VALUES (?, ?, ?)", [key, platform, handle])
    for key, author, lang, text, day in POSTS:
        run_sql(s.con, "INSERT INTO posts (post_key, platform, author_key, kind, created_at, text, lang, source, "
                       "is_deleted) VALUES (?, 'x', ?, ?, make_timestamp(2026, 1, ?, 12, 0, 0), ?, ?, 'test', ?)",
                [key, author, "repost" if text is None else "original", day, text, lang, key == "p14"])
    for key, etype, value, target in ENTITIES:
        run_sql(s.con, "INSERT INTO post_entities (post_key, etype, value, target_account_key) VALUES (?, ?, ?, ?)",
                [key, etype, value, target])
    yield s
    s.close()


def keys(store, query):
    return {r["post_key"] for r in match_posts(store, query)}


CASES = [
    # words: case-insensitive, on word boundaries
    ("heat", {"p01", "p02"}),
    ("HEAT", {"p01", "p02"}),
    ("pump", {"p01"}),
    ("and", {"p04"}),                      # lower-case operators are ordinary words
    ("über", {"p03"}),                     # Unicode word boundaries
    ("café", {"p11"}),
    # wildcards
    ("heat*", {"p01", "p02", "p12"}),
    ("pump?", {"p02"}),
    ("colo?r", {"p08"}),
    ("wärme*", {"p03"}),
    ("climat*", {"p05", "p06"}),
    ("climate", {"p05"}),
    # phrases
    ('"solar panels"', {"p02"}),
    ('"heat pump"', {"p01"}),
    ('"HEAT   pumps"', {"p02"}),
    # NEAR/n in both orders, and beyond the distance
    ("solar NEAR/2 panels", {"p02", "p10"}),   # p10: "panels near solar" (reversed, one word between)
    ("panels NEAR/2 solar", {"p02", "p10"}),
    ("solar NEAR/5 panels", {"p02", "p10"}),   # p04 has six words between
    ("solar NEAR/6 panels", {"p02", "p04", "p10"}),
    ("panels NEAR/0 solar", {"p02", "p10"}),   # p10: "solar: panels" is adjacent (punctuation is no word)
    ("near NEAR/0 then", set()),              # p10: "near solar: panels, then" has two words between
    ("near NEAR/2 then", {"p10"}),
    ('"big shiny" NEAR/4 sol*', {"p04"}),      # p04: "Solar and battery storage: the big shiny"
    ('"big shiny" NEAR/3 sol*', set()),
    # hashtags: entity or text, case-insensitive
    ("#climate", {"p05"}),
    ("#gridlife", {"p06"}),
    ("#climat*", {"p05"}),
    # @handles: entity value, mentioned account's handle, or text (handle@instance by the part before '@')
    ("@voltwise", {"p07", "p08", "p09"}),
    ("@voltwise@fosstodon.org", {"p08"}),
    ("@VoltWise@Fosstodon.org", {"p08"}),
    # from: the author's handle
    ("from:bob", {"p02", "p05", "p08", "p12"}),
    ("from:bob@mastodon.social", {"p02", "p05", "p08", "p12"}),
    ("from:@carol", {"p03", "p06", "p09"}),
    ("from:alice", set()),                  # a Bluesky handle is a domain: no match by its first label
    ("from:alice.bsky.social", {"p01", "p04", "p07", "p11", "p13"}),
    ("from:vol*", {"p10"}),
    # lang:
    ("lang:en", {"p01", "p02", "p04", "p05", "p06", "p07", "p08", "p09", "p10", "p12"}),
    ("lang:de", {"p03"}),
    ("lang:EN-us", {"p12"}),
    # NOT, -term, AND (implicit and explicit), OR
    ("NOT heat", ALL - {"p01", "p02"}),      # p13 (no text) is not a match for heat, so NOT heat holds
    ("-heat", ALL - {"p01", "p02"}),
    ("heat -pump", {"p02"}),
    ("heat AND solar", {"p02"}),
    ("heat solar", {"p02"}),
    ("heat OR climate", {"p01", "p02", "p05"}),
    ("from:bob -lang:en", set()),            # en-US is lang:en too
    ("from:bob -lang:en-us", {"p02", "p05", "p08"}),
    # precedence NOT > AND > OR
    ("heat OR solar panels", {"p01", "p02", "p04", "p10"}),
    ("(heat OR solar) panels", {"p02", "p04", "p10"}),
    ("NOT heat AND solar", {"p04", "p10"}),
    ("NOT (heat AND solar)", ALL - {"p02"}),
    ("heat OR solar AND NOT panels", {"p01", "p02"}),
    ("-(heat OR solar OR lang:en)", {"p03", "p11", "p13"}),
    ("NOT NOT heat", {"p01", "p02"}),
    ("#climate OR @voltwise from:bob", {"p05", "p08"}),
]


@pytest.mark.parametrize("query,expected", CASES, ids=[c[0] for c in CASES])
def test_operators(hand, query, expected):
    assert keys(hand, query) == expected


def test_match_is_one_sql_expression(hand):
    sql = compile_query("heat OR #climate OR @voltwise OR from:bob OR lang:de OR solar NEAR/2 panels")
    n = run_sql(hand.con, "SELECT count(*) FROM posts p LEFT JOIN accounts a ON a.account_key = p.author_key "
                          f"WHERE NOT p.is_deleted AND {sql}")[0][0]
    assert n == len({"p01", "p02", "p05", "p07", "p08", "p09", "p03", "p10", "p12"})


@pytest.mark.parametrize("query,expected", [
    ("a b OR c", "((a AND b) OR c)"),
    ("NOT a b", "((NOT a) AND b)"),
    ("a OR b AND -c", "(a OR (b AND (NOT c)))"),
    ("a OR NOT b c OR d", "(a OR ((NOT b) AND c) OR d)"),
    ('"x y" NEAR/2 z w', '(("x y" NEAR/2 z) AND w)'),
    ("NOT a NEAR/1 b", "(NOT (a NEAR/1 b))"),
    ("(a OR b) AND (c OR NOT d)", "((a OR b) AND (c OR (NOT d)))"),
    ("coal-phase-out", "coal-phase-out"),     # a hyphen inside a word is part of it
])
def test_precedence(query, expected):
    assert to_text(parse(query)) == expected


@pytest.mark.parametrize("query,column,reason", [
    ("(climate OR b", 14, "expected ')'"),
    ("heat (pump", 11, "expected ')'"),
    ("a)", 2, "unexpected ')'"),
    ("a OR", 5, "expected a term after OR"),
    ("OR a", 1, "expected a term"),
    ("a AND AND b", 7, "expected a term after AND"),
    ("a AND", 6, "expected a term after AND"),
    ("NOT", 4, "expected a term after NOT"),
    ("a -", 3, "'-' must be followed by a term"),
    ("", 1, "empty query"),
    ("   ", 1, "empty query"),
    ("()", 2, "empty parentheses"),
    ("a NEAR b", 3, "NEAR needs a distance"),
    ("a NEAR/x b", 3, "NEAR needs a distance"),
    ("(a OR b) NEAR/3 c", 1, "on its left"),
    ("a NEAR/3 #x", 10, "on its right"),
    ("a NEAR/3", 9, "on its right"),
    ("#x NEAR/3 a", 1, "on its left"),
    ("a NEAR/2 b NEAR/2 c", 12, "NEAR cannot be chained"),
    ('"abc', 1, "unterminated quote"),
    ('x "abc', 3, "unterminated quote"),
    ('a ""', 3, "empty phrase"),
    ("lang:english1", 1, "lang: needs a language code"),
    ("a lang:", 3, "lang: needs a language code"),
    ("lang:e", 1, "lang: needs a language code"),
    ("from:", 1, "from: needs a handle"),
    ("a #", 3, "# needs a hashtag"),
    ("@", 1, "@ needs a handle"),
    ("a ,,,", 3, "is not a word"),
])
def test_syntax_errors(query, column, reason):
    with pytest.raises(QuerySyntaxError) as info:
        parse(query)
    e = info.value
    assert e.column == column
    lines = str(e).splitlines()
    assert reason in lines[0] and lines[0].endswith(f" at column {column}")
    assert lines[1] == "  " + query
    assert lines[2] == "  " + " " * (column - 1) + "^"


def test_syntax_error_is_a_leads_error():
    from socialleads.errors import LeadsError

    assert issubclass(QuerySyntaxError, LeadsError)
    with pytest.raises(LeadsError, match=r"expected '\)' at column 14"):
        compile_query("(climate OR b")


def test_sql_literals_are_escaped():
    assert sql_literal("it's") == "'it''s'"
    assert sql_literal("a\\b") == "'a\\b'"      # DuckDB '...' strings have no backslash escapes
    with pytest.raises(ValueError):
        sql_literal("a\x00b")


@pytest.mark.parametrize("query,expected", [
    ("l'heure", {"p11"}),                       # a quote inside a word
    ("c'est", {"p11"}),
    ('"\\ o\'clock"', {"p11"}),                 # a backslash and a quote inside a phrase
    ('"l\'heure du"', {"p11"}),
    ("\"x') OR true OR ('\"", set()),           # would match everything if it reached SQL unescaped
    ("\"' OR 1=1 --\"", set()),
    ("a';DROP TABLE posts;--", set()),
    ("x\\'", set()),
    ("o'clock\\", set()),
    ("from:bob' OR 'a'='a", set()),             # not a handle → an error below, never SQL
])
def test_injection_safe(hand, query, expected):
    try:
        got = keys(hand, query)
    except QuerySyntaxError:
        got = set()
    assert got == expected
    assert hand.count("posts") == len(POSTS)   # the table is still there and whole


def test_regex_metacharacters_are_literal(hand):
    # '.', '+', '(' and '$' in a word match themselves, never as regex operators
    assert keys(hand, "c++") == set()
    assert keys(hand, "over.ated") == set()
    assert keys(hand, '"overrated."') == {"p02"}
    assert keys(hand, "up$") == set()


def test_literal_guards_never_change_a_match(hand, monkeypatch):
    """The substring guards in front of the regexes (query._guarded) only skip texts that cannot match:
    every query of the operator table gives the same posts with the guards switched off."""
    from socialleads.listen import query as Q

    guarded = {q: keys(hand, q) for q, _ in CASES}
    assert "CASE WHEN (contains(" in Q.compile_query('voltwise OR "heat pump" OR #solar OR @bob')
    monkeypatch.setattr(Q, "_guarded", lambda groups, expr: expr)
    assert "CASE WHEN (contains(" not in Q.compile_query('voltwise OR "heat pump" OR #solar OR @bob')
    assert {q: keys(hand, q) for q, _ in CASES} == guarded
