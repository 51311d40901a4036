"""Listen (LEADS stage 1): monitor queries over the stored posts and their mention volume."""

from socialleads.listen.monitors import (
    MonitorError,
    add_monitor,
    count_matches,
    list_monitors,
    match_posts,
    mention_volume,
    mentions,
    remove_monitor,
)
from socialleads.listen.query import QuerySyntaxError, compile_query, parse

__all__ = ["MonitorError", "QuerySyntaxError", "add_monitor", "compile_query", "count_matches", "list_monitors",
           "match_posts", "mention_volume", "mentions", "parse", "remove_monitor"]
