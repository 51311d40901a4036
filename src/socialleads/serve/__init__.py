"""`leads serve`: the web dashboard (FastAPI, server-rendered Jinja2 pages, Plotly charts from the
installed package, a JSON twin for every page) and the table exports of `leads export`.

Needs the `serve` extra (fastapi, uvicorn, jinja2). Importing this package does not import FastAPI:
`create_app` loads it when called.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from socialleads.serve.data import Dashboard, NotFound, ServeError
from socialleads.serve.security import check_bind, generate_token, is_loopback


def create_app(workspace: Path | str | None, **kwargs: Any) -> Any:
    """The FastAPI app (see serve/app.py); raises ServeError with an install hint without FastAPI."""
    try:
        from socialleads.serve.app import create_app as _create
    except ModuleNotFoundError as exc:
        if exc.name in ("fastapi", "jinja2", "starlette", "pydantic"):
            raise ServeError(f"leads serve needs {exc.name}: pip install 'socialleads[serve]'") from exc
        raise
    return _create(workspace, **kwargs)


__all__ = ["Dashboard", "NotFound", "ServeError", "check_bind", "create_app", "generate_token", "is_loopback"]
