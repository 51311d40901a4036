"""Actions on O (METRICS.md §0 notation; docs/audience-definitions.md "Action on O").

An action on O is an `interactions` row of type reply, mention, repost, quote or like whose actor_key is
not in O (and not NULL: an anonymous action has no engager) and whose target_account_key is in O **or**
whose target_post_key is a post authored by O (derived reply interactions may lack target_account_key).
Only rows with a created_at can be placed in a window; the rest are counted and reported as left out.

Columns: interactions.type, actor_key, target_account_key, target_post_key, created_at, platform;
posts.post_key, posts.author_key.
"""

from __future__ import annotations

from ibis.expr.types import Table

from socialleads.metrics.followers import TS, Audience
from socialleads.metrics.window import Window, naive

ACTION_TYPES = ("reply", "mention", "repost", "quote", "like")


def owner_post_keys(aud: Audience) -> Table:
    p = aud.t.posts
    return p.filter(p.author_key.isin(aud.owner)).select("post_key")


def _on_owner(aud: Audience) -> Table:
    i = aud.t.interactions
    owner_posts = owner_post_keys(aud)
    return i.filter(
        i.type.isin(ACTION_TYPES),
        i.actor_key.notnull(),
        ~i.actor_key.isin(aud.owner),
        i.target_account_key.isin(aud.owner) | i.target_post_key.isin(owner_posts.post_key),
    )


def all_actions_on_owner(aud: Audience) -> Table:
    """Actions on O, all history, timed or not: actor_key, platform, type, target_post_key, created_at.
    The scorecard materializes this once (`.cache()`, a DuckDB temp table) and derives the rest from it."""
    a = _on_owner(aud)
    return a.select("actor_key", "platform", "type", "target_post_key", created_at=a.created_at.cast(TS))


def timed(actions: Table) -> Table:
    """The actions that can be placed in time (created_at not NULL)."""
    return actions.filter(actions.created_at.notnull())


def actions_on_owner(aud: Audience) -> Table:
    """Timestamped actions on O, all history: actor_key, platform, type, target_post_key, created_at."""
    return timed(all_actions_on_owner(aud))


def untimed_actions_count(aud: Audience, actions: Table | None = None) -> int:
    """Actions on O without a created_at (from `actions` = all_actions_on_owner when given): left out of
    every windowed figure, and reported."""
    a = actions if actions is not None else all_actions_on_owner(aud)
    return int(a.filter(a.created_at.isnull()).count().execute())


def in_window(actions: Table, w: Window) -> Table:
    """Actions with T_start ≤ created_at ≤ T_end."""
    return actions.filter(actions.created_at >= naive(w.start), actions.created_at <= naive(w.end))



def owner_actions_targets(aud: Audience, w: Window) -> Table:
    """Accounts (not in O) that received an action from O in W: the interaction's target_account_key,
    or the author of its target_post_key. Columns: account_key."""
    i = aud.t.interactions
    o = i.filter(i.type.isin(ACTION_TYPES), i.actor_key.isin(aud.owner), i.created_at.notnull())
    o = o.filter(o.created_at.cast(TS) >= naive(w.start), o.created_at.cast(TS) <= naive(w.end))
    direct = o.filter(o.target_account_key.notnull()).select(account_key=o.target_account_key)
    p = aud.t.posts
    via = o.join(p, o.target_post_key == p.post_key).select(account_key=p.author_key)
    both = direct.union(via).distinct()
    return both.filter(both.account_key.notnull(), ~both.account_key.isin(aud.owner))
