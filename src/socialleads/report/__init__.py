"""Reports: one self-contained, offline HTML file (plotly.js embedded once)."""

from socialleads.report.html import report_path, save_report, write_report

__all__ = ["report_path", "save_report", "write_report"]
