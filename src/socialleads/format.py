"""Formatting shared by the terminal and the HTML report (a light module: no engine imports)."""

from __future__ import annotations

from typing import Any


def fmt_check_value(v: Any, unit: str | None = "share") -> str:
    """A check's value or target as the terminal and the report both show it: a share as a percentage
    (so 0.05 reads 5.0%), hours with 'h', numbers with two decimals, counts whole; '—' when missing."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if not isinstance(v, int | float):
        return str(v)
    if unit == "hours":
        return f"{v:,.1f} h"
    if unit == "count" or isinstance(v, int):
        return f"{int(round(v)):,}"
    if unit == "number":
        return f"{v:,.2f}"
    return f"{v:.1%}" if abs(v) <= 10 else f"{v:,.2f}"
