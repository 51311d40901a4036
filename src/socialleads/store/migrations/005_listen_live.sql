-- 005_listen_live: the alert log (which is also the cooldown state) and live-listening cursors.

-- One row per alert raised. An alert is identified by (monitor, kind, window_start): the spike
-- detector merges spike hours closer than the cooldown into one window whose start does not move
-- as the crisis goes on, so a restarted process finds the row and does not send it again.
-- `pending` lists the sinks ('terminal', 'jsonl:PATH', 'webhook:URL') that have not accepted it yet
-- (retried by the next check); `delivered` those that have.
CREATE TABLE IF NOT EXISTS alerts (
  alert_id      VARCHAR PRIMARY KEY,         -- monitor '|' kind '|' window_start (ISO)
  monitor       VARCHAR NOT NULL,
  kind          VARCHAR NOT NULL,            -- 'volume' | 'negative'
  window_start  TIMESTAMP NOT NULL,
  window_end    TIMESTAMP NOT NULL,          -- exclusive; grows while the crisis goes on
  peak_hour     TIMESTAMP,
  peak_count    BIGINT,
  baseline_mean DOUBLE,
  baseline_sd   DOUBLE,
  p_value       DOUBLE,
  total_count   BIGINT,
  payload       JSON,                        -- the alert as delivered (top posts, top terms)
  raised_at     TIMESTAMP NOT NULL,
  delivered     VARCHAR[],
  pending       VARCHAR[],
  attempts      INTEGER DEFAULT 0,
  last_error    VARCHAR
);

-- One row per followed stream: the last committed cursor (Jetstream time_us), written in the same
-- transaction as the batch of events it covers.
CREATE TABLE IF NOT EXISTS listen_cursors (
  stream      VARCHAR PRIMARY KEY,           -- e.g. 'jetstream:wss://host/subscribe?wantedCollections=…'
  cursor      BIGINT,
  events      BIGINT DEFAULT 0,              -- events committed under this stream, all sessions
  updated_at  TIMESTAMP
);
