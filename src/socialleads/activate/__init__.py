"""Activate (METRICS.md §3): links and UTM, click/conversion attribution, the activation funnel,
experiments and what works. Pure functions of the store; `section.section(ctx)` is the scorecard stage."""
