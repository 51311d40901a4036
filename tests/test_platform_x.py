"""X / Twitter archives (`x_archive`) and dated follower lists (`x_follower_snapshots`) against the real
fixtures in ../shared/fixtures/twitter. Expected values are computed here from the fixture files with plain
json / csv (or taken from the fixture READMEs), never from the reader's output."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from socialleads.errors import FormatError
from socialleads.sources import formats as F
from socialleads.sources.importer import import_path
from socialleads.sources.platforms import x_archive as X
from socialleads.store import open_store

FIX = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "twitter"
pytestmark = pytest.mark.skipif(not FIX.is_dir(), reason=f"shared fixtures not found at {FIX}")

STATUS = re.compile(r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/[^/]+(?:/web)?/status/(\d+)/?$")


def js(path: Path):
    text = path.read_text(encoding="utf-8-sig")
    return json.loads(text[text.index("=") + 1:].strip().rstrip(";"))


def tweets_of(path: Path) -> list[dict]:
    return [i.get("tweet", i) for i in js(path)]


def expected_kind(t: dict) -> str:
    """CONNECTORS.md §3.2 kind derivation, written independently of the reader."""
    text = t.get("full_text", t.get("text", ""))
    if "retweeted_status" in t or (text.startswith("RT @") and "full_text" in t):
        return "repost"
    if t.get("in_reply_to_status_id_str"):
        return "reply"
    if any(STATUS.match(u.get("expanded_url") or "") for u in t["entities"].get("urls", [])):
        return "quote"
    return "original"


def read_all(path: Path, fmt: str = "x_archive"):
    rejects: list[tuple] = []
    recs = list(F.formats()[fmt].read(path, lambda *a: rejects.append(a)))
    return recs, rejects


def imported(*paths: Path):
    s = open_store(None)
    for p in paths:
        import_path(s, p)
    return s


def q(store, sql: str, *args):
    return store.con.execute(sql, list(args)).fetchall()


# --- YTD 2026 (tweets.js, manifest, note-tweet.js empty) --------------------------------------------------

def test_2026_archive_kinds_owner_likes_follows():
    d = FIX / "x_archive_2026_tweets_js"
    assert F.detect(d).name == "x_archive"
    tweets = tweets_of(d / "data" / "tweets.js")
    acc = js(d / "data" / "account.js")[0]["account"]
    owner = "x:" + acc["accountId"]
    s = imported(d)
    got = dict(q(s, "SELECT post_key, kind FROM posts"))
    assert got == {"x:" + t["id_str"]: expected_kind(t) for t in tweets}
    assert set(q(s, "SELECT DISTINCT author_key, source FROM posts")) == {(owner, "x_archive")}
    # the owner account, no e-mail anywhere
    assert q(s, "SELECT handle, display_name, is_owner FROM accounts WHERE account_key = ?", owner) == \
        [(acc["username"], acc["accountDisplayName"], True)]
    assert not q(s, "SELECT 1 FROM accounts WHERE CAST(extra AS VARCHAR) LIKE '%example.invalid%'")
    # reposts and quotes are heuristic in YTD archives
    conf = dict(q(s, "SELECT kind, max(kind_confidence) FROM posts GROUP BY kind"))
    assert conf["repost"] == "heuristic" and conf["quote"] == "heuristic" and conf["reply"] == "exact"
    # the RT whose media names its source status: that is the target; the other is unknown
    for t in tweets:
        if expected_kind(t) != "repost":
            continue
        src = [m["source_status_id_str"] for m in t["entities"].get("media", []) if "source_status_id_str" in m]
        (rk,) = q(s, "SELECT repost_of_key FROM posts WHERE post_key = ?", "x:" + t["id_str"])[0]
        assert rk == ("x:" + src[0] if src else "x:unknown-rt:" + t["id_str"])
        (ta,) = q(s, "SELECT target_account_key FROM interactions WHERE type='repost' AND via_post_key = ?",
                  "x:" + t["id_str"])[0]
        assert ta == "x:" + (t["entities"]["media"][0]["source_user_id_str"] if src
                             else t["entities"]["user_mentions"][0]["id_str"])
    # replies carry the replied-to account; one reply also quotes (CONNECTORS.md §6.5)
    replies = [t for t in tweets if expected_kind(t) == "reply"]
    assert sorted(q(s, "SELECT via_post_key, target_post_key, target_account_key FROM interactions "
                       "WHERE type = 'reply'")) == sorted(
        ("x:" + t["id_str"], "x:" + t["in_reply_to_status_id_str"], "x:" + t["in_reply_to_user_id_str"])
        for t in replies)
    quotes = {("x:" + t["id_str"], "x:" + STATUS.match(u["expanded_url"]).group(1))
              for t in tweets if expected_kind(t) in ("quote", "reply")
              for u in t["entities"]["urls"] if STATUS.match(u["expanded_url"] or "")}
    assert set(q(s, "SELECT via_post_key, target_post_key FROM interactions WHERE type = 'quote'")) == quotes
    # mentions: one per (post, mentioned id)
    mentions = {("x:" + t["id_str"], "x:" + m["id_str"]) for t in tweets for m in t["entities"]["user_mentions"]}
    assert set(q(s, "SELECT via_post_key, target_account_key FROM interactions WHERE type = 'mention'")) == mentions
    # likes and follows: no time
    likes = {"x:" + i["like"]["tweetId"] for i in js(d / "data" / "like.js")}
    assert set(q(s, "SELECT target_post_key, actor_key, created_at, time_precision FROM interactions "
                    "WHERE type = 'like'")) == {(k, owner, None, "unknown") for k in likes}
    followers = {("x:" + i["follower"]["accountId"], owner) for i in js(d / "data" / "follower.js")}
    following = {(owner, "x:" + i["following"]["accountId"]) for i in js(d / "data" / "following.js")}
    assert set(q(s, "SELECT actor_key, target_account_key FROM interactions WHERE type = 'follow' "
                    "AND created_at IS NULL AND time_precision = 'unknown'")) == followers | following
    # counts at export as metrics snapshots at the manifest's generation date
    assert q(s, "SELECT count(*) FROM quarantine") == [(0,)]


def test_entities_offsets_are_code_points_of_the_stored_text():
    """larsbrinkhoff's tweet.js has &amp;-escaped texts: offsets must still point at the mention."""
    d = FIX / "archive_larsbrinkhoff" / "archive_2021-03-22"
    recs, rejects = read_all(d)
    assert rejects == []
    posts = [r for r in recs if r["record_type"] == "post"]
    checked = 0
    for p in posts:
        assert "&amp;" not in p["text"] and "&gt;" not in p["text"]
        for e in p.get("entities", []):
            if e["etype"] in ("mention", "hashtag"):
                sign = "@" if e["etype"] == "mention" else "#"
                assert p["text"][e["start_idx"]:e["end_idx"]].lower() == (sign + e["value"]).lower(), p["post_key"]
                checked += 1
    assert checked > 1000


def test_whole_archives_match_their_readmes():
    # archive_larsbrinkhoff/README.txt: 1,827 tweets, 1,357 replies, 14 RTs; 405 followers, 59 following, 8 likes
    s = imported(FIX / "archive_larsbrinkhoff" / "archive_2021-03-22", FIX / "archive_rtiatmla")
    lars, rti = "x:3128746474", "x:1321902678188974081"
    kinds = dict(q(s, "SELECT kind, count(*) FROM posts WHERE author_key = ? GROUP BY kind", lars))
    assert sum(kinds.values()) == 1827 and kinds["reply"] == 1357 and kinds["repost"] == 14
    assert q(s, "SELECT count(*) FROM interactions WHERE type='follow' AND target_account_key = ?", lars) == [(405,)]
    assert q(s, "SELECT count(*) FROM interactions WHERE type='follow' AND actor_key = ?", lars) == [(59,)]
    assert q(s, "SELECT count(*) FROM interactions WHERE type='like' AND actor_key = ?", lars) == [(8,)]
    # archive_rtiatmla/README.txt: 70 tweets (14 replies, 12 RTs); follower 111; following 124; like 29
    kinds = dict(q(s, "SELECT kind, count(*) FROM posts WHERE author_key = ? GROUP BY kind", rti))
    assert sum(kinds.values()) == 70 and kinds["reply"] == 14 and kinds["repost"] == 12
    assert q(s, "SELECT count(*) FROM interactions WHERE type='follow' AND target_account_key = ?", rti) == [(111,)]
    assert q(s, "SELECT count(*) FROM interactions WHERE type='follow' AND actor_key = ?", rti) == [(124,)]
    assert q(s, "SELECT count(*) FROM interactions WHERE type='like' AND actor_key = ?", rti) == [(29,)]
    # owners from the manifests' userInfo (these archives have no account.js)
    assert sorted(q(s, "SELECT account_key, handle FROM accounts WHERE is_owner")) == \
        [(rti, "RTIatMLA"), (lars, "larsbrinkhoff")]
    assert q(s, "SELECT count(*) FROM quarantine") == [(0,)]


# --- 2020 tweet.js with wrapper, Grailbird JS and CSV, note tweets ------------------------------------------

def test_2020_tweet_js_and_grailbird_js():
    d20, gb = FIX / "x_archive_2020_tweet_js", FIX / "grailbird_2013"
    s = imported(d20, gb)
    t20 = tweets_of(d20 / "data" / "tweet.js")
    tgb = js(gb / "data" / "js" / "tweets" / "2013_01.js")
    got = dict(q(s, "SELECT post_key, kind FROM posts"))
    assert got == {"x:" + t["id_str"]: expected_kind(t) for t in t20 + tgb}
    # the Grailbird retweet is exact and names its target and the target's author
    (rt,) = [t for t in tgb if "retweeted_status" in t]
    assert q(s, "SELECT repost_of_key, kind_confidence FROM posts WHERE post_key = ?", "x:" + rt["id_str"]) == \
        [("x:" + rt["retweeted_status"]["id_str"], "exact")]
    assert q(s, "SELECT target_account_key FROM interactions WHERE type = 'repost' AND via_post_key = ?",
             "x:" + rt["id_str"]) == [("x:" + rt["retweeted_status"]["user"]["id_str"],)]
    # times: `%a %b %d %H:%M:%S %z %Y`
    t = tgb[0]
    assert str(q(s, "SELECT created_at FROM posts WHERE post_key = ?", "x:" + t["id_str"])[0][0]) == \
        "2013-02-01 04:12:21"
    ud = js(gb / "data" / "js" / "user_details.js")
    assert ("x:" + ud["id"], ud["screen_name"]) in q(s, "SELECT account_key, handle FROM accounts WHERE is_owner")
    acc = js(d20 / "data" / "account.js")[0]["account"]
    assert ("x:" + acc["accountId"], acc["username"]) in q(s, "SELECT account_key, handle FROM accounts WHERE is_owner")
    # mentions of both fixtures (CONNECTORS.md §6.5 counts 13 over 2026 + 2020 + Grailbird without 2026's)
    mentions = {("x:" + t["id_str"], "x:" + m["id_str"]) for t in t20 + tgb for m in t["entities"]["user_mentions"]}
    assert len(mentions) == 13
    assert set(q(s, "SELECT via_post_key, target_account_key FROM interactions WHERE type = 'mention'")) == mentions


def test_grailbird_csv():
    d = FIX / "grailbird_2015_csv"
    assert F.detect(d).name == "x_archive"
    with (d / "tweets.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    s = imported(d)
    posts = {k: (kind, rk, text, str(c)) for k, kind, rk, text, c in
             q(s, "SELECT post_key, kind, coalesce(repost_of_key, reply_to_key), text, created_at FROM posts")}
    assert len(posts) == len(rows) == 5
    for r in rows:
        kind = "repost" if r["retweeted_status_id"] else "reply" if r["in_reply_to_status_id"] else "original"
        target = "x:" + (r["retweeted_status_id"] or r["in_reply_to_status_id"]) if kind != "original" else None
        assert posts["x:" + r["tweet_id"]][:3] == (kind, target, r["text"])
        assert posts["x:" + r["tweet_id"]][3] == r["timestamp"].replace(" +0000", "")
    assert any("\n" in p[2] for p in posts.values())            # the multi-line quoted field
    # the CSV names no owner: one quarantine row says so, the posts are kept under a stable placeholder
    assert [r[0] for r in q(s, "SELECT place FROM quarantine")] == ["owner"]
    owner = q(s, "SELECT account_key FROM accounts WHERE is_owner")
    assert owner == [("x:unknown-owner-of:" + rows[0]["tweet_id"],)]


def test_note_tweets_replace_the_truncated_text():
    d = FIX / "x_archive_2024_note_tweets"
    notes = [i["noteTweet"] for i in js(d / "data" / "note-tweet.js")]
    tweets = tweets_of(d / "data" / "tweets.js")
    recs, _ = read_all(d)
    posts = {r["post_key"]: r for r in recs if r["record_type"] == "post"}
    assert len(posts) == len(tweets) == 2
    joined = 0
    for n in notes:
        sec = n["createdAt"][:19]
        (t,) = [t for t in tweets if X.parse_time(t["created_at"])[:19] == sec]
        p = posts["x:" + t["id_str"]]
        assert p["text"] == n["core"]["text"] and p["source_ids"] == {"x_note_tweet": n["noteTweetId"]}
        assert t["full_text"] != n["core"]["text"]
        joined += 1
    assert joined == 2
    # the note's hashtag offsets are used; the quoted status of the tweet makes it a quote
    p = posts["x:1752243867426926637"]
    (h,) = [e for e in p["entities"] if e["etype"] == "hashtag"]
    assert p["text"][h["start_idx"]:h["end_idx"]] == "#100DaysOfCode"
    assert posts["x:1712845356000485462"]["kind"] == "quote"


# --- layouts: zip, parts, manifest, wrapper-less tweet.js, deleted tweets ---------------------------------

def _tweet(i: int, text: str = "hello", **kw) -> dict:
    t = {"id_str": str(1000 + i), "id": str(1000 + i), "created_at": f"Fri Mar 06 13:0{i % 10}:05 +0000 2026",
         "full_text": text, "entities": {"hashtags": [], "user_mentions": [], "urls": [], "symbols": []},
         "lang": "en", "favorite_count": "1", "retweet_count": "0"}
    t.update(kw)
    return t


def _write_js(p: Path, var: str, items: list) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(f"window.YTD.{var}.part0 = " + json.dumps(items, indent=1), encoding="utf-8")


def _account(d: Path) -> None:
    _write_js(d / "data" / "account.js", "account",
              [{"account": {"email": "a@b.invalid", "username": "me", "accountId": "42", "accountDisplayName": "Me"}}])


def test_parts_wrapperless_deleted_and_manifest(tmp_path):
    d = tmp_path / "arch"
    _account(d)
    _write_js(d / "data" / "tweets-part1.js", "tweets", [{"tweet": _tweet(1)}, {"tweet": _tweet(2)}])
    _write_js(d / "data" / "tweets-part2.js", "tweets", [{"tweet": _tweet(3)}])
    _write_js(d / "data" / "deleted-tweets.js", "deleted_tweets", [{"tweet": _tweet(4, "oops")}])
    assert F.detect(d).name == "x_archive"
    recs, rej = read_all(d)
    posts = {r["post_key"]: r for r in recs if r["record_type"] == "post"}
    assert set(posts) == {"x:1001", "x:1002", "x:1003", "x:1004"} and rej == []
    assert posts["x:1004"]["is_deleted"] is True and "is_deleted" not in posts["x:1001"]
    owner = [r for r in recs if r.get("is_owner")]
    assert owner == [{"record_type": "account", "platform": "x", "account_key": "x:42", "is_owner": True,
                      "handle": "me", "url": "https://x.com/me", "display_name": "Me", "source_ids": {"x": "42"}}]
    assert "a@b.invalid" not in json.dumps(recs)
    # a manifest is preferred: it lists only part1
    (d / "data" / "manifest.js").write_text("window.__THAR_CONFIG = " + json.dumps({
        "userInfo": {"accountId": "42", "userName": "me", "displayName": "Me"},
        "dataTypes": {"tweets": {"files": [{"fileName": "data/tweets-part1.js", "globalName": "YTD.tweets.part0",
                                            "count": "2"}]}}}))
    recs, _ = read_all(d)
    assert {r["post_key"] for r in recs if r["record_type"] == "post"} == {"x:1001", "x:1002", "x:1004"}
    # 2019 tweet.js without the {"tweet": …} wrapper
    w = tmp_path / "w2019"
    _account(w)
    _write_js(w / "data" / "tweet.js", "tweet", [_tweet(5), _tweet(6, "RT @x: hi")])
    recs, rej = read_all(w)
    kinds = {r["post_key"]: r["kind"] for r in recs if r["record_type"] == "post"}
    assert kinds == {"x:1005": "original", "x:1006": "repost"} and rej == []


def test_zip_reads_like_the_folder(tmp_path):
    src = FIX / "x_archive_2026_tweets_js"
    z = tmp_path / "twitter-2026.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(src.rglob("*")):
            if p.is_file():
                zf.write(p, "twitter-2026/" + p.relative_to(src).as_posix())
    assert F.detect(z).name == "x_archive"
    strip = lambda recs: sorted(json.dumps(r, sort_keys=True) for r in recs)  # noqa: E731
    assert strip(read_all(z)[0]) == strip(read_all(src)[0])


# --- bad input -------------------------------------------------------------------------------------------

def test_malformed_truncated_and_wrong_encoding_items(tmp_path):
    d = tmp_path / "bad"
    _account(d)
    good = [json.dumps({"tweet": _tweet(i)}) for i in range(1, 4)]
    (d / "data" / "tweets.js").write_text(
        "window.YTD.tweets.part0 = [" + ", ".join([good[0], '{"tweet": {"id_str": "7", "full_text": "x" nope}}',
                                                   good[1], json.dumps({"tweet": {"full_text": "no id"}}), good[2]])
        + "]", encoding="utf-8")
    (d / "data" / "like.js").write_text(
        'window.YTD.like.part0 = [{"like": {"tweetId": "11"}}, {"like": {"tweetId": "12", "fullText": "cut',
        encoding="utf-8")
    (d / "data" / "follower.js").write_bytes(
        b'window.YTD.follower.part0 = [{"follower": {"accountId": "21"}}, '
        b'{"follower": {"accountId": "22", "userLink": "caf\xe9"}}]')
    s = open_store(None)
    summary = import_path(s, d)
    assert not summary.complete
    assert {r[0] for r in q(s, "SELECT post_key FROM posts")} == {"x:1001", "x:1002", "x:1003"}
    assert q(s, "SELECT target_post_key FROM interactions WHERE type = 'like'") == [("x:11",)]
    assert q(s, "SELECT actor_key FROM interactions WHERE type = 'follow'") == [("x:21",)]
    rows = q(s, "SELECT file, place, reason FROM quarantine ORDER BY file, place")
    by = {(Path(f).name, p): r for f, p, r in rows}
    assert by[("tweets.js", "item 1")].startswith("malformed JSON")
    assert by[("tweets.js", "item 3")] == "no tweet id (id_str)"
    assert by[("like.js", "item 1")].startswith("truncated")
    assert by[("follower.js", "item 1")] == "not UTF-8 text"
    assert ("follower.js", "file") in by
    # importing again changes no count
    before = s.counts()
    import_path(s, d)
    after = s.counts()
    assert {k: v for k, v in after.items() if k != "ingest_runs"} == \
        {k: v for k, v in before.items() if k != "ingest_runs"}


def test_truncated_zip_and_unsafe_member(tmp_path):
    src = tmp_path / "src"
    _account(src)
    _write_js(src / "data" / "tweets.js", "tweets", [{"tweet": _tweet(i)} for i in range(1, 4)])
    _write_js(src / "data" / "like.js", "like", [{"like": {"tweetId": str(50 + i)}} for i in range(200)])
    z = tmp_path / "a.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(src / "data" / "account.js", "data/account.js")
        zf.write(src / "data" / "tweets.js", "data/tweets.js")
        zf.write(src / "data" / "like.js", "data/like.js")
        zf.writestr("../evil.js", "window.YTD.tweets.part0 = []")
    data = z.read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(data[: data.index(b"data/like.js") + 60])         # inside like.js's data
    s = open_store(None)
    summary = import_path(s, cut)
    assert summary.refused == [] and not summary.complete
    assert q(s, "SELECT count(*) FROM posts") == [(3,)]
    reasons = [r[0] for r in q(s, "SELECT place FROM quarantine")]
    assert "data/like.js" in reasons and "zip" in reasons
    # the whole zip: the `..` member is reported, not read
    s2 = open_store(None)
    import_path(s2, z)
    assert q(s2, "SELECT place FROM quarantine") == [("../evil.js",)]
    assert q(s2, "SELECT count(*) FROM interactions WHERE type = 'like'") == [(200,)]


def test_not_an_x_archive(tmp_path):
    gen = tmp_path / "gen"
    gen.mkdir()
    (gen / "posts.jsonl").write_text('{"record_type": "post"}\n')
    assert not X.detect_archive(gen) and not X.detect_snapshots(gen)
    assert not X.detect_archive(gen / "posts.jsonl")
    assert not X.detect_archive(FIX / "api_v2_twarc")
    assert not X.detect_archive(FIX.parent / "mastodon" / "archive_export")
    with pytest.raises(FormatError, match="not an X/Twitter archive"):
        list(X.read_archive(gen, lambda *a: None))
    other = tmp_path / "other.js"
    other.write_text("var x = 1;")
    assert not X.detect_archive(other)


# --- follower snapshots ----------------------------------------------------------------------------------

def test_follower_snapshots_growth_and_churn(tmp_path):
    d = FIX / "archive_larsbrinkhoff" / "follower_snapshots"
    assert F.detect(d).name == "x_follower_snapshots"
    lists = {}
    for p in sorted(d.glob("follower_*.js")):
        lists[p.stem.split("_", 1)[1]] = {"x:" + i["follower"]["accountId"] for i in js(p)}
    # the README: 405 -> 561 -> 644 -> 764 followers, gained/lost +173/-17, +94/-11, +173/-53
    assert [len(v) for v in lists.values()] == [405, 561, 644, 764]
    s = imported(d)
    owner = "x:3128746474"                      # from the sibling archive's manifest userInfo
    assert q(s, "SELECT account_key, handle, is_owner FROM accounts WHERE is_owner") == \
        [(owner, "larsbrinkhoff", True)]
    per_date = {str(k)[:10]: v for k, v in
                q(s, "SELECT observed_at, count(*) FROM follower_snapshots WHERE account_key = ? GROUP BY 1", owner)}
    assert per_date == {k: len(v) for k, v in lists.items()}
    stored = {}
    for k, f in q(s, "SELECT observed_at, follower_key FROM follower_snapshots"):
        stored.setdefault(str(k)[:10], set()).add(f)
    dates = sorted(lists)
    churn = []
    for a, b in zip(dates, dates[1:]):
        gained, lost = lists[b] - lists[a], lists[a] - lists[b]
        assert stored[b] - stored[a] == gained and stored[a] - stored[b] == lost
        churn.append((len(gained), len(lost)))
    assert churn == [(173, 17), (94, 11), (173, 53)]
    # the follower metric reads the snapshots
    from socialleads.metrics.followers import FOLLOWER_SNAPSHOTS, audience_for, follower_counts_at
    from socialleads.metrics.tables import tables_for
    aud = audience_for(tables_for(s), [owner])
    assert aud.source == FOLLOWER_SNAPSHOTS
    at = [dt.datetime.fromisoformat(x) for x in dates]
    assert follower_counts_at(aud, at)["all"] == [len(lists[x]) for x in dates]
    before = s.counts()
    import_path(s, d)
    assert {k: v for k, v in s.counts().items() if k != "ingest_runs"} == \
        {k: v for k, v in before.items() if k != "ingest_runs"}
    # a copy of the lists without any archive next to them: whose followers? refused with one line
    lone = tmp_path / "lone"
    lone.mkdir()
    shutil.copy(d / "follower_2021-03-22.js", lone)
    with pytest.raises(FormatError, match="cannot tell whose follower lists"):
        list(X.read_snapshots(lone, lambda *a: None))


def test_lone_surrogate_in_a_tweet_is_kept_marked(tmp_path):
    """An unpaired UTF-16 surrogate escape (an emoji cut in half) is not valid Unicode: the tweet is kept with
    U+FFFD in its place, and its neighbour is untouched (it crashed the import before)."""
    data = tmp_path / "archive" / "data"
    data.mkdir(parents=True)
    items = [{"tweet": {"id_str": "1001", "created_at": "Wed Mar 03 10:00:00 +0000 2021", "full_text": "PLACEHOLDER",
                        "entities": {"hashtags": [], "user_mentions": [], "urls": []}}},
             {"tweet": {"id_str": "1002", "created_at": "Wed Mar 03 11:00:00 +0000 2021", "full_text": "fine 😀",
                        "entities": {"hashtags": [], "user_mentions": [], "urls": []}}}]
    body = json.dumps(items, ensure_ascii=False).replace('"PLACEHOLDER"', '"cut \\ud83d here"')
    (data / "tweets.js").write_text("window.YTD.tweets.part0 = " + body, encoding="utf-8")
    store = open_store(None)
    import_path(store, tmp_path / "archive")
    rows = store.con.execute("SELECT post_key, text FROM posts ORDER BY post_key").fetchall()
    assert rows == [("x:1001", "cut \ufffd here"), ("x:1002", "fine 😀")]
    store.close()
