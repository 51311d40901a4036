-- 003: text signals computed per post in batches by `leads enrich` (socialleads/enrich/signals.py;
-- METRICS.md §1 "sentiment", "hot questions"). One row per post: a post with no text (a repost, an
-- empty body) still gets a row, with NULL signals, so it is not computed again. Like the big tables of
-- 001 there is no PRIMARY KEY: enrich inserts only posts that have no row yet (an anti-join).
CREATE TABLE post_signals (
  post_key        VARCHAR NOT NULL,
  sentiment_label VARCHAR,            -- negative | neutral | positive; NULL when the post has no text
  sentiment_score DOUBLE,             -- P(positive) − P(negative), in [−1, 1]
  is_question     BOOLEAN,            -- a '?' / '¿', or an English interrogative opening
  lang            VARCHAR,            -- the post's lang as stored
  model           VARCHAR,            -- which scorer produced the row
  computed_at     TIMESTAMP
);
