"""The command line as a user meets it: exit codes, one-line errors, never a traceback."""

from __future__ import annotations

import json

from tests.conftest import DATA, leads


def no_traceback(r):
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout


def test_init_import_status_quarantine(tmp_path):
    ws = tmp_path / "ws"
    r = leads("init", str(ws))
    assert r.returncode == 0, r.stderr
    assert (ws / "leads.toml").exists() and (ws / "leads.duckdb").exists()
    r = leads("import", str(DATA / "mixed.jsonl"), "--json", "-w", str(ws))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    for key in ("posts", "accounts", "interactions", "quarantined"):
        assert isinstance(out[key], int)
    assert out["posts"] == 3 and out["quarantined"] == 0
    # LEADS_WORKSPACE is honoured; a partial import exits 3 and says where to look
    r = leads("import", str(DATA / "bad.jsonl"), "--json", env={"LEADS_WORKSPACE": str(ws)})
    assert r.returncode == 3 and json.loads(r.stdout)["quarantined"] == 10
    assert "leads quarantine" in r.stderr
    no_traceback(r)
    r = leads("quarantine", "--json", "-w", str(ws))
    assert r.returncode == 0 and json.loads(r.stdout)["total"] == 10
    r = leads("status", "--json", "-w", str(ws))
    assert json.loads(r.stdout)["counts"]["posts"] == 6


def test_refused_file_is_one_line_and_exit_2(tmp_path):
    ws = tmp_path / "ws"
    leads("init", str(ws))
    junk = tmp_path / "junk.jsonl"
    junk.write_bytes(b"\x00\x01\x02 not text at all")
    r = leads("import", str(junk), "-w", str(ws))
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.splitlines() if "refused" in ln]
    assert len(lines) == 1 and str(junk) in lines[0]
    no_traceback(r)


def test_errors_are_one_line(tmp_path):
    r = leads("scorecard", "-w", str(tmp_path / "missing"))
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "no such folder" in r.stderr
    no_traceback(r)
    r = leads("import", str(tmp_path / "nothing.jsonl"), "-w", str(tmp_path))
    assert r.returncode == 1
    no_traceback(r)
    ws = tmp_path / "ws"
    leads("init", str(ws))
    (ws / "leads.toml").write_text('[goals]\nposts_per_week = "ten"\n')
    r = leads("check", "-w", str(ws))
    assert r.returncode == 1
    assert "goals.posts_per_week: expected a number, got 'ten'" in r.stderr
    no_traceback(r)
    (ws / "leads.toml").write_text('[goals\n')
    r = leads("check", "-w", str(ws))
    assert r.returncode == 1 and "leads.toml" in r.stderr
    no_traceback(r)
    r = leads("init", str(ws))  # already a workspace
    assert r.returncode == 1 and "--force" in r.stderr
    r = leads("import", "--format", "nonsense", str(DATA / "mixed.jsonl"), "-w", str(ws))
    no_traceback(r)
    assert r.returncode != 0


def test_usage_errors_exit_2(tmp_path):
    r = leads("simulate")  # --out is required
    assert r.returncode == 2
    no_traceback(r)
    r = leads("frobnicate")
    assert r.returncode == 2
    no_traceback(r)


def test_list_formats():
    r = leads("import", "--list-formats", "--json")
    assert r.returncode == 0 and any(f["name"] == "generic" for f in json.loads(r.stdout))


def test_text_sentiment_reads_stdin_writes_json_lines():
    r = leads("text", "sentiment", stdin="I love this, amazing work!\nthis is terrible and broken\n\n")
    assert r.returncode == 0, r.stderr
    rows = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert len(rows) == 3  # one object per input line, the empty one included
    assert rows[0]["label"] == "positive" and rows[0]["score"] > 0
    assert rows[1]["label"] == "negative" and rows[1]["score"] < 0
    assert all(-1 <= row["score"] <= 1 for row in rows)


def test_listen_and_engage_commands_end_to_end(tmp_path):
    """simulate → init → import → enrich → scorecard / who / inbox / monitor / mentions, as a user runs them."""
    world, ws = tmp_path / "world", tmp_path / "ws"
    assert leads("simulate", "--out", str(world), "--posts", "5000", "--seed", "3").returncode == 0
    assert leads("init", str(ws), "--config", str(world / "leads.toml")).returncode == 0
    assert leads("import", str(world), "-w", str(ws)).returncode == 0
    r = leads("enrich", "--json", "-w", str(ws))
    assert r.returncode == 0, r.stderr
    truth = json.loads((world / "truth.json").read_text())
    assert json.loads(r.stdout)["computed"] == truth["posts"]
    card = json.loads(leads("scorecard", "--json", "-w", str(ws)).stdout)
    assert card["listen"]["available"] and card["listen"]["mentions"] > 0
    assert card["listen"]["sentiment_counts"] is not None
    who = json.loads(leads("who", "--json", "-n", "5", "-w", str(ws)).stdout)
    assert len(who) == 5 and all({"account", "handle", "pagerank"} <= set(row) for row in who)
    assert not set(truth["owner_keys"]) & {row["account"] for row in who}
    box = json.loads(leads("inbox", "--json", "-n", "10", "-w", str(ws)).stdout)
    prio = [item["priority"] for item in box["items"]]
    assert prio == sorted(prio, reverse=True) and box["stats"]["inbound"] > 0
    assert leads("monitor", "add", "brand", "voltwise OR #voltwise", "-w", str(ws)).returncode == 0
    r = leads("mentions", "brand", "--json", "-n", "3", "-w", str(ws))
    out = json.loads(r.stdout)
    assert r.returncode == 0 and len(out["mentions"]) == 3 and out["total"] >= 3
    r = leads("monitor", "add", "bad", "(voltwise OR", "-w", str(ws))
    assert r.returncode == 1 and "column" in r.stderr
    no_traceback(r)


def test_status_counts_experiment_assignments(tmp_path):
    ws = tmp_path / "ws"
    leads("init", str(ws))
    f = tmp_path / "experiments.csv"
    f.write_text("post_key,experiment,variant\np1,cta_test,A\np2,cta_test,B\np2,other,A\n")   # 3 rows by hand
    r = leads("import", str(f), "--json", "-w", str(ws))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["experiment_assignments"] == 3
    r = leads("status", "--json", "-w", str(ws))
    assert r.returncode == 0 and json.loads(r.stdout)["counts"]["experiment_assignments"] == 3
    no_traceback(r)
