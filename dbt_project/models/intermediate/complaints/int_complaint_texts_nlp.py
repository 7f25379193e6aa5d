"""Language, PII-redacted text, root cause, evidence, confidence and sentiment of every complaint candidate.

The analysis is cxpipe.complaints.analyse_texts: a learned root-cause model trained on the
project corpus, on the analysts' complaint_overrides rows (with their complaint's text) and
with the seed complaint_taxonomy's keywords as features. The raw text is read here and not
returned. Beside the redacted text, pii_remaining holds the PII kinds cxpipe.privacy.find_pii
still finds in it (normally none), which the singular test assert_complaints_have_no_raw_pii checks.

Incremental, keyed on the complaint (cxpipe.complaints.incremental): a build analyses only the
candidates this table does not hold with the same text and analysis key, each distinct text once,
and copies the analysis of a text it already holds under that key. The post-hook (in the YAML)
removes the complaints that are no longer candidates.
"""

import os
from pathlib import Path

from cxpipe.complaints.incremental import analyse_increment


def model(dbt, session):
    dbt.config(materialized="incremental", unique_key="complaint_id", incremental_strategy="delete+insert")
    candidates = dbt.ref("int_complaint_candidates").project("complaint_id, complaint_text")
    taxonomy = dbt.ref("complaint_taxonomy").df().to_dict("records")
    overrides = dbt.ref("complaint_overrides").df().to_dict("records")
    # fitted models are kept by a hash of what they learn from: a build retrains only when that changes
    # (cxpipe sets CX_MODEL_CACHE_DIR for dbt: settings.models_dir)
    cache = os.environ.get("CX_MODEL_CACHE_DIR")
    cache_dir = Path(cache) if cache else None
    existing = str(dbt.this) if dbt.is_incremental else None
    increment = analyse_increment(candidates, existing, taxonomy, overrides, cache_dir=cache_dir)
    print(increment.summary(), flush=True)  # in dbt's output and the Airflow task log
    return increment.rows
