"""Engage (METRICS.md §2): who matters most, the engagement inbox and response times."""

from socialleads.engage.inbox import inbox, response_stats
from socialleads.engage.who import EngageError, owner_interactions, percentile_rank, who_matters

__all__ = ["EngageError", "inbox", "owner_interactions", "percentile_rank", "response_stats", "who_matters"]
