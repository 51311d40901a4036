"""Terminal output: Rich tables for summaries and scorecards, progress bars for long jobs."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console(stderr=False, highlight=False)
err_console = Console(stderr=True, highlight=False)


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()


@contextmanager
def progress_bar(label: str, unit: str = "items", quiet: bool = False) -> Iterator[Callable[[int, int], None]]:
    """A Rich progress bar fed by `update(done, total)`; drawn on stderr, silent when `quiet`."""
    if quiet:
        yield lambda done, total: None
        return
    columns = [TextColumn("[bold]{task.description}"), BarColumn(),
               DownloadColumn() if unit == "bytes" else MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=err_console, transient=False) as prog:
        task = prog.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            prog.update(task, completed=done, total=total or None)

        yield update


def fmt_value(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if 0 <= abs(v) <= 1:
            return f"{v:.1%}"
        return f"{v:,.2f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


_RATE_KEYS = ("reactivity", "passive_share", "week4_retention", "growth_rate", "returning_engager_share")


def _cell(key: str, v: Any) -> str:
    if isinstance(v, float) and key not in _RATE_KEYS and not (0 <= abs(v) <= 1):
        return f"{v:,.2f}"
    if isinstance(v, float) and key in _RATE_KEYS:
        return f"{v:.1%}"
    if isinstance(v, float):
        return f"{v:.3f}"
    return fmt_value(v)


def scorecard_tables(card: dict[str, Any], name: str) -> list[Table]:
    """One table per LEADS section; scalar figures only (series go to the report)."""
    tables = []
    for section, body in card.items():
        if not isinstance(body, dict):
            continue
        t = Table(title=f"{name} · {section}", title_justify="left", show_header=True, header_style="bold")
        t.add_column("figure")
        t.add_column("value", justify="right")
        unavailable = body.get("unavailable") or {}
        if body.get("available") is False:
            t.add_row("[dim]status[/dim]", f"[dim]{body.get('reason', 'not available')}[/dim]")
            tables.append(t)
            continue
        for k, v in body.items():
            if k in ("unavailable", "window", "action_distribution", "per_platform") or isinstance(v, (dict, list)):
                continue
            if v is None and k in unavailable:
                t.add_row(k, f"[yellow]not available[/yellow]: {unavailable[k]}")
            else:
                t.add_row(k, _cell(k, v))
        w = body.get("window")
        if isinstance(w, dict):
            t.caption = f"window {w.get('start')} → {w.get('end')} ({w.get('days')} days)"
        tables.append(t)
    return tables
