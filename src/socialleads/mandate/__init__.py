"""Social mandate and culture (METRICS.md §5): principle alignment, staying in character, the
self-promotion ratio and cross-posting."""

from socialleads.mandate.alignment import ON_MANDATE_THRESHOLD, alignment, character
from socialleads.mandate.data import MandateError, owner_posts
from socialleads.mandate.promotion import cross_posting, self_promotion
from socialleads.mandate.report import mandate_report

__all__ = ["ON_MANDATE_THRESHOLD", "MandateError", "alignment", "character", "cross_posting", "mandate_report",
           "owner_posts", "self_promotion"]
