"""Reports: one self-contained, offline HTML file (plotly.js embedded once)."""

from socialleads.report.html import write_report

__all__ = ["write_report"]
