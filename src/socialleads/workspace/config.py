"""leads.toml: what the workspace declares (owner, competitors, brand, goals) and its validation.

Validation names the key and what is wrong with it ("goals.posts_per_week: expected a number ≥ 0,
got 'ten'"), so the CLI can print it as one line.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from socialleads.errors import ConfigError

PLATFORMS = ("bluesky", "mastodon", "activitypub", "x", "reddit", "generic")
ENGINES = ("duckdb", "spark")
MAX_WINDOW_DAYS = 36_500   # 100 years: a longer analysis window overflows the date arithmetic


@dataclass(frozen=True)
class AccountRef:
    platform: str
    handle: str | None = None
    key: str | None = None


@dataclass(frozen=True)
class Competitor:
    name: str
    accounts: tuple[AccountRef, ...]


@dataclass(frozen=True)
class Brand:
    big_promise: str = ""
    principles: tuple[str, ...] = ()
    causes: tuple[str, ...] = ()
    product_terms: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()


@dataclass(frozen=True)
class Goals:
    followers: int | None = None
    followers_by: dt.date | None = None
    posts_per_week: float | None = 5.0
    response_sla_hours: float = 24.0
    conversation_ratio: float | None = 0.3


@dataclass(frozen=True)
class Config:
    name: str = "My brand"
    engine: str = "duckdb"
    owner: tuple[AccountRef, ...] = ()
    competitors: tuple[Competitor, ...] = ()
    brand: Brand = field(default_factory=Brand)
    goals: Goals = field(default_factory=Goals)
    window_days: int = 90
    path: Path | None = None


class _Reader:
    """Typed access to a TOML table that reports errors as 'file: dotted.key: problem'."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.source}: {key}: {problem}")

    def table(self, data: dict[str, Any], key: str, name: str) -> dict[str, Any]:
        value = data.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a table, got {_show(value)}")
        return value

    def string(self, data: dict[str, Any], key: str, name: str, default: str | None = None,
               choices: tuple[str, ...] | None = None) -> str | None:
        value = data.get(name, default)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(key, f"expected text, got {_show(value)}")
        if choices and value not in choices:
            raise self.fail(key, f"expected one of {', '.join(choices)}, got {value!r}")
        return value

    def strings(self, data: dict[str, Any], key: str, name: str) -> tuple[str, ...]:
        value = data.get(name, [])
        if isinstance(value, str):
            raise self.fail(key, f"expected a list of texts like [{value!r}], got a single text")
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, f"expected a list of texts, got {_show(value)}")
        return tuple(v.strip() for v in value if v.strip())

    def number(self, data: dict[str, Any], key: str, name: str, default: float | None,
               minimum: float = 0.0, maximum: float | None = None, integer: bool = False) -> float | None:
        value = data.get(name, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(key, f"expected a number, got {_show(value)}")
        if integer and not float(value).is_integer():
            raise self.fail(key, f"expected a whole number, got {value}")
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum:g} and {maximum:g}" if maximum is not None else f"≥ {minimum:g}"
            raise self.fail(key, f"expected a number {bound}, got {value}")
        return value

    def account(self, data: Any, key: str) -> AccountRef:
        if not isinstance(data, dict):
            raise self.fail(key, f"expected a table with platform and handle or key, got {_show(data)}")
        unknown = set(data) - {"platform", "handle", "key"}
        if unknown:
            raise self.fail(f"{key}.{sorted(unknown)[0]}", "unknown key (expected platform, handle, key)")
        platform = self.string(data, f"{key}.platform", "platform", choices=PLATFORMS)
        if platform is None:
            raise self.fail(f"{key}.platform", f"missing (one of {', '.join(PLATFORMS)})")
        handle = self.string(data, f"{key}.handle", "handle")
        akey = self.string(data, f"{key}.key", "key")
        if not handle and not akey:
            raise self.fail(key, "needs a handle or a key")
        return AccountRef(platform=platform, handle=handle.lstrip("@") if handle else None, key=akey)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)


_TOP_KEYS = {"workspace", "owner", "competitors", "brand", "goals", "analysis"}


def parse_config(data: dict[str, Any], source: str = "leads.toml") -> Config:
    """Validate a parsed leads.toml; raises ConfigError naming the key."""
    r = _Reader(source)
    for k in data:
        if k not in _TOP_KEYS:
            raise r.fail(k, f"unknown section (expected one of {', '.join(sorted(_TOP_KEYS))})")
    ws = r.table(data, "workspace", "workspace")
    name = r.string(ws, "workspace.name", "name", default="My brand") or "My brand"
    engine = r.string(ws, "workspace.engine", "engine", default="duckdb", choices=ENGINES) or "duckdb"

    owner_t = r.table(data, "owner", "owner")
    raw_accounts = owner_t.get("accounts", [])
    if not isinstance(raw_accounts, list):
        raise r.fail("owner.accounts", "expected [[owner.accounts]] tables")
    owner = tuple(r.account(a, f"owner.accounts[{i}]") for i, a in enumerate(raw_accounts))

    raw_comp = data.get("competitors", [])
    if not isinstance(raw_comp, list):
        raise r.fail("competitors", "expected [[competitors]] tables")
    competitors = []
    for i, c in enumerate(raw_comp):
        key = f"competitors[{i}]"
        if not isinstance(c, dict):
            raise r.fail(key, "expected a table with name and accounts")
        cname = r.string(c, f"{key}.name", "name")
        if not cname:
            raise r.fail(f"{key}.name", "missing")
        accs = c.get("accounts", [])
        if not isinstance(accs, list) or not accs:
            raise r.fail(f"{key}.accounts", "expected a non-empty list of accounts")
        competitors.append(Competitor(cname, tuple(r.account(a, f"{key}.accounts[{j}]") for j, a in enumerate(accs))))

    b = r.table(data, "brand", "brand")
    brand = Brand(
        big_promise=r.string(b, "brand.big_promise", "big_promise", default="") or "",
        principles=r.strings(b, "brand.principles", "principles"),
        causes=r.strings(b, "brand.causes", "causes"),
        product_terms=r.strings(b, "brand.product_terms", "product_terms"),
        domains=tuple(d.lower().removeprefix("www.") for d in r.strings(b, "brand.domains", "domains")),
    )

    g = r.table(data, "goals", "goals")
    followers_by = g.get("followers_by")
    if followers_by is not None:
        if isinstance(followers_by, dt.datetime):
            followers_by = followers_by.date()
        elif isinstance(followers_by, str):
            try:
                followers_by = dt.date.fromisoformat(followers_by)
            except ValueError:
                raise r.fail("goals.followers_by", f"expected a date like 2027-06-30, got {followers_by!r}") from None
        elif not isinstance(followers_by, dt.date):
            raise r.fail("goals.followers_by", f"expected a date like 2027-06-30, got {_show(followers_by)}")
    followers_goal = r.number(g, "goals.followers", "followers", None, integer=True)
    goals = Goals(
        followers=int(followers_goal) if followers_goal is not None else None,
        followers_by=followers_by,
        posts_per_week=r.number(g, "goals.posts_per_week", "posts_per_week", 5.0),
        response_sla_hours=r.number(g, "goals.response_sla_hours", "response_sla_hours", 24.0) or 24.0,
        conversation_ratio=r.number(g, "goals.conversation_ratio", "conversation_ratio", 0.3, maximum=1.0),
    )
    an = r.table(data, "analysis", "analysis")
    window = r.number(an, "analysis.window_days", "window_days", 90, minimum=1, integer=True)
    if window is not None and window > MAX_WINDOW_DAYS:
        raise r.fail("analysis.window_days", f"expected at most {MAX_WINDOW_DAYS} days (100 years), got {window}")
    return Config(name=name, engine=engine, owner=owner, competitors=tuple(competitors), brand=brand,
                  goals=goals, window_days=int(window or 90))


def load_config(path: Path) -> Config:
    """Read and validate a leads.toml file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (run `leads init` to create a workspace)") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    cfg = parse_config(data, source=str(path))
    return Config(**{**cfg.__dict__, "path": path})
