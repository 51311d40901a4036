-- 007_activate: experiment assignments (METRICS.md §3 "experiments"; docs/generic-format.md "Experiments").
-- One row per (post, experiment): the variant the post belongs to. Whole-row facts merged on
-- (post_key, experiment): the first assignment seen wins, so importing twice changes nothing.
-- Posts may also be tagged with a hashtag `#exp_<experiment>_<variant>`; those are read from
-- post_entities at analysis time and are not copied here.
CREATE TABLE experiment_assignments (
  post_key      VARCHAR NOT NULL,
  experiment    VARCHAR NOT NULL,
  variant       VARCHAR NOT NULL,
  source        VARCHAR,
  extra         JSON,
  ingest_run_id VARCHAR
);
