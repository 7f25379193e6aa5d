"""The complaint text analysis on Apache Spark: the same analysis, run where the data is.

The dbt Python model ``int_complaint_texts_nlp`` calls :func:`analyse_on_spark` when the build runs on
Spark. The models are fitted once, on the driver (:func:`~cxpipe.complaints.pipeline.complaint_models`,
from the same training data and cache as on DuckDB), and shipped with the task to Spark's Python
workers, which analyse the candidates batch by batch (``mapInPandas``) with
:func:`~cxpipe.complaints.pipeline.analyse_texts`. The rows have the columns of the DuckDB build's
table: :data:`~cxpipe.complaints.pipeline.OUTPUT_COLUMNS`, ``text_hash`` and ``analysis_key``.

Each build analyses every candidate (the table is rebuilt; docs/spark.md says why and what it costs):
the raw text never leaves Spark except through the workers that redact it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from cxpipe.complaints.corpora import PROJECT_CORPUS_DIR, SHARED_CORPORA_DIR
from cxpipe.complaints.incremental import KEY_COLUMNS, _typed, analysis_key, training_inputs_key
from cxpipe.complaints.model import Models
from cxpipe.complaints.pipeline import analyse_texts, complaint_models
from cxpipe.complaints.schema import NUMERIC_COLUMNS, OUTPUT_COLUMNS

#: Spark's schema of the result (DDL), in the column order of the DuckDB build's table.
RESULT_SCHEMA = ", ".join(
    f"{c} {'double' if c in NUMERIC_COLUMNS else 'string'}" for c in (*OUTPUT_COLUMNS, *KEY_COLUMNS)
)


def analyse_batches(
    batches: Iterable[pd.DataFrame], taxonomy: list[Mapping[str, object]], models: Models, key: str
) -> Iterator[pd.DataFrame]:
    """The analysis of each batch of candidates (``complaint_id``, ``complaint_text``, ``text_hash``):
    what a Spark worker runs, one frame out per frame in."""
    for batch in batches:
        if batch.empty:
            continue
        frame = batch.reset_index(drop=True)
        analysed = analyse_texts(frame[["complaint_id", "complaint_text"]], taxonomy, models=models)
        out = analysed.reindex(columns=list(OUTPUT_COLUMNS)).copy()
        out["text_hash"] = frame["text_hash"].astype("string")
        out["analysis_key"] = key
        typed = _typed(out)
        # Arrow for Spark: plain object and float columns
        yield typed.astype({c: "object" for c in typed.columns if c not in NUMERIC_COLUMNS})


def analyse_on_spark(
    candidates: Any,
    taxonomy: Iterable[Mapping[str, object]],
    overrides: Iterable[Mapping[str, object]] = (),
    corpus_dir: Path = PROJECT_CORPUS_DIR,
    corpora_dir: Path | None = SHARED_CORPORA_DIR,
    cache_dir: Path | None = None,
) -> Any:
    """The analysis of every row of the Spark DataFrame ``candidates`` (``complaint_id``,
    ``complaint_text``), as a Spark DataFrame of :data:`RESULT_SCHEMA`."""
    from pyspark.sql import functions as sql

    taxonomy = list(taxonomy)
    overrides = list(overrides)
    override_ids = sorted({str(r["complaint_id"]) for r in overrides if isinstance(r.get("complaint_id"), str)})
    texts: dict[str, object] = {}
    if override_ids:
        found = candidates.where(sql.col("complaint_id").isin(override_ids)).select("complaint_id", "complaint_text")
        texts = {str(row["complaint_id"]): row["complaint_text"] for row in found.collect()}
    models = complaint_models(taxonomy, overrides, texts, corpus_dir, corpora_dir, cache_dir)
    key = analysis_key(training_inputs_key(taxonomy, overrides, texts, corpus_dir, corpora_dir))
    hashed = candidates.select(
        "complaint_id",
        "complaint_text",
        sql.sha2(sql.coalesce(sql.col("complaint_text"), sql.lit("")), 256).alias("text_hash"),
    )

    def run(batches: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        return analyse_batches(batches, taxonomy, models, key)

    return hashed.mapInPandas(run, RESULT_SCHEMA)
