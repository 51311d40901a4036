"""Formatting shared by the terminal and the HTML report (a light module: no engine imports)."""

from __future__ import annotations

import math
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
    return fmt_share(v) if abs(v) <= 10 else f"{v:,.2f}"


def fmt_share(v: float, signed: bool = False) -> str:
    """0.1234 → '12.3%' (one decimal); below 1 % two significant digits, so a small measured share does not
    read as zero (0.000241 → '0.024%', 0.00328 → '0.33%'); 0 → '0.0%'. `signed` adds + / −."""
    pct = abs(v) * 100
    if 0 < pct < 1:
        s = f"{pct:.{1 - math.floor(math.log10(pct))}f}%"
    else:
        s = f"{pct:.1f}%"
    if signed:
        s = ("+" if v > 0 else "−" if v < 0 else "") + s
    elif v < 0:
        s = "-" + s
    return s
