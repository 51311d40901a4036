"""A figure that is either a value or says why it is not available (METRICS.md: never report 0 for
missing input; say what would supply it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Metric:
    """One reported figure.

    `available` is False when the stored sources cannot give it; `reason` then says why and what
    would supply it. `value` is None exactly when the figure is not available.
    """

    value: Any = None
    available: bool = True
    reason: str | None = None

    @classmethod
    def of(cls, value: Any) -> Metric:
        return cls(value=value, available=True, reason=None)

    @classmethod
    def missing(cls, reason: str) -> Metric:
        return cls(value=None, available=False, reason=reason)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value, "available": self.available}
        if self.reason:
            out["reason"] = self.reason
        return out


# Kept as an alias: the brief and the report speak of "figures".
Figure = Metric
