"""Review of the command line (items 7-20 of the CLI review): a user's mistake is one clear message and a
non-zero exit, never a traceback or an internal error (exit 70); a job not done never exits 0; a user's
file is never overwritten silently.

The CLI runs in-process through `socialleads.cli.main.main` (the real entry point, with its error
handling). Network tests use a closed port on 127.0.0.1 (nothing listening), never the internet.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from pathlib import Path

import pytest

from socialleads.cli.main import main
from tests.test_review_cli_errors import run

TOO_BIG = "99999999999"


def _messages(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if ln.strip() and "━" not in ln]  # progress bars are not messages


def no_crash(code: int, err: str, args) -> None:
    assert code not in (0, 70), (args, code, err)
    assert "Traceback" not in err and "internal error" not in err, (args, err)


def one_line_error(capsys, *args: str, expect: str = "", code: int | None = None) -> str:
    got, _, err = run(capsys, *args)
    no_crash(got, err, args)
    lines = _messages(err)
    assert len(lines) == 1 and lines[0].startswith("error: "), (args, err)
    assert expect.lower() in lines[0].lower(), (args, lines[0])
    assert code is None or got == code, (args, got, err)
    return lines[0]


def usage_error(capsys, *args: str, option: str) -> str:
    """Typer's own refusal of a bad option value: exit 2, the option named, no traceback."""
    code, _, err = run(capsys, *args)
    no_crash(code, err, args)
    assert code == 2 and option in err, (args, code, err)
    return err


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.delenv("LEADS_WORKSPACE", raising=False)
    monkeypatch.setenv("COLUMNS", "400")  # one message stays one line however long the path


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """A small demo workspace (1000 simulated posts, topics fitted) with one saved monitor."""
    base = tmp_path_factory.mktemp("review-cli-demo")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("LEADS_WORKSPACE", raising=False)
        for args in (["demo", "--out", str(base / "demo"), "--posts", "1000"],
                     ["monitor", "add", "m1", "the", "-w", str(base / "demo" / "workspace")]):
            try:
                main(args)
            except SystemExit as exc:
                assert not exc.code, (args, exc)
    return base / "demo" / "workspace"


@pytest.fixture()
def afile(tmp_path) -> Path:
    f = tmp_path / "afile.jsonl"
    f.write_text('{"record_type": "post", "post_key": "x:1", "platform": "x", "author_key": "x:u1", '
                 '"created_at": "2026-01-02T03:04:05Z", "kind": "original", "text": "hi"}\n', encoding="utf-8")
    return f


# ----------------------------------------------------------------------------------- 7: window bounds
@pytest.mark.parametrize("cmd", [["scorecard"], ["who"], ["communities"], ["activate"], ["sov"], ["plan"],
                                 ["mandate"], ["whitespace"], ["person", "someone"], ["report"]])
def test_a_huge_window_is_refused(demo, capsys, tmp_path, cmd):
    extra = ["-o", str(tmp_path / "r.html")] if cmd == ["report"] else []
    usage_error(capsys, *cmd, "--window-days", TOO_BIG, "-w", str(demo), *extra, option="--window-days")
    assert not (tmp_path / "r.html").exists()


def test_the_longest_window_works(demo, capsys):
    code, out, err = run(capsys, "who", "--window-days", "36500", "--json", "-w", str(demo))
    assert code == 0 and json.loads(out), err


def test_every_window_option_has_the_shared_bound():
    """One definition (cli/options.py:WindowOpt) for every --window-days, with the bound of leads.toml."""
    import typer

    from socialleads.cli.main import app
    from socialleads.cli.options import MAX_WINDOW_DAYS
    from socialleads.workspace.config import MAX_WINDOW_DAYS as CONFIG_MAX

    assert MAX_WINDOW_DAYS == CONFIG_MAX == 36_500
    seen = []

    def walk(cmd, path: str) -> None:
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, f"{path} {name}")
        for p in cmd.params:
            if "--window-days" in getattr(p, "opts", []):
                seen.append(path)
                assert (p.min, p.max) == (1, MAX_WINDOW_DAYS), path

    walk(typer.main.get_command(app), "leads")
    assert len(seen) >= 11, seen


def test_a_huge_window_in_leads_toml_is_a_config_error(demo, capsys, tmp_path):
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(demo, ws)
    toml = ws / "leads.toml"
    text = toml.read_text(encoding="utf-8")
    assert "window_days = 90" in text
    toml.write_text(text.replace("window_days = 90", f"window_days = {TOO_BIG}"), encoding="utf-8")
    for cmd in ("check", "scorecard"):
        one_line_error(capsys, cmd, "-w", str(ws), expect="analysis.window_days", code=1)


# ------------------------------------------------------------------------- 8, 9, 10, 18: option bounds
@pytest.mark.parametrize("args,option", [
    (["quarantine", "-n", "-1"], "-n"),
    (["topics", "--period-days", TOO_BIG], "--period-days"),
    (["topics", "--k", "100000"], "--k"),
])
def test_bounded_options(demo, capsys, args, option):
    started = time.monotonic()
    usage_error(capsys, *args, "-w", str(demo), option=option)
    assert time.monotonic() - started < 30


def test_quarantine_zero_is_fine(demo, capsys):
    code, out, err = run(capsys, "quarantine", "-n", "0", "--json", "-w", str(demo))
    assert code == 0 and json.loads(out)["records"] == [], err


@pytest.mark.parametrize("cmd", [["simulate", "--posts", "100"], ["demo", "--posts", "1000"]])
def test_a_negative_seed_is_refused(capsys, tmp_path, cmd):
    usage_error(capsys, *cmd, "--out", str(tmp_path / "x"), "--seed", "-5", option="--seed")
    assert not (tmp_path / "x").exists()


def test_topics_k_is_bounded_in_the_library():
    from socialleads.listen.topics import MAX_K, TopicError, fit_model

    with pytest.raises(TopicError, match=f"between 1 and {MAX_K}"):
        fit_model(["a b c", "b c d", "c d e"], k=MAX_K + 1)


# --------------------------------------------------------------------- 11: an output path that is a file
@pytest.mark.parametrize("args,option", [
    (["init", "{f}"], "leads init"),
    (["simulate", "--out", "{f}", "--posts", "100"], "--out"),
    (["demo", "--out", "{f}", "--posts", "1000"], "--out"),
    (["export", "who", "-o", "{f}", "-w", "{ws}"], "--out"),
    (["export", "--parquet", "{f}", "-w", "{ws}"], "--parquet"),
    (["import", "{f}", "--to-parquet", "{f}"], "--to-parquet"),
])
def test_an_output_path_that_is_a_file(demo, capsys, afile, args, option):
    before = md5(afile)
    line = one_line_error(capsys, *[a.format(f=afile, ws=demo) for a in args], expect="is a file")
    assert option in line and str(afile) in line
    assert md5(afile) == before


def test_export_into_a_folder_that_cannot_be_written(demo, capsys, tmp_path, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    import socialleads.cli.options as options

    real = os.access
    monkeypatch.setattr(options.os, "access", lambda p, mode: False if Path(p) == ro else real(p, mode))
    one_line_error(capsys, "export", "who", "-o", str(ro), "-w", str(demo), expect="cannot write")
    assert list(ro.iterdir()) == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes into read-only folders")
def test_export_into_a_read_only_folder(demo, capsys, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        one_line_error(capsys, "export", "who", "-o", str(ro / "exp"), "-w", str(demo), expect="--out")
    finally:
        ro.chmod(0o755)


# ------------------------------------------------------------------------------------ 12: an empty path
@pytest.mark.parametrize("args", [
    ["import", "", "-w", "{ws}"],
    ["init", ""],
    ["simulate", "--out", "", "--posts", "100"],
    ["demo", "--out", "", "--posts", "1000"],
    ["export", "all", "-o", "", "-w", "{ws}"],
    ["export", "--parquet", "", "-w", "{ws}"],
    ["import", "{f}", "--to-parquet", ""],
    ["report", "-o", "", "-w", "{ws}"],
])
def test_an_empty_path_is_refused(demo, capsys, tmp_path, afile, monkeypatch, args):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    (cwd / "other.jsonl").write_text(afile.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.chdir(cwd)
    before = md5(demo / "leads.duckdb")
    err = usage_error(capsys, *[a.format(ws=demo, f=afile) for a in args], option="empty path")
    assert "unset shell variable" in err
    assert sorted(p.name for p in cwd.iterdir()) == ["other.jsonl"]   # nothing written into the current folder
    assert md5(demo / "leads.duckdb") == before                        # nothing imported


# ------------------------------------------------------------------ 14: simulate into an existing workspace
def test_simulate_refuses_a_workspace(demo, capsys, tmp_path):
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(demo, ws)
    toml = ws / "leads.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n# my own config\n", encoding="utf-8")
    before = md5(toml)
    one_line_error(capsys, "simulate", "--out", str(ws), "--posts", "100", expect="--force", code=1)
    assert md5(toml) == before
    assert not (ws / "truth.json").exists()
    # a user's leads.toml without a database is refused as well
    only = tmp_path / "only"
    only.mkdir()
    (only / "leads.toml").write_text("[workspace]\nname = \"mine\"\n", encoding="utf-8")
    before = md5(only / "leads.toml")
    one_line_error(capsys, "simulate", "--out", str(only), "--posts", "100", expect="leads.toml")
    assert md5(only / "leads.toml") == before
    # --force is the way to do it anyway
    code, _, err = run(capsys, "simulate", "--out", str(only), "--posts", "100", "--force")
    assert code == 0 and md5(only / "leads.toml") != before, err


def test_simulate_again_into_its_own_world(capsys, tmp_path):
    out = tmp_path / "world"
    for _ in range(2):
        code, _, err = run(capsys, "simulate", "--out", str(out), "--posts", "100")
        assert code == 0, err
    assert (out / "truth.json").exists()


# ----------------------------------------------------------------------- 15: alerts that are not delivered
def test_alerts_check_fails_when_nothing_is_delivered(demo, capsys, tmp_path):
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(demo, ws)
    bad = f"jsonl:{tmp_path / 'afile' / 'x.jsonl'}"
    (tmp_path / "afile").write_text("a file where a folder should be")
    code, out, err = run(capsys, "alerts", "check", "--to", bad, "-w", str(ws))
    assert code == 4 and "Traceback" not in err, (code, err)
    assert "error: " in err and "pending" in err and "0 delivered" in out
    code, out, err = run(capsys, "alerts", "check", "--json", "-w", str(ws))   # the pending ones, again
    assert code == 4, (code, err)
    res = json.loads(out)
    assert res["delivered"] == 0 and res["failed"] > 0
    code, out, err = run(capsys, "alerts", "check", "--to", f"jsonl:{tmp_path / 'ok.jsonl'}", "--json",
                         "--monitor", "m1", "-w", str(demo))
    assert code == 0 and json.loads(out)["failed"] == 0, err


# ---------------------------------------------------------------------------------- 16: listen offline
def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_listen_gives_up_on_a_server_that_never_answers(demo, capsys, tmp_path):
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(demo, ws)
    port = _closed_port()
    started = time.monotonic()
    code, out, err = run(capsys, "listen", "--url", f"ws://127.0.0.1:{port}/subscribe", "--max-retries", "2",
                         "--duration", "60", "-w", str(ws))
    assert time.monotonic() - started < 30
    no_crash(code, err, "listen")
    assert code == 4, (code, err)
    lines = _messages(err)
    assert sum("reconnecting" in ln for ln in lines) == 2, err            # said on stderr, also off a terminal
    assert lines[-1].startswith("error: ") and f"127.0.0.1:{port}" in lines[-1] and "3 connection" in lines[-1]


def test_listen_duration_without_a_connection_is_an_error(demo, capsys, tmp_path):
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(demo, ws)
    code, out, err = run(capsys, "listen", "--url", f"ws://127.0.0.1:{_closed_port()}/subscribe", "--duration", "1.5",
                         "--max-retries", "0", "--json", "-w", str(ws))
    no_crash(code, err, "listen")
    assert code == 4 and "never connected" in err, (code, err)


@pytest.mark.parametrize("args,expect", [(["--hashtag", "x"], "--hashtag"), (["--user"], "--user"),
                                         (["--mastodon", "https://m.example", "--hashtag", "x",
                                           "--collection", "app.bsky.feed.post"], "--collection")])
def test_listen_options_of_the_other_stream_are_refused(demo, capsys, args, expect):
    started = time.monotonic()
    one_line_error(capsys, "listen", *args, "--duration", "30", "-w", str(demo), expect=expect, code=1)
    assert time.monotonic() - started < 10


def test_listen_library_reports_reconnects_and_gives_up(tmp_path):
    from socialleads.listen import live as L
    from socialleads.store import open_store

    said: list[str] = []
    store = open_store(tmp_path / "s.duckdb")
    try:
        cfg = L.ListenConfig(url=f"ws://127.0.0.1:{_closed_port()}/subscribe", backoff=(0.01, 0.02), batch_ms=20,
                             max_retries=3, duration=30)
        with pytest.raises(L.ListenConnectError, match="4 connection attempts") as exc:
            L.listen(store, cfg, on_reconnect=said.append)
        assert exc.value.exit_code == 4
        assert len(said) == 3 and all("reconnecting" in s for s in said)
        for sse in (True, False):   # the Mastodon reader gives up too; a duration alone ends with an error
            cfg = L.ListenConfig(url=f"ws://127.0.0.1:{_closed_port()}/subscribe", backoff=(0.01, 0.02),
                                 mastodon=f"http://127.0.0.1:{_closed_port()}" if sse else None, hashtag="x",
                                 batch_ms=20, max_retries=None if not sse else 2, duration=1.0)
            with pytest.raises(L.ListenConnectError):
                L.listen(store, cfg)
    finally:
        store.close()


# --------------------------------------------------------------------------- 17: read-only workspaces
@pytest.fixture()
def spy(monkeypatch):
    import socialleads.workspace as W

    calls: list[bool] = []
    real = W.open_workspace

    def spying(directory, *, read_only=False, **kw):
        calls.append(read_only)
        return real(directory, read_only=read_only, **kw)

    monkeypatch.setattr(W, "open_workspace", spying)
    return calls


@pytest.mark.parametrize("cmd", [["check"], ["status"], ["quarantine"], ["monitor", "list"], ["questions"]])
def test_reading_commands_open_the_workspace_read_only(demo, capsys, spy, cmd):
    code, _, err = run(capsys, *cmd, "-w", str(demo))
    assert "Traceback" not in err and "internal error" not in err, err
    assert spy and all(spy), (cmd, spy)
    assert code == 0 or cmd == ["questions"], (code, err)   # questions may need `leads enrich` first


@pytest.mark.parametrize("cmd", [["topics"], ["coach"]])
def test_writing_commands_fall_back_to_read_only(demo, capsys, spy, monkeypatch, cmd):
    import socialleads.cli.coach as cli_coach
    import socialleads.cli.listen as cli_listen

    monkeypatch.setattr(cli_listen, "workspace_writable", lambda ws: False)
    monkeypatch.setattr(cli_coach, "workspace_writable", lambda ws: False)
    code, _, err = run(capsys, *cmd, "-w", str(demo))
    assert code == 0 and spy == [True], (code, spy, err)
    one_line_error(capsys, "topics", "--refit", "-w", str(demo), expect="read-only")


def test_workspace_writable(tmp_path):
    from socialleads.cli.options import workspace_writable

    assert workspace_writable(tmp_path)


# ------------------------------------------------------------------------------- 19: report -o x.pdf
def test_report_refuses_a_pdf_name_for_the_html(demo, capsys, tmp_path):
    pdf, pdf2 = tmp_path / "report.pdf", tmp_path / "r2.pdf"
    one_line_error(capsys, "report", "-o", str(pdf), "--pdf", str(pdf2), "-w", str(demo), expect="--pdf", code=1)
    assert not pdf.exists() and not pdf2.exists()
    html = tmp_path / "r.html"
    one_line_error(capsys, "report", "-o", str(html), "--pdf", str(html), "-w", str(demo), expect="same file")
    assert not html.exists()


def test_pdf_printer_refuses_html_not_named_html(tmp_path, monkeypatch):
    from socialleads.report.pdf import PdfError, html_to_pdf

    monkeypatch.setenv("LEADS_CHROMIUM", "/bin/true")
    src = tmp_path / "report.pdf"
    src.write_text("<html></html>")
    with pytest.raises(PdfError, match=".html"):
        html_to_pdf(src, tmp_path / "out.pdf")


# ------------------------------------------------------------------------- 20: alerts list, unknown monitor
def test_alerts_list_unknown_monitor(demo, capsys):
    one_line_error(capsys, "alerts", "list", "--monitor", "nope", "--json", "-w", str(demo),
                   expect="no monitor named 'nope'", code=1)
    code, out, err = run(capsys, "alerts", "list", "--monitor", "m1", "--json", "-w", str(demo))
    assert code == 0 and isinstance(json.loads(out), list), err


def test_serve_on_a_port_in_use_says_so_before_announcing_the_dashboard(capsys, tmp_path):
    pytest.importorskip("uvicorn")
    ws = tmp_path / "ws"
    assert run(capsys, "init", str(ws))[0] == 0
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        code, out, err = run(capsys, "serve", "-p", str(port), "-w", str(ws))
    assert code == 1 and "dashboard on" not in out
    assert f"--port {port}: cannot listen on 127.0.0.1:{port}" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("args", [
    ["mastodon", "someone", "--instance", ""], ["mastodon", "someone", "--instance", "notaurl"],
    ["mastodon", "someone", "--instance", "https://"], ["mastodon", "", "--instance", "https://example.org"],
    ["bluesky", ""], ["bluesky", "someone.bsky.social", "--base-url", "ftp://x.example"],
])
def test_pull_refuses_an_empty_account_or_a_server_that_is_not_a_url_before_any_request(capsys, tmp_path, args):
    ws = tmp_path / "ws"
    assert run(capsys, "init", str(ws))[0] == 0
    t = time.monotonic()
    code, out, err = run(capsys, "pull", *args, "-w", str(ws))
    assert code == 2 and time.monotonic() - t < 5            # no connection attempted (4 retries take ~9 s)
    assert "Traceback" not in err and ("not a server URL" in err or "empty account" in err)
