-- 005_listen_live: reserved for alert log, alert cooldown state and live-listening cursors (placeholder until that part lands; replace this file).
SELECT 1;
