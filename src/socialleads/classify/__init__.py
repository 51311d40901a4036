"""Content classes, account profiles, stage of influence and the coach (METRICS §5–§6)."""
