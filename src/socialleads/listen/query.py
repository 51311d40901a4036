"""The monitor query language: parse a query into a small AST and compile it to one DuckDB SQL
boolean expression over the stored posts (METRICS.md §1, "mention volume").

Grammar (precedence NOT > AND > OR; NEAR binds two terms directly)::

    query   := or EOF
    or      := and ( "OR" and )*
    and     := unary ( ["AND"] unary )*          adjacent terms are ANDed
    unary   := ("NOT" | "-") unary | near
    near    := primary [ "NEAR/" n primary ]     both sides a word or a "phrase"
    primary := "(" or ")" | "phrase" | word | #tag | @handle | from:handle | lang:xx

Operators are upper case (``and`` / ``or`` / ``not`` in lower case are ordinary words). Words match
case-insensitively on word boundaries (Unicode letters and digits, so ``über`` works); ``*`` stands for
any run of word characters and ``?`` for one (``climat*``, ``colo?r``). Inside "quotes" every
character is literal and the words may be separated by any whitespace. ``#tag`` matches the post's
hashtag entities or the text; ``@handle`` its mention entities (value or the mentioned account's
handle) or the text; ``from:handle`` the author's handle. A handle without an instance also matches
the ``handle@instance`` forms (Mastodon). ``lang:xx`` compares the post's language (``lang:en`` also
matches ``en-US``). ``a NEAR/n b`` is true when a and b occur in either order with at most n words
between them.

Why SQL and not Python: the compiled expression runs inside DuckDB over every post at once (one
query, RE2 regexes compiled once as constants), which is what makes matching a whole store cheap.
Every piece of user text reaches SQL as a string literal built by ``sql_literal`` (quotes doubled,
NUL refused) after regex escaping, so a query cannot inject SQL.

Columns used: posts.text, posts.lang, posts.post_key, accounts.handle (of the author, alias ``a``),
post_entities (etype, value, target_account_key) and accounts.handle of mentioned accounts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from socialleads.errors import LeadsError

MAX_NEAR = 50  # RE2 caps counted repetitions at 1000; 50 intervening words is already "anywhere"

# word characters for boundaries: Unicode letters and digits (RE2's \w and \b are ASCII only)
W = r"[\pL\pN_]"
NW = r"[^\pL\pN_]"
LEFT = rf"(?:^|{NW})"
RIGHT = rf"(?:{NW}|$)"
# the text that ends a handle: not a handle character, or a '.' / '-' that does not continue it
HANDLE_END = r"(?:$|[^\pL\pN_.\-]|[.\-](?:$|[^\pL\pN_]))"
_REGEX_META = set("\\.^$|?*+()[]{}")
_LANG = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$")
_HANDLE = re.compile(r"^[\w.\-*?]+(?:@[\w.\-*?]+)?$", re.UNICODE)
_TAG = re.compile(r"^[\w*?]+$", re.UNICODE)


class QuerySyntaxError(LeadsError):
    """A monitor query that does not parse; the message names the column and draws a caret."""

    def __init__(self, reason: str, query: str, column: int) -> None:
        self.reason, self.query, self.column = reason, query, column
        shown = query.replace("\n", " ").replace("\t", " ")
        super().__init__(f"{reason} at column {column}\n  {shown}\n  {' ' * (column - 1)}^")


# ------------------------------------------------------------------------------------------------ the AST
@dataclass(frozen=True)
class Word:
    text: str       # as typed, without case folding; may hold * and ? wildcards
    col: int


@dataclass(frozen=True)
class Phrase:
    words: tuple[str, ...]
    col: int


@dataclass(frozen=True)
class Hashtag:
    tag: str
    col: int


@dataclass(frozen=True)
class Mention:
    handle: str
    col: int


@dataclass(frozen=True)
class From:
    handle: str
    col: int


@dataclass(frozen=True)
class Lang:
    code: str
    col: int


@dataclass(frozen=True)
class Near:
    left: Word | Phrase
    right: Word | Phrase
    n: int
    col: int


@dataclass(frozen=True)
class Not:
    child: Node
    col: int


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


Node = Word | Phrase | Hashtag | Mention | From | Lang | Near | Not | And | Or


# ---------------------------------------------------------------------------------------------- the lexer
@dataclass(frozen=True)
class Token:
    kind: str   # LPAREN RPAREN PHRASE BARE MINUS AND OR NOT NEAR EOF
    text: str
    col: int    # 1-based
    n: int = 0  # NEAR distance


_SPECIAL = set('()"')


def tokenize(query: str) -> list[Token]:
    toks: list[Token] = []
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
        elif c == "(":
            toks.append(Token("LPAREN", c, i + 1))
            i += 1
        elif c == ")":
            toks.append(Token("RPAREN", c, i + 1))
            i += 1
        elif c == '"':
            j = query.find('"', i + 1)
            if j < 0:
                raise QuerySyntaxError("unterminated quote", query, i + 1)
            body = query[i + 1:j]
            if not body.split():
                raise QuerySyntaxError("empty phrase", query, i + 1)
            toks.append(Token("PHRASE", body, i + 1))
            i = j + 1
        elif c == "-" and i + 1 < n and not query[i + 1].isspace() and query[i + 1] != ")":
            toks.append(Token("MINUS", c, i + 1))
            i += 1
        elif c == "-":
            raise QuerySyntaxError("'-' must be followed by a term", query, i + 1)
        else:
            j = i
            while j < n and not query[j].isspace() and query[j] not in _SPECIAL:
                j += 1
            word = query[i:j]
            if word in ("AND", "OR", "NOT"):
                toks.append(Token(word, word, i + 1))
            elif word == "NEAR" or word.startswith("NEAR/"):
                m = re.fullmatch(r"NEAR/(\d+)", word)
                if not m:
                    raise QuerySyntaxError("NEAR needs a distance (as in NEAR/3)", query, i + 1)
                dist = int(m.group(1))
                if dist > MAX_NEAR:
                    raise QuerySyntaxError(f"NEAR distance must be at most {MAX_NEAR}", query, i + 1)
                toks.append(Token("NEAR", word, i + 1, dist))
            else:
                toks.append(Token("BARE", word, i + 1))
            i = j
    toks.append(Token("EOF", "", n + 1))
    return toks


# --------------------------------------------------------------------------------------------- the parser
_STARTS_UNARY = {"LPAREN", "PHRASE", "BARE", "MINUS", "NOT"}


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.toks = tokenize(query)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def fail(self, reason: str, tok: Token | None = None) -> QuerySyntaxError:
        return QuerySyntaxError(reason, self.query, (tok or self.tok).col)

    def advance(self) -> Token:
        t = self.toks[self.i]
        self.i += 1
        return t

    def parse(self) -> Node:
        if self.tok.kind == "EOF":
            raise QuerySyntaxError("empty query", self.query, 1)
        node = self.or_()
        if self.tok.kind == "RPAREN":
            raise self.fail("unexpected ')' without a matching '('")
        if self.tok.kind != "EOF":  # pragma: no cover - every other token starts a term or an operator
            raise self.fail(f"unexpected {self.tok.text!r}")
        return node

    def expect_operand(self, after: Token) -> None:
        if self.tok.kind not in _STARTS_UNARY:
            what = "the end of the query" if self.tok.kind == "EOF" else repr(self.tok.text)
            raise self.fail(f"expected a term after {after.text}, found {what}")

    def or_(self) -> Node:
        parts = [self.and_()]
        while self.tok.kind == "OR":
            op = self.advance()
            self.expect_operand(op)
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_(self) -> Node:
        if self.tok.kind not in _STARTS_UNARY:
            what = "the end of the query" if self.tok.kind == "EOF" else repr(self.tok.text)
            raise self.fail(f"expected a term, found {what}")
        parts = [self.unary()]
        while True:
            if self.tok.kind == "AND":
                op = self.advance()
                self.expect_operand(op)
                parts.append(self.unary())
            elif self.tok.kind in _STARTS_UNARY:
                parts.append(self.unary())
            else:
                break
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def unary(self) -> Node:
        if self.tok.kind in ("NOT", "MINUS"):
            op = self.advance()
            if self.tok.kind not in _STARTS_UNARY:
                what = "the end of the query" if self.tok.kind == "EOF" else repr(self.tok.text)
                raise self.fail(f"expected a term after {op.text}, found {what}")
            return Not(self.unary(), op.col)
        return self.near()

    def near(self) -> Node:
        start = self.tok
        left = self.primary()
        if self.tok.kind != "NEAR":
            return left
        op = self.advance()
        if not isinstance(left, (Word, Phrase)):
            raise self.fail(f"{op.text} needs a word or \"phrase\" on its left", start)
        right_tok = self.tok
        if right_tok.kind not in ("BARE", "PHRASE"):
            what = "the end of the query" if right_tok.kind == "EOF" else repr(right_tok.text)
            raise self.fail(f"{op.text} needs a word or \"phrase\" on its right, found {what}")
        right = self.primary()
        if not isinstance(right, (Word, Phrase)):
            raise self.fail(f"{op.text} needs a word or \"phrase\" on its right", right_tok)
        if self.tok.kind == "NEAR":
            raise self.fail("NEAR cannot be chained; use AND between two NEAR pairs")
        return Near(left, right, op.n, op.col)

    def primary(self) -> Node:
        t = self.tok
        if t.kind == "LPAREN":
            self.advance()
            if self.tok.kind == "RPAREN":
                raise self.fail("empty parentheses")
            node = self.or_()
            if self.tok.kind != "RPAREN":
                raise self.fail("expected ')'")
            self.advance()
            return node
        if t.kind == "PHRASE":
            self.advance()
            return Phrase(tuple(t.text.split()), t.col)
        if t.kind == "BARE":
            self.advance()
            return self.bare(t)
        what = "the end of the query" if t.kind == "EOF" else repr(t.text)
        raise self.fail(f"expected a term, found {what}")

    def bare(self, t: Token) -> Node:
        s = t.text
        low = s.lower()
        if low.startswith("from:"):
            h = s[5:].lstrip("@")
            if not h or not _HANDLE.match(h):
                raise self.fail("from: needs a handle, as in from:alice or from:alice@mastodon.social", t)
            return From(h, t.col)
        if low.startswith("lang:"):
            code = s[5:].lower()
            if not _LANG.match(code):
                raise self.fail("lang: needs a language code, as in lang:en or lang:pt-br", t)
            return Lang(code, t.col)
        if s.startswith("#"):
            tag = s[1:]
            if not tag or not _TAG.match(tag):
                raise self.fail("# needs a hashtag of letters, digits or _, as in #climate", t)
            return Hashtag(tag, t.col)
        if s.startswith("@"):
            h = s[1:]
            if not h or not _HANDLE.match(h):
                raise self.fail("@ needs a handle, as in @alice or @alice@mastodon.social", t)
            return Mention(h, t.col)
        if not any(ch.isalnum() for ch in s):
            raise self.fail(f"{s!r} is not a word (a word needs a letter or a digit)", t)
        return Word(s, t.col)


def parse(query: str) -> Node:
    """Parse a monitor query; raises QuerySyntaxError with the 1-based column of the problem."""
    if not isinstance(query, str):
        raise QuerySyntaxError("a query must be text", str(query), 1)
    if "\x00" in query:
        raise QuerySyntaxError("NUL character in the query", query.replace("\x00", " "), query.index("\x00") + 1)
    return _Parser(query).parse()


# ------------------------------------------------------------------------------------------- the compiler
def sql_literal(s: str) -> str:
    """A DuckDB string literal: single quotes doubled (backslashes are not escapes in '...')."""
    if "\x00" in s:
        raise ValueError("NUL in a SQL literal")
    return "'" + s.replace("'", "''") + "'"


def _escape(ch: str) -> str:
    return "\\" + ch if ch in _REGEX_META else ch


def word_regex(word: str, wildcards: bool = True) -> str:
    """The regex body of one lower-cased word (no boundaries): metacharacters escaped; with
    `wildcards`, * → any run of word characters and ? → one."""
    out = []
    for ch in word.lower():
        if wildcards and ch == "*":
            out.append(W + "*")
        elif wildcards and ch == "?":
            out.append(W)
        else:
            out.append(_escape(ch))
    return "".join(out)


def _is_wordy(ch: str, wildcards: bool) -> bool:
    return ch.isalnum() or ch == "_" or (wildcards and ch in "*?")


def _bounded(body: str, first: str, last: str, wildcards: bool) -> str:
    """Word boundaries where the term's edge is a word character (a term like 'c++' has none after)."""
    left = LEFT if _is_wordy(first, wildcards) else ""
    right = RIGHT if _is_wordy(last, wildcards) else ""
    return left + body + right


def term_regex(node: Word | Phrase) -> str:
    """Regex of a word or phrase, with boundaries."""
    if isinstance(node, Word):
        return _bounded(word_regex(node.text), node.text[0], node.text[-1], True)
    body = r"\s+".join(word_regex(w, wildcards=False) for w in node.words)
    return _bounded(body, node.words[0][0], node.words[-1][-1], False)


def near_regex(node: Near) -> str:
    """a (up to n words between) b, in either order. Boundaries are consumed, so the gap is a run of
    (separator, word) pairs with the separators of the terms' own boundaries counted once."""
    def core(t: Word | Phrase) -> str:
        if isinstance(t, Word):
            return word_regex(t.text)
        return r"\s+".join(word_regex(w, wildcards=False) for w in t.words)

    a, b = core(node.left), core(node.right)
    gap = rf"{NW}+(?:{W}+{NW}+){{0,{node.n}}}"
    return rf"{LEFT}(?:{a}{gap}{b}|{b}{gap}{a}){RIGHT}"


TEXT = "lower(coalesce(p.text, ''))"


def _match_handle(column: str, handle: str) -> str:
    """`column` (a handle, maybe with a leading '@') equals `handle`; a handle without an instance
    also matches 'handle@instance' by the part before the '@'."""
    x = f"lower(ltrim(coalesce({column}, ''), '@'))"
    h = handle.lower()
    if "*" in h or "?" in h:
        pat = "".join("[^@]*" if c == "*" else "[^@]" if c == "?" else _escape(c) for c in h)
        if "@" not in h:
            pat += "(?:@.*)?"
        return f"regexp_full_match({x}, {sql_literal(pat)})"
    if "@" in h:
        return f"{x} = {sql_literal(h)}"
    return f"({x} = {sql_literal(h)} OR split_part({x}, '@', 1) = {sql_literal(h)})"


def _handle_text_regex(handle: str) -> str:
    h = handle.lower()
    body = "".join(r"[\pL\pN_.\-]*" if c == "*" else r"[\pL\pN_.\-]" if c == "?" else _escape(c) for c in h)
    if "@" not in h:
        body += r"(?:@[\pL\pN_.\-]+)?"
    return rf"(?:^|[^\pL\pN_@.])@{body}{HANDLE_END}"


def _literals(t: Word | Phrase) -> list[str]:
    """Lower-cased substrings every match of the term must contain (the runs between wildcards)."""
    if isinstance(t, Phrase):
        return [w.lower() for w in t.words]
    return _parts(t.text)


def _hashtag_parts(node: Hashtag) -> tuple[str, str]:
    """(condition on an entity row ``e`` of etype 'hashtag', regex over the lower-cased text)."""
    tag = node.tag.lower()
    if "*" in tag or "?" in tag:
        ent = f"regexp_full_match(lower(ltrim(e.value, '#')), {sql_literal(word_regex(tag))})"
    else:
        ent = f"lower(ltrim(e.value, '#')) = {sql_literal(tag)}"
    return ent, rf"(?:^|[^\pL\pN_#&])#{word_regex(tag)}{RIGHT}"


def _mention_parts(node: Mention) -> tuple[str, str]:
    """(condition on an entity row ``e`` of etype 'mention' joined to its account ``m``, text regex)."""
    ent = f"({_match_handle('e.value', node.handle)} OR {_match_handle('m.handle', node.handle)})"
    return ent, _handle_text_regex(node.handle)


def _guarded(groups: list[list[str]], expr: str) -> str:
    """`expr` evaluated only on texts that hold every literal of at least one group (a substring test is
    far cheaper than a Unicode regex, and most posts hold none of a monitor's words). Each group lists
    substrings that any match of its regex contains, so the truth value is unchanged. CASE, not AND:
    DuckDB evaluates a CASE branch only on the rows that reach it, in a WHERE and in a SELECT list."""
    if not groups or any(not g for g in groups):
        return expr
    cond = " OR ".join("(" + " AND ".join(f"contains({TEXT}, {sql_literal(lit)})" for lit in g) + ")"
                       for g in groups)
    return f"(CASE WHEN {cond} THEN {expr} ELSE false END)"


def _text_regex(regexes: list[str], groups: list[list[str]] | None = None) -> str:
    """One regexp_matches over the text for several regexes ORed: RE2 scans the text once for the
    alternation instead of once per regex (same truth value: a search for (?:a)|(?:b) matches iff a
    or b matches somewhere); `groups`: each regex's literals (`_guarded`)."""
    body = regexes[0] if len(regexes) == 1 else "|".join(f"(?:{r})" for r in regexes)
    return _guarded(groups or [], f"regexp_matches({TEXT}, {sql_literal(body)})")


def _parts(text: str) -> list[str]:
    return [part for part in re.split(r"[*?]", text.lower()) if part]


def _compile_or(children: tuple[Node, ...]) -> str:
    """OR with its text regexes merged into one alternation and its entity tests into one subquery
    per entity type (fewer scans of the text and of post_entities; the same truth value)."""
    regexes: list[str] = []
    groups: list[list[str]] = []      # the literals of each regex (see _guarded)
    tags: list[str] = []
    ments: list[str] = []
    rest: list[str] = []
    # a handle regex is kept on its own: inside an alternation its open-ended Unicode classes blow up
    # RE2's DFA (measured 0.1 s alone, 29 s merged with five words on 200 k posts)
    own: list[str] = []
    for c in children:
        if isinstance(c, (Word, Phrase)):
            regexes.append(term_regex(c))
            groups.append(_literals(c))
        elif isinstance(c, Hashtag):
            ent, rx = _hashtag_parts(c)
            tags.append(ent)
            regexes.append(rx)
            groups.append(["#", *_parts(c.tag)])
        elif isinstance(c, Mention):
            ent, rx = _mention_parts(c)
            ments.append(ent)
            own.append(_guarded([["@", *_parts(c.handle)]], f"regexp_matches({TEXT}, {sql_literal(rx)})"))
        else:
            rest.append(_compile(c))
    parts = []
    if tags:
        parts.append(f"p.post_key IN (SELECT e.post_key FROM post_entities e WHERE e.etype = 'hashtag' AND "
                     f"({' OR '.join(tags)}))")
    if ments:
        parts.append(f"p.post_key IN (SELECT e.post_key FROM post_entities e LEFT JOIN accounts m "
                     f"ON m.account_key = e.target_account_key WHERE e.etype = 'mention' AND ({' OR '.join(ments)}))")
    if regexes:
        parts.append(_text_regex(regexes, groups))
    return "(" + " OR ".join(parts + own + rest) + ")"


def _compile(node: Node) -> str:
    if isinstance(node, (Word, Phrase)):
        return _guarded([_literals(node)], f"regexp_matches({TEXT}, {sql_literal(term_regex(node))})")
    if isinstance(node, Near):
        # the NEAR regex is costly (counted repetitions of Unicode classes): let cheap substring tests
        # of the literal parts drop most posts first (AND evaluates its right side only where needed)
        pre = [f"contains({TEXT}, {sql_literal(lit)})" for lit in _literals(node.left) + _literals(node.right)]
        return "(" + " AND ".join([*pre, f"regexp_matches({TEXT}, {sql_literal(near_regex(node))})"]) + ")"
    if isinstance(node, (Hashtag, Mention)):
        return _compile_or((node,))
    if isinstance(node, From):
        return _match_handle("a.handle", node.handle)
    if isinstance(node, Lang):
        lang = "lower(coalesce(p.lang, ''))"
        return f"({lang} = {sql_literal(node.code)} OR starts_with({lang}, {sql_literal(node.code + '-')}))"
    if isinstance(node, Not):
        return f"(NOT {_compile(node.child)})"
    if isinstance(node, And):
        return "(" + " AND ".join(_compile(c) for c in node.children) + ")"
    if isinstance(node, Or):
        return _compile_or(node.children)
    raise TypeError(f"not a query node: {node!r}")  # pragma: no cover


def compile_query(query: str | Node) -> str:
    """One DuckDB boolean expression over `posts p` joined to its author `accounts a`
    (``LEFT JOIN accounts a ON a.account_key = p.author_key``); never NULL."""
    node = parse(query) if isinstance(query, str) else query
    return _compile(node)


FROM_CLAUSE = "posts p LEFT JOIN accounts a ON a.account_key = p.author_key"


def to_text(node: Node) -> str:
    """A canonical, fully parenthesized form of the AST (for messages and tests of precedence)."""
    if isinstance(node, Word):
        return node.text
    if isinstance(node, Phrase):
        return '"' + " ".join(node.words) + '"'
    if isinstance(node, Hashtag):
        return "#" + node.tag
    if isinstance(node, Mention):
        return "@" + node.handle
    if isinstance(node, From):
        return "from:" + node.handle
    if isinstance(node, Lang):
        return "lang:" + node.code
    if isinstance(node, Near):
        return f"({to_text(node.left)} NEAR/{node.n} {to_text(node.right)})"
    if isinstance(node, Not):
        return f"(NOT {to_text(node.child)})"
    if isinstance(node, And):
        return "(" + " AND ".join(to_text(c) for c in node.children) + ")"
    if isinstance(node, Or):
        return "(" + " OR ".join(to_text(c) for c in node.children) + ")"
    raise TypeError(f"not a query node: {node!r}")  # pragma: no cover
