"""`leads import` on files whose first line is bad or long (twarc and Reddit detection decides from several
lines) and on text that is not UTF-8 (UTF-16, Latin-1): the right format, or one true message.

Expected counts come from the fixture lines read with plain json here, never from the readers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from socialleads.cli.main import app
from socialleads.sources import formats as F
from socialleads.store import open_store

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
TWARC = FIXTURES / "twitter" / "api_v2_twarc"
STREAM = TWARC / "streaming_output_with_error.jsonl"
REDDIT = FIXTURES / "reddit" / "derived_ndjson"
COMMENTS = REDDIT / "comments_from_api_listing.ndjson"
SUBMISSIONS = REDDIT / "submissions_from_api_listing.ndjson"

needs_fixtures = pytest.mark.skipif(not (TWARC.is_dir() and REDDIT.is_dir()),
                                    reason=f"fixtures missing: {FIXTURES} (../shared/fixtures)")


def _post(i: int, text: str = "hi") -> dict:
    return {"record_type": "post", "platform": "x", "post_key": f"x:{i}", "author_key": "x:a",
            "created_at": "2024-01-01T00:00:00Z", "kind": "original", "text": text}


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    w = tmp_path / "ws"
    r = CliRunner().invoke(app, ["init", str(w)])
    assert r.exit_code == 0, r.output
    return w


def run_import(ws: Path, path: Path, *extra: str):
    """(exit code, the --json summary, the `refused` lines of stderr)."""
    r = CliRunner().invoke(app, ["import", str(path), "--json", "-w", str(ws), *extra])
    assert "Traceback" not in r.output and (r.exception is None or isinstance(r.exception, SystemExit)), \
        r.output
    refused = [ln for ln in r.stderr.splitlines() if ln.startswith("refused")]
    return r.exit_code, json.loads(r.stdout), refused


def counts(ws: Path) -> dict[str, int]:
    store = open_store(ws / "leads.duckdb", read_only=True)
    try:
        return store.counts()
    finally:
        store.close()


def quarantine(ws: Path) -> list[tuple]:
    store = open_store(ws / "leads.duckdb", read_only=True)
    try:
        return store.con.execute("SELECT place, reason FROM quarantine ORDER BY place").fetchall()
    finally:
        store.close()


# ------------------------------------------------------------------------------------------ twarc

@needs_fixtures
def test_twarc_file_with_a_cut_first_line_is_twarc_and_the_bad_line_is_quarantined(ws, tmp_path):
    pages = STREAM.read_text(encoding="utf-8").splitlines()[:7]
    tweets = set()
    for page in map(json.loads, pages):
        data = page["data"] if isinstance(page["data"], list) else [page["data"]]
        tweets |= {t["id"] for t in data + page.get("includes", {}).get("tweets", [])}
    f = tmp_path / "t.jsonl"
    f.write_text('{"data": [{"id": "1", "text": "trunc\n' + "\n".join(pages) + "\n", encoding="utf-8")
    assert F.detect(f).name == "twarc"
    code, out, refused = run_import(ws, f)
    assert code == 3 and refused == [] and out["quarantined"] == 1
    assert counts(ws)["posts"] == len(tweets) == out["posts"]
    (place, reason), = quarantine(ws)
    assert place == "line 1" and "malformed JSON" in reason


@needs_fixtures
def test_twarc_detection_stays_strict(tmp_path):
    page = STREAM.read_text(encoding="utf-8").splitlines()[0]
    # a generic file, even with twarc-looking keys and a bad first line, is never twarc
    generic = tmp_path / "posts.jsonl"
    generic.write_text("{broken\n" + "\n".join(json.dumps({**_post(i), "data": [], "__twarc": {}})
                                               for i in range(3)) + "\n")
    assert F.detect(generic) is None
    mixed = tmp_path / "mixed.jsonl"     # a twarc page in a file of other objects: not a twarc file
    mixed.write_text(page + "\n" + "\n".join(json.dumps({"data": [i]}) for i in range(4)) + "\n")
    assert F.detect(mixed) is None or F.detect(mixed).name != "twarc"
    blank_then_pages = tmp_path / "b.jsonl"
    blank_then_pages.write_text("\n\n\n" + page + "\n")
    assert F.detect(blank_then_pages).name == "twarc"


# ------------------------------------------------------------------------------------------ Reddit

@needs_fixtures
def test_reddit_dump_with_a_broken_first_line_is_detected(ws, tmp_path):
    comments = [json.loads(x) for x in COMMENTS.read_text(encoding="utf-8").splitlines() if x.strip()]
    f = tmp_path / "rc.ndjson"
    f.write_bytes(b'{"id":"broken\n' + COMMENTS.read_bytes())
    assert F.detect(f).name == "reddit_dump"
    code, out, refused = run_import(ws, f)
    assert code == 3 and refused == [] and out["quarantined"] == 1
    assert counts(ws)["posts"] == len({c["id"] for c in comments})
    assert [p for p, _ in quarantine(ws)] == ["line 1"]


@needs_fixtures
def test_reddit_dump_whose_first_line_is_over_64_kib(ws, tmp_path):
    subs = [json.loads(x) for x in SUBMISSIONS.read_text(encoding="utf-8").splitlines() if x.strip()]
    big = {**subs[0], "id": "big1", "name": "t3_big1", "selftext": "漢" * 40_000}
    f = tmp_path / "RS_big.ndjson"
    f.write_text(json.dumps(big, ensure_ascii=False) + "\n" + SUBMISSIONS.read_text(encoding="utf-8"),
                 encoding="utf-8")
    assert len(f.read_bytes().split(b"\n", 1)[0]) > 65536
    code, out, refused = run_import(ws, f)
    assert (code, refused, out["quarantined"]) == (0, [], 0)
    assert counts(ws)["posts"] == len({s["id"] for s in subs} | {"big1"})
    store = open_store(ws / "leads.duckdb", read_only=True)
    try:
        (text,), = store.con.execute("SELECT text FROM posts WHERE post_key = 'reddit:t3_big1'").fetchall()
    finally:
        store.close()
    assert text.endswith("漢" * 40_000)


@needs_fixtures
def test_reddit_line_longer_than_the_detection_cap_is_judged_by_its_start(tmp_path, monkeypatch):
    from socialleads.sources.platforms import reddit_dump as RD
    monkeypatch.setattr(RD, "HEAD_BYTES", 4096)
    f = tmp_path / "RS_2015-01.ndjson"
    sub = json.loads(SUBMISSIONS.read_text(encoding="utf-8").splitlines()[0])
    f.write_text(json.dumps({"id": "x1", "subreddit": "a", "created_utc": 1, "selftext": "a" * 10_000, **sub}) + "\n")
    assert RD.detect(f)


@needs_fixtures
def test_pushshift_dumps_without_extension_are_detected(ws, tmp_path):
    d = tmp_path / "dumps"
    d.mkdir()
    (d / "RC_2015-01").write_bytes(COMMENTS.read_bytes())
    (d / "RS_2015-01").write_bytes(SUBMISSIONS.read_bytes())
    n_comments = len([x for x in COMMENTS.read_text(encoding="utf-8").splitlines() if x.strip()])
    n_subs = len([x for x in SUBMISSIONS.read_text(encoding="utf-8").splitlines() if x.strip()])
    for p in (d / "RC_2015-01", d / "RS_2015-01", d):
        assert F.detect(p).name == "reddit_dump", p
    code, out, refused = run_import(ws, d / "RC_2015-01")
    assert (code, refused, out["quarantined"]) == (0, [], 0) and counts(ws)["posts"] == n_comments
    code, out, refused = run_import(ws, d)
    assert (code, refused) == (0, []) and counts(ws)["posts"] == n_comments + n_subs
    # the name alone does not make a dump: a generic file so named is not one
    (tmp_path / "RC_2016-01").write_text(json.dumps({**_post(1), "id": "x", "subreddit": "a",
                                                     "created_utc": 1}) + "\n")
    fmt = F.detect(tmp_path / "RC_2016-01")
    assert fmt is None or fmt.name != "reddit_dump"


# ------------------------------------------------------------------------------------------ encodings

@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_json_lines_are_refused_once_as_utf16(ws, tmp_path, encoding):
    f = tmp_path / "posts.jsonl"
    f.write_bytes("".join(json.dumps(_post(i, "héllo"), ensure_ascii=False) + "\n"
                          for i in range(5)).encode(encoding))
    code, out, refused = run_import(ws, f)
    assert code == 2 and len(refused) == 1 and len(out["refused"]) == 1
    assert "UTF-16" in refused[0] and "not UTF-8" in refused[0] and str(f) in refused[0]
    assert counts(ws)["posts"] == 0 and counts(ws)["quarantine"] == 0


def test_latin1_json_lines_get_a_true_message(ws, tmp_path):
    f = tmp_path / "posts.jsonl"
    f.write_bytes("".join(json.dumps(_post(i, "café"), ensure_ascii=False) + "\n" for i in range(3))
                  .encode("latin-1"))
    code, out, refused = run_import(ws, f)
    assert code == 2 and len(refused) == 1
    assert "not UTF-8" in refused[0] and "Latin-1" in refused[0] and "binary" not in refused[0]
    assert counts(ws)["posts"] == 0 and counts(ws)["quarantine"] == 0


def test_latin1_first_line_among_utf8_lines_is_quarantined_alone(ws, tmp_path):
    f = tmp_path / "posts.jsonl"
    f.write_bytes(json.dumps(_post(0, "café"), ensure_ascii=False).encode("latin-1") + b"\n" +
                  b"".join(json.dumps(_post(i)).encode() + b"\n" for i in (1, 2)))
    code, out, refused = run_import(ws, f)
    assert code == 3 and refused == [] and out["quarantined"] == 1
    assert counts(ws)["posts"] == 2
    (place, reason), = quarantine(ws)
    assert place == "line 1" and "UTF-8" in reason


def test_binary_is_still_binary(ws, tmp_path):
    f = tmp_path / "x.jsonl"
    f.write_bytes(b"\x7fELF\x02\x01\x01\x03\x04\x05\x06\x07 binary")
    code, _, refused = run_import(ws, f)
    assert code == 2 and len(refused) == 1 and "binary data" in refused[0]


def test_utf16_click_csv_is_refused_as_utf16(ws, tmp_path):
    text = "occurred_at,url\n2024-01-01T00:00:00Z,https://a.example/x\n"
    bad = tmp_path / "u16" / "clicks.csv"
    bad.parent.mkdir()
    bad.write_bytes(text.encode("utf-16"))
    code, _, refused = run_import(ws, bad)
    assert code == 2 and len(refused) == 1
    assert "UTF-16" in refused[0] and "not UTF-8" in refused[0] and "needs the column" not in refused[0]
    assert counts(ws)["clicks"] == 0
    good = tmp_path / "u8" / "clicks.csv"
    good.parent.mkdir()
    good.write_text(text, encoding="utf-8")
    code, _, refused = run_import(ws, good)
    assert (code, refused) == (0, []) and counts(ws)["clicks"] == 1
