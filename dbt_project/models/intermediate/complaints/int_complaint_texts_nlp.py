"""Language, PII-redacted text, root cause, evidence, confidence and sentiment of every complaint candidate.

The analysis is cxpipe.complaints.analyse_texts: a learned root-cause model trained on the
project corpus, on the analysts' complaint_overrides rows (with their complaint's text) and
with the seed complaint_taxonomy's keywords as features. The raw text is read here and not
returned. Beside the redacted text, pii_remaining holds the PII kinds cxpipe.privacy.find_pii
still finds in it (normally none), which the singular test assert_complaints_have_no_raw_pii checks.

Incremental, keyed on the complaint (cxpipe.complaints.incremental): a build analyses only the
candidates this table does not hold with the same text and analysis key, each distinct text once,
and copies the analysis of a text it already holds under that key. Texts are hashed and de-duplicated
in DuckDB and analysed in batches of CX_COMPLAINT_BATCH_TEXTS distinct texts, each batch's results
written back into DuckDB, so the memory of the analysis does not grow with the number of complaints.
The post-hook (in the YAML) removes the complaints that are no longer candidates. On Spark
(docs/spark.md) the model is a table analysed in full by each build, in Spark's Python workers
(cxpipe.complaints.on_spark).
"""

from cxpipe.complaints.incremental import analyse_increment
from cxpipe.settings import load_settings


def model(dbt, session):
    # materialization in the YAML: incremental on DuckDB, a table on Spark
    # the settings cxpipe exports to dbt (Settings.dbt_env), validated as everywhere else
    settings = load_settings()
    # fitted models are kept by a hash of what they learn from: a build retrains only when that changes
    cache_dir = settings.models_dir
    if not hasattr(session, "execute"):  # a SparkSession: the analysis runs in Spark's Python workers
        from cxpipe.complaints.on_spark import analyse_on_spark

        return analyse_on_spark(
            dbt.ref("int_complaint_candidates"),
            dbt.ref("complaint_taxonomy").toPandas().to_dict("records"),
            dbt.ref("complaint_overrides").toPandas().to_dict("records"),
            cache_dir=cache_dir,
        )
    candidates = dbt.ref("int_complaint_candidates").project("complaint_id, complaint_text")
    taxonomy = dbt.ref("complaint_taxonomy").df().to_dict("records")
    overrides = dbt.ref("complaint_overrides").df().to_dict("records")
    existing = str(dbt.this) if dbt.is_incremental else None
    # distinct texts per batch (CX_COMPLAINT_BATCH_TEXTS): the analysis holds one batch in pandas at a time
    batch_texts = settings.engine.complaint_batch_texts
    increment = analyse_increment(
        session, candidates, existing, taxonomy, overrides, cache_dir=cache_dir, batch_texts=batch_texts
    )
    print(increment.summary(), flush=True)  # in dbt's output and the Airflow task log
    return increment.rows  # a relation over a temporary table of the session: dbt copies it in DuckDB
