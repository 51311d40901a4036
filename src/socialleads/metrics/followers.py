"""Followers F(t) (METRICS.md §0 "audience size"; docs/audience-definitions.md "Followers").

Sources, in order (the whole owner set uses the first that has data):
1. `follows`: `interactions` rows with type = 'follow' and target_account_key ∈ O
   (columns: platform, actor_key, target_account_key, created_at, ended_at). Actor `a` follows at `t` when
   created_at ≤ t (NULL = older than the data) and (ended_at IS NULL or ended_at > t).
2. `follower_snapshots`: the latest snapshot at or before `t` of each owner account
   (columns: account_key, observed_at, follower_key).
3. `metrics_snapshots`: counts only (subject_type = 'account', subject_key ∈ O, observed_at, followers);
   follower-level metrics are then not available.

Accounts are counted by key (distinct actor keys across O); no identity links are applied yet.
Counts over time come from a cumulative sum of membership transitions (+1 when an actor starts
following any of O, −1 when it stops following all of them), evaluated at instants with an as-of join:
never a cross join of days × follows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import ibis
import pyarrow as pa
from ibis.expr.types import Table

from socialleads.metrics.asof import asof_left
from socialleads.metrics.tables import Tables
from socialleads.metrics.window import naive

#: A follow without a time counts as older than the data.
NEG_INF = dt.datetime(1900, 1, 1)  # naive UTC, see window.naive

FOLLOWS = "follows"
FOLLOWER_SNAPSHOTS = "follower_snapshots"
METRICS_SNAPSHOTS = "metrics_snapshots"
NO_SOURCE = "none"

TS = "timestamp(6)"  # how Ibis types the store's timestamps; literals are cast to it

ALL = "all"  # the combined series' platform label

NO_FOLLOWER_LIST = ("not available from these sources: the owner's followers are known only as counts "
                    "(metrics_snapshots); a follower list is needed — import follow events "
                    "(Bluesky/Mastodon follower records) or a dated follower list (X follower.js)")
NO_FOLLOWERS = ("not available from these sources: no follow events, follower snapshots or follower counts "
                "for the owner's accounts; import the owner's followers (follow records, follower.js) or "
                "profile snapshots with follower counts")


@dataclass(frozen=True)
class Audience:
    """What the follower metrics need: the tables, the owner's keys and which source stands for F(t)."""

    t: Tables
    owner: tuple[str, ...]
    source: str
    platform_of: dict[str, str]  # owner account key → platform

    @property
    def has_identities(self) -> bool:
        """True when F(t) is a set of accounts (not just a count)."""
        return self.source in (FOLLOWS, FOLLOWER_SNAPSHOTS)


def _count(expr: Table) -> int:
    return int(expr.count().execute())


def audience_for(t: Tables, owner_keys: list[str] | tuple[str, ...]) -> Audience:
    """Pick F(t)'s source for O (see the module docstring)."""
    owner = tuple(sorted(set(owner_keys)))
    acc = t.accounts
    rows = (acc.filter(acc.account_key.isin(owner)).select("account_key", "platform").distinct()
            .to_pyarrow().to_pylist()) if owner else []
    platform_of = {r["account_key"]: r["platform"] for r in rows}
    source = NO_SOURCE
    if owner:
        i = t.interactions
        fs = t.follower_snapshots
        ms = t.metrics_snapshots
        follows = i.filter(i.type == "follow", i.target_account_key.isin(owner))
        timed_follows = _count(follows.filter(follows.created_at.notnull()).limit(1))
        has_snapshots = _count(fs.filter(fs.account_key.isin(owner)).limit(1))
        # Follow events with times give F(t) exactly; follows without times (an archive's follower
        # list) only say who follows now, so a dated series of snapshots is the better source then.
        if timed_follows or (not has_snapshots and _count(follows.limit(1))):
            source = FOLLOWS
            # the platform of an owner account missing from `accounts`: from its follow events
            missing = [k for k in owner if k not in platform_of]
            if missing:
                f = i.filter(i.type == "follow", i.target_account_key.isin(missing))
                for r in f.select("target_account_key", "platform").distinct().to_pyarrow().to_pylist():
                    platform_of.setdefault(r["target_account_key"], r["platform"])
        elif has_snapshots:
            source = FOLLOWER_SNAPSHOTS
        elif _count(ms.filter(ms.subject_type == "account", ms.subject_key.isin(owner),
                              ms.followers.notnull()).limit(1)):
            source = METRICS_SNAPSHOTS
    for k in owner:
        platform_of.setdefault(k, "unknown")
    return Audience(t=t, owner=owner, source=source, platform_of=platform_of)


# --- follow events ----------------------------------------------------------------------------------

def follow_edges(aud: Audience) -> Table:
    """Follow intervals to O: platform, actor_key, target_account_key, start, end (end NULL = still on)."""
    i = aud.t.interactions
    f = i.filter(i.type == "follow", i.target_account_key.isin(aud.owner), i.actor_key.notnull())
    return f.select(
        platform=f.platform,
        actor_key=f.actor_key,
        target_account_key=f.target_account_key,
        start=f.created_at.fill_null(ibis.literal(NEG_INF)).cast(TS),
        end=f.ended_at.cast(TS),
    )


def follower_transitions(aud: Audience, by_platform: bool) -> Table:
    """Membership changes of F: (platform,) ts, delta ∈ {+1, −1}.

    Per actor (and platform when `by_platform`), the number of its follow intervals open at each event
    time is a running sum of +1 (follow) / −1 (unfollow); the actor enters F when that number goes from
    0 to ≥1 and leaves when it returns to 0. Empty intervals (ended_at ≤ created_at) never count.
    """
    e = follow_edges(aud)
    e = e.filter(e.end.isnull() | (e.end > e.start))
    plus = e.select("platform", "actor_key", ts=e.start, d=ibis.literal(1))
    ended = e.filter(e.end.notnull())
    minus = ended.select("platform", "actor_key", ts=ended.end, d=ibis.literal(-1))
    ev = plus.union(minus)
    keys = ["platform", "actor_key"] if by_platform else ["actor_key"]
    per = ev.group_by([*keys, "ts"]).aggregate(d=ev.d.sum())
    cum = per.d.sum().over(ibis.cumulative_window(group_by=[per[k] for k in keys], order_by=per.ts))
    per = per.mutate(cum=cum)
    per = per.mutate(prev=per.cum - per.d)
    delta = ibis.cases(((per.prev <= 0) & (per.cum > 0), 1), ((per.prev > 0) & (per.cum <= 0), -1), else_=0)
    per = per.mutate(delta=delta)
    out_keys = ["platform"] if by_platform else []
    return per.filter(per.delta != 0).select(*out_keys, "ts", "delta")


# --- counts at instants -------------------------------------------------------------------------------

def _instants(instants: list[dt.datetime], platforms: list[str] | None = None) -> Table:
    rows: dict[str, list[Any]] = {"i": [], "t": []}
    if platforms is not None:
        rows["platform"] = []
    for n, x in enumerate(instants):
        for p in (platforms if platforms is not None else [None]):
            rows["i"].append(n)
            rows["t"].append(naive(x))
            if platforms is not None:
                rows["platform"].append(p)
    schema = [pa.field("i", pa.int64()), pa.field("t", pa.timestamp("us"))]
    if platforms is not None:
        schema.append(pa.field("platform", pa.string()))
    m = ibis.memtable(pa.table(rows, schema=pa.schema(schema)))
    return m.mutate(t=m.t.cast(TS))


def _owner_accounts(aud: Audience) -> Table:
    keys = list(aud.owner)
    return ibis.memtable(pa.table({"account_key": keys, "platform": [aud.platform_of[k] for k in keys]}))


def follower_counts_at(aud: Audience, instants: list[dt.datetime]) -> dict[str, list[int | None]]:
    """|F(t)| for each instant: {'all': [...], platform: [...]}; None where the source cannot say
    (no snapshot at or before t). Empty dict when there is no source at all."""
    if aud.source == NO_SOURCE or not instants:
        return {}
    platforms = sorted(set(aud.platform_of.values()))
    if aud.source == FOLLOWS:
        out: dict[str, list[int | None]] = {ALL: _cum_at(follower_transitions(aud, by_platform=False), instants, None)}
        trans_p = follower_transitions(aud, by_platform=True)
        per = _cum_at(trans_p, instants, platforms)
        for k, p in enumerate(platforms):
            out[p] = [per[n * len(platforms) + k] for n in range(len(instants))]
        return out
    if aud.source == FOLLOWER_SNAPSHOTS:
        return _snapshot_counts_at(aud, instants, platforms)
    return _metric_counts_at(aud, instants, platforms)


def _cum_at(trans: Table, instants: list[dt.datetime], platforms: list[str] | None) -> list[int]:
    """Σ delta over transitions with ts ≤ t, per instant (and platform): cumulative sum + as-of join."""
    keys = ["platform"] if platforms is not None else []
    agg = trans.group_by([*keys, "ts"]).aggregate(d=trans.delta.sum())
    cum = agg.mutate(cum=agg.d.sum().over(ibis.cumulative_window(
        group_by=[agg[k] for k in keys] or None, order_by=agg.ts)))
    inst = _instants(instants, platforms)
    j = asof_left(inst, cum, "t", "ts", keys)
    res = j.select("i", *keys, n=j.cum.fill_null(0)).order_by("i", *keys).to_pyarrow().to_pylist()
    return [int(r["n"]) for r in res]


def _latest_snapshot_per_account(aud: Audience, inst: Table, times: Table) -> Table:
    """(i, t, account_key, platform, observed_at): each owner account's latest snapshot at or before t."""
    grid = inst.cross_join(_owner_accounts(aud))
    j = asof_left(grid, times, "t", "observed_at", ["account_key"])
    return j.select("i", "t", "account_key", "platform", "observed_at").filter(ibis._.observed_at.notnull())


def _snapshot_counts_at(aud: Audience, instants: list[dt.datetime],
                        platforms: list[str]) -> dict[str, list[int | None]]:
    fs = aud.t.follower_snapshots.filter(aud.t.follower_snapshots.account_key.isin(aud.owner))
    times = fs.select("account_key", "observed_at").distinct()
    chosen = _latest_snapshot_per_account(aud, _instants(instants), times)
    rows = chosen.join(fs, ["account_key", "observed_at"]).select("i", "platform", "follower_key")
    per_p = rows.group_by("i", "platform").aggregate(n=rows.follower_key.nunique()).to_pyarrow().to_pylist()
    all_ = rows.group_by("i").aggregate(n=rows.follower_key.nunique()).to_pyarrow().to_pylist()
    covered = chosen.group_by("i", "platform").aggregate(k=chosen.account_key.count()).to_pyarrow().to_pylist()
    return _assemble(instants, platforms, per_p, all_, covered)


def _metric_counts_at(aud: Audience, instants: list[dt.datetime],
                      platforms: list[str]) -> dict[str, list[int | None]]:
    ms = aud.t.metrics_snapshots
    ms = ms.filter(ms.subject_type == "account", ms.subject_key.isin(aud.owner), ms.followers.notnull())
    # several rows at one observed_at (two sources): take the largest, deterministic
    times = ms.group_by(account_key=ms.subject_key, observed_at=ms.observed_at).aggregate(
        followers=ms.followers.max())
    grid = _instants(instants).cross_join(_owner_accounts(aud))
    j = asof_left(grid, times, "t", "observed_at", ["account_key"])
    j = j.select("i", "account_key", "platform", "observed_at", "followers").filter(
        ibis._.observed_at.notnull())
    per_p = j.group_by("i", "platform").aggregate(n=j.followers.sum()).to_pyarrow().to_pylist()
    all_ = j.group_by("i").aggregate(n=j.followers.sum()).to_pyarrow().to_pylist()
    covered = j.group_by("i", "platform").aggregate(k=j.account_key.count()).to_pyarrow().to_pylist()
    return _assemble(instants, platforms, per_p, all_, covered)


def _assemble(instants: list[dt.datetime], platforms: list[str], per_p: list[dict[str, Any]],
              all_: list[dict[str, Any]], covered: list[dict[str, Any]]) -> dict[str, list[int | None]]:
    """None where no owner account had a snapshot at or before t (unknown, not zero)."""
    has = {(r["i"], r["platform"]) for r in covered}
    got_p = {(r["i"], r["platform"]): int(r["n"]) for r in per_p}
    got_all = {r["i"]: int(r["n"]) for r in all_}
    out: dict[str, list[int | None]] = {ALL: []}
    for p in platforms:
        out[p] = []
    for n in range(len(instants)):
        any_cov = any((n, p) in has for p in platforms)
        out[ALL].append(got_all.get(n, 0) if any_cov else None)
        for p in platforms:
            out[p].append(got_p.get((n, p), 0) if (n, p) in has else None)
    return out


# --- follower sets --------------------------------------------------------------------------------

def followers_among(aud: Audience, candidates: Table) -> Table:
    """The (t, actor_key) rows of `candidates` where actor_key ∈ F(t). Needs `aud.has_identities`.

    Checking candidates (engagers) against F is far cheaper than materializing F at every instant.
    """
    c = candidates.select("t", "actor_key").distinct()
    if aud.source == FOLLOWS:
        e = follow_edges(aud)
        j = c.join(e, [c.actor_key == e.actor_key, e.start <= c.t, e.end.isnull() | (e.end > c.t)])
        return j.select(t=c.t, actor_key=c.actor_key).distinct()
    if aud.source == FOLLOWER_SNAPSHOTS:
        fs = aud.t.follower_snapshots.filter(aud.t.follower_snapshots.account_key.isin(aud.owner))
        times = fs.select("account_key", "observed_at").distinct()
        grid = c.select("t").distinct().cross_join(_owner_accounts(aud))
        j = asof_left(grid, times, "t", "observed_at", ["account_key"])
        chosen = j.select("t", "account_key", "observed_at").filter(ibis._.observed_at.notnull())
        m = chosen.join(fs, ["account_key", "observed_at"]).select("t", actor_key=fs.follower_key)
        return c.join(m, ["t", "actor_key"]).select("t", "actor_key").distinct()
    raise ValueError(f"follower identities are not available from source {aud.source!r}")


def follower_set_at(aud: Audience, t: dt.datetime) -> Table:
    """F(t) as a table of actor_key (follow events or the latest snapshots). Needs `aud.has_identities`."""
    t = naive(t)
    if aud.source == FOLLOWS:
        e = follow_edges(aud)
        return e.filter(e.start <= t, e.end.isnull() | (e.end > t)).select("actor_key").distinct()
    if aud.source == FOLLOWER_SNAPSHOTS:
        fs = aud.t.follower_snapshots.filter(aud.t.follower_snapshots.account_key.isin(aud.owner),
                                             aud.t.follower_snapshots.observed_at <= t)
        latest = fs.group_by("account_key").aggregate(observed_at=fs.observed_at.max())
        return fs.join(latest, ["account_key", "observed_at"]).select(actor_key=fs.follower_key).distinct()
    raise ValueError(f"follower identities are not available from source {aud.source!r}")


def followers_step_table(aud: Audience) -> Table | None:
    """|F| per platform as a step function: (platform, ts, n) = the count from ts until the next row.

    For follow events this is the per-platform cumulative sum of transitions (computed in DuckDB); for
    snapshots the counts at each snapshot time (few rows). None when there is no source.
    """
    if aud.source == NO_SOURCE:
        return None
    if aud.source == FOLLOWS:
        tr = follower_transitions(aud, by_platform=True)
        agg = tr.group_by("platform", "ts").aggregate(d=tr.delta.sum())
        return agg.select("platform", "ts", n=agg.d.sum().over(
            ibis.cumulative_window(group_by=agg.platform, order_by=agg.ts)))
    if aud.source == FOLLOWER_SNAPSHOTS:
        s = aud.t.follower_snapshots
        times = s.filter(s.account_key.isin(aud.owner))
    else:
        s = aud.t.metrics_snapshots
        times = s.filter(s.subject_type == "account", s.subject_key.isin(aud.owner), s.followers.notnull())
    instants = sorted({r["observed_at"] for r in
                       times.select("observed_at").distinct().to_pyarrow().to_pylist()})
    counts = follower_counts_at(aud, [x.replace(tzinfo=None) for x in instants])
    rows: dict[str, list[Any]] = {"platform": [], "ts": [], "n": []}
    for p, values in counts.items():
        if p == ALL:
            continue
        for x, n in zip(instants, values):
            if n is not None:
                rows["platform"].append(p)
                rows["ts"].append(naive(x))
                rows["n"].append(n)
    m = ibis.memtable(pa.table(rows, schema=pa.schema([pa.field("platform", pa.string()),
                                                         pa.field("ts", pa.timestamp("us")),
                                                         pa.field("n", pa.int64())])))
    return m.mutate(ts=m.ts.cast(TS))
