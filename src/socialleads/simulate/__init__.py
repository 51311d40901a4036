"""A deterministic, streaming synthetic social world with ground truth (``leads simulate``).

``simulate(out_dir, posts, seed)`` writes the generic import format (docs/generic-format.md) plus a
``leads.toml`` and a ``truth.json`` whose audience figures follow docs/audience-definitions.md, computed
from the simulator's own bookkeeping, plus who matters and the engagement inbox's truth (docs/simulator.md).
Same seed → byte-identical files; memory is bounded by the
(capped) number of accounts, the ring of recent posts and one chunk, whatever ``posts`` is.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from socialleads.errors import LeadsError
from socialleads.simulate import owner as ow
from socialleads.simulate.artifacts import write_accounts, write_follows, write_funnel, write_leads_toml
from socialleads.simulate.engine import Engine, Limits
from socialleads.simulate.experiments import ExperimentPlan
from socialleads.simulate.text import TOPICS
from socialleads.simulate.timeline import chunk_times, plan_crisis_window, plan_timeline
from socialleads.simulate.truth import Book, iso
from socialleads.simulate.world import COMPETITORS, DAY, END, N_OWNER, build_world
from socialleads.simulate.writer import FORMATS, PartWriter, to_parquet

__all__ = ["TRUTH_POSTS", "SimulateError", "refuse_workspace", "simulate", "Limits"]
# Per owner post: the truth behind Activate / Mandate / content classes (class, topic, aligned principle,
# cross-post group, UTM campaign and utm_content). Not an import file: the importer skips it.
TRUTH_POSTS = "truth_owner_posts.jsonl"
WINDOW_DAYS = 90
LEADS_TOML_HEADER = "# leads.toml written by `leads simulate`"   # the first line of write_leads_toml's file


class SimulateError(LeadsError):
    """The output folder cannot take a simulated world (it holds a user's workspace)."""


def simulate(out_dir: Path, posts: int, seed: int = 0, days: int = 365,
             progress: Callable[[int, int], None] | None = None, *, limits: Limits | None = None,
             fmt: str = "jsonl", force: bool = False) -> dict[str, Any]:
    """Write a simulated world of exactly ``posts`` posts into ``out_dir``; return the truth dict.

    A folder that holds a workspace (a leads.duckdb, or a leads.toml that `leads simulate` did not write)
    is refused unless ``force``: the simulated brand's leads.toml would replace the user's.

    ``fmt="parquet"`` writes the same records as Parquet files of the generic format (``posts-0001.parquet``, …):
    the truth is the same, only ``truth["files"]`` names the Parquet files."""
    if fmt not in FORMATS:
        raise ValueError(f"format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    if posts < 100:
        raise ValueError("posts: expected at least 100")
    if days < 7:
        raise ValueError("days: expected at least 7")
    limits = limits or Limits()
    out_dir = Path(out_dir)
    if not force:
        refuse_workspace(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.Generator(np.random.PCG64(seed))
    world = build_world(rng, posts, days, limits.max_world)
    window = plan_crisis_window(rng, days)
    plan = ow.plan_owner(rng, posts, days, window, limits.max_owner_posts)
    tl = plan_timeline(rng, posts - len(plan.t), days, limits.chunk_posts, window)
    book = Book(world.n, tl.start, END, WINDOW_DAYS)
    book.f_created = world.f_created
    eng = Engine(rng, world, plan, tl, book, limits, seed)
    eng.exp = exps = ExperimentPlan(seed, plan, END + 1 - days * DAY, END)
    write_accounts(out_dir / "accounts.jsonl", world)
    pw = PartWriter(out_dir, "posts", limits.part_lines)
    iw = PartWriter(out_dir, "interactions", limits.part_lines)
    done = 0
    try:
        for d0, d1 in tl.chunks:
            t_all, cr = chunk_times(rng, tl, d0, d1)
            post_parts, like_parts = eng.chunk(t_all, cr, tl.start + d0 * DAY, tl.start + d1 * DAY)
            for a in post_parts:
                pw.write(a)
                done += len(a)
            for a in like_parts:
                iw.write(a)
            if progress is not None:
                progress(done, posts)
    finally:
        pw.close()
        iw.close()
    if done != posts or pw.lines != posts:
        raise AssertionError(f"wrote {done} posts, planned {posts}")
    if book.max_t != END:
        raise AssertionError("the newest record must be at END")
    follows = write_follows(out_dir / "follows.jsonl", world)
    clicks, conversions, by_campaign = write_funnel(out_dir, rng, world, plan)
    aud = book.audience(world)
    write_leads_toml(out_dir / "leads.toml", world, aud["followers_end"])
    truth = _truth(seed, posts, days, world, plan, tl, book, eng, aud, follows, clicks, conversions, by_campaign)
    truth["files"] = {"posts": pw.files, "interactions": iw.files}
    truth["counts"]["experiment_assignments"] = exps.write(out_dir, world, plan)
    if fmt == "parquet":
        truth["files"] = {k: to_parquet(out_dir, v) for k, v in truth["files"].items()}
        to_parquet(out_dir, sorted(p.name for p in out_dir.iterdir()
                                   if p.suffix in (".jsonl", ".csv") and p.name != TRUTH_POSTS))
    truth["experiments"] = exps.truth(world, plan)
    with open(out_dir / TRUTH_POSTS, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r, sort_keys=True, separators=(",", ":")) + "\n" for r in eng.owner_truth)
    truth["files"]["owner_posts_truth"] = TRUTH_POSTS
    (out_dir / "truth.json").write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return truth


def refuse_workspace(out_dir: Path) -> None:
    """Raise SimulateError when ``out_dir`` holds a workspace or a leads.toml not written by simulate."""
    toml, db = out_dir / "leads.toml", out_dir / "leads.duckdb"
    ours = False
    if toml.is_file():
        try:
            with open(toml, encoding="utf-8", errors="replace") as fh:
                ours = fh.readline().startswith(LEADS_TOML_HEADER)
        except OSError:
            ours = False
    if db.exists() or (toml.exists() and not ours):
        what = db if db.exists() else toml
        raise SimulateError(f"--out {out_dir}: holds a workspace ({what.name}); simulating into it would replace "
                            "its leads.toml: choose another folder (or --force)")


def _truth(seed: int, posts: int, days: int, world: Any, plan: ow.OwnerPlan, tl: Any, book: Book, eng: Engine,
           aud: dict[str, Any], follows: int, clicks: int, conversions: int,
           by_campaign: dict[str, int]) -> dict[str, Any]:
    keys = world.key.to_pylist()
    inf = world.influence.copy()
    inf[:N_OWNER] = -1
    top_designed = np.lexsort((np.arange(world.n), -inf))[:20]
    realised = book.engagement_w.astype(np.float64)
    realised[:N_OWNER] = -1
    top = np.lexsort((np.arange(world.n), -realised))[:20]
    rec = book.received.sum(axis=1)
    rec[:N_OWNER] = -1
    top_rec = np.lexsort((np.arange(world.n), -rec))[:20]
    c = tl.crisis
    hours = (c.times // 3600) * 3600
    uh, hc = np.unique(hours, return_counts=True)
    peak = int(uh[np.argmax(hc)]) if len(uh) else c.start
    groups = plan.group[plan.group >= 0]
    _, gsize = np.unique(groups, return_counts=True)
    engage, unanswered = _engage_truth(world, plan, book, eng, aud)
    counts = dict(eng.counts)
    counts.update({"posts": posts, "follows": follows, "owner_follows": int((world.f_created != -1).sum()), "clicks": clicks, "conversions": conversions,
                   "accounts": world.n, "owner_posts": len(plan.t)})
    return {
        "seed": seed, "posts": posts, "days": days,
        "t_end": iso(book.max_t), "window_days": WINDOW_DAYS, "t_start": iso(book.t_start),
        "world_start": iso(tl.start),
        "owner_keys": keys[:N_OWNER],
        "competitor_keys": {name: [keys[N_OWNER + i]] for i, (name, _, _) in enumerate(COMPETITORS)},
        **aud,
        "crisis": {"start": iso(c.start), "end": iso(c.end), "peak_hour": iso(peak), "negative_posts": c.n},
        "top_influencers": [keys[i] for i in top],
        "top_influencers_engagement": [int(book.engagement_w[i]) for i in top],
        "top_designed_influence": [keys[i] for i in top_designed],
        "top_by_received_actions": [keys[i] for i in top_rec],
        "counts": counts,
        "posts_by_lang": eng.posts_by_lang,
        "owner_posts_by_class": eng.owner_by_class,
        "cross_posted": int(gsize.sum()),
        "cross_post_groups": len(gsize),
        "aligned_posts": int(plan.aligned.sum()),
        "aligned_by_principle": {p: int((plan.principle == i).sum()) for i, p in
                                 enumerate(__import__("socialleads.simulate.world", fromlist=["BRAND"]).BRAND["principles"])},
        "clicks_by_campaign": by_campaign,
        "topics": [{"name": n, "hashtags": list(h)} for n, h, _ in TOPICS],
        "definitions": "docs/audience-definitions.md; week k+j has ended when its Monday + 7 d <= t_end",
        "engage": engage, "unanswered_questions": unanswered,
    }


def _engage_truth(world: Any, plan: ow.OwnerPlan, book: Book, eng: Engine, aud: dict[str, Any]
                  ) -> tuple[dict[str, Any], list[str]]:
    """The engage figures of METRICS.md §2 over the window, as engage/inbox.py response_stats defines them
    (docs/simulator.md), and the sorted keys of the unanswered questions (all time, as of t_end)."""
    fig, unanswered = eng.inbox.figures(world)
    inw = (plan.t >= book.t_start) & (plan.t <= book.t_end)
    kind = eng.owner_kind
    conv = inw & ((kind == 1) | (kind == 3))  # every owner quote carries a comment
    starts = inw & (kind != 2)
    n_posts, n_starts = int(inw.sum()), int(starts.sum())
    fig.update(owner_posts=n_posts, owner_conversational_posts=int(conv.sum()),
               conversation_ratio=int(conv.sum()) / n_posts if n_posts else None,
               conversation_start_share=int((starts & eng.owner_replied).sum()) / n_starts if n_starts else None,
               engagers=aud["engagers_in_window"], engaged_back=aud["hidden_network"],
               reciprocity=aud["hidden_network"] / aud["engagers_in_window"] if aud["engagers_in_window"] else None,
               welcomes=book.welcomes())
    return fig, unanswered
