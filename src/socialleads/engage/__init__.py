"""Engage (METRICS.md §2): who matters most, and (to come) the inbox, conversation, community, person."""

from socialleads.engage.who import EngageError, owner_interactions, percentile_rank, who_matters

__all__ = ["EngageError", "owner_interactions", "percentile_rank", "who_matters"]
