-- 006_pull: where each live client stands, per (source, account, endpoint) (docs/pull.md).
-- A page's records and its row here are committed in one transaction: after a crash the next run
-- resumes from `cursor`; once a walk is complete `cursor` is NULL and `high_water` (the newest item
-- seen: an indexedAt time, a status id, a Reddit fullname time, or a JSON list of the newest account
-- keys for lists without time) is where the next run stops.
CREATE TABLE sync_state (
  source      VARCHAR NOT NULL,          -- bluesky | mastodon | reddit
  account     VARCHAR NOT NULL,          -- the pulled account / subreddit, with its host
  endpoint    VARCHAR NOT NULL,          -- e.g. app.bsky.feed.getAuthorFeed, likes:<post uri>
  cursor      VARCHAR,                   -- resume point of an unfinished walk (NULL: walk complete)
  high_water  VARCHAR,                   -- newest item stored by the last complete walk
  pending_high_water VARCHAR,            -- newest item of the walk in progress (becomes high_water)
  stop_at     VARCHAR,                   -- the high water the walk in progress stops at
  items       BIGINT DEFAULT 0,          -- items fetched through this endpoint, all runs
  pages       BIGINT DEFAULT 0,
  run_id      VARCHAR,                   -- ingest_runs.run_id of the last page stored
  updated_at  TIMESTAMP,
  PRIMARY KEY (source, account, endpoint)
);
