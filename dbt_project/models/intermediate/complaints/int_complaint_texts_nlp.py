"""Language, PII-redacted text, root cause, evidence, confidence and sentiment of every complaint candidate.

The analysis is cxpipe.complaints.analyse_texts: a learned root-cause model trained on the
project corpus, on the analysts' complaint_overrides rows (with their complaint's text) and
with the seed complaint_taxonomy's keywords as features. The raw text is read here and not
returned. Beside the redacted text, pii_remaining holds the PII kinds cxpipe.privacy.find_pii
still finds in it (normally none), which the singular test assert_complaints_have_no_raw_pii checks.
"""

from cxpipe.complaints import analyse_texts


def model(dbt, session):
    dbt.config(materialized="table")
    candidates = dbt.ref("int_complaint_candidates").project("complaint_id, complaint_text").df()
    taxonomy = dbt.ref("complaint_taxonomy").df().to_dict("records")
    overrides = dbt.ref("complaint_overrides").df().to_dict("records")
    return analyse_texts(candidates, taxonomy, overrides=overrides)
