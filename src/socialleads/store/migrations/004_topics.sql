-- 004: topics (METRICS.md §1 "topics", "hot questions"; socialleads/listen/topics.py) and more text
-- signals per post (language detected from the text, emotion; socialleads/enrich/signals.py).
-- `leads topics` fits a topic model on a sample of the posts, assigns every post with text, and
-- replaces both tables whole (a refit renumbers the topics). Growth and sentiment per topic are
-- computed when read (they change as posts and signals arrive), so they are not stored here.
CREATE TABLE IF NOT EXISTS topics (
  topic_id    INTEGER NOT NULL,       -- 0.. by decreasing size; the outlier class -1 has no row here
  label       VARCHAR,                -- the top distinctive terms joined with ' · '
  terms       VARCHAR[],              -- top terms by c-TF-IDF, best first
  size        BIGINT,                 -- posts assigned at fit time
  term_scores DOUBLE[],               -- c-TF-IDF score of each term of `terms`
  method      VARCHAR,                -- 'lsa-kmeans' (default) | 'embeddings:…'
  fitted_at   TIMESTAMP
);

-- One row per post with text (originals, replies, quotes; not reposts) at fit time.
CREATE TABLE IF NOT EXISTS post_topics (
  post_key VARCHAR NOT NULL,
  topic_id INTEGER NOT NULL,          -- -1 = outlier (no topic close enough)
  score    DOUBLE                     -- cosine similarity to the topic's centroid
);

-- The fitted model, so posts imported later get a topic without a refit (`leads topics`, `leads enrich`):
-- an .npz blob (vocabulary, idf × topicality weights, LSA components, centroids; TopicModel.to_bytes).
CREATE TABLE IF NOT EXISTS topic_model (
  method    VARCHAR,
  n_topics  INTEGER,
  n_terms   INTEGER,
  model     BLOB,
  fitted_at TIMESTAMP
);

ALTER TABLE post_signals ADD COLUMN IF NOT EXISTS lang_detected VARCHAR;   -- ISO 639-1 from the text
ALTER TABLE post_signals ADD COLUMN IF NOT EXISTS emotion VARCHAR;         -- anger | joy | optimism | sadness
ALTER TABLE post_signals ADD COLUMN IF NOT EXISTS emotion_score DOUBLE;    -- probability of that emotion
