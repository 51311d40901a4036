-- 007_activate: reserved for experiment assignments and Activate tables (placeholder until that part lands; replace this file).
SELECT 1;
