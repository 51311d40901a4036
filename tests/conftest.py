from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from socialleads.store import open_store

HERE = Path(__file__).parent
DATA = HERE / "data"
SHARED = HERE.parent.parent / "shared"


@pytest.fixture(scope="session")
def spark():
    """One local Spark session (local[2]) for every Spark test module, stopped at the end of the run; the
    modules skip themselves when PySpark or Java is missing."""
    from socialleads.engine.spark import spark_session

    session = spark_session("local[2]", app_name="socialleads-tests")
    yield session
    session.stop()


@pytest.fixture
def store():
    s = open_store(None)
    yield s
    s.close()


def leads(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
          stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a subprocess (exit codes and stderr as a user sees them)."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    full_env.pop("LEADS_WORKSPACE", None) if env is None or "LEADS_WORKSPACE" not in env else None
    return subprocess.run([sys.executable, "-m", "socialleads", *args], cwd=cwd, env=full_env, input=stdin,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture
def memory_keyring():
    """An in-memory OS keyring for the test (never the developer's real one); yields its backend (`.d`)."""
    import keyring
    from keyring.backend import KeyringBackend

    class Memory(KeyringBackend):
        priority = 1

        def __init__(self):
            super().__init__()
            self.d = {}

        def get_password(self, service, username):
            return self.d.get((service, username))

        def set_password(self, service, username, password):
            self.d[(service, username)] = password

        def delete_password(self, service, username):
            self.d.pop((service, username), None)

    old = keyring.get_keyring()
    mem = Memory()
    keyring.set_keyring(mem)
    try:
        yield mem
    finally:
        keyring.set_keyring(old)
