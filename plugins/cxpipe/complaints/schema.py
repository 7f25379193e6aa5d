"""The complaint analysis' output columns and model version: names the incremental build needs
before it knows whether any text is left to analyse, importable without the analysis' libraries
(scikit-learn, lingua, jieba: about 1.6 CPU-s to import), which load only when a text is analysed."""

from __future__ import annotations

#: One row per analysed text: the columns :func:`cxpipe.complaints.pipeline.analyse_texts` returns, in order.
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

#: The numeric ones (DOUBLE); the others are text.
NUMERIC_COLUMNS = frozenset({"language_confidence", "confidence", "sentiment"})

#: Bump when features or model change, so cached models are not reused.
MODEL_VERSION = "3"
