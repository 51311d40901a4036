"""The five LEADS stages of the scorecard: one section per stage, each with a grade and its evidence.

Each stage lives in its own module, which exposes ``section(ctx: StageContext) -> dict`` (JSON-ready).
A section always has:

* ``available`` (bool) and, when False, ``reason`` (what would supply it);
* ``grade``: ``{"letter": "A".."F" | None, "met": int, "checks": int, "rule": str}`` from `grade`;
* ``evidence``: a list of `Check.to_json()` rows (metric, value, target, direction, met, note);
* any figures of its own.

The registry below imports each stage module lazily, so a stage that is not built yet reads
"not implemented yet" instead of breaking the scorecard.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from socialleads.metrics.window import Window

STAGES = ("listen", "engage", "activate", "dominate", "mandate")
STAGE_NAMES = {"listen": "Listen", "engage": "Engage", "activate": "Activate", "dominate": "Dominate",
               "mandate": "Social mandate"}
# stage -> module exposing section(ctx). Listen's summary is computed by the scorecard itself.
STAGE_MODULES = {
    "engage": "socialleads.engage.section",
    "activate": "socialleads.activate.section",
    "dominate": "socialleads.dominate.section",
    "mandate": "socialleads.mandate.section",
}
NOT_YET = {
    "engage": "not implemented yet (issue 5)",
    "activate": "not implemented yet (issue 6)",
    "dominate": "not implemented yet (issue 6)",
    "mandate": "not implemented yet (issue 6)",
}


@dataclass
class StageContext:
    """What every stage section may read. `cache` is shared by the stages of one scorecard run, so a
    stage can reuse what an earlier one computed (e.g. the interaction graph, topic assignments)."""

    store: Any
    owner_keys: list[str]
    window: Window | None
    config: Any
    audience: dict[str, Any] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)

    def cached(self, key: str, build: Callable[[], Any]) -> Any:
        if key not in self.cache:
            self.cache[key] = build()
        return self.cache[key]

    def window_graph(self) -> Any:
        """The interaction graph of W (graph/build.py, default weights), built once per scorecard and
        shared by the stages that need it (Listen's hot questions, Engage); None without a window."""
        if self.window is None:
            return None
        from socialleads.graph.build import interaction_graph
        from socialleads.metrics.window import naive

        start, end = naive(self.window.start), naive(self.window.end)
        return self.cached(f"interaction_graph:{start.isoformat()}:{end.isoformat()}",
                           lambda: interaction_graph(self.store, start=start, end=end))


@dataclass(frozen=True)
class Check:
    """One piece of evidence for a grade: a figure against its target.

    `direction` is "min" (value must be ≥ target) or "max" (value must be ≤ target). `met` is None
    when the value or the target is missing (the check then does not count towards the grade).
    """

    metric: str
    value: Any
    target: Any
    direction: str = "min"
    note: str = ""
    # how value and target read: share (shown as %), number, hours, count, or flag (a yes/no check:
    # value 1.0 = yes, 0.0 = no, shown as yes / no)
    unit: str = "share"

    @property
    def met(self) -> bool | None:
        if self.value is None or self.target is None:
            return None
        return self.value >= self.target if self.direction == "min" else self.value <= self.target

    def to_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "value": self.value, "target": self.target, "direction": self.direction,
                "met": self.met, "note": self.note, "unit": self.unit}



GRADE_RULE = ("share of the stage's checks that meet their target: A = all, B ≥ 75%, C ≥ 50%, D ≥ 25%, "
              "F below; no grade when no check has both a value and a target")


def grade(checks: list[Check]) -> dict[str, Any]:
    """The stage's letter grade from its checks (see GRADE_RULE)."""
    decided = [c.met for c in checks if c.met is not None]
    met = sum(bool(m) for m in decided)
    if not decided:
        letter = None
    else:
        share = met / len(decided)
        letter = "A" if share == 1 else "B" if share >= 0.75 else "C" if share >= 0.5 else "D" if share >= 0.25 \
            else "F"
    return {"letter": letter, "met": met, "checks": len(decided), "rule": GRADE_RULE}


def graded(checks: list[Check], **figures: Any) -> dict[str, Any]:
    """A JSON-ready available section: the figures, the grade and the evidence."""
    return {"available": True, **figures, "grade": grade(checks), "evidence": [c.to_json() for c in checks]}


def unavailable(reason: str) -> dict[str, Any]:
    return {"available": False, "reason": reason, "grade": grade([]), "evidence": []}


def stage_sections(ctx: StageContext, only: frozenset[str] | set[str] | None = None) -> dict[str, dict[str, Any]]:
    """engage, activate, dominate and mandate sections (listen is the scorecard's own); only those in `only`
    when given.

    Without a config (a library call on a bare store) the stages read the defaults of leads.toml."""
    if ctx.config is None:
        from socialleads.workspace.config import Config

        ctx.config = Config()
    out: dict[str, dict[str, Any]] = {}
    for stage, modname in STAGE_MODULES.items():
        if only is not None and stage not in only:
            continue
        try:
            mod = importlib.import_module(modname)
        except ModuleNotFoundError as exc:
            if exc.name is None or not modname.startswith(exc.name):
                raise
            out[stage] = unavailable(NOT_YET[stage])
            continue
        out[stage] = mod.section(ctx)
    return out


__all__ = ["GRADE_RULE", "STAGES", "STAGE_NAMES", "Check", "StageContext", "grade", "graded", "stage_sections",
           "unavailable"]
