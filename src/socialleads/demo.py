"""`leads demo`: simulate a world, import it into a fresh workspace, analyze it, write the report."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from socialleads.errors import LeadsError

ProgressFactory = Callable[..., AbstractContextManager[Callable[[int, int], None]]]


@dataclass
class DemoResult:
    name: str
    workspace: Path
    world: Path
    report: Path
    truth: Path
    scorecard: dict[str, Any]
    import_summary: dict[str, Any]


def run_demo(out: Path, posts: int = 200_000, seed: int = 7, progress: ProgressFactory | None = None) -> DemoResult:
    """Everything `leads demo` does, offline and non-interactive; `out` is replaced if it holds a demo."""
    from socialleads.metrics.scorecard import scorecard_and_series
    from socialleads.report.html import render_report
    from socialleads.simulate import simulate
    from socialleads.sources.importer import import_path
    from socialleads.workspace import init_workspace, open_workspace

    world, ws_dir = out / "world", out / "workspace"
    if out.exists():
        if not (world.exists() or ws_dir.exists()) and any(out.iterdir()):
            raise LeadsError(f"{out}: exists and is not a demo folder; choose another --out")
        shutil.rmtree(world, ignore_errors=True)
        shutil.rmtree(ws_dir, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)

    def bar(label: str, unit: str = "items") -> AbstractContextManager[Callable[[int, int], None]]:
        if progress is None:
            from contextlib import nullcontext
            return nullcontext(lambda done, total: None)
        return progress(label, unit=unit)

    with bar(f"simulate {posts:,} posts") as update:
        simulate(world, posts=posts, seed=seed, progress=update)
    init_workspace(ws_dir, config_from=world / "leads.toml")
    with open_workspace(ws_dir) as ws:
        with bar("import", unit="bytes") as update:
            summary = import_path(ws.store, world, progress=update)
        ws.mark_owner_accounts()
        from socialleads.enrich import enrich

        with bar("enrich (sentiment, questions, language)") as update:
            enrich(ws.store, progress=update)
        owners = ws.owner_keys()
        with bar("topics") as update:
            from socialleads.listen.topics import fit_topics

            fit_topics(ws.store, progress=update)
        with bar("content classes (you and your competitors)") as update:
            from socialleads.classify.classes import classify_posts
            from socialleads.dominate.members import members_of

            keys = sorted({k for m in members_of(ws.store, ws.config, owners) for k in m.keys})
            classify_posts(ws.store, ws.config, account_keys=keys, progress=update)
        with bar("analyze (all five LEADS stages)") as update:
            update(0, 2)
            both = scorecard_and_series(ws.store, owners, ws.config, series=True)
            card = both["scorecard"]
            update(1, 2)
            report = out / "report.html"
            report.write_text(render_report(card, both["series"]), encoding="utf-8")
            update(2, 2)
        name = ws.config.name
    return DemoResult(name=name, workspace=ws_dir, world=world, report=report, truth=world / "truth.json",
                      scorecard=card, import_summary=summary.to_json())
