"""Per-post enrichment on Spark beyond the text signals: content classes and topics.

Both run as Arrow batch functions (`mapInArrow`) calling the same vectorized code as the DuckDB path
(`classify.classes.classify_table`, `listen.topics.TopicModel.assign`), and write their tables into the
dataset next to the others, where `SparkStore` finds them:

* `spark_classify`: `<dataset>/post_classes/` — the classes of the owner's and the competitors' posts
  (what `leads demo` and `leads classes` classify), with the links and the self-reply flag computed by
  the same SQL as on DuckDB (run through engine/spark_sql);
* `spark_topics`: the model is fitted on the driver over a sample of the posts (the same sample as
  `fit_topics` when every eligible post fits in it: all of them, in post_key order), then every post is
  assigned on the executors; `<dataset>/topics/`, `<dataset>/post_topics/`, `<dataset>/topic_model/`.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _target(root: Path | str, name: str) -> str:
    from socialleads.engine.spark import table_uri

    return table_uri(root, name)


# ------------------------------------------------------------------------------- content classes

def _classes_batches(batches: Iterator[Any], cues: Any, computed_at: dt.datetime) -> Iterator[Any]:
    """mapInArrow body: (post_key, text, kind, links, self_reply) → post_classes rows, per batch."""
    import pyarrow as pa

    from socialleads.classify.classes import MODEL, classify_table

    for b in batches:
        if not b.num_rows:
            continue
        tbl = pa.Table.from_batches([b])
        out = classify_table(tbl, cues)
        n = tbl.num_rows
        yield from pa.table({"post_key": tbl.column("post_key"), "class": out.column("class"),
                             "confidence": out.column("confidence"),
                             "model": pa.array([MODEL] * n, pa.string()),
                             "computed_at": pa.array([computed_at] * n, pa.timestamp("us"))}).to_batches()


def _classes_schema() -> Any:
    import pyarrow as pa
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(pa.schema([("post_key", pa.string()), ("class", pa.string()),
                                        ("confidence", pa.float64()), ("model", pa.string()),
                                        ("computed_at", pa.timestamp("us"))]))


def spark_classify(session: Any, root: Path | str, config: Any, owner_keys: list[str],
                   out: Path | str | None = None) -> int:
    """Content classes of the owner's and the competitors' posts, on the executors; written as
    `<root>/post_classes/` (replaced) or `out`. Returns the number of rows."""
    import pyarrow as pa

    from socialleads.classify.classes import BrandCues, _todo_statements
    from socialleads.dominate.members import members_of
    from socialleads.engine.spark_sql import SparkStore, temp_name

    target = str(out) if out else _target(root, "post_classes")
    with SparkStore(session, root) as st:
        keys = sorted({k for m in members_of(st, config, owner_keys) for k in m.keys})
        # every post of those accounts is (re)classified: an empty post_classes for the anti join
        st.con.register("post_classes", pa.table({"post_key": pa.array([], pa.string())}))
        names = {k: temp_name() for k in ("sr", "lk", "todo")}
        for stmt, params in _todo_statements(keys, names):
            st.con.execute(stmt, params)
        todo = st.con.dataframe(names["todo"])
        fn = functools.partial(_classes_batches, cues=BrandCues.from_config(config),
                               computed_at=dt.datetime.now(dt.UTC).replace(tzinfo=None))
        todo.mapInArrow(fn, _classes_schema()).write.mode("overwrite").parquet(target)
    return int(session.read.parquet(target).count())


# ------------------------------------------------------------------------------------------ topics

@functools.lru_cache(maxsize=2)
def _model(blob: bytes) -> Any:
    from socialleads.listen.topics import TopicModel

    return TopicModel.from_bytes(blob)


def _topic_batches(batches: Iterator[Any], blob: bytes) -> Iterator[Any]:
    """mapInArrow body: (post_key, text) → (post_key, topic_id, score), per batch."""
    import numpy as np
    import pyarrow as pa

    from socialleads.listen.topics import _blas1

    model = _model(blob)
    for b in batches:
        if not b.num_rows:
            continue
        with _blas1():
            tp, sc = model.assign(b.column(1))
        yield pa.record_batch({"post_key": b.column(0), "topic_id": pa.array(tp.astype(np.int32), pa.int32()),
                               "score": pa.array(sc.astype(np.float64), pa.float64())})


def spark_topics(session: Any, root: Path | str, *, k: int | None = None, sample: int | None = None,
                 seed: int = 0, min_score: float = 0.15, top: int = 8) -> dict[str, Any]:
    """Fit topics on a sample (driver), assign every eligible post (executors); writes topics,
    post_topics and topic_model into the dataset (replaced). Returns {posts, sampled, topics, outliers}."""
    import numpy as np
    import pyarrow as pa
    from pyspark.sql.pandas.types import from_arrow_schema

    from socialleads.engine.spark_sql import SparkStore
    from socialleads.listen.topics import _ELIGIBLE, DEFAULT_SAMPLE, TopicError, _blas1, fit_model, label_topics

    sample = DEFAULT_SAMPLE if sample is None else sample
    with SparkStore(session, root) as st:
        eligible = st.con.sql(f"SELECT post_key, text FROM posts WHERE {_ELIGIBLE}").dataframe()
        total = eligible.count()
        if total < 2:
            raise TopicError(f"topics need at least 2 posts with text (the dataset has {total}); skipped")
        if total <= sample:   # all of them, in post_key order: the sample fit_topics takes on DuckDB
            texts = eligible.orderBy("post_key").select("text").toArrow().column("text").combine_chunks()
        else:
            frac = min(1.0, 1.2 * sample / total)
            texts = (eligible.sample(False, frac, seed).orderBy("post_key").limit(sample).select("text")
                     .toArrow().column("text").combine_chunks())
        with _blas1():
            model, topic, _ = fit_model(texts, k=k, seed=seed, min_score=min_score)
        terms = label_topics(model.counts(texts), topic, model.vocab, len(model.centroids), top)
        blob = model.to_bytes()
        schema = from_arrow_schema(pa.schema([("post_key", pa.string()), ("topic_id", pa.int32()),
                                              ("score", pa.float64())]))
        target = _target(root, "post_topics")
        eligible.mapInArrow(functools.partial(_topic_batches, blob=blob), schema).write.mode("overwrite").parquet(target)
        assigned = session.read.parquet(target)
        sizes = dict(assigned.groupBy("topic_id").count().collect())
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        n_topics = len(model.centroids)
        topics = pa.table({
            "topic_id": pa.array(np.arange(n_topics), pa.int32()),
            "label": pa.array([" · ".join(t["term"] for t in ts[:3]) for ts in terms], pa.string()),
            "terms": pa.array([[t["term"] for t in ts] for ts in terms], pa.list_(pa.string())),
            "size": pa.array([int(sizes.get(i, 0)) for i in range(n_topics)], pa.int64()),
            "term_scores": pa.array([[round(t["score"], 6) for t in ts] for ts in terms], pa.list_(pa.float64())),
            "method": pa.array([model.method] * n_topics, pa.string()),
            "fitted_at": pa.array([now] * n_topics, pa.timestamp("us")),
        })
        session.createDataFrame(topics).coalesce(1).write.mode("overwrite").parquet(_target(root, "topics"))
        blob_table = pa.table({"method": [model.method], "n_topics": pa.array([n_topics], pa.int32()),
                               "n_terms": pa.array([len(model.vocab)], pa.int32()),
                               "model": pa.array([blob], pa.binary()), "fitted_at": pa.array([now], pa.timestamp("us"))})
        session.createDataFrame(blob_table).coalesce(1).write.mode("overwrite").parquet(_target(root, "topic_model"))
    outliers = int(sizes.get(-1, 0))
    posts = int(sum(sizes.values()))
    return {"posts": posts, "sampled": len(texts), "topics": n_topics, "outliers": outliers,
            "outlier_share": outliers / posts if posts else None, "method": model.method}


__all__ = ["spark_classify", "spark_topics"]
