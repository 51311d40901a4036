"""Options and error handling shared by every command module of the `leads` command line."""

from __future__ import annotations

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


@contextmanager
def user_errors() -> Iterator[None]:
    """Print a LeadsError as plain text (a query or a name may hold '[...]', which Rich would read as
    markup; a caret line must stay intact) and exit with its code, as main() does."""
    try:
        yield
    except LeadsError as exc:
        err_console.print(Text("error: ", style="red") + Text(str(exc)), soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
