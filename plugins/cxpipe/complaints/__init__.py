"""Complaint text analytics: language, PII redaction, sentiment and root-cause classification.

The dbt Python model ``int_complaint_texts_nlp`` calls :func:`analyse_texts` on
every complaint candidate; the keyword taxonomy comes from the dbt seed
``complaint_taxonomy`` so analysts change the classifier without Python.
"""

from cxpipe.complaints.classify import CAUSES, Classification, KeywordClassifier, TaxonomyError, load_taxonomy
from cxpipe.complaints.pipeline import analyse_texts
from cxpipe.complaints.sentiment import sentiment_score
from cxpipe.complaints.text import detect_language, tokenize
from cxpipe.privacy import find_pii, redact_pii

__all__ = [
    "CAUSES",
    "Classification",
    "KeywordClassifier",
    "TaxonomyError",
    "analyse_texts",
    "detect_language",
    "find_pii",
    "load_taxonomy",
    "redact_pii",
    "sentiment_score",
    "tokenize",
]
