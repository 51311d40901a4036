"""Metrics as pure functions of the store's tables and a window (METRICS.md).

Here: §0 audience (`audience`, `followers`, `actions`), the window, and the scorecard that gathers the
audience figures and every LEADS section (the sections' own code is under listen/, engage/, activate/,
dominate/, mandate/; `metrics/stages.py` lists them).
"""

from socialleads.metrics.result import Figure, Metric
from socialleads.metrics.scorecard import audience_timeseries, build_scorecard, scorecard_and_series
from socialleads.metrics.window import Window, window_for

__all__ = ["Figure", "Metric", "Window", "audience_timeseries", "build_scorecard", "scorecard_and_series",
           "window_for"]
