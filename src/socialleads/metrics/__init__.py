"""Metrics as pure functions of the store's tables and a window (METRICS.md).

Implemented: §0 audience (`audience`, `followers`, `actions`, `scorecard`). Listen, engage, activate,
dominate and mandate are reported as not implemented yet.
"""

from socialleads.metrics.result import Figure, Metric
from socialleads.metrics.scorecard import audience_timeseries, build_scorecard, scorecard_and_series
from socialleads.metrics.window import Window, window_for

__all__ = ["Figure", "Metric", "Window", "audience_timeseries", "build_scorecard", "scorecard_and_series",
           "window_for"]
