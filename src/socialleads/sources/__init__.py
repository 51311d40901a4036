"""Sources: one module per format or platform behind one interface (CONNECTORS.md §6.4)."""

FORMATS: dict[str, str] = {
    "generic": "socialleads generic format: JSON lines, CSV or Parquet with record_type (docs/generic-format.md)",
}
