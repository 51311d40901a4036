-- 004_topics: reserved for topics and post_topics (Listen topics) (placeholder until that part lands; replace this file).
SELECT 1;
