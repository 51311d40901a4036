"""The platform-format plug-in: a reader's records are stored like generic ones, its rejects quarantined,
and an archive's own account becomes an owner account of the workspace."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from socialleads.sources import formats as F
from socialleads.sources.importer import import_path
from socialleads.workspace import init_workspace, open_workspace


def _read(path: Path, reject):
    data = json.loads((path / "toy.json").read_text())
    yield {"record_type": "account", "platform": "x", "account_key": "x:1", "handle": "toy", "is_owner": True}
    for i, item in enumerate(data):
        if "id" not in item:
            reject(str(path / "toy.json"), f"item {i}", "no id", json.dumps(item))
            continue
        yield {"record_type": "post", "platform": "x", "post_key": f"x:{item['id']}", "author_key": "x:1",
               "created_at": item["t"], "kind": "original", "text": item.get("text")}


@pytest.fixture
def toy_format():
    fmt = F.register(F.FileFormat("toy_archive", "a toy archive for tests",
                                  detect=lambda p: (p / "toy.json").exists(), read=_read))
    yield fmt
    F._REGISTRY.pop("toy_archive", None)


def test_reader_records_are_stored_with_their_source(tmp_path, toy_format):
    arch = tmp_path / "arch"
    arch.mkdir()
    (arch / "toy.json").write_text(json.dumps([
        {"id": 1, "t": "2026-01-01T00:00:00Z", "text": "a"},
        {"t": "2026-01-02T00:00:00Z"},                     # rejected by the reader
        {"id": 3, "t": "not a time"},                      # rejected by the generic validation
        {"id": 4, "t": "2026-01-04T00:00:00Z"},
    ]))
    ws_dir = tmp_path / "ws"
    init_workspace(ws_dir)
    with open_workspace(ws_dir) as ws:
        s = import_path(ws.store, arch)
        assert s.to_json()["posts"] == 2 and s.quarantined == 2
        con = ws.store.con
        assert con.execute("SELECT DISTINCT source FROM posts").fetchall() == [("toy_archive",)]
        places = sorted(r[0] for r in con.execute("SELECT place FROM quarantine").fetchall())
        # records made by the reader: 1 the account, 2 post 1, 3 post 3 (the item without id was rejected)
        assert places == ["item 1", "record 3"]
        assert con.execute("SELECT source FROM ingest_runs").fetchall() == [("toy_archive",)]
        added = ws.adopt_owner_accounts()
        assert added == ["x:1"]
        assert "x:1" in ws.owner_keys()
        # re-import changes nothing
        before = ws.store.counts()
        import_path(ws.store, arch)
        after = ws.store.counts()
        assert {k: v for k, v in after.items() if k != "ingest_runs"} == \
               {k: v for k, v in before.items() if k != "ingest_runs"}
        assert ws.adopt_owner_accounts() == []
    cfg = tomllib.loads((ws_dir / "leads.toml").read_text())
    assert {"platform": "x", "handle": "toy", "key": "x:1"} in cfg["owner"]["accounts"]
    assert "# The owner's own accounts" in (ws_dir / "leads.toml").read_text()  # comments kept


def test_list_formats_names_generic_first(toy_format):
    names = list(F.describe())
    assert names[0] == "generic" and "toy_archive" in names


def test_unknown_format_is_an_error(tmp_path):
    from socialleads.errors import FormatError
    from socialleads.store import open_store

    (tmp_path / "a.jsonl").write_text("")
    with pytest.raises(FormatError, match="unknown format"):
        import_path(open_store(None), tmp_path / "a.jsonl", fmt="nonsense")
