"""The accounts of the simulated world: the owner brand, its competitors and the world around them.

Account index space (one set of per-account arrays, bounded by the world size):
``0..2`` the owner (bluesky, mastodon, x), ``3..5`` the competitors, ``6..`` world accounts.
Followers of the owner follow the owner account on their own platform; a designed share of them is
*active* (acts on the owner often), the rest never acts on the owner (passive by design).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from socialleads.simulate.text import LANG_P

END = int(dt.datetime(2026, 10, 31, 23, 59, 59, tzinfo=dt.UTC).timestamp())
DAY = 86_400
NONE = -1  # "no time" in int64 time arrays (e.g. a follow that never ended)

PLATFORMS = ("bluesky", "mastodon", "x")
BSKY, MASTO, X = 0, 1, 2
PLATFORM_SHARE = (0.55, 0.30, 0.15)
N_OWNER = 3
N_COMP = 3
FIRST_WORLD = N_OWNER + N_COMP

BRAND = {
    "name": "Voltwise",
    "big_promise": "See every watt in your home, and own the data",
    "principles": ("Your energy data belongs to you", "Build hardware people can repair",
                   "Measure before you spend", "Honest numbers, no greenwashing"),
    "causes": ("Affordable clean energy for every household", "The right to repair the things you own"),
    "product_terms": ("Voltwise Hub", "Voltwise Meter", "Voltwise Cloud", "Voltwise Pro"),
    "domains": ("voltwise.example", "shop.voltwise.example"),
    "tag": "voltwise",
}
OWNER_HANDLES = ("voltwise.bsky.social", "voltwise@fosstodon.org", "voltwise")
COMPETITORS = (("Gridly", BSKY, "gridly.bsky.social"), ("Wattson Labs", MASTO, "wattson@mastodon.social"),
               ("HomeCharge", X, "homecharge"))
INSTANCES = ("mastodon.social", "fosstodon.org", "hachyderm.io", "mas.to", "mastodon.green",
             "chaos.social", "mstdn.social", "techhub.social")
FIRST = ("mara", "jonas", "lea", "sam", "priya", "tom", "ines", "kofi", "yuki", "omar", "nina", "raj", "ella",
         "diego", "hana", "liam", "zoe", "felix", "amara", "ben", "chloe", "dev", "eva", "finn", "gita", "hugo",
         "ivy", "jin", "kai", "lina", "milo", "nora", "oscar", "pia", "quinn", "rosa", "theo", "uma", "vera", "wen")
LAST = ("okafor", "schmidt", "martin", "garcia", "nguyen", "smith", "kowalski", "rossi", "tanaka", "silva",
        "muller", "dubois", "khan", "berg", "costa", "novak", "haddad", "larsen", "moreau", "sato", "lopez",
        "weber", "brown", "ivanova", "fischer", "mensah", "ali", "jensen", "romero", "park")
B32 = np.frombuffer(b"234567abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)


def b32(values: np.ndarray, width: int, mask: np.ndarray | None = None) -> pa.Array:
    """Base32-sortable text (the alphabet of Bluesky TIDs) of unsigned integers, ``width`` chars each
    (null where ``mask``)."""
    v = values.astype(np.uint64)
    out = np.empty((len(v), width), np.uint8)
    for i in range(width):
        out[:, width - 1 - i] = B32[((v >> np.uint64(5 * i)) & np.uint64(31)).astype(np.intp)]
    return pc.cast(pa.array(out.view(f"S{width}").ravel(), mask=mask), pa.string())


@dataclass
class World:
    n: int
    platform: np.ndarray       # int8 per account
    lang: np.ndarray           # int8 index into text.LANGS
    activity: np.ndarray       # float64 posting weight
    influence: np.ndarray      # float64 designed influence (audience / attention weight)
    key: pa.Array              # account key
    handle: pa.Array
    display: pa.Array
    post_prefix: pa.Array      # post key = prefix + id
    # owner follow (one per world account at most) -----------------------------------------------------
    f_created: np.ndarray      # int64 time of follow of the owner on its platform, NONE = never
    f_ended: np.ndarray        # int64 unfollow time, NONE = still following
    active: np.ndarray         # bool: designed active follower
    eng_weight: np.ndarray     # float64 engagement weight of active followers
    # competitor follows (rows) ---------------------------------------------------------------------------
    c_actor: np.ndarray
    c_target: np.ndarray
    c_created: np.ndarray
    active_share: float = 0.11

    @property
    def is_owner(self) -> np.ndarray:
        m = np.zeros(self.n, bool)
        m[:N_OWNER] = True
        return m


def world_size(posts: int, cap: int = 200_000) -> int:
    return int(min(max(posts // 20, 300), cap))


def build_world(rng: np.random.Generator, posts: int, days: int, cap: int = 200_000) -> World:
    start = END + 1 - days * DAY
    n_world = world_size(posts, cap)
    n = FIRST_WORLD + n_world
    platform = np.empty(n, np.int8)
    platform[:N_OWNER] = (BSKY, MASTO, X)
    platform[N_OWNER:FIRST_WORLD] = [c[1] for c in COMPETITORS]
    platform[FIRST_WORLD:] = rng.choice(3, size=n_world, p=PLATFORM_SHARE)
    lang = np.zeros(n, np.int8)
    lang[FIRST_WORLD:] = rng.choice(len(LANG_P), size=n_world, p=LANG_P)

    # heavy-tailed activity (lognormal) and influence (Pareto, correlated with activity)
    activity = np.zeros(n)
    activity[FIRST_WORLD:] = rng.lognormal(0.0, 1.3, n_world)
    influence = np.zeros(n)
    influence[FIRST_WORLD:] = (rng.pareto(1.3, n_world) + 1.0) * np.sqrt(activity[FIRST_WORLD:])
    for c in range(N_COMP):  # competitors: ~1.5% of their platform's posts, influence in the top 1%
        on_p = platform[FIRST_WORLD:] == platform[N_OWNER + c]
        activity[N_OWNER + c] = 0.015 * activity[FIRST_WORLD:][on_p].sum()
        influence[N_OWNER + c] = np.quantile(influence[FIRST_WORLD:][on_p], 0.995) * 1.5

    # names, handles and keys -------------------------------------------------------------------------
    idx = pa.array(np.arange(n, dtype=np.int64)).cast(pa.string())
    fi = rng.integers(0, len(FIRST), n)
    la = rng.integers(0, len(LAST), n)
    first, last = pa.array(FIRST).take(fi), pa.array(LAST).take(la)
    local = pc.binary_join_element_wise(first, last, idx, "")
    inst = pa.array(INSTANCES).take(rng.integers(0, len(INSTANCES), n))
    did = pc.binary_join_element_wise("did:plc:", b32(rng.integers(0, 2**60, n, dtype=np.uint64), 12),
                                      b32(rng.integers(0, 2**60, n, dtype=np.uint64), 12), "")
    xid = pa.array(1_100_000_000 + np.arange(n, dtype=np.int64) * 1000 + rng.integers(0, 1000, n)).cast(pa.string())
    masto_key = pc.binary_join_element_wise("https://", inst, "/users/", local, "")
    is_b, is_m = pa.array(platform == BSKY), pa.array(platform == MASTO)
    key = pc.if_else(is_b, did, pc.if_else(is_m, masto_key, pc.binary_join_element_wise("x:", xid, "")))
    handle = pc.if_else(is_b, pc.binary_join_element_wise(local, ".bsky.social", ""),
                        pc.if_else(is_m, pc.binary_join_element_wise(local, "@", inst, ""), local))
    display = pc.binary_join_element_wise(pc.utf8_capitalize(first), pc.utf8_capitalize(last), " ")
    keys, handles, displays = key.to_pylist(), handle.to_pylist(), display.to_pylist()
    keys[MASTO] = "https://fosstodon.org/users/voltwise"
    for i, h in enumerate(OWNER_HANDLES):
        handles[i], displays[i] = h, "Voltwise"
    for c, (cname, cp, ch) in enumerate(COMPETITORS):
        handles[N_OWNER + c], displays[N_OWNER + c] = ch, cname
        if cp == MASTO:
            keys[N_OWNER + c] = "https://mastodon.social/users/wattson"
    key, handle, display = pa.array(keys), pa.array(handles), pa.array(displays)
    post_prefix = pc.if_else(is_b, pc.binary_join_element_wise(key, "/app.bsky.feed.post/", ""),
                             pc.if_else(is_m, pc.binary_join_element_wise(key, "/statuses/", ""), "x:"))
    post_prefix = pc.if_else(is_b, pc.binary_join_element_wise("at://", post_prefix, ""), post_prefix)

    # followers of the owner: 40% of the world; half followed before the world starts -----------------
    f_created = np.full(n, NONE, np.int64)
    f_ended = np.full(n, NONE, np.int64)
    fol = np.zeros(n, bool)
    fol[FIRST_WORLD:] = rng.random(n_world) < 0.40
    nf = int(fol.sum())
    initial = rng.random(nf) < 0.5
    span = days * DAY
    before = start - 1 - (rng.random(nf) * 900 * DAY).astype(np.int64)
    during = start + (rng.random(nf) ** (1 / 1.6) * (span - 1)).astype(np.int64)  # growing follow rate
    created = np.where(initial, before, during)
    churn = rng.random(nf) < 0.14
    ended = np.maximum(created, start) + 3600 + rng.exponential(100 * DAY, nf).astype(np.int64)
    ended = np.where(churn & (ended < END), ended, NONE)
    f_created[fol], f_ended[fol] = created, ended
    active = np.zeros(n, bool)
    active[fol] = rng.random(nf) < 0.11
    eng_weight = np.zeros(n)
    eng_weight[active] = np.clip(rng.lognormal(0.0, 0.9, int(active.sum())), 0.3, 8.0)

    # competitor follows: 12% of each competitor's platform, never ended ---------------------------------
    c_rows = []
    for c in range(N_COMP):
        cand = np.flatnonzero(platform[FIRST_WORLD:] == platform[N_OWNER + c]) + FIRST_WORLD
        pick = cand[rng.random(len(cand)) < 0.12]
        t = np.where(rng.random(len(pick)) < 0.6, start - 1 - (rng.random(len(pick)) * 700 * DAY).astype(np.int64),
                     start + (rng.random(len(pick)) * (span - 1)).astype(np.int64))
        c_rows.append((pick, np.full(len(pick), N_OWNER + c), t))
    return World(n=n, platform=platform, lang=lang, activity=activity, influence=influence, key=key,
                 handle=handle, display=display, post_prefix=post_prefix, f_created=f_created, f_ended=f_ended,
                 active=active, eng_weight=eng_weight,
                 c_actor=np.concatenate([r[0] for r in c_rows]).astype(np.int64),
                 c_target=np.concatenate([r[1] for r in c_rows]).astype(np.int64),
                 c_created=np.concatenate([r[2] for r in c_rows]).astype(np.int64))


def post_ids(platform: int, author: np.ndarray, seq: np.ndarray, t: np.ndarray,
             mask: np.ndarray | None = None) -> pa.Array:
    """The platform-native id part of a post key (unique per author; globally unique on x); null where mask."""
    owner = author < N_OWNER
    if platform == BSKY:  # TID: microseconds << 10 | clock id
        us = t.astype(np.uint64) * np.uint64(1_000_000) + (seq % 1_000_000).astype(np.uint64)
        return b32((us << np.uint64(10)) | owner.astype(np.uint64), 13, mask)
    if platform == MASTO:
        v = ((t - 1_500_000_000) * 1000 << 16) | (seq % 65_536)
    else:  # X snowflake: ms since the Twitter epoch << 22 | sequence (owner posts use the upper half)
        v = ((t * 1000 - 1_288_834_974_657) << 22) | (seq % 2_097_152) | (owner.astype(np.int64) << 21)
    return pa.array(v, mask=mask).cast(pa.string())


def post_key_parts(world: World, platform: int, author: np.ndarray, seq: np.ndarray, t: np.ndarray,
                   mask: np.ndarray | None = None) -> tuple[pa.Array, pa.Array]:
    """(prefix, id) of post keys, both null where ``mask``: to be concatenated in a line, saving a copy."""
    a = np.asarray(author, np.int64)
    return (world.post_prefix.take(pa.array(a, mask=mask)), post_ids(platform, a, seq, t, mask))


def post_keys(world: World, platform: int, author: np.ndarray, seq: np.ndarray, t: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(world.post_prefix.take(author), post_ids(platform, author, seq, t), "")
