"""The `leads` command: a thin adapter over the library (every command is a few calls)."""
