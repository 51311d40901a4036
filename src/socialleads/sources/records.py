"""The generic format's record types: their fields, what is required, and how each is validated.

One place describes every record type; the JSON lines, CSV and Parquet readers all turn their input
into one relation of text fields and hand it to the SQL built here, so the three formats validate
and quarantine identically (docs/generic-format.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

KINDS = ("original", "reply", "repost", "quote")
INTERACTION_TYPES = ("reply", "mention", "repost", "quote", "like", "follow")
ETYPES = ("mention", "hashtag", "link", "media", "cashtag")
SUBJECT_TYPES = ("post", "account")


@dataclass(frozen=True)
class RecordSpec:
    name: str                     # record_type value
    table: str                    # staging / store table
    key: str | None               # the merge key column (None: whole row is the key)
    required: tuple[str, ...]
    text: tuple[str, ...] = ()
    times: tuple[str, ...] = ()
    bools: tuple[str, ...] = ()
    ints: tuple[str, ...] = ()
    floats: tuple[str, ...] = ()
    json: tuple[str, ...] = ()
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    file_stems: tuple[str, ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        return self.text + self.times + self.bools + self.ints + self.floats + self.json


ACCOUNT = RecordSpec(
    "account", "accounts", "account_key", ("account_key", "platform"),
    text=("account_key", "platform", "handle", "display_name", "url"),
    times=("created_at",), bools=("is_owner",), json=("source_ids",), file_stems=("accounts",),
)
POST = RecordSpec(
    "post", "posts", "post_key", ("post_key", "platform", "author_key", "created_at", "kind"),
    text=("post_key", "platform", "author_key", "kind", "kind_confidence", "text", "text_html", "lang",
          "visibility", "reply_to_key", "thread_root_key", "repost_of_key", "quote_of_key", "url"),
    times=("created_at", "edited_at", "first_seen_at"), bools=("is_deleted",), json=("entities", "source_ids"),
    choices={"kind": KINDS}, file_stems=("posts",),
)
INTERACTION = RecordSpec(
    "interaction", "interactions", "interaction_key", ("platform", "type", "actor_key"),
    text=("interaction_key", "platform", "type", "actor_key", "target_account_key", "target_post_key",
          "via_post_key", "time_precision"),
    times=("created_at", "ended_at"), choices={"type": INTERACTION_TYPES}, file_stems=("interactions",),
)
FOLLOW = RecordSpec(
    "follow", "interactions", "interaction_key", ("platform", "actor_key", "target_account_key"),
    text=("interaction_key", "platform", "actor_key", "target_account_key", "time_precision"),
    times=("created_at", "ended_at"), file_stems=("follows",),
)
FOLLOWER_SNAPSHOT = RecordSpec(
    "follower_snapshot", "follower_snapshots", None, ("account_key", "observed_at", "follower_key"),
    text=("account_key", "follower_key"), times=("observed_at",), file_stems=("follower_snapshots",),
)
METRICS_SNAPSHOT = RecordSpec(
    "metrics_snapshot", "metrics_snapshots", None, ("subject_key", "subject_type", "observed_at"),
    text=("subject_key", "subject_type"), times=("observed_at",),
    ints=("likes", "reposts", "replies", "quotes", "bookmarks", "score", "followers", "following", "posts"),
    floats=("upvote_ratio",), choices={"subject_type": SUBJECT_TYPES}, file_stems=("metrics_snapshots",),
)
UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
CLICK = RecordSpec(
    "click", "clicks", "click_key", ("occurred_at", "url"),
    text=("click_key", "url", "visitor_key", "post_key", "referrer") + UTM, times=("occurred_at",),
    file_stems=("clicks",),
)
CONVERSION = RecordSpec(
    "conversion", "conversions", "conversion_key", ("occurred_at",),
    text=("conversion_key", "visitor_key", "url", "goal", "currency") + UTM, times=("occurred_at",),
    floats=("value",), file_stems=("conversions",),
)

# An experiment assignment: post `post_key` is in variant `variant` of experiment `experiment`
# (docs/generic-format.md "Experiments"; stored in experiment_assignments, migration 007).
EXPERIMENT_ASSIGNMENT = RecordSpec(
    "experiment_assignment", "experiment_assignments", None, ("post_key", "experiment", "variant"),
    text=("post_key", "experiment", "variant"), file_stems=("experiment_assignments", "experiments"),
)

SPECS: dict[str, RecordSpec] = {s.name: s for s in
                                (ACCOUNT, POST, INTERACTION, FOLLOW, FOLLOWER_SNAPSHOT, METRICS_SNAPSHOT, CLICK, CONVERSION,
                                 EXPERIMENT_ASSIGNMENT)}

# Fields every record may carry besides its own.
ENVELOPE = ("record_type", "source")
JSON_FIELDS = frozenset(f for s in SPECS.values() for f in s.json)


def type_from_filename(name: str) -> str | None:
    """`posts.csv`, `posts-0001.jsonl`, `follows_2024.parquet` → the record type the name implies."""
    stem = name.lower().split(".")[0]
    for spec in SPECS.values():
        for s in spec.file_stems:
            if stem == s or stem.startswith((s + "-", s + "_")):
                return spec.name
    return None


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"



def _quoted_value(field: str, problem: str) -> str:
    """SQL text: `field 'value' problem`, the value cut at 60 characters."""
    return f"{_q(field + ' ' + chr(39))} || left(j.{field}, 60) || {_q(chr(39) + ' ' + problem)}"


def reason_sql(spec: RecordSpec) -> str:
    """A CASE expression over struct `j` giving the first thing wrong with a record, or NULL."""
    checks: list[tuple[str, str]] = []
    for f in spec.required:
        checks.append((f"coalesce(j.{f}, '') = ''", _q(f"{f} missing")))
    for f, allowed in spec.choices.items():
        checks.append((f"j.{f} NOT IN ({', '.join(_q(a) for a in allowed)})",
                       _quoted_value(f, "is not one of " + ", ".join(allowed))))
    typed = ([(f, f"t_{f} IS NULL", "is not an RFC 3339 time") for f in spec.times]
             + [(f, f"try_cast(j.{f} AS BOOLEAN) IS NULL", "is not true or false") for f in spec.bools]
             + [(f, f"try_cast(j.{f} AS BIGINT) IS NULL", "is not a whole number") for f in spec.ints]
             + [(f, f"try_cast(j.{f} AS DOUBLE) IS NULL", "is not a number") for f in spec.floats])
    for f, failed, problem in typed:
        checks.append((f"j.{f} IS NOT NULL AND {failed}", _quoted_value(f, problem)))
    if spec.name == "post":
        for kind, col in (("reply", "reply_to_key"), ("repost", "repost_of_key"), ("quote", "quote_of_key")):
            checks.append((f"j.kind = '{kind}' AND coalesce(j.{col}, '') = ''",
                           _q(f"a {kind} needs {col}")))
        checks.append(("j.entities IS NOT NULL AND json_type(j.entities) <> 'ARRAY'",
                       _q("entities must be a list of objects")))
        checks.append(("j.entities IS NOT NULL AND NOT (list_has_all("
                       f"[{', '.join(_q(e) for e in ETYPES)}], json_extract_string(j.entities, '$[*].etype')) "
                       "AND json_array_length(j.entities) = len(json_extract_string(j.entities, '$[*].etype')))",
                       _q("entities: each needs an etype of " + ", ".join(ETYPES))))
    if spec.name == "interaction":
        checks.append(("j.type IN ('like', 'repost', 'quote', 'reply') AND j.target_post_key IS NULL "
                       "AND j.target_account_key IS NULL", _q("target_post_key or target_account_key missing")))
        checks.append(("j.type = 'follow' AND j.target_account_key IS NULL", _q("target_account_key missing")))
    for f in spec.json:
        if f != "entities":
            checks.append((f"j.{f} IS NOT NULL AND NOT json_valid(j.{f})", _q(f"{f} is not JSON")))
    whens = " ".join(f"WHEN {cond} THEN {msg}" for cond, msg in checks)
    return f"CASE {whens} ELSE NULL END"


def typed_select(spec: RecordSpec) -> str:
    """SELECT list turning struct `j` (text fields) into the staging table's typed columns."""
    cols = []
    for f in spec.text:
        cols.append(f"nullif(j.{f}, '') AS {f}")
    for f in spec.times:
        cols.append(f"t_{f} AS {f}")
    for f in spec.bools:
        cols.append(f"try_cast(j.{f} AS BOOLEAN) AS {f}")
    for f in spec.ints:
        cols.append(f"try_cast(j.{f} AS BIGINT) AS {f}")
    for f in spec.floats:
        cols.append(f"try_cast(j.{f} AS DOUBLE) AS {f}")
    for f in spec.json:
        cols.append(f"j.{f}::JSON AS {f}")
    return ", ".join(cols)


class PendingDelete(str):
    """A reject reason a platform reader gives for the delete of record `uri` (at time `when`) whose create
    is not in its input. The importer resolves it against `record_index` (the create was imported in an
    earlier run: the delete is applied) and quarantines it with this text only when that fails."""

    uri: str
    when: str | None

    def __new__(cls, text: str, uri: str, when: str | None) -> PendingDelete:
        s = super().__new__(cls, text)
        s.uri, s.when = uri, when
        return s
