"""One root error with a small hierarchy (DESIGN.md: errors at the edges).

The CLI turns any LeadsError into one line on stderr and a non-zero exit; the message must
already name the file and the place (key, line) so that the user can act on it.
"""

from __future__ import annotations


class LeadsError(Exception):
    """Anything the user can fix: bad input, bad config, a missing workspace."""

    exit_code = 1


class ConfigError(LeadsError):
    """leads.toml is missing a key, or a key holds the wrong kind of value."""


class WorkspaceError(LeadsError):
    """The workspace folder is missing, not a workspace, or cannot be opened."""


class FormatError(LeadsError):
    """An input file is not in a format we can read (refused whole, nothing imported)."""


class IncompleteImport(LeadsError):
    """Some records were quarantined; what was valid has been kept."""

    exit_code = 3


class NotInstalled(LeadsError):
    """An optional dependency is missing; the message says which extra to install."""
