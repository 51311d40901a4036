"""`leads serve` and `leads export`: thin adapters over socialleads.serve (wired in cli/main.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from socialleads.cli.options import JsonOpt, WindowOpt, WorkspaceOpt, ensure_folder, nonempty_path, user_errors
from socialleads.cli.output import console, err_console, print_json
from socialleads.errors import LeadsError


def _check_port(host: str, port: int) -> None:
    """Refuse, in one line, an address the server cannot listen on (a port in use), before saying where the
    dashboard is: uvicorn would print the address, then fail with its own log line."""
    import socket

    if port == 0:
        return
    try:
        with socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET):
            pass
    except OSError as exc:
        why = os.strerror(exc.errno) if exc.errno else str(exc)
        raise LeadsError(f"--port {port}: cannot listen on {host}:{port} ({why}); is another "
                         "server using it? Choose another port with -p") from None


def serve_command(
    host: Annotated[str, typer.Option("--host", help="Address to bind (anything but 127.0.0.1 needs a token).")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", min=0, max=65535, help="Port to listen on.")] = 8000,
    token: Annotated[str | None, typer.Option("--token", envvar="LEADS_TOKEN", show_envvar=True,
                                              help="Access token every request must carry (≥ 16 characters).")]
    = None,
    generate_token: Annotated[bool, typer.Option("--generate-token",
                                                 help="Make a random token and print it once.")] = False,
    window_days: WindowOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """The web dashboard: the LEADS scorecard, a page per stage, the inbox, people, a live view (read-only)."""
    from socialleads.serve import create_app
    from socialleads.serve import generate_token as make_token

    with user_errors():
        if generate_token:
            token = make_token()
        app = create_app(workspace, host=host, token=token, window_days=window_days, warm=True)
        try:
            import uvicorn
        except ModuleNotFoundError as exc:
            raise LeadsError("leads serve needs uvicorn: pip install 'socialleads[serve]'") from exc
        _check_port(host, port)
    shown = f"[{host}]" if ":" in host else host
    console.print(f"socialleads dashboard on [bold]http://{shown}:{port}/[/bold] (Ctrl-C stops it)")
    if generate_token and token:
        # printed once, to the terminal only; never in a page, a log line or the workspace
        err_console.print(f"access token: {token}\nopen http://{shown}:{port}/login?token={token} once in your "
                          "browser (it sets a cookie), or send Authorization: Bearer TOKEN", soft_wrap=True)
    uvicorn.run(app, host=host, port=port, log_level=os.environ.get("LEADS_LOG_LEVEL", "warning"),
                access_log=False)


def export_command(
    table: Annotated[str | None, typer.Argument(help="A dashboard table (see --list), or 'all'.")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv or parquet.")] = "csv",
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write into.",
                                      parser=nonempty_path)] = Path("export"),
    parquet: Annotated[Path | None, typer.Option("--parquet", help="Write the store's own tables as Parquet "
                                                 "into this folder (partitioned by platform).",
                                                 parser=nonempty_path)] = None,
    monitor: Annotated[str | None, typer.Option("--monitor", help="For the mentions table.")] = None,
    handle: Annotated[str | None, typer.Option("--handle", help="For the person table.")] = None,
    list_tables: Annotated[bool, typer.Option("--list", help="List the tables and exit.")] = False,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Export the dashboard's tables as CSV or Parquet, or the whole store as partitioned Parquet."""
    from socialleads.serve.data import Dashboard
    from socialleads.serve.tables import (
        FORMATS,
        export_tables,
        table_names,
        table_rows,
        to_arrow,
        to_bytes,
    )

    with user_errors():
        d = Dashboard(workspace)
        if list_tables:
            names = table_names(d)
            print_json(names) if as_json else console.print("\n".join(names), soft_wrap=True)
            return
        if parquet is not None:
            from socialleads.engine.parquet import write_dataset

            ensure_folder(parquet, "--parquet")
            with d.open() as ws:
                try:
                    manifest = write_dataset(ws.store, parquet)
                except OSError as exc:
                    raise LeadsError(f"--parquet {parquet}: cannot write ({exc.strerror or exc})") from None
            if as_json:
                print_json(manifest)
            else:
                for name, rows in manifest["tables"].items():
                    console.print(f"{name}: {rows:,} rows → {parquet / name}", soft_wrap=True)
            return
        if table is None:
            raise LeadsError("leads export: give a TABLE (or 'all', or --parquet DIR, or --list)")
        if fmt not in FORMATS:
            raise LeadsError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
        try:
            if table in ("mentions", "person"):
                params = {"monitor": monitor} if table == "mentions" else {"handle": handle}
                data = to_bytes(to_arrow(table_rows(d, table, **params)), fmt)
                path = ensure_folder(out, "--out") / f"{table}.{fmt}"
                path.write_bytes(data)
                paths = [path]
            else:
                ensure_folder(out, "--out")
                paths = export_tables(d, "all" if table == "all" else [table], fmt, out)
        except OSError as exc:
            where = exc.filename or out
            raise LeadsError(f"--out {out}: cannot write {where} ({exc.strerror or exc})") from None
    if as_json:
        print_json([str(p) for p in paths])
    else:
        console.print(f"Wrote {len(paths)} file(s) to [bold]{out}[/bold]")
