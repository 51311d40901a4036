"""World-level files: accounts.jsonl, follows.jsonl, clicks.csv / conversions.csv and leads.toml."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from socialleads.simulate import owner as ow
from socialleads.simulate.world import (BRAND, COMPETITORS, END, N_OWNER, NONE, PLATFORMS, World,
                                        post_keys)
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
    """Clicks on the owner's UTM links (a few per post, more for promotions) and some conversions."""
    rows = [i for i, link in enumerate(plan.link) if link]
    fol = np.bincount(w.platform[w.f_created != NONE], minlength=3)
    clicks: list[tuple[int, str, str, str, str, str]] = []
    conv: list[tuple[int, str, str, str, str, str, str]] = []
    by_campaign: dict[str, int] = {}
    for i in rows:
        p = int(plan.platform[i])
        lam = max(1.0, 0.004 * fol[p]) * (1.6 if plan.cls[i] == ow.PROMO else 1.0)
        k = int(rng.poisson(lam))
        if not k:
            continue
        pk = post_keys(w, p, np.array([p]), plan.seq[i:i + 1], plan.t[i:i + 1]).to_pylist()[0]
        times = plan.t[i] + np.exp(rng.normal(np.log(2 * 3600), 1.5, k)).astype(np.int64)
        visitors = rng.integers(0, 2**48, k)
        buys = rng.random(k) < (0.06 if plan.cls[i] == ow.PROMO else 0.02)
        delay = np.exp(rng.normal(np.log(3600), 1.5, k)).astype(np.int64)
        for j in range(k):
            if times[j] > END:
                continue
            v = f"v{int(visitors[j]):012x}"
            clicks.append((int(times[j]), v, plan.link[i], pk, REFERRER[p], plan.campaign[i] or ""))
            by_campaign[plan.campaign[i] or ""] = by_campaign.get(plan.campaign[i] or "", 0) + 1
            ct = int(times[j] + delay[j])
            if buys[j] and ct <= END and delay[j] <= 7 * 86400:
                promo = plan.cls[i] == ow.PROMO
                value = "129.00" if promo else "0"
                conv.append((ct, v, plan.link[i], "purchase" if promo else "signup", value, "USD", ""))
    clicks.sort()
    conv.sort()
    when = sorted({c[0] for c in clicks} | {c[0] for c in conv})
    stamp = dict(zip(when, ts(np.array(when, np.int64)).to_pylist()))
    with open(out / "clicks.csv", "w", newline="", encoding="utf-8") as f:
        wr = csv.writer(f, lineterminator="\n")
        wr.writerow(["click_key", "occurred_at", "url", "visitor_key", "post_key", "referrer"])
        for n, (t, v, url, pk, ref, _) in enumerate(clicks):
            wr.writerow([f"c{n:08d}", stamp[t], url, v, pk, ref])
    with open(out / "conversions.csv", "w", newline="", encoding="utf-8") as f:
        wr = csv.writer(f, lineterminator="\n")
        wr.writerow(["conversion_key", "occurred_at", "visitor_key", "url", "goal", "value", "currency"])
        for n, (t, v, url, goal, value, cur, _) in enumerate(conv):
            wr.writerow([f"k{n:08d}", stamp[t], v, url, goal, value, cur])
    return len(clicks), len(conv), dict(sorted(by_campaign.items()))


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
        "followers_by = 2027-06-30", "posts_per_week = 25", "response_sla_hours = 24",
        "conversation_ratio = 0.3", "", "[analysis]", "window_days = 90", "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
