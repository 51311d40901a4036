-- 008: content class per post (METRICS.md §5 "content classes"), computed in batches by `leads classes`
-- (socialleads/classify/classes.py). One row per post; like post_signals there is no PRIMARY KEY: the
-- classifier inserts only posts that have no row yet (an anti-join), so re-running adds nothing.
CREATE TABLE post_classes (
  post_key    VARCHAR NOT NULL,
  class       VARCHAR NOT NULL,      -- thought-leadership | how-to | promotional | curation | conversational | personal
  confidence  DOUBLE,                -- the rule's confidence in [0, 1]
  model       VARCHAR,               -- which classifier produced the row (e.g. 'rules-v1')
  computed_at TIMESTAMP
);
