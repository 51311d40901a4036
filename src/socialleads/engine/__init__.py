"""Where the metrics run: DuckDB on one machine (default) or Apache Spark over a Parquet dataset."""

ENGINES = ("duckdb", "spark")
