"""`leads listen` (live Jetstream / Mastodon streams) and `leads alerts check|list`: thin adapters over
socialleads.listen.live and socialleads.listen.alerts."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.markup import escape

from socialleads.cli.options import JsonOpt, WorkspaceOpt, user_errors
from socialleads.cli.output import console, err_console, print_json

alerts_app = typer.Typer(name="alerts", help="Spike alerts of the saved monitors: detect, log, deliver.",
                         no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

ToOpt = Annotated[list[str] | None, typer.Option(
    "--to", help="Where alerts go: terminal, jsonl:PATH or webhook:URL (Slack-compatible); repeatable.")]


@alerts_app.command("check")
def alerts_check(
    monitor: Annotated[str | None, typer.Option("--monitor", help="Only this monitor.")] = None,
    to: ToOpt = None,
    k: Annotated[float, typer.Option("--k", help="Spike threshold: mean + k·sd of the 7-day baseline.")] = 2.0,
    cooldown: Annotated[int, typer.Option("--cooldown", help="Hours: spikes closer than this are one alert.")] = 6,
    since: Annotated[str | None, typer.Option("--since", help="Only alerts whose window ends after this time.")] = None,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Detect spikes over the stored posts of the monitors and deliver the new alerts (and any pending).

    Exit codes: 0 every alert was delivered; 4 some could not be delivered (they stay pending: running
    the command again retries them)."""
    from socialleads.listen.alerts import check_alerts
    from socialleads.workspace import open_workspace

    sinks = to or (["terminal"] if not as_json else [])
    with user_errors(), open_workspace(workspace) as ws:
        res = check_alerts(ws.store, monitor=monitor, sinks=sinks, k=k, cooldown=cooldown, since=since,
                           console=console)
    if as_json:
        print_json(res)
        _fail_if_undelivered(res)
        return
    console.print(f"{len(res['new'])} new alert(s) over {len(res['monitors'])} monitor(s); "
                  f"{res['delivered']} delivered, {res['failed']} pending")
    for e in res["errors"]:
        console.print(f"[yellow]not delivered:[/yellow] {escape(e)}", markup=True)
    _fail_if_undelivered(res)


def _fail_if_undelivered(res: dict) -> None:
    if res.get("failed"):
        err_console.print(f"error: {res['failed']} alert deliver{'y' if res['failed'] == 1 else 'ies'} failed "
                          f"(still pending; run `leads alerts check` again to retry): "
                          f"{(res.get('errors') or ['?'])[-1]}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(4)


@alerts_app.command("list")
def alerts_list(
    monitor: Annotated[str | None, typer.Option("--monitor", help="Only this monitor.")] = None,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """The alert log: every alert raised, with where it was delivered and what is still pending."""
    from socialleads.listen.alerts import logged_alerts
    from socialleads.workspace import open_workspace

    with user_errors(), open_workspace(workspace, read_only=True) as ws:
        rows = logged_alerts(ws.store, monitor)
        if monitor and not rows:   # a removed monitor's alerts are still listed; an unknown name is an error
            from socialleads.listen.monitors import get_monitor

            get_monitor(ws.store, monitor)
    if as_json:
        print_json(rows)
        return
    for a in rows:
        console.print(f"{a['monitor']} {a['kind']} {a['window']['start']}–{a['window']['end']} peak {a['peak_count']} "
                      f"delivered {', '.join(a['delivered']) or '-'} pending {', '.join(a['pending']) or '-'}",
                      markup=False)


def listen_command(
    url: Annotated[str, typer.Option("--url", help="Jetstream v1 subscribe URL.")] = "wss://jetstream2.us-east.bsky.network/subscribe",
    collection: Annotated[list[str] | None, typer.Option("--collection", help="wantedCollections (repeatable).")] = None,
    did: Annotated[list[str] | None, typer.Option("--did", help="wantedDids (repeatable).")] = None,
    mastodon: Annotated[str | None, typer.Option("--mastodon", help="Follow a Mastodon server's stream instead, "
                                                  "e.g. https://mastodon.social.")] = None,
    hashtag: Annotated[str | None, typer.Option("--hashtag", help="Mastodon hashtag stream.")] = None,
    user: Annotated[bool, typer.Option("--user", help="Mastodon user stream (home timeline).")] = False,
    local: Annotated[bool, typer.Option("--local", help="Mastodon: local hashtag stream only.")] = False,
    token: Annotated[str | None, typer.Option("--token", envvar="MASTODON_TOKEN", help="Mastodon user token.")] = None,
    to: ToOpt = None,
    max_events: Annotated[int | None, typer.Option("--max-events", min=1, help="Stop after N committed events.")] = None,
    duration: Annotated[float | None, typer.Option("--duration", min=0.0, help="Stop after S seconds.")] = None,
    max_retries: Annotated[int, typer.Option("--max-retries", min=0, help="Give up (exit 4) after N failed "
                                             "connection attempts in a row with nothing received (0: never).")]
    = 10,
    batch: Annotated[int, typer.Option("--batch", min=1, help="At most N events per committed batch.")] = 20_000,
    batch_ms: Annotated[int, typer.Option("--batch-ms", min=1, help="Commit at least every MS milliseconds.")] = 200,
    no_alerts: Annotated[bool, typer.Option("--no-alerts", help="Store only; do not run monitors.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but the final stats.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line of stats per second.")] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Follow Bluesky Jetstream (or a Mastodon stream), store what arrives, run monitors and alerts live.

    Each reconnection is said on stderr (unless --quiet). Exit codes: 0 done; 4 the server could not be
    reached (--max-retries failed attempts in a row, or --duration ended without a connection): what
    was received before is stored."""
    from socialleads.listen.live import ListenConfig, ListenError, listen
    from socialleads.workspace import open_workspace

    with user_errors():
        if not mastodon:
            given = [o for o, v in (("--hashtag", hashtag), ("--user", user), ("--local", local)) if v]
            if given:
                raise ListenError(f"{given[0]} is for a Mastodon stream: give --mastodon SERVER too "
                                  "(without it, leads listen follows Bluesky Jetstream)")
        elif collection or did:
            raise ListenError(f"{'--collection' if collection else '--did'} is for Bluesky Jetstream, "
                              "not with --mastodon")
    cfg = ListenConfig(url=url, collections=collection or [], dids=did or [], mastodon=mastodon, hashtag=hashtag,
                       user=user, local=local, token=token, max_events=max_events, duration=duration, batch=batch,
                       batch_ms=batch_ms, sinks=to or ([] if (as_json or quiet) else ["terminal"]),
                       detect=not no_alerts, max_retries=max_retries or None)

    def said(msg: str) -> None:
        if not quiet:
            err_console.print(f"listen: {msg}", markup=False, highlight=False, soft_wrap=True)

    def line(st: dict) -> None:
        sys.stdout.write(json.dumps(st) + "\n")
        sys.stdout.flush()

    with user_errors(), open_workspace(workspace) as ws:
        if as_json:
            final = listen(ws.store, cfg, on_stats=line, on_reconnect=said)
        elif quiet or not console.is_terminal:
            final = listen(ws.store, cfg, on_reconnect=said)
            print_json(final)
        else:
            from rich.live import Live
            from rich.table import Table

            def view(st: dict) -> Table:
                t = Table(title=f"listening: {st['stream']}", show_header=False)
                for key in ("events_per_s", "committed", "lag_s", "matches", "alerts", "quarantined", "reconnects",
                            "last_error"):
                    t.add_row(key.replace("_", " "), str(st.get(key)))
                return t

            with Live(console=console, refresh_per_second=4) as live:
                final = listen(ws.store, cfg, on_stats=lambda st: live.update(view(st)), console=console,
                               on_reconnect=said)
            console.print(view(final))
