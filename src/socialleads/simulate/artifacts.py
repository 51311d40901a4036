"""World-level files: accounts.jsonl, follows.jsonl, clicks.csv / conversions.csv and leads.toml."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from socialleads.simulate import owner as ow
from socialleads.simulate.truth import SLA_HOURS
from socialleads.simulate.world import BRAND, COMPETITORS, END, N_OWNER, NONE, PLATFORMS, World, post_keys
from socialleads.simulate.writer import cat, opt, ts, write_lines

PLAT = pa.array(list(PLATFORMS))
REFERRER = ("https://bsky.app/", "https://fosstodon.org/", "https://t.co/")


def write_accounts(path: Path, w: World) -> int:
    owner = np.zeros(w.n, bool)
    owner[:N_OWNER] = True
    flag = pc.if_else(pa.array(owner), ',"is_owner":true', ',"is_owner":false')
    lines = cat('{"record_type":"account","platform":"', PLAT.take(pa.array(w.platform.astype(np.int64))),
                '","account_key":"', w.key, '","handle":"', w.handle, '","display_name":"', w.display, '"', flag, "}\n")
    with open(path, "wb") as f:
        write_lines(f, lines)
    return w.n


def write_follows(path: Path, w: World) -> int:
    a = np.flatnonzero(w.f_created != NONE)
    actor = np.concatenate([a, w.c_actor])
    target = np.concatenate([w.platform[a].astype(np.int64), w.c_target])
    created = np.concatenate([w.f_created[a], w.c_created])
    ended = np.concatenate([w.f_ended[a], np.full(len(w.c_actor), NONE)])
    order = np.lexsort((actor, target, created))
    actor, target, created, ended = actor[order], target[order], created[order], ended[order]
    e = ended != NONE
    lines = cat('{"record_type":"follow","platform":"', PLAT.take(pa.array(w.platform[actor].astype(np.int64))),
                '","actor_key":"', w.key.take(pa.array(actor)), '","target_account_key":"', w.key.take(pa.array(target)),
                '","created_at":"', ts(created), '"', opt(',"ended_at":"', pc.if_else(pa.array(e), ts(ended), pa.nulls(len(e), pa.string()))), "}\n")
    with open(path, "wb") as f:
        write_lines(f, lines)
    return len(actor)


def write_funnel(out: Path, rng: np.random.Generator, w: World, plan: ow.OwnerPlan) -> tuple[int, int, dict[str, int]]:
    """Clicks on the owner's UTM links (a few per post, more for promotions) and some conversions.

    The random draws are made per linked post (a few thousand at most); the rows are assembled and
    written column-wise."""
    rows = [i for i, link in enumerate(plan.link) if link]
    fol = np.bincount(w.platform[w.f_created != NONE], minlength=3)
    draws: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for i in rows:
        p = int(plan.platform[i])
        promo = plan.cls[i] == ow.PROMO
        lam = max(1.0, 0.004 * fol[p]) * (1.6 if promo else 1.0)
        k = int(rng.poisson(lam))
        if not k:
            continue
        times = plan.t[i] + np.exp(rng.normal(np.log(2 * 3600), 1.5, k)).astype(np.int64)
        visitors = rng.integers(0, 2**48, k)
        buys = rng.random(k) < (0.06 if promo else 0.02)
        delay = np.exp(rng.normal(np.log(3600), 1.5, k)).astype(np.int64)
        draws.append((i, times, visitors, buys, delay))
    row = np.concatenate([np.full(len(d[1]), d[0], np.int64) for d in draws] or [np.zeros(0, np.int64)])
    times, visitors, buys, delay = (np.concatenate([d[j] for d in draws] or [np.zeros(0, np.int64)])
                                    for j in range(1, 5))
    ok = times <= END
    row, times, visitors, buys, delay = row[ok], times[ok], visitors[ok], buys[ok].astype(bool), delay[ok]
    ct = times + delay
    promo = plan.cls[row] == ow.PROMO
    cv = buys & (ct <= END) & (delay <= 7 * 86400)
    # per linked post: its key, link and campaign (strings built once per post, not per click)
    link = pa.array([plan.link[i] or "" for i in rows], pa.string())
    camp = [plan.campaign[i] or "" for i in rows]
    at = np.full(len(plan.link), -1, np.int64)
    at[rows] = np.arange(len(rows))
    pkey = pa.array([], pa.string())
    if rows:
        ri = np.array(rows, np.int64)
        parts, where = [], []
        for p in range(3):
            m = np.flatnonzero(plan.platform[ri] == p)
            if len(m):
                parts.append(post_keys(w, p, np.full(len(m), p), plan.seq[ri[m]], plan.t[ri[m]]))
                where.append(m)
        pkey = pa.concat_arrays(parts).take(pa.array(np.argsort(np.concatenate(where), kind="stable")))
    for col in (link, pkey):
        if pc.any(pc.match_substring_regex(col, '[,"\r\n]')).as_py():
            raise AssertionError("a click field would need CSV quoting")
    # clicks in (time, visitor, url, post key, referrer, campaign) order, conversions in (time, visitor, url, ...)
    r = at[row]
    ords = pc.sort_indices(pa.table({"t": times, "v": visitors, "url": link.take(pa.array(r)), "pk": pkey.take(pa.array(r)),
                                     "ref": pa.array(plan.platform[row].astype(np.int64))}),
                           [("t", "ascending"), ("v", "ascending"), ("url", "ascending"), ("pk", "ascending"),
                            ("ref", "ascending")])
    o = ords.to_numpy()
    c_row, c_t, c_v = r[o], times[o], visitors[o]
    vis = _visitor(c_v)
    lines = cat(pa.array([f"c{n:08d}" for n in range(len(o))], pa.string()), ",", ts(c_t), ",", link.take(pa.array(c_row)), ",", vis,
                ",", pkey.take(pa.array(c_row)), ",", pa.array(REFERRER).take(pa.array(plan.platform[row[o]].astype(np.int64))), "\n")
    with open(out / "clicks.csv", "wb") as f:
        f.write(b"click_key,occurred_at,url,visitor_key,post_key,referrer\n")
        write_lines(f, lines)
    k = np.flatnonzero(cv)
    k_t, k_v, k_r, k_p = ct[k], visitors[k], r[k], promo[k]
    k_url = link.take(pa.array(k_r))
    # (time, visitor, url, goal, value): goal and value follow from promo, and "purchase" < "signup"
    ords = pc.sort_indices(pa.table({"t": k_t, "v": k_v, "url": k_url, "g": ~k_p}),
                           [("t", "ascending"), ("v", "ascending"), ("url", "ascending"), ("g", "ascending")])
    o = ords.to_numpy()
    k_p = pa.array(k_p[o])
    lines = cat(pa.array([f"k{n:08d}" for n in range(len(o))], pa.string()), ",", ts(k_t[o]), ",", _visitor(k_v[o]), ",",
                k_url.take(ords), ",", pc.if_else(k_p, "purchase,129.00", "signup,0"), ",USD\n")
    with open(out / "conversions.csv", "wb") as f:
        f.write(b"conversion_key,occurred_at,visitor_key,url,goal,value,currency\n")
        write_lines(f, lines)
    by_campaign: dict[str, int] = {}
    for j, c in zip(*np.unique(r, return_counts=True)):
        by_campaign[camp[j]] = by_campaign.get(camp[j], 0) + int(c)
    return len(c_t), len(k), dict(sorted(by_campaign.items()))


HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _visitor(v: np.ndarray) -> pa.Array:
    """``v`` + 12 lower-case hex digits of each value (< 2**48)."""
    v = v.astype(np.uint64)
    out = np.empty((len(v), 13), np.uint8)
    out[:, 0] = ord("v")
    for i in range(12):
        out[:, 12 - i] = HEX[((v >> np.uint64(4 * i)) & np.uint64(15)).astype(np.intp)]
    return pc.cast(pa.array(out.view("S13").ravel()), pa.string())


def write_leads_toml(path: Path, w: World, followers_end: int) -> None:
    keys = w.key.to_pylist()
    handles = w.handle.to_pylist()
    q = '", "'
    lines = [
        "# leads.toml written by `leads simulate`: the simulated brand's workspace.",
        "[workspace]", f'name = "{BRAND["name"]} (simulated)"', 'engine = "duckdb"', "",
    ]
    for p in range(N_OWNER):
        lines += ["[[owner.accounts]]", f'platform = "{PLATFORMS[p]}"', f'handle = "{handles[p]}"',
                  f'key = "{keys[p]}"', ""]
    for c, (name, cp, _) in enumerate(COMPETITORS):
        i = N_OWNER + c
        lines += ["[[competitors]]", f'name = "{name}"',
                  f'accounts = [{{ platform = "{PLATFORMS[cp]}", handle = "{handles[i]}", key = "{keys[i]}" }}]', ""]
    lines += [
        "[brand]", f'big_promise = "{BRAND["big_promise"]}"',
        f'principles = ["{q.join(BRAND["principles"])}"]', f'causes = ["{q.join(BRAND["causes"])}"]',
        f'product_terms = ["{q.join(BRAND["product_terms"])}"]', f'domains = ["{q.join(BRAND["domains"])}"]', "",
        "[goals]", f"followers = {int(round(followers_end * 1.5 / 100.0) * 100) or 100}",
        "followers_by = 2027-06-30", "posts_per_week = 25", f"response_sla_hours = {SLA_HOURS}",
        "conversation_ratio = 0.3", "", "[analysis]", "window_days = 90", "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
