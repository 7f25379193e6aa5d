"""Analyse a frame of complaint texts: the work behind the dbt model ``int_complaint_texts_nlp``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from cxpipe.complaints.classify import KeywordClassifier
from cxpipe.complaints.sentiment import sentiment_score
from cxpipe.complaints.text import detect_language
from cxpipe.privacy import find_pii, pii_kinds, redact_pii

OUTPUT_COLUMNS = (
    "complaint_id",
    "language",
    "language_confidence",
    "redacted_text",
    "pii_found",
    "pii_remaining",
    "root_cause",
    "secondary_cause",
    "evidence",
    "confidence",
    "classified_by",
    "sentiment",
)

NUMERIC_COLUMNS = frozenset({"language_confidence", "confidence", "sentiment"})


def analyse_texts(
    frame: pd.DataFrame,
    taxonomy: Iterable[Mapping[str, object]],
    id_column: str = "complaint_id",
    text_column: str = "complaint_text",
) -> pd.DataFrame:
    """One output row per input row: language, redacted text, root cause, evidence, confidence, sentiment.

    The raw text is used for classification and sentiment and is not returned. ``pii_found``
    lists the kinds of PII redaction replaced (``email,phone``); ``pii_remaining`` the kinds
    :func:`cxpipe.privacy.find_pii` still finds in the redacted text — empty unless redaction
    and the definition of PII have come apart, which the dbt test
    ``assert_complaints_have_no_raw_pii`` fails on.
    """
    for column in (id_column, text_column):
        if column not in frame.columns:
            raise KeyError(f"analyse_texts: input has no column {column!r} (columns: {', '.join(frame.columns)})")
    classifier = KeywordClassifier(taxonomy)
    rows = []
    for complaint_id, raw in zip(frame[id_column], frame[text_column], strict=True):
        text = raw if isinstance(raw, str) else ""
        language, language_confidence = detect_language(text)
        redacted, kinds = redact_pii(text)
        result = classifier.classify(text)
        rows.append(
            (
                complaint_id,
                language,
                language_confidence,
                redacted,
                ",".join(kinds),
                ",".join(pii_kinds(find_pii(redacted))),
                result.root_cause,
                result.secondary_cause,
                result.evidence,
                result.confidence,
                result.method,
                sentiment_score(text, language),
            )
        )
    out = pd.DataFrame.from_records(rows, columns=list(OUTPUT_COLUMNS))
    # explicit types, so an empty or all-null column still becomes VARCHAR/DOUBLE in the warehouse
    for column in OUTPUT_COLUMNS:
        numeric = column in NUMERIC_COLUMNS
        out[column] = pd.to_numeric(out[column]).astype("float64") if numeric else out[column].astype("string")
    return out
