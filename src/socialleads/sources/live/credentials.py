"""Secrets for the live clients: explicit option → environment variable → OS keyring (DESIGN.md rule 8).

A secret is only ever handed to the SDK. It is never printed, logged, written to the workspace or put
in an exception message; `scrub` removes any secret that a third-party message might echo, in any of the
forms a message can hold it (as is, stripped, repr / JSON / percent escaped). Every value is stripped of
surrounding whitespace when it is resolved: a token file saved with CRLF line ends and read with
`$(cat token.txt)` leaves a trailing CR, which no server accepts and which requests would echo (with
the token) in its "invalid header value" error.
`leads pull login SOURCE` stores a secret in the OS keyring (service `socialleads`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from urllib.parse import quote

from socialleads.errors import LeadsError

SERVICE = "socialleads"

# (source, name) → environment variable
ENV = {
    ("bluesky", "app_password"): "LEADS_BLUESKY_APP_PASSWORD",
    ("bluesky", "handle"): "LEADS_BLUESKY_HANDLE",
    ("mastodon", "token"): "LEADS_MASTODON_TOKEN",
    ("reddit", "client_id"): "LEADS_REDDIT_CLIENT_ID",
    ("reddit", "client_secret"): "LEADS_REDDIT_CLIENT_SECRET",
}
SECRETS = {("bluesky", "app_password"), ("mastodon", "token"), ("reddit", "client_secret")}


class CredentialError(LeadsError):
    """A credential is missing, or the keyring cannot be used."""


def _keyring():
    try:
        import keyring
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    return keyring


def keyring_user(source: str, name: str) -> str:
    return f"{source}:{name}"


def clean(value: str | None) -> str | None:
    """A credential without surrounding whitespace (CR / LF / spaces); None when nothing is left."""
    if value is None:
        return None
    return value.strip() or None


# Every secret (SECRETS) this process has looked up, raw and cleaned: `scrub` removes them from any message, also where
# the caller did not pass them (a message flattened or cut by `http.one_line` is scrubbed before that).
_KNOWN: set[str] = set()


def resolve(source: str, name: str, option: str | None) -> str | None:
    """The value from the option, else the environment variable, else the keyring; None if nowhere.
    Surrounding whitespace is removed (a blank value counts as absent)."""
    env = ENV.get((source, name))
    raw = option if clean(option) else os.environ.get(env) if env and clean(os.environ.get(env)) else None
    secret = (source, name) in SECRETS              # not a handle or a client id: messages may name those
    if raw is None:
        raw = load_private(source, name, secret=secret)
    if raw is not None and secret:
        _KNOWN.update({raw, clean(raw) or raw})
    return clean(raw)


def require(source: str, name: str, option: str | None, flag: str) -> str:
    value = resolve(source, name, option)
    if not value:
        env = ENV.get((source, name), "")
        raise CredentialError(f"{source}: no {name.replace('_', ' ')}: pass {flag}, set {env} "
                              f"or run `leads pull login {source}`")
    return value


def store(source: str, name: str, value: str) -> None:
    """Save a credential in the OS keyring."""
    kr = _keyring()
    if kr is None:
        raise CredentialError("the `keyring` package is not installed (pip install keyring)")
    try:
        kr.set_password(SERVICE, keyring_user(source, name), value)
    except Exception as exc:  # noqa: BLE001 - backend errors vary by OS
        raise CredentialError(f"could not save the {source} {name.replace('_', ' ')} in the OS keyring "
                              f"({type(exc).__name__}); use {ENV.get((source, name), 'the option')} instead") from None


def load_private(source: str, name: str, secret: bool = True) -> str | None:
    """A value kept in the OS keyring (a secret stored by `leads pull login`, or one this program keeps for
    itself such as a Bluesky login session), or None when it is not there or no keyring is usable. Never in
    the workspace."""
    kr = _keyring()
    if kr is None:
        return None
    try:
        value = clean(kr.get_password(SERVICE, keyring_user(source, name)))
    except Exception:  # noqa: BLE001 - no usable keyring backend
        return None
    if value and secret:
        _KNOWN.add(value)
    return value


def keep_private(source: str, name: str, value: str | None) -> bool:
    """Keep (or, with None, forget) such a value in the OS keyring; False when no keyring is usable (the
    value is then simply not kept: nothing is written anywhere else)."""
    if value:
        _KNOWN.add(value)
    kr = _keyring()
    if kr is None:
        return False
    try:
        if value is None:
            kr.delete_password(SERVICE, keyring_user(source, name))
        else:
            kr.set_password(SERVICE, keyring_user(source, name), value)
        return True
    except Exception:  # noqa: BLE001 - no usable keyring backend, or nothing to delete
        return False


def _forms(secret: str) -> set[str]:
    """The ways a message can hold `secret`: as is, repr- / JSON- / unicode-escaped (a '\\r' written out,
    as in requests' "invalid header value: 'Bearer …\\r'"), percent-encoded, each also for the stripped
    value."""
    out: set[str] = set()
    for v in {secret, secret.strip(), " ".join(secret.split())}:
        if not v:
            continue
        out |= {v, repr(v)[1:-1], json.dumps(v)[1:-1], v.encode("unicode_escape").decode("ascii"),
                quote(v, safe="")}
    return out


def scrub(message: str, secrets: Iterable[str | None]) -> str:
    """`message` with every secret (in any of its written forms, see `_forms`) replaced by '***'."""
    forms = {f for s in (*secrets, *_KNOWN) if s for f in _forms(s)}
    for f in sorted(forms, key=len, reverse=True):      # the longest first: an escaped form holds the plain one
        if len(f) >= 4:
            message = message.replace(f, "***")
    return message
