"""Review: typical user mistakes on the command line give one line on stderr and a non-zero exit, never a
traceback; an empty workspace does not crash the read commands.

The CLI runs in-process through `socialleads.cli.main.main` (the real entry point, with its error
handling), so the whole file stays fast.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from socialleads.cli.main import main
from tests.conftest import leads

# A declared owner (and a competitor) but no data: the leads.toml a user writes before the first import.
OWNED_TOML = """
[workspace]
name = "Review"

[[owner.accounts]]
platform = "bluesky"
handle = "me.bsky.social"
key = "did:plc:me"

[[competitors]]
name = "Them"
accounts = [{ platform = "bluesky", handle = "them.bsky.social", key = "did:plc:them" }]
"""


def run(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(capsys, *args: str, expect: str = "") -> str:
    code, _, err = run(capsys, *args)
    lines = [ln for ln in err.splitlines() if ln.strip() and "━" not in ln]  # progress bars are not messages
    assert code not in (0, 70), (args, code, err)
    assert "Traceback" not in err and "internal error" not in err, (args, err)
    assert len(lines) == 1 and lines[0].startswith("error: "), (args, err)
    assert expect.lower() in lines[0].lower(), (args, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def dirs(tmp_path_factory):
    base = tmp_path_factory.mktemp("review-cli")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("LEADS_WORKSPACE", raising=False)
        for name in ("empty", "owned"):
            try:
                main(["init", str(base / name)])
            except SystemExit as exc:
                assert not exc.code, exc
        (base / "owned" / "leads.toml").write_text(OWNED_TOML, encoding="utf-8")
    (base / "nows").mkdir()
    return base


@pytest.fixture(autouse=True)
def _no_env_workspace(monkeypatch):
    monkeypatch.delenv("LEADS_WORKSPACE", raising=False)
    monkeypatch.setenv("COLUMNS", "400")  # one message stays one line however long the path


@pytest.mark.parametrize("cmd", ["scorecard", "report", "coach", "stage", "who", "inbox", "communities", "sov",
                                 "mandate", "activate", "what-works", "topics", "status"])
def test_not_a_workspace(dirs, capsys, cmd):
    extra = ["-o", str(dirs / "r.html")] if cmd == "report" else []
    one_line_error(capsys, cmd, "-w", str(dirs / "nows"), *extra, expect="no leads.toml")


def test_missing_folder(dirs, capsys):
    one_line_error(capsys, "scorecard", "-w", str(dirs / "no-such-folder"), expect="no such folder")


@pytest.mark.parametrize("ws", ["empty", "owned"])
@pytest.mark.parametrize("cmd", ["scorecard", "coach", "stage", "who", "communities", "activate", "what-works"])
def test_empty_workspace_does_not_crash(dirs, capsys, ws, cmd):
    code, out, err = run(capsys, cmd, "-w", str(dirs / ws))
    assert code == 0 and "Traceback" not in err and "internal error" not in err, (cmd, err)


@pytest.mark.parametrize("ws", ["empty", "owned"])
def test_empty_workspace_report_has_no_zero_figures(dirs, capsys, ws, tmp_path):
    """An empty workspace's report says n/a (with why) instead of a 0 follower count."""
    out = tmp_path / "r.html"
    code, _, err = run(capsys, "report", "-w", str(dirs / ws), "-o", str(out))
    assert code == 0, err
    html = out.read_text(encoding="utf-8")
    assert 'class="tile na"><div class="label">Followers</div><div class="value">n/a' in html


@pytest.mark.parametrize("cmd,expect", [
    ("topics", "import some posts"),
    ("sov", "import some"),
    ("mandate", "import some"),
    ("whitespace", "import some"),
    ("plan", "import some"),
    ("questions", "leads topics"),
])
def test_empty_workspace_says_what_to_do(dirs, capsys, cmd, expect):
    one_line_error(capsys, cmd, "-w", str(dirs / "owned"), expect=expect)


@pytest.mark.parametrize("cmd", [["inbox"], ["person", "someone"], ["classes"]])
def test_no_owner_accounts(dirs, capsys, cmd):
    one_line_error(capsys, *cmd, "-w", str(dirs / "empty"), expect="owner")


@pytest.mark.parametrize("args,expect", [
    (["mentions", "nosuch"], "no monitor named 'nosuch'"),
    (["monitor", "remove", "nosuch"], "no monitor named 'nosuch'"),
    (["alerts", "check", "--monitor", "nosuch"], "no monitor named 'nosuch'"),
    (["person", "nobody.example"], "no account with the handle 'nobody.example'"),
    (["experiment", "report", "nosuch"], "nosuch"),
    (["who", "--topic", "nosuch"], "leads topics"),
    (["classes", "--account", "nosuch"], "--account nosuch"),
    (["monitor", "add", "bad name!", "voltwise"], "monitor name 'bad name!'"),
    (["sov", "--by", "nosuch"], "--by"),
    (["export", "all", "--format", "xls"], "--format"),
    (["export", "nosuch"], "no table 'nosuch'"),
    (["scorecard", "--engine", "nosuch"], "--engine"),
])
def test_unknown_names_and_bad_values(dirs, capsys, args, expect):
    one_line_error(capsys, *args, "-w", str(dirs / "owned"), expect=expect)


def test_import_missing_file(dirs, capsys):
    one_line_error(capsys, "import", str(dirs / "does-not-exist.jsonl"), "-w", str(dirs / "owned"),
                   expect="does-not-exist.jsonl")


def test_report_into_a_folder_or_under_a_file(dirs, capsys, tmp_path):
    one_line_error(capsys, "report", "-w", str(dirs / "owned"), "-o", str(tmp_path), expect="is a folder")
    (tmp_path / "afile").write_text("x")
    one_line_error(capsys, "report", "-w", str(dirs / "owned"), "-o", str(tmp_path / "afile" / "r.html"),
                   expect="cannot write the report")


def test_broken_config_and_database(dirs, capsys, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(dirs / "owned", bad)
    toml = bad / "leads.toml"
    toml.write_text(OWNED_TOML + "\n[goals]\nposts_per_week = \"many\"\n", encoding="utf-8")
    one_line_error(capsys, "scorecard", "-w", str(bad), expect="posts_per_week")
    toml.write_text(OWNED_TOML + "\nthis is = = not toml\n", encoding="utf-8")
    one_line_error(capsys, "scorecard", "-w", str(bad), expect="leads.toml")
    toml.write_text(OWNED_TOML, encoding="utf-8")
    Path(bad / "leads.duckdb").write_bytes(b"not a database")
    one_line_error(capsys, "scorecard", "-w", str(bad), expect="leads.duckdb")


def test_serve_help(capsys):
    code, out, _ = run(capsys, "serve", "--help")
    assert code == 0 and "--host" in out


def test_out_of_memory_is_one_line_with_what_to_do(capsys, monkeypatch):
    """DuckDB running out of its memory limit is not a user's mistake, but the user can act on it: one
    line naming the limit and the setting that raises it, exit 70, no traceback."""
    import duckdb

    import socialleads.cli.main as cli_main

    def boom(*a, **k):
        raise duckdb.OutOfMemoryException("Out of Memory Error: failed to pin block of size 256.0 KiB\n\nPossible …")

    monkeypatch.setattr(cli_main, "app", boom)
    monkeypatch.delenv("LEADS_DEBUG", raising=False)
    monkeypatch.setenv("LEADS_MEMORY_LIMIT", "1GB")
    code, _, err = run(capsys, "coach")
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 70 and "Traceback" not in err
    assert len(lines) <= 2 and "out of memory" in err and "LEADS_MEMORY_LIMIT" in err and "1GB" in err, err


def test_a_forced_format_that_does_not_fit_is_refused(tmp_path):
    """--format names a format the input is not in: a folder for a one-file format, or a file of which
    nothing can be read as that format — one line, exit 2 (refused), never an internal error."""
    ws = tmp_path / "ws"
    assert leads("init", str(ws)).returncode == 0
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "outbox.json").write_text("{}")
    r = leads("import", str(folder), "--format", "bsky_car", "-w", str(ws))
    assert r.returncode == 2 and "cannot be read as bsky_car" in r.stderr, r.stderr
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 12)
    r = leads("import", str(junk), "--format", "bsky_firehose", "-w", str(ws))
    assert r.returncode == 2 and "nothing in it could be read as bsky_firehose" in r.stderr, r.stderr
    # a file of another kind (generic JSON lines given as a Reddit dump): refused whole, no quarantine row per
    # line (before: 50 rows, one per line, beside the refusal)
    lines = tmp_path / "posts.jsonl"
    lines.write_text("".join(json.dumps({"record_type": "post", "post_key": f"x:{i}"}) + "\n" for i in range(50)))
    r = leads("import", str(lines), "--format", "reddit_dump", "--json", "-w", str(ws))
    assert r.returncode == 2 and "not a Reddit dump" in r.stderr and "quarantined" not in r.stderr, r.stderr
    assert json.loads(r.stdout)["quarantined"] == 0
    r = leads("quarantine", "--json", "-w", str(ws))
    assert json.loads(r.stdout)["total"] == 0, r.stdout


def test_check_warns_about_an_owner_account_that_matches_no_data(tmp_path):
    """`leads init`'s template declares a placeholder owner; once data is imported, `leads check` says that
    the declared account matches nothing instead of a plain 'ok … 1 owner account(s)'."""
    ws = tmp_path / "ws"
    assert leads("init", str(ws)).returncode == 0
    data = tmp_path / "posts.jsonl"
    data.write_text('{"record_type": "post", "post_key": "x:1", "platform": "x", "author_key": "x:u1", '
                    '"created_at": "2026-01-02T03:04:05Z", "kind": "original", "text": "hi"}\n')
    assert leads("import", str(data), "-w", str(ws)).returncode == 0
    r = leads("check", "-w", str(ws))
    assert r.returncode == 0 and "matches no imported account" in r.stderr, r.stderr
