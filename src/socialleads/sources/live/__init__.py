"""Live platform clients (`leads pull SOURCE`): Bluesky (atproto), Mastodon (Mastodon.py), Reddit (PRAW).

Every client shares one request policy (http.py: timeouts, retries, 429 / Retry-After, rate-limit
headers and per-window budgets), one credential lookup (credentials.py: option → environment →
OS keyring) and one sync store (sync.py: records of a page and the endpoint's cursor are committed
together, so a crash loses at most the page in flight and the next run resumes from the stored
cursor). The records are made by the same mappers the file importers use.
"""
