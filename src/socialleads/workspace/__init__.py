"""Workspaces: a folder with a commented leads.toml and a leads.duckdb."""

from socialleads.workspace.config import Config, load_config, parse_config
from socialleads.workspace.workspace import Workspace, init_workspace, open_workspace, resolve_workspace_dir

__all__ = ["Config", "load_config", "parse_config", "Workspace", "init_workspace", "open_workspace",
           "resolve_workspace_dir"]
