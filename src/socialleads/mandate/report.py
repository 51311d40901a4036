"""All Social mandate figures of a window as one JSON-ready dict (for the section, the CLI and the web)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from socialleads.mandate.alignment import alignment, character
from socialleads.mandate.data import MandateError, owner_posts
from socialleads.mandate.promotion import cross_posting, self_promotion


def mandate_report(store: Any, owner_keys: Sequence[str], brand: Any, start: dt.datetime | None,
                   end: dt.datetime | None) -> dict[str, Any]:
    """alignment (or its reason), character, self_promotion, cross_posting over O's posts in [start, end]."""
    posts = owner_posts(store, owner_keys, start, end)
    out: dict[str, Any] = {"posts": posts.num_rows, "unavailable": {}}
    try:
        al = alignment(posts, brand)
        al.pop("per_post")
        out["alignment"] = al
    except MandateError as exc:
        out["alignment"] = None
        out["unavailable"]["alignment"] = str(exc)
    ch = character(posts, brand)
    ch.pop("flags", None)
    ch.pop("post_key", None)
    out["character"] = ch
    sp = self_promotion(posts, brand)
    sp.pop("flags")
    sp.pop("post_key")
    out["self_promotion"] = sp
    cp = cross_posting(posts)
    cp.pop("flags")
    cp.pop("post_key")
    out["cross_posting"] = cp
    return out


__all__ = ["mandate_report"]
