"""Sources: one module per format or platform behind one interface (CONNECTORS.md §6.4)."""
