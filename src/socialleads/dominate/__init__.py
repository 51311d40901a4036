"""Dominate (METRICS.md §4): share of voice, first movers, topic authority, whitespace, plan vs execution."""

from socialleads.dominate.members import NO_TOPICS, DominateError, Member, members_of
from socialleads.dominate.plan import plan_vs_execution
from socialleads.dominate.voice import KINDS, first_movers, share_of_voice, topic_authority, whitespace

__all__ = ["KINDS", "NO_TOPICS", "DominateError", "Member", "first_movers", "members_of", "plan_vs_execution",
           "share_of_voice", "topic_authority", "whitespace"]
