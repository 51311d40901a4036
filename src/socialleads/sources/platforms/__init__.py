"""Built-in platform readers; each module registers one or more FileFormat (sources/formats.py)."""
