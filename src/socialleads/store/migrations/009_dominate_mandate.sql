-- 009_dominate_mandate: reserved for Dominate and Social mandate tables (placeholder until that part lands; replace this file).
SELECT 1;
