"""Options and error handling shared by every command module of the `leads` command line."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from socialleads.cli.output import err_console
from socialleads.errors import LeadsError

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", envvar="LEADS_WORKSPACE", show_envvar=True,
                 help="Workspace folder (default: the current folder)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]
EngineOpt = Annotated[str | None, typer.Option("--engine", help="duckdb (one machine) or spark "
                                               "(default: engine in leads.toml).")]
SparkMasterOpt = Annotated[str | None, typer.Option("--spark-master", help="Spark master URL "
                                                    "(default: $LEADS_SPARK_MASTER or local[2]).")]
ParquetOpt = Annotated[str | None, typer.Option("--parquet", help="With --engine spark: the Parquet dataset to "
                                                "read (default: <workspace>/parquet, refreshed from the store).")]

# The longest analysis window: 100 years (a larger one overflows the date arithmetic). The same bound as
# analysis.window_days in leads.toml (socialleads.workspace.config.MAX_WINDOW_DAYS; not imported here, so
# that `leads --help` does not load the store).
MAX_WINDOW_DAYS = 36_500
WindowOpt = Annotated[int | None, typer.Option("--window-days", min=1, max=MAX_WINDOW_DAYS,
                                               help="Analysis window in days (default: leads.toml).")]


def nonempty_path(value: str | Path) -> Path:
    """Typer parser of a path option or argument: refuses an empty string ("" would mean the current
    folder, e.g. from an unset shell variable: `leads import "$DIR"`)."""
    if isinstance(value, Path):   # a default value
        return value
    if not value.strip():
        raise typer.BadParameter("an empty path (an unset shell variable?): give a file or folder name")
    return Path(value)


def ensure_folder(path: Path, what: str) -> Path:
    """Create the output folder `path` if needed; a file in its place, or a folder that cannot be created
    or written, is a LeadsError naming `what` (the option) and the path, never an OSError."""
    if path.exists() and not path.is_dir():
        raise LeadsError(f"{what} {path}: is a file, not a folder; give a folder name")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LeadsError(f"{what} {path}: cannot create the folder ({exc.strerror or exc})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise LeadsError(f"{what} {path}: cannot write into the folder (permission denied)")
    return path


def workspace_writable(workspace: Path | None) -> bool:
    """Whether this process can write the workspace's database (and its folder, for DuckDB's WAL): the
    commands that store derived tables as a side effect open a read-only workspace read-only instead."""
    from socialleads.workspace import resolve_workspace_dir

    root = resolve_workspace_dir(workspace)
    db = root / "leads.duckdb"
    if not root.is_dir():
        return True   # open_workspace says what is wrong
    return os.access(root, os.W_OK | os.X_OK) and (not db.exists() or os.access(db, os.W_OK))


@contextmanager
def user_errors() -> Iterator[None]:
    """Print a LeadsError as plain text (a query or a name may hold '[...]', which Rich would read as
    markup; a caret line must stay intact) and exit with its code, as main() does."""
    try:
        yield
    except LeadsError as exc:
        err_console.print(Text("error: ", style="red") + Text(str(exc)), soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
