-- 006_pull: reserved for live-client sync state (cursors per source and endpoint) (placeholder until that part lands; replace this file).
SELECT 1;
