"""`leads`: the command line. Each command parses options and calls one library function."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from socialleads import __version__
from socialleads.cli.options import (
    EngineOpt,
    JsonOpt,
    ParquetOpt,
    SparkMasterOpt,
    WindowOpt,
    WorkspaceOpt,
    ensure_folder,
    nonempty_path,
    user_errors,
)
from socialleads.cli.output import console, err_console, print_json, progress_bar, scorecard_tables
from socialleads.errors import LeadsError

DATA = "Workspace and data"
REPORTS = "Scorecard, report and dashboard"

app = typer.Typer(
    name="leads",
    help="socialleads: Listen, Engage, Activate, Dominate, Social mandate — measured.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


text_app = typer.Typer(help="Text signals for any text (no workspace needed).", no_args_is_help=True)


def _score_stdin(score: Any, batch: int) -> None:
    """One text per line on stdin → one JSON object per line from `score(texts) -> list[dict]`, in batches."""
    import json as _json

    out = sys.stdout
    buf: list[str] = []

    def flush() -> None:
        out.write("".join(_json.dumps(obj) + "\n" for obj in score(buf)))
        buf.clear()

    for line in sys.stdin:
        buf.append(line.rstrip("\r\n"))
        if len(buf) >= batch:
            flush()
    if buf:
        flush()
    out.flush()


@text_app.command("sentiment")
def text_sentiment(
    model: Annotated[Path | None, typer.Option("--model", help="A model file saved by socialleads "
                                                  "(default: the one shipped with the package).")] = None,
    batch: Annotated[int, typer.Option("--batch", min=1, help="Texts scored per batch.")] = 10_000,
) -> None:
    """Read one text per line on standard input; write one JSON object per line: label and score."""
    from socialleads.listen.sentiment import LinearModel, score_texts

    m = LinearModel.load(model) if model else None

    def score(texts: list[str]) -> list[dict[str, Any]]:
        labels, scores = score_texts(texts, m)
        return [{"label": str(lab), "score": round(float(sc), 4)} for lab, sc in zip(labels, scores)]

    _score_stdin(score, batch)


@text_app.command("emotion")
def text_emotion(
    batch: Annotated[int, typer.Option("--batch", min=1, help="Texts scored per batch.")] = 10_000,
) -> None:
    """Read one text per line on standard input; write one JSON object per line: emotion (anger, joy,
    optimism, sadness), its probability, and all four probabilities."""
    from socialleads.listen.emotion import EMOTIONS, emotion_proba

    def score(texts: list[str]) -> list[dict[str, Any]]:
        return [{"label": str(EMOTIONS[r.argmax()]), "score": round(float(r.max()), 4),
                 "probs": {str(e): round(float(x), 4) for e, x in zip(EMOTIONS, r)}} for r in emotion_proba(texts)]

    _score_stdin(score, batch)


def _version(value: bool) -> None:
    if value:
        console.print(f"leads {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Show the version and exit.")] = False) -> None:
    """socialleads: an open social media leadership system."""


@app.command(rich_help_panel=DATA)
def init(
    directory: Annotated[Path | None, typer.Argument(help="Folder to create (default: the current folder).",
                                                     parser=nonempty_path)] = None,
    config: Annotated[Path | None, typer.Option("--config", help="Start from this leads.toml.",
                                                parser=nonempty_path)] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing leads.toml.")] = False,
) -> None:
    """Create a workspace: a commented leads.toml and an empty leads.duckdb."""
    from socialleads.workspace import init_workspace

    target = directory or Path(os.environ.get("LEADS_WORKSPACE") or ".")
    with user_errors():
        ensure_folder(target, "leads init")
        init_workspace(target, config_from=config, force=force)
    console.print(f"Created workspace [bold]{target}[/bold]: edit {target / 'leads.toml'}, then `leads import`.")


@app.command(rich_help_panel=DATA)
def check(workspace: WorkspaceOpt = None) -> None:
    """Validate leads.toml and report the store's schema version."""
    from socialleads.workspace import open_workspace
    from socialleads.workspace.workspace import resolve_account_keys

    with open_workspace(workspace, read_only=True) as ws:
        c = ws.config
        console.print(f"[green]ok[/green] {ws.root / 'leads.toml'}: {len(c.owner)} owner account(s), "
                      f"{len(c.competitors)} competitor(s), {len(c.brand.principles)} principle(s); "
                      f"schema version {ws.store.schema_version}")
        # a declared owner account that no stored account matches is a placeholder or a typo: say so
        has_data = ws.store.con.execute("SELECT count(*) FROM accounts").fetchall()[0][0] > 0
        found = set(ws.owner_keys()) if has_data else set()
        for ref in c.owner if has_data else ():
            name = ref.key or f"{ref.platform}:{ref.handle}"
            matched = ref.key in found if ref.key else bool(resolve_account_keys(ws.store, (ref,)))
            if not matched:
                err_console.print(f"[yellow]warning[/yellow]: owner account {escape(name)} in leads.toml matches no "
                                  "imported account (a placeholder, or a handle that differs from the data's)",
                                  soft_wrap=True)


@app.command("import", rich_help_panel=DATA)
def import_(
    path: Annotated[Path | None, typer.Argument(help="A file or a folder in a supported format.",
                                                parser=nonempty_path)] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="Force a format (see --list-formats).")] = None,
    list_formats: Annotated[bool, typer.Option("--list-formats", help="List the formats and exit.")] = False,
    to_parquet: Annotated[Path | None, typer.Option("--to-parquet", help="Import straight into this Parquet "
                          "dataset (what --engine spark reads) instead of the workspace: new records are "
                          "appended as new files; no workspace needed.", parser=nonempty_path)] = None,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Import records into the workspace. Bad records are quarantined; the rest is kept.

    Exit codes: 0 complete, 2 a file was refused (not in the format), 3 some records were quarantined.
    """
    from socialleads.sources.formats import describe
    from socialleads.sources.generic import SKIP_NAMES
    from socialleads.sources.importer import import_path
    from socialleads.workspace import open_workspace

    if list_formats:
        if as_json:
            print_json([{"name": n, "description": d} for n, d in describe().items()])
        else:
            for n, d in describe().items():
                console.print(f"[bold]{n}[/bold]  {escape(d)}", soft_wrap=True)
        return
    if path is None:
        raise LeadsError("leads import: give a PATH to import (or --list-formats)")
    if not path.exists():
        raise LeadsError(f"{path}: no such file or folder")
    if to_parquet is not None:
        _import_to_parquet(path, to_parquet, fmt, as_json)
        return
    with open_workspace(workspace) as ws:
        with progress_bar(f"import {path.name}", unit="bytes", quiet=as_json) as update:
            summary = import_path(ws.store, path, fmt=fmt, progress=update)
        adopted = ws.adopt_owner_accounts()
    out = summary.to_json()
    out["owner_accounts_added"] = adopted
    if as_json:
        print_json(out)
    elif out["files"]:
        console.print(f"Imported {out['posts']:,} posts, {out['accounts']:,} accounts, "
                      f"{out['interactions']:,} interactions from {len(out['files'])} file(s) in "
                      f"{out['seconds']:.1f} s (new: " + (", ".join(f"{k} {v:,}" for k, v in out["new"].items()) or "nothing")
                      + ")")
    for key in adopted:
        err_console.print(f"added owner account {key} to {ws.root / 'leads.toml'}", soft_wrap=True)
    left = [f for f in summary.skipped if Path(f).name not in SKIP_NAMES]
    if left and not as_json:
        shown = ", ".join(left[:5]) + (f" and {len(left) - 5:,} more" if len(left) > 5 else "")
        err_console.print(f"left alone {len(left):,} file(s) in no format leads reads: {escape(shown)}",
                          soft_wrap=True)
    for msg in summary.refused:
        err_console.print(f"[red]refused[/red] {escape(msg)}", soft_wrap=True)
    if summary.quarantined:
        err_console.print(f"[yellow]{summary.quarantined:,} record(s) quarantined[/yellow]: see `leads quarantine`")
    if summary.refused:
        raise typer.Exit(2)
    if summary.quarantined:
        raise typer.Exit(3)


def _import_to_parquet(path: Path, root: Path, fmt: str | None, as_json: bool) -> None:
    from socialleads.engine.dataset_import import import_to_dataset

    with user_errors():
        ensure_folder(root, "--to-parquet")
    with progress_bar(f"import {path.name}", unit="bytes", quiet=as_json) as update:
        out = import_to_dataset(path, root, fmt=fmt, progress=update)
    if as_json:
        print_json(out)
    else:
        tables = out["dataset"]["tables"]
        console.print(f"Imported {out['posts']:,} posts, {out['accounts']:,} accounts, {out['interactions']:,} "
                      f"interactions into the dataset {root} in {out['seconds']:.1f} s (appended: "
                      + (", ".join(f"{t} {a['appended']:,}" for t, a in tables.items()) or "nothing") + ")",
                      soft_wrap=True)
    for acc in out.get("owner_accounts") or []:
        err_console.print(f"owner account in this input: {escape(acc['account_key'])} ({acc['platform']}"
                          f"{', ' + escape(acc['handle']) if acc.get('handle') else ''}) — declare it under "
                          "\\[\\[owner.accounts]] in the leads.toml you score the dataset with", soft_wrap=True)
    for msg in out.get("refused") or []:
        err_console.print(f"[red]refused[/red] {escape(msg)}", soft_wrap=True)
    if out["quarantined"]:
        err_console.print(f"[yellow]{out['quarantined']:,} record(s) quarantined[/yellow]: see "
                          f"{root / '_quarantine'}", soft_wrap=True)
    if out.get("refused"):
        raise typer.Exit(2)
    if out["quarantined"]:
        raise typer.Exit(3)


@app.command(rich_help_panel=DATA)
def quarantine(
    limit: Annotated[int, typer.Option("--limit", "-n", min=0, help="Show at most N records.")] = 20,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Show rejected input: file, place and reason."""
    from socialleads.workspace import open_workspace

    with open_workspace(workspace, read_only=True) as ws:
        rows = ws.store.con.execute(
            "SELECT file, line, place, record_type, reason, raw FROM quarantine "
            "ORDER BY quarantined_at DESC, file, line LIMIT ?", [limit]).fetchall()
        total = ws.store.count("quarantine")
    if as_json:
        print_json({"total": total, "records": [dict(zip(("file", "line", "place", "record_type", "reason", "raw"), r))
                                                for r in rows]})
        return
    from rich.table import Table

    t = Table(title=f"quarantine: {total:,} record(s)", title_justify="left")
    for c in ("file", "place", "reason", "raw"):
        t.add_column(c, overflow="fold")
    for f, _, place, _, reason, raw in rows:
        t.add_row(f, place, reason, (raw or "")[:80])
    console.print(t)


@app.command(rich_help_panel=DATA)
def status(as_json: JsonOpt = False, workspace: WorkspaceOpt = None) -> None:
    """Counts per table and the last imports."""
    from socialleads.workspace import open_workspace

    with open_workspace(workspace, read_only=True) as ws:
        counts = ws.store.counts()
        runs = ws.store.con.execute(
            "SELECT run_id, source, started_at, finished_at, status, rejects FROM ingest_runs "
            "ORDER BY started_at DESC LIMIT 5").fetchall()
    if as_json:
        print_json({"counts": counts, "runs": [dict(zip(("run_id", "source", "started_at", "finished_at", "status",
                                                         "rejects"), r)) for r in runs]})
        return
    from rich.table import Table

    t = Table(title="store", title_justify="left")
    t.add_column("table")
    t.add_column("rows", justify="right")
    for k, v in counts.items():
        t.add_row(k, f"{v:,}")
    console.print(t)


@app.command(rich_help_panel=DATA)
def simulate(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the world into.", parser=nonempty_path)],
    posts: Annotated[int, typer.Option("--posts", "-n", min=100, help="Number of posts to simulate.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", "-s", min=0, help="Random seed (same seed, same files).")] = 0,
    days: Annotated[int, typer.Option("--days", min=35, help="Length of the simulated period.")] = 365,
    fmt: Annotated[str, typer.Option("--format", help="File format of the records: jsonl or parquet.")] = "jsonl",
    force: Annotated[bool, typer.Option("--force", help="Write into a folder that holds a workspace (its "
                                        "leads.toml is replaced by the simulated brand's).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write a synthetic social world in the generic format, with truth.json (the ground truth)."""
    from socialleads.simulate import refuse_workspace
    from socialleads.simulate import simulate as run_simulation

    if fmt not in ("jsonl", "parquet"):
        raise typer.BadParameter(f"{fmt!r}: expected jsonl or parquet", param_hint="--format")
    with user_errors():
        if not force:
            refuse_workspace(out)   # before the progress bar: a refusal is one line
        ensure_folder(out, "--out")
        with progress_bar("simulate", quiet=as_json) as update:
            truth = run_simulation(out, posts=posts, seed=seed, days=days, progress=update, fmt=fmt, force=force)
    if as_json:
        print_json({"out": str(out), "posts": posts, "seed": seed, "truth": str(out / "truth.json"),
                    "followers_end": truth.get("followers_end"), "passive_share": truth.get("passive_share")})
    else:
        console.print(f"Wrote {posts:,} posts to [bold]{out}[/bold] (ground truth in {out / 'truth.json'})")


@app.command("enrich", rich_help_panel=DATA)
def enrich_(
    batch: Annotated[int, typer.Option("--batch", min=1, help="Posts scored per batch.")] = 200_000,
    force: Annotated[bool, typer.Option("--force", help="Recompute the signals of every post.")] = False,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
    engine: Annotated[str | None, typer.Option("--engine", help="duckdb (into the store) or spark (Arrow batch "
                                               "functions on Spark, into the Parquet dataset; default: engine "
                                               "in leads.toml).")] = None,
    spark_master: SparkMasterOpt = None,
    parquet: ParquetOpt = None,
    topics: Annotated[bool, typer.Option("--topics/--no-topics", help="With --engine spark: also fit and "
                                         "assign topics.")] = True,
    classes: Annotated[bool, typer.Option("--classes/--no-classes", help="With --engine spark: also classify "
                                          "the owner's and competitors' posts.")] = True,
) -> None:
    """Compute text signals (sentiment, question form, language) for the posts that have none yet.

    With --engine spark the whole dataset is enriched on Spark: text signals, topics and content classes
    (on DuckDB those are `leads topics` and `leads classes`)."""
    from socialleads.enrich import enrich
    from socialleads.workspace import open_workspace

    if engine is None:
        with open_workspace(workspace, read_only=True) as ws:
            engine = getattr(ws.config, "engine", None)
    if (engine or "") == "spark":
        from socialleads.engine.run import enrich_on_spark

        with open_workspace(workspace, read_only=True) as ws:
            summary = enrich_on_spark(ws, master=spark_master, parquet=parquet, topics=topics, classes=classes)
        if as_json:
            print_json(summary)
            return
        console.print(f"Scored {summary['computed']:,} post(s) on Spark into {summary['path']} "
                      f"in {summary['seconds']:.1f} s")
        t = summary.get("topics")
        if t and "skipped" in t:
            console.print(f"Topics: {t['skipped']}")
        elif t:
            console.print(f"Topics: {t['topics']} fitted on {t['sampled']:,} posts, {t['posts']:,} posts assigned "
                          f"in {t['seconds']:.1f} s")
        if "classes" in summary:
            console.print(f"Content classes: {summary['classes']['computed']:,} posts of you and your competitors "
                          f"in {summary['classes']['seconds']:.1f} s")
        return
    with open_workspace(workspace) as ws, progress_bar("enrich", unit="posts", quiet=as_json) as update:
        if engine not in (None, "duckdb"):
            from socialleads.engine.run import EngineError

            raise EngineError(f"--engine: expected duckdb or spark, got {engine!r}")
        summary = enrich(ws.store, batch=batch, force=force, progress=update)
    if as_json:
        print_json(summary)
    else:
        console.print(f"Scored {summary['computed']:,} post(s) ({summary['with_text']:,} with text, "
                      f"{summary['questions']:,} questions) at {summary['posts_per_s'] or 0:,.0f} posts/s")


@app.command(rich_help_panel=REPORTS)
def scorecard(
    as_json: JsonOpt = False,
    window_days: WindowOpt = None,
    workspace: WorkspaceOpt = None,
    engine: EngineOpt = None,
    spark_master: SparkMasterOpt = None,
    parquet: ParquetOpt = None,
) -> None:
    """The LEADS scorecard: audience, listen, engage, activate, dominate, mandate."""
    from socialleads.engine.run import scorecard_on
    from socialleads.workspace import open_workspace

    with open_workspace(workspace, read_only=True) as ws:
        card = scorecard_on(ws, engine, master=spark_master, parquet=parquet, window_days=window_days)["scorecard"]
        name = ws.config.name
    if as_json:
        print_json(card)
        return
    for t in scorecard_tables(card, name):
        console.print(t)


@app.command(rich_help_panel=REPORTS)
def report(
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML file to write.",
                                         parser=nonempty_path)] = Path("report.html"),
    window_days: WindowOpt = None,
    workspace: WorkspaceOpt = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Also print the report to this PDF file "
                                             "(needs a Chromium browser).", parser=nonempty_path)] = None,
    engine: EngineOpt = None,
    spark_master: SparkMasterOpt = None,
    parquet: ParquetOpt = None,
) -> None:
    """Write one self-contained HTML report (works offline), and optionally a PDF of it."""
    from socialleads.engine.run import scorecard_on
    from socialleads.report import report_path, save_report
    from socialleads.workspace import open_workspace

    report_path(output)
    if output.suffix.lower() == ".pdf":
        raise LeadsError(f"--output {output}: the report is HTML; give --output a .html name and use "
                         f"--pdf {output} for the PDF")
    if pdf is not None and pdf.resolve() == output.resolve():
        raise LeadsError(f"--pdf {pdf}: the same file as --output; give the PDF its own name")
    with open_workspace(workspace, read_only=True) as ws:
        both = scorecard_on(ws, engine, master=spark_master, parquet=parquet, window_days=window_days, series=True)
    path = save_report(both, output)
    console.print(f"Wrote [bold]{path}[/bold]")
    if pdf is not None:
        from socialleads.report.pdf import html_to_pdf

        console.print(f"Wrote [bold]{html_to_pdf(path, pdf)}[/bold]")


@app.command(rich_help_panel=DATA)
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the demo world and workspace.",
                                      parser=nonempty_path)] = Path("demo-out"),
    posts: Annotated[int, typer.Option("--posts", "-n", min=1000, help="Posts to simulate.")] = 200_000,
    seed: Annotated[int, typer.Option("--seed", "-s", min=0)] = 7,
) -> None:
    """Simulate a world, import it into a fresh workspace, print the scorecard, write report.html."""
    from socialleads.demo import run_demo

    with user_errors():
        ensure_folder(out, "--out")
    result = run_demo(out, posts=posts, seed=seed, progress=progress_bar)
    for t in scorecard_tables(result.scorecard, result.name):
        console.print(t)
    ws = result.workspace
    console.print(f"\nWorkspace [bold]{ws}[/bold]; report [bold]{result.report}[/bold]; ground truth {result.truth}")
    console.print(f"Next: [bold]leads coach -w {ws}[/bold] (what to do next), [bold]leads inbox -w {ws}[/bold], "
                  f"[bold]leads who -w {ws}[/bold], [bold]leads topics -w {ws}[/bold], "
                  f"[bold]leads serve -w {ws}[/bold] (the dashboard: pip install 'socialleads\\[serve]').")


# The commands of each LEADS stage live in their own module (cli/<area>.py) and are listed under their
# own heading in `leads --help` (Typer shows the panels in the order they first appear).
from socialleads.cli.activate import activate_command, experiment_app, what_works_command  # noqa: E402
from socialleads.cli.coach import classes_command, coach_command, stage_command  # noqa: E402
from socialleads.cli.dominate import mandate_command, plan_command, sov_command, whitespace_command  # noqa: E402
from socialleads.cli.engage import communities_command, inbox_command, person_command, who_command  # noqa: E402
from socialleads.cli.listen import mentions_command, monitor_app, questions_command, topics_command  # noqa: E402
from socialleads.cli.live import alerts_app, listen_command  # noqa: E402
from socialleads.cli.pull import pull_app  # noqa: E402
from socialleads.cli.serve import export_command, serve_command  # noqa: E402

app.add_typer(pull_app, name="pull", rich_help_panel=DATA)
for _panel, _commands in (
    (REPORTS, (("serve", serve_command), ("export", export_command))),
    ("Listen", (("mentions", mentions_command), ("topics", topics_command), ("questions", questions_command),
                ("listen", listen_command))),
    ("Engage", (("who", who_command), ("inbox", inbox_command), ("communities", communities_command),
                ("person", person_command))),
    ("Activate", (("activate", activate_command), ("what-works", what_works_command))),
    ("Dominate", (("sov", sov_command), ("whitespace", whitespace_command), ("plan", plan_command))),
    ("Social mandate and coach", (("mandate", mandate_command), ("classes", classes_command),
                                  ("stage", stage_command), ("coach", coach_command))),
):
    for _name, _fn in _commands:
        app.command(_name, rich_help_panel=_panel)(_fn)
app.add_typer(monitor_app, name="monitor", rich_help_panel="Listen")
app.add_typer(alerts_app, name="alerts", rich_help_panel="Listen")
app.add_typer(experiment_app, name="experiment", rich_help_panel="Activate")
app.add_typer(text_app, name="text", rich_help_panel="Listen")


def main(argv: list[str] | None = None) -> None:
    """Entry point: user mistakes become one line on stderr and a non-zero exit, never a traceback.

    Usage errors are Typer's own (a usage line and exit 2); LeadsError is a user's mistake the
    library found (its exit code); anything else is our bug: one line, exit 70, LEADS_DEBUG=1 shows it.
    """
    try:
        app(args=argv, prog_name="leads")
    except LeadsError as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("LEADS_DEBUG"):
            raise
        if type(exc).__name__ == "OutOfMemoryException":   # duckdb's, without importing duckdb here
            limit = os.environ.get("LEADS_MEMORY_LIMIT") or "the default"
            err_console.print(f"[red]out of memory:[/red] the store's memory limit ({escape(limit)}) was reached; "
                              "run again with a larger one, e.g. LEADS_MEMORY_LIMIT=4GB, and please report it "
                              "(LEADS_DEBUG=1 shows where)", soft_wrap=True)
            sys.exit(70)
        first = str(exc).splitlines()[0] if str(exc) else ""
        err_console.print(f"[red]internal error:[/red] {type(exc).__name__}: {escape(first)} "
                          "(set LEADS_DEBUG=1 for the traceback, and please report it)", soft_wrap=True)
        sys.exit(70)


if __name__ == "__main__":
    main()
