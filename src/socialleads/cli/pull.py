"""`leads pull SOURCE …`: live platform clients (docs/pull.md). Thin: options → sources/live/*.

Exit codes: 0 the pull is complete; 3 some records were quarantined; 4 the pull stopped (a server
failed, hung, refused or asked to wait longer than 15 min): what came before is stored, and running the
same command again resumes (the message says when, or what to fix first).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from socialleads.cli.options import JsonOpt, WorkspaceOpt, user_errors
from socialleads.cli.output import console, err_console, print_json

pull_app = typer.Typer(help="Pull an account from a live platform API (Bluesky, Mastodon, Reddit).",
                       no_args_is_help=True)

TimeoutOpt = Annotated[float, typer.Option("--timeout", min=0.1, help=(
    "Seconds to wait for a server to connect or send more of an answer; each answer must also be complete "
    "within 4 × this (a server that trickles its answer is cut off). Either counts as a timeout: retried, "
    "then the pull stops."))]
LimitOpt = Annotated[int, typer.Option("--limit", min=1, max=100, help="Items per page.")]


def http_url(value: str) -> str:
    """Typer parser of a server URL option: `https://` is assumed when no scheme is given; anything that is not
    an http(s) URL with a host is refused before a request is made (an empty --instance used to send
    `GET https://https/api/...`)."""
    from urllib.parse import urlsplit

    v = value.strip()
    url = v if "://" in v else f"https://{v}"
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not v or parts.scheme not in ("http", "https") or not host or any(c.isspace() for c in v) or \
            ("." not in host and ":" not in host and host != "localhost"):
        raise typer.BadParameter(f"{value!r} is not a server URL (e.g. https://mastodon.social)")
    return url.rstrip("/")


def nonblank(value: str) -> str:
    """Typer parser of an account argument: an empty one is refused before any request."""
    if not value.strip():
        raise typer.BadParameter("an empty account name (an unset shell variable?)")
    return value.strip()


BaseOpt = Annotated[str | None, typer.Option("--base-url", parser=http_url, help="API host (default: the platform's).")]

DEFAULT_SECRET = {"bluesky": "app_password", "mastodon": "token", "reddit": "client_secret"}


def _notice(message: str) -> None:
    err_console.print(message, markup=False, highlight=False, soft_wrap=True)


def _policy(timeout: float) -> Any:
    from socialleads.sources.live.http import Policy

    return Policy(timeout=timeout, notify=_notice)      # rate-limit waits are announced on stderr


def _report(summary: Any, as_json: bool, ws: Any) -> None:
    adopted = ws.adopt_owner_accounts()
    out = summary.to_json()
    out["owner_accounts_added"] = adopted
    if as_json:
        print_json(out)
    else:
        parts = ", ".join(f"{e['endpoint'].split(':')[0]} {e['items']:,}" for e in out["endpoints"])
        waited = f", waited {out['waited_seconds']:.1f} s" if out["waited_seconds"] else ""
        console.print(f"Pulled {summary.source} {summary.account}: {parts or 'nothing'} "
                      f"({out['requests']} requests, {out['retries']} retries{waited}, {out['seconds']:.1f} s)",
                      soft_wrap=True, markup=False)
    if summary.quarantined:
        err_console.print(f"{summary.quarantined:,} record(s) quarantined: see `leads quarantine`")
        raise typer.Exit(3)


def _only(only: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(s.strip() for s in only.split(",") if s.strip()) if only else default


@pull_app.command("bluesky")
def bluesky_command(
    actor: Annotated[str, typer.Argument(parser=nonblank, help="Handle or DID of the account.")],
    handle: Annotated[str | None, typer.Option("--handle", help="Login handle (default: ACTOR).")] = None,
    app_password: Annotated[str | None, typer.Option("--app-password", help="App password (else "
                            "LEADS_BLUESKY_APP_PASSWORD, else the keyring). Without one: public data only.")] = None,
    only: Annotated[str | None, typer.Option("--only", help="Comma list: feed,followers,follows,likes,"
                                                            "reposts,notifications.")] = None,
    base_url: BaseOpt = None,
    limit: LimitOpt = 100,
    timeout: TimeoutOpt = 30.0,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Author feed, followers, follows, likes and reposts of the owner's posts, notifications."""
    from socialleads.sources.live import bluesky as B
    from socialleads.sources.live.credentials import resolve
    from socialleads.workspace import open_workspace

    with user_errors():
        secret = resolve("bluesky", "app_password", app_password)
        login = resolve("bluesky", "handle", handle)
        with open_workspace(workspace) as ws:
            s = B.pull_bluesky(ws.store, actor, base_url=base_url, handle=login, app_password=secret,
                               endpoints=_only(only, B.ENDPOINTS), policy=_policy(timeout), limit=limit,
                               reuse_session=True)
            _report(s, as_json, ws)


@pull_app.command("mastodon")
def mastodon_command(
    account: Annotated[str, typer.Argument(parser=nonblank, help="The account: user or user@host.")],
    instance: Annotated[str, typer.Option("--instance", parser=http_url,
                                          help="The instance's URL, e.g. https://mastodon.social.")],
    token: Annotated[str | None, typer.Option("--token", help="Access token (else LEADS_MASTODON_TOKEN, else the "
                                                              "keyring). Without one: public data, no notifications.")] = None,
    only: Annotated[str | None, typer.Option("--only", help="Comma list: statuses,followers,following,"
                                                            "notifications,favourited_by,reblogged_by.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=40, help="Statuses per page.")] = 40,
    timeout: TimeoutOpt = 30.0,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Statuses, followers, following, notifications, favourited_by / reblogged_by of recent statuses."""
    from socialleads.sources.live import mastodon as M
    from socialleads.sources.live.credentials import resolve
    from socialleads.workspace import open_workspace

    with user_errors():
        secret = resolve("mastodon", "token", token)
        with open_workspace(workspace) as ws:
            s = M.pull_mastodon(ws.store, account, instance=instance, token=secret,
                                endpoints=_only(only, M.ENDPOINTS), policy=_policy(timeout), limit=limit)
            _report(s, as_json, ws)


@pull_app.command("reddit")
def reddit_command(
    user: Annotated[str, typer.Argument(parser=nonblank, help="The Reddit user name (without u/).")],
    subreddit: Annotated[str | None, typer.Option("--subreddit", help="Also pull this subreddit's new "
                                                                      "listing (without r/).")] = None,
    client_id: Annotated[str | None, typer.Option("--client-id", help="OAuth client id (else "
                                                                      "LEADS_REDDIT_CLIENT_ID, else the keyring).")] = None,
    client_secret: Annotated[str | None, typer.Option("--client-secret", help="OAuth client secret (else "
                             "LEADS_REDDIT_CLIENT_SECRET, else the keyring).")] = None,
    only: Annotated[str | None, typer.Option("--only", help="Comma list: submissions,comments,subreddit.")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", parser=http_url, help="API host for both OAuth and token "
                                                                    "requests (a test server).")] = None,
    limit: LimitOpt = 100,
    timeout: TimeoutOpt = 30.0,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """The user's submissions and comments (new listings), and a subreddit's new listing if asked."""
    from socialleads.sources.live import reddit as R
    from socialleads.sources.live.credentials import require
    from socialleads.workspace import open_workspace

    with user_errors():
        cid = require("reddit", "client_id", client_id, "--client-id")
        secret = require("reddit", "client_secret", client_secret, "--client-secret")
        with open_workspace(workspace) as ws:
            s = R.pull_reddit(ws.store, user, subreddit=subreddit, client_id=cid, client_secret=secret,
                              endpoints=_only(only, R.ENDPOINTS), policy=_policy(timeout), limit=limit,
                              oauth_url=base_url, reddit_url=base_url)
            _report(s, as_json, ws)


@pull_app.command("login")
def login_command(
    source: Annotated[str, typer.Argument(help="bluesky, mastodon or reddit.")],
    what: Annotated[str | None, typer.Option("--what", help="Which credential (default: the secret: "
                                                            "app_password / token / client_secret).")] = None,
) -> None:
    """Save a credential in the OS keyring (asked for without echo; never written to the workspace)."""
    from socialleads.errors import LeadsError
    from socialleads.sources.live.credentials import ENV, SECRETS, store

    with user_errors():
        if source not in DEFAULT_SECRET:
            raise LeadsError(f"leads pull login: unknown source {source!r} (bluesky, mastodon, reddit)")
        name = what or DEFAULT_SECRET[source]
        if (source, name) not in ENV:
            raise LeadsError(f"leads pull login {source}: unknown credential {name!r} "
                             f"({', '.join(n for s, n in ENV if s == source)})")
        value = typer.prompt(f"{source} {name.replace('_', ' ')}", hide_input=(source, name) in SECRETS)
        store(source, name, value.strip())
        console.print(f"saved the {source} {name.replace('_', ' ')} in the OS keyring")
