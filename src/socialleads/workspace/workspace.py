"""A workspace is a folder holding leads.toml (what the user declares) and leads.duckdb (the store)."""

from __future__ import annotations

import os
import shutil
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from socialleads.errors import WorkspaceError
from socialleads.store import Store, open_store
from socialleads.workspace.config import PLATFORMS, Config, load_config, parse_config

CONFIG_NAME = "leads.toml"
DB_NAME = "leads.duckdb"
ENV_VAR = "LEADS_WORKSPACE"


def template_text() -> str:
    return resources.files("socialleads.workspace").joinpath("template.toml").read_text(encoding="utf-8")


def resolve_workspace_dir(option: Path | str | None) -> Path:
    """--workspace beats $LEADS_WORKSPACE beats the current folder."""
    if option:
        return Path(option)
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    return Path.cwd()


@dataclass
class Workspace:
    root: Path
    config: Config
    store: Store

    @property
    def db_path(self) -> Path:
        return self.root / DB_NAME

    def owner_keys(self) -> OwnerKeys:
        """Account keys of the owner: declared keys, handles matched in the store, and is_owner rows. When
        there are none, the list's `reason` says why (none declared, or declared but not imported yet)."""
        keys = resolve_account_keys(self.store, self.config.owner, include_flagged=True)
        return OwnerKeys(keys, reason=None if keys else no_owner_reason(self.config))

    def mark_owner_accounts(self) -> int:
        """Flag the accounts that leads.toml declares as the owner's (by key, or by platform + handle)."""
        keys = resolve_account_keys(self.store, self.config.owner)
        if not keys:
            return 0
        rows = self.store.con.execute(
            "UPDATE accounts SET is_owner = TRUE WHERE account_key IN (SELECT unnest(?)) AND NOT coalesce(is_owner, FALSE)",
            [keys]).fetchall()
        return int(rows[0][0]) if rows else 0

    def adopt_owner_accounts(self) -> list[str]:
        """After an import: flag the accounts leads.toml declares, and add to leads.toml the accounts an
        import marked as the owner's (an archive's own account) that it does not declare yet, so that
        the owner's metrics work straight after importing an archive. Returns the keys added."""
        self.mark_owner_accounts()
        declared = set(resolve_account_keys(self.store, self.config.owner))
        rows = self.store.con.execute(
            "SELECT account_key, platform, handle FROM accounts WHERE is_owner ORDER BY account_key").fetchall()
        new = [(k, p, h) for k, p, h in rows if k not in declared]
        if not new:
            return []
        import tomlkit

        cfg_path = self.root / CONFIG_NAME
        doc = tomlkit.parse(cfg_path.read_text(encoding="utf-8"))
        owner = doc.setdefault("owner", tomlkit.table())
        accounts = owner.get("accounts")
        if accounts is None:
            accounts = tomlkit.aot()
            owner["accounts"] = accounts
        for key, platform, handle in new:
            entry = tomlkit.table()
            entry["platform"] = platform if platform in PLATFORMS else "generic"
            if handle:
                entry["handle"] = handle
            entry["key"] = key
            entry.comment("added by leads import: the account of an imported archive")
            accounts.append(entry)
        text = tomlkit.dumps(doc)
        self.config = parse_config(tomllib.loads(text), source=str(cfg_path))  # refuse to write an invalid file
        self.config = Config(**{**self.config.__dict__, "path": cfg_path})
        cfg_path.write_text(text, encoding="utf-8")
        return [k for k, _, _ in new]

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


NO_OWNER_DECLARED = "no owner accounts: declare [[owner.accounts]] in leads.toml"
OWNER_NOT_IMPORTED = "the owner accounts of leads.toml are not in the store yet: import their data first"


def no_owner_reason(config: object) -> str:
    """Why a workspace has no owner account key: leads.toml declares none, or it declares accounts by
    handle that no imported account matches yet (a declared key always counts, imported or not)."""
    return OWNER_NOT_IMPORTED if getattr(config, "owner", None) else NO_OWNER_DECLARED


class OwnerKeys(list):
    """The owner's account keys (a plain list to every caller), with `reason` when it is empty: the one
    place the "no owner" message is decided, so the commands do not blame leads.toml for data not imported."""

    def __init__(self, keys: object = (), reason: str | None = None) -> None:
        super().__init__(keys)  # type: ignore[call-overload]
        self.reason = reason


def resolve_account_keys(store: Store, refs: tuple, include_flagged: bool = False) -> list[str]:
    keys = {r.key for r in refs if r.key}
    handles = [(r.platform, r.handle.lower()) for r in refs if r.handle and not r.key]
    if handles:
        rows = store.con.execute(
            "SELECT DISTINCT a.account_key FROM accounts a JOIN (SELECT unnest(?) AS p, unnest(?) AS h) w "
            "ON a.platform = w.p AND lower(ltrim(a.handle, '@')) = w.h",
            [[p for p, _ in handles], [h for _, h in handles]],
        ).fetchall()
        keys.update(r[0] for r in rows)
    if include_flagged:
        keys.update(r[0] for r in store.con.execute("SELECT DISTINCT account_key FROM accounts WHERE is_owner").fetchall())
    return sorted(keys)


def init_workspace(directory: Path, config_from: Path | None = None, force: bool = False) -> Path:
    """Create DIR with a commented leads.toml (or a copy of `config_from`) and a migrated leads.duckdb."""
    directory.mkdir(parents=True, exist_ok=True)
    cfg_path = directory / CONFIG_NAME
    if cfg_path.exists() and not force:
        raise WorkspaceError(f"{cfg_path}: a workspace is already here (use --force to overwrite leads.toml)")
    if config_from is not None:
        load_config(config_from)  # refuse an invalid config before writing anything
        shutil.copyfile(config_from, cfg_path)
    else:
        cfg_path.write_text(template_text(), encoding="utf-8")
    open_store(directory / DB_NAME).close()
    return directory


def open_workspace(directory: Path | str | None, *, read_only: bool = False,
                   memory_limit: str | None = None) -> Workspace:
    """Open the workspace at --workspace / $LEADS_WORKSPACE / the current folder."""
    root = resolve_workspace_dir(directory)
    cfg_path = root / CONFIG_NAME
    if not root.is_dir():
        raise WorkspaceError(f"{root}: no such folder (create a workspace with `leads init {root}`)")
    if not cfg_path.exists():
        raise WorkspaceError(f"{root}: not a workspace, there is no {CONFIG_NAME} (run `leads init {root}`)")
    config = load_config(cfg_path)
    store = open_store(root / DB_NAME, read_only=read_only and (root / DB_NAME).exists(), memory_limit=memory_limit)
    return Workspace(root=root, config=config, store=store)
