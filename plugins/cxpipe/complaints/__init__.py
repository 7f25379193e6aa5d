"""Complaint text analytics: language, PII redaction, sentiment and root-cause classification.

The dbt Python model ``int_complaint_texts_nlp`` calls :func:`analyse_texts` on
every complaint candidate; the keyword taxonomy comes from the dbt seed
``complaint_taxonomy`` so analysts change the classifier without Python.

The names below load on first use: importing a submodule (``cxpipe.complaints.incremental``)
does not import the analysis' libraries, so a build with no text to analyse never loads them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cxpipe.complaints.classify import CAUSES, Classification, KeywordClassifier, TaxonomyError, load_taxonomy
    from cxpipe.complaints.pipeline import analyse_texts
    from cxpipe.complaints.sentiment import sentiment_score
    from cxpipe.complaints.text import detect_language, tokenize
    from cxpipe.privacy import find_pii, redact_pii

#: Where each public name lives.
_HOMES = {
    "CAUSES": "cxpipe.complaints.classify",
    "Classification": "cxpipe.complaints.classify",
    "KeywordClassifier": "cxpipe.complaints.classify",
    "TaxonomyError": "cxpipe.complaints.classify",
    "load_taxonomy": "cxpipe.complaints.classify",
    "analyse_texts": "cxpipe.complaints.pipeline",
    "sentiment_score": "cxpipe.complaints.sentiment",
    "detect_language": "cxpipe.complaints.text",
    "tokenize": "cxpipe.complaints.text",
    "find_pii": "cxpipe.privacy",
    "redact_pii": "cxpipe.privacy",
}

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


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_HOMES[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value
