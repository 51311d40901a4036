"""Platform file formats behind one interface (CONNECTORS.md §6.4, DESIGN.md rule 2).

A format reader turns a platform's export (a file, a folder or an archive) into records of the generic
format (docs/generic-format.md) — plain dicts with `record_type` — and reports what it cannot read
through `reject(file, place, reason, raw)`. The importer stores those records exactly as it stores a
generic file: the same validation, quarantine, idempotent merge and provenance, with `source` set to
the format's connector id. Readers are pure functions of the input: no store, no network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Reject = Callable[[str, str, str, "str | None"], None]  # (file, place, reason, raw)
Record = dict[str, Any]


@dataclass(frozen=True)
class FileFormat:
    name: str                                            # e.g. "x_archive"; also the records' `source`
    description: str
    detect: Callable[[Path], bool]                       # is `path` (file or folder) in this format?
    read: Callable[[Path, Reject], Iterator[Record]]     # generic-format records
    companions: tuple[str, ...] = ()                     # files beside the input that it reads too (a folder's
                                                         # import does not take them for files of their own)


_REGISTRY: dict[str, FileFormat] = {}

GENERIC_DESCRIPTION = ("socialleads generic format: JSON lines, CSV or Parquet with record_type "
                       "(docs/generic-format.md)")


def register(fmt: FileFormat) -> FileFormat:
    _REGISTRY[fmt.name] = fmt
    return fmt


def formats() -> dict[str, FileFormat]:
    """Registered platform formats, after loading the built-in ones."""
    _load_builtin()
    return dict(_REGISTRY)


def describe() -> dict[str, str]:
    """name → description for `leads import --list-formats` (generic first)."""
    return {"generic": GENERIC_DESCRIPTION, **{n: f.description for n, f in sorted(formats().items())}}


def detect(path: Path) -> FileFormat | None:
    """The platform format of `path`, or None (then it is read as the generic format)."""
    for fmt in formats().values():
        try:
            if fmt.detect(path):
                return fmt
        except OSError:
            continue
    return None


_loaded = False
UNAVAILABLE: dict[str, str] = {}  # reader module → why it could not be loaded


def _load_builtin() -> None:
    """Import the built-in reader modules once; each calls register() at import."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    import importlib
    import pkgutil

    import socialleads.sources.platforms as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        try:
            importlib.import_module(f"{pkg.__name__}.{mod.name}")
        except ImportError as exc:  # a reader whose optional dependency is missing is left out
            UNAVAILABLE[mod.name] = str(exc)
