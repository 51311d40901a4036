-- 002: saved monitor queries (METRICS.md §1 "mention volume"; src/socialleads/listen/query.py).
-- The query text is stored as typed, after it parsed. The table is tiny, so unlike the big tables
-- (see 001) it keeps its key with a PRIMARY KEY: re-adding a name is an INSERT OR REPLACE.
CREATE TABLE monitors (
  name       VARCHAR PRIMARY KEY,
  query      VARCHAR NOT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT (now()::TIMESTAMP)
);
