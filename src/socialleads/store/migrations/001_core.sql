-- 001: the unified data model of CONNECTORS.md §6.
-- Times are TIMESTAMP in UTC (the session TimeZone is UTC; inputs with an offset are converted on import).
-- Keys are platform-native strings, globally unique (at://…, ActivityPub URIs, x:…, reddit:…).
-- There are no PRIMARY KEY constraints on purpose: the store's merge (store/merge.py) keeps keys
-- unique with a set-based anti-join, which measured 3.5x faster than ON CONFLICT on an ART index
-- (1 M posts: 0.50 s vs 1.77 s) and keeps a 10 M-post workspace's index out of memory.

CREATE TABLE accounts (
  account_key   VARCHAR NOT NULL,   -- bluesky DID | AP actor URI | 'x:'+id | 'reddit:'+fullname
  platform      VARCHAR NOT NULL,
  handle        VARCHAR,
  display_name  VARCHAR,
  url           VARCHAR,
  created_at    TIMESTAMP ,
  is_owner      BOOLEAN DEFAULT FALSE,
  source_ids    JSON,
  extra         JSON,
  source        VARCHAR,
  ingest_run_id VARCHAR
);

CREATE TABLE posts (
  post_key        VARCHAR NOT NULL,
  platform        VARCHAR NOT NULL,
  author_key      VARCHAR,
  kind            VARCHAR NOT NULL,      -- original | reply | repost | quote
  kind_confidence VARCHAR DEFAULT 'exact',
  created_at      TIMESTAMP ,
  sort_at         TIMESTAMP ,
  text            VARCHAR,
  text_html       VARCHAR,
  lang            VARCHAR,
  visibility      VARCHAR,
  reply_to_key    VARCHAR,
  thread_root_key VARCHAR,
  repost_of_key   VARCHAR,
  quote_of_key    VARCHAR,
  url             VARCHAR,
  edited_at       TIMESTAMP ,
  is_deleted      BOOLEAN DEFAULT FALSE,
  first_seen_at   TIMESTAMP ,
  source          VARCHAR NOT NULL,
  source_ids      JSON,
  raw             JSON,
  extra           JSON,
  ingest_run_id   VARCHAR
);

CREATE TABLE post_entities (
  post_key           VARCHAR NOT NULL,
  etype              VARCHAR NOT NULL,   -- mention | hashtag | link | media | cashtag
  value              VARCHAR,
  target_account_key VARCHAR,
  start_idx          INTEGER,
  end_idx            INTEGER,
  idx_unit           VARCHAR
);

CREATE TABLE interactions (
  interaction_key    VARCHAR NOT NULL,
  platform           VARCHAR NOT NULL,
  type               VARCHAR NOT NULL,   -- reply | mention | repost | quote | like | follow
  actor_key          VARCHAR,
  target_account_key VARCHAR,
  target_post_key    VARCHAR,
  via_post_key       VARCHAR,
  created_at         TIMESTAMP ,        -- NULL when the source has no time
  time_precision     VARCHAR,            -- exact | day | derived_snowflake | unknown
  ended_at           TIMESTAMP ,        -- unlike, unfollow, un-repost
  source             VARCHAR NOT NULL,
  extra              JSON,
  ingest_run_id      VARCHAR
);

CREATE TABLE metrics_snapshots (
  subject_key  VARCHAR NOT NULL,
  subject_type VARCHAR NOT NULL,         -- post | account
  observed_at  TIMESTAMP  NOT NULL,
  likes INTEGER, reposts INTEGER, replies INTEGER, quotes INTEGER, bookmarks INTEGER,
  score INTEGER, upvote_ratio DOUBLE,
  followers INTEGER, following INTEGER, posts INTEGER,
  source VARCHAR,
  ingest_run_id VARCHAR
);

-- Who followed an account at a point in time, from a dated series of follower lists
-- (X follower.js exports, API follower pages). One row per (account, time, follower).
CREATE TABLE follower_snapshots (
  account_key  VARCHAR NOT NULL,         -- the followed account
  observed_at  TIMESTAMP  NOT NULL,
  follower_key VARCHAR NOT NULL,
  source       VARCHAR,
  ingest_run_id VARCHAR
);

-- Web analytics: clicks and conversions (METRICS.md §3). UTM fields parsed at import.
CREATE TABLE clicks (
  click_key    VARCHAR NOT NULL,
  occurred_at  TIMESTAMP  NOT NULL,
  url          VARCHAR,
  utm_source   VARCHAR, utm_medium VARCHAR, utm_campaign VARCHAR, utm_content VARCHAR, utm_term VARCHAR,
  visitor_key  VARCHAR,
  post_key     VARCHAR,                  -- explicit attribution when the analytics know it
  referrer     VARCHAR,
  source       VARCHAR,
  extra        JSON,
  ingest_run_id VARCHAR
);

CREATE TABLE conversions (
  conversion_key VARCHAR NOT NULL,
  occurred_at    TIMESTAMP  NOT NULL,
  visitor_key    VARCHAR,
  url            VARCHAR,
  utm_source VARCHAR, utm_medium VARCHAR, utm_campaign VARCHAR, utm_content VARCHAR, utm_term VARCHAR,
  goal           VARCHAR,
  value          DOUBLE,
  currency       VARCHAR,
  source         VARCHAR,
  extra          JSON,
  ingest_run_id  VARCHAR
);

CREATE TABLE record_index (
  at_uri VARCHAR NOT NULL, collection VARCHAR, subject_uri VARCHAR, subject_did VARCHAR,
  created_at TIMESTAMP , deleted_at TIMESTAMP 
);

CREATE TABLE ingest_runs (
  run_id        VARCHAR NOT NULL,
  source        VARCHAR,
  started_at    TIMESTAMP ,
  finished_at   TIMESTAMP ,
  cursor_before VARCHAR,
  cursor_after  VARCHAR,
  params        JSON,                    -- paths, format, tool version
  counts        JSON,                    -- per table: read / new / updated
  rejects       INTEGER,
  status        VARCHAR                  -- running | complete | partial | failed
);

CREATE TABLE quarantine (
  run_id      VARCHAR,
  file        VARCHAR,
  line        BIGINT,                    -- 1-based line (JSON lines, CSV structure errors) or record number
  place       VARCHAR,                   -- 'line 12', 'row 12', 'record 3' — how to find it
  record_type VARCHAR,
  reason      VARCHAR NOT NULL,
  raw         VARCHAR,                   -- the rejected input, verbatim (truncated at 64 KiB)
  quarantined_at TIMESTAMP DEFAULT (now()::TIMESTAMP)
);
