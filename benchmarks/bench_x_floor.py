"""The floor under issue 3's X archive target: DuckDB's own load of the archive's records, next to `leads import`.

Issue 3 asks `leads import` of an X archive of 100 k tweets for >= 50 k tweets/s on this 2-core machine: 2.0 s
for the command, start to end. This script measures, on the same archive (bench_platform_import.py's: fixture
tweets repeated with new ids) and back to back (the machine is shared: compare within one run):

  1. `bare`: a bare Python process (python + duckdb, no CLI) that reads tweets.js, cuts the array into pieces
     that DuckDB's JSON reader reads in parallel (as sources/fast_x.py does), reads the fields once into a temp
     table, and writes the posts, their entities, reply and mention interactions and metrics snapshots into the
     store of a fresh `leads init` workspace, then CHECKPOINT. No validation, no quarantine, no line numbers, no
     deduplication or merge, no account stubs, reposts or quotes, no provenance: it writes fewer rows than the
     import does (about 114 k interactions instead of 171 k), so it is a floor;
  2. `bare_4_writers`: the same with the four tables written at once from four connections (the fields read
     into an attached in-memory database that every connection sees);
  3. `cli_fixed`: `leads import` of an archive of one tweet of the same shape (start-up, workspace, the import's
     fixed statements, leads.toml, exit): what the command costs whatever the archive's size;
  4. `leads_import`: `leads import` of the 100 k tweets (bench_platform_import.py's measure).

If `bare` (or `bare_4_writers`) plus `cli_fixed` is near 2.0 s, the target leaves no room for what the issue
asks of an import besides writing rows.

    python benchmarks/bench_x_floor.py --tweets 100000 --work /tmp/bench_x_floor
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_platform_import import make_x_archive, run_import  # noqa: E402

FLOOR = r'''
import os, re, sys, tempfile, threading
import duckdb
db, arch, writers = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(os.path.join(arch, "data", "tweets.js"), "rb").read()
body = memoryview(data)[data.index(b"=") + 1:]
lo = bytes(body[:64]).index(b"[")
hi = len(body) - bytes(body[-64:])[::-1].index(b"]")
body = body[lo:hi]
nxt = re.compile(rb'\}[ \t\r\n]*,[ \t\r\n]*\{[ \t\r\n]*"tweet"[ \t\r\n]*:')
n = max(1, len(body) // (8 << 20))
cuts = []
for k in range(1, n):
    m = nxt.search(body, k * len(body) // n)
    cuts.append(m.start() + bytes(body[m.start():m.end()]).index(b","))
tmp = tempfile.mkdtemp()
paths, start = [], 0
for i, end in enumerate(cuts + [len(body)]):
    paths.append(f"{tmp}/p{i}.json")
    with open(paths[-1], "wb") as fh:
        fh.write(b"[" if start else b"")
        fh.write(body[start:end])
        fh.write(b"]" if end < len(body) else b"")
    start = end + 1
con = duckdb.connect(db)
con.execute("ATTACH ':memory:' AS m")
ent = "STRUCT(text VARCHAR, indices VARCHAR[])[]"
cols = ("{'tweet': 'STRUCT(id_str VARCHAR, created_at VARCHAR, full_text VARCHAR, lang VARCHAR, "
        "in_reply_to_status_id_str VARCHAR, in_reply_to_user_id_str VARCHAR, favorite_count VARCHAR, "
        "retweet_count VARCHAR, entities STRUCT(user_mentions STRUCT(id_str VARCHAR, screen_name VARCHAR, "
        f"indices VARCHAR[])[], hashtags {ent}, symbols {ent}, urls STRUCT(expanded_url VARCHAR, "
        "indices VARCHAR[])[]))'}")
e = "'s': u.indices[1]::INTEGER, 'e': u.indices[2]::INTEGER"
con.execute(f"""CREATE TABLE m.t AS SELECT 'x:' || tweet.id_str AS pk,
  strptime(tweet.created_at, '%a %b %d %H:%M:%S +0000 %Y') AS ts, tweet.full_text AS txt, tweet.lang AS lang,
  'x:' || tweet.in_reply_to_status_id_str AS reply_to, 'x:' || tweet.in_reply_to_user_id_str AS to_user,
  starts_with(tweet.full_text, 'RT @') AS rt, tweet.favorite_count::BIGINT AS likes,
  tweet.retweet_count::BIGINT AS reposts,
  list_concat(list_transform(tweet.entities.user_mentions, lambda u: {{'etype': 'mention', 'value': u.screen_name,
                                                                     'target': 'x:' || u.id_str, {e}}}),
              list_transform(tweet.entities.hashtags, lambda u: {{'etype': 'hashtag', 'value': u.text,
                                                                 'target': NULL, {e}}}),
              list_transform(tweet.entities.urls, lambda u: {{'etype': 'link', 'value': u.expanded_url,
                                                             'target': NULL, {e}}})) AS ents
  FROM read_json({paths}, format = 'array', records = 'true', columns = {cols})""")
writes = [
    """INSERT INTO posts (post_key, platform, author_key, kind, kind_confidence, created_at, sort_at, text, lang,
         reply_to_key, url, is_deleted, first_seen_at, source, ingest_run_id)
       SELECT pk, 'x', 'x:owner', CASE WHEN rt THEN 'repost' WHEN reply_to IS NOT NULL THEN 'reply'
              ELSE 'original' END, 'exact', ts, ts, txt, lang, reply_to, 'https://x.com/i/web/status/' || pk,
              FALSE, now()::TIMESTAMP, 'x_archive', 'run' FROM m.t""",
    """INSERT INTO post_entities SELECT pk, e.etype, e.value, e.target, e.s, e.e, 'codepoint'
       FROM (SELECT pk, unnest(ents) AS e FROM m.t)""",
    """INSERT INTO interactions (interaction_key, platform, type, actor_key, target_account_key, target_post_key,
         via_post_key, created_at, time_precision, source, ingest_run_id)
       SELECT md5(pk || 'reply'), 'x', 'reply', 'x:owner', to_user, reply_to, pk, ts, 'exact', 'x_archive', 'run'
       FROM m.t WHERE reply_to IS NOT NULL
       UNION ALL SELECT md5(pk || e.target), 'x', 'mention', 'x:owner', e.target, pk, pk, ts, 'exact',
                        'x_archive', 'run'
       FROM (SELECT pk, ts, unnest(ents) AS e FROM m.t) WHERE e.etype = 'mention'""",
    """INSERT INTO metrics_snapshots (subject_key, subject_type, observed_at, likes, reposts, source, ingest_run_id)
       SELECT pk, 'post', now()::TIMESTAMP, likes, reposts, 'x_archive', 'run' FROM m.t""",
]
if writers == 1:
    for w in writes:
        con.execute(w)
else:
    th = [threading.Thread(target=lambda w=w: con.cursor().execute(w)) for w in writes]
    [x.start() for x in th]
    [x.join() for x in th]
con.execute("CHECKPOINT")
print(con.execute("SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM interactions)").fetchall()[0])
con.close()
'''


def floor(store: Path, archive: Path, work: Path, writers: int) -> tuple[float, str]:
    db = work / "floor.duckdb"
    for f in (db, Path(str(db) + ".wal")):
        f.unlink(missing_ok=True)
    shutil.copy(store, db)
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", FLOOR, str(db), str(archive), str(writers)], check=True,
                       capture_output=True, text=True)
    return time.perf_counter() - t, p.stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tweets", type=int, default=100_000)
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_x_floor"))
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    n = make_x_archive(a.work / "x_archive", a.tweets)
    make_x_archive(a.work / "x_archive_1", 1)
    ws = a.work / "ws_init"
    shutil.rmtree(ws, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "socialleads", "init", str(ws)], check=True, capture_output=True)
    store = ws / "leads.duckdb"
    rows: dict[str, list[float]] = {}
    for _ in range(a.repeat):
        rows.setdefault("bare", []).append(floor(store, a.work / "x_archive", a.work, 1)[0])
        rows.setdefault("bare_4_writers", []).append(floor(store, a.work / "x_archive", a.work, 4)[0])
        rows.setdefault("cli_fixed", []).append(run_import(a.work / "ws_1", a.work / "x_archive_1")["seconds"])
        rows.setdefault("leads_import", []).append(run_import(a.work / "ws_x", a.work / "x_archive")["seconds"])
    print(f"{'':<16} {'seconds':>16} {'tweets/s':>20}")
    for k, v in rows.items():
        per = "" if k == "cli_fixed" else f"{n / max(v):>9,.0f} - {n / min(v):,.0f}"
        print(f"{k:<16} {min(v):7.2f} - {max(v):5.2f} {per:>20}")
    best = min(min(rows["bare"]), min(rows["bare_4_writers"])) + min(rows["cli_fixed"])
    print(f"floor through the CLI (best bare + cli_fixed): {best:.2f} s = {n / best:,.0f} tweets/s "
          f"(target: {n / 50_000:.2f} s)")
    print(json.dumps({"tweets": n, **{k: [round(x, 2) for x in v] for k, v in rows.items()}}))


if __name__ == "__main__":
    main()
