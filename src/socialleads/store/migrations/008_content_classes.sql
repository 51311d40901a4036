-- 008_content_classes: reserved for content class per post (placeholder until that part lands; replace this file).
SELECT 1;
