"""Per-post text signals computed in batches and stored in ``post_signals`` (issue 4, point 2)."""

from socialleads.enrich.signals import EnrichError, enrich, question_flags

__all__ = ["EnrichError", "enrich", "question_flags"]
