"""Secrets for the live clients: explicit option → environment variable → OS keyring (DESIGN.md rule 8).

A secret is only ever handed to the SDK. It is never printed, logged, written to the workspace or put
in an exception message; `scrub` removes any secret that a third-party message might echo.
`leads pull login SOURCE` stores a secret in the OS keyring (service `socialleads`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

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


def resolve(source: str, name: str, option: str | None) -> str | None:
    """The value from the option, else the environment variable, else the keyring; None if nowhere."""
    if option:
        return option
    env = ENV.get((source, name))
    if env and os.environ.get(env):
        return os.environ[env]
    kr = _keyring()
    if kr is None:
        return None
    try:
        return kr.get_password(SERVICE, keyring_user(source, name))
    except Exception:  # noqa: BLE001 - no usable keyring backend: same as not stored
        return None


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


def scrub(message: str, secrets: Iterable[str | None]) -> str:
    """`message` with every secret replaced by '***'."""
    for s in secrets:
        if s and len(s) >= 4:
            message = message.replace(s, "***")
    return message
