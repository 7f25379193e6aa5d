"""Analyse a frame of complaint texts: the work behind the dbt model ``int_complaint_texts_nlp``.

The frame is processed as a whole: identical texts are analysed once, languages are
detected in one batch, and the learned models score every text of a batch in one call.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

import pandas as pd

from cxpipe.complaints.corpora import PROJECT_CORPUS_DIR, SHARED_CORPORA_DIR, load_project_corpus, public_sentiment_rows
from cxpipe.complaints.features import ngrams
from cxpipe.complaints.model import Models, cached_models, fit_models, remember_models
from cxpipe.complaints.schema import NUMERIC_COLUMNS, OUTPUT_COLUMNS
from cxpipe.complaints.sentiment import lexicons, sentiment_scores
from cxpipe.complaints.text import clean_text, detect_languages
from cxpipe.privacy import find_pii, pii_kinds, redact_pii


def training_rows(
    corpus_dir: Path = PROJECT_CORPUS_DIR, corpora_dir: Path | None = SHARED_CORPORA_DIR
) -> tuple[tuple[dict[str, str], ...], tuple[dict[str, str], ...]]:
    """(cause rows, sentiment rows) to train on: the project corpus' train split, public corpora's train part.

    Read once per process while the files are unchanged (their names, sizes and times are the cache key); the
    rows are shared between calls, so a caller adds rows to a copy, never changes one.
    """
    return _training_rows(corpus_dir, corpora_dir, _signature(corpus_dir, corpora_dir))


def _signature(*directories: Path | None) -> tuple[tuple[str, int, int], ...]:
    files = []
    for directory in directories:
        if directory is not None and directory.is_dir():
            for path in sorted(directory.iterdir()):
                if path.is_file():
                    stat = path.stat()
                    files.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(files)


@lru_cache(maxsize=4)
def _training_rows(
    corpus_dir: Path, corpora_dir: Path | None, signature: tuple[tuple[str, int, int], ...]
) -> tuple[tuple[dict[str, str], ...], tuple[dict[str, str], ...]]:
    corpus = [r for r in load_project_corpus(corpus_dir) if r["split"] == "train"]
    public = [r for r in public_sentiment_rows(corpora_dir) if r["split"] == "train"]
    cause_rows = tuple({"language": r["language"], "text": r["text"], "root_cause": r["root_cause"]} for r in corpus)
    sentiment_rows = tuple(
        {"language": r["language"], "text": r["text"], "sentiment": r["sentiment"]} for r in corpus + public
    )
    return cause_rows, sentiment_rows


def override_rows(
    overrides: Iterable[Mapping[str, object]], texts: Mapping[str, str], languages: Mapping[str, str]
) -> list[dict[str, str]]:
    """Training rows from the analysts' overrides: each filled-in row with its complaint's text."""
    out = []
    for row in overrides:
        complaint_id, cause = row.get("complaint_id"), row.get("root_cause")
        if not isinstance(complaint_id, str) or not isinstance(cause, str) or not cause.strip():
            continue
        text = texts.get(complaint_id)
        if text:
            out.append({"language": languages.get(text, "unknown"), "text": text, "root_cause": cause.strip()})
    return sorted(out, key=lambda r: (r["text"], r["root_cause"]))


def analyse_texts(
    frame: pd.DataFrame,
    taxonomy: Iterable[Mapping[str, object]],
    id_column: str = "complaint_id",
    text_column: str = "complaint_text",
    overrides: Iterable[Mapping[str, object]] = (),
    corpus_dir: Path = PROJECT_CORPUS_DIR,
    corpora_dir: Path | None = SHARED_CORPORA_DIR,
    cache_dir: Path | None = None,
    models: Models | None = None,
) -> pd.DataFrame:
    """One output row per input row: language, redacted text, root cause, evidence, confidence, sentiment.

    The root cause comes from the learned model (``classified_by = 'model'``), trained on
    the project corpus (``corpus_dir``), the analysts' ``overrides`` (rows of the
    complaint_overrides seed whose complaint is in ``frame``) and the keyword ``taxonomy``
    as features; sentiment from a learned model per language where labelled texts exist
    (public corpora in ``corpora_dir`` when present), VADER or the lexicon elsewhere.

    The raw text is used for classification and sentiment and is not returned. ``pii_found``
    lists the kinds of PII redaction replaced (``email,phone``); ``pii_remaining`` the kinds
    :func:`cxpipe.privacy.find_pii` still finds in the redacted text — empty unless redaction
    and the definition of PII have come apart, which the dbt test
    ``assert_complaints_have_no_raw_pii`` fails on.

    ``models``: the fitted models to use (:func:`complaint_models`), when the caller has them;
    otherwise they are fitted here, with the overrides' texts taken from ``frame``.
    """
    for column in (id_column, text_column):
        if column not in frame.columns:
            raise KeyError(f"analyse_texts: input has no column {column!r} (columns: {', '.join(frame.columns)})")
    # The analysis makes millions of short-lived objects and no reference cycles; with the cyclic garbage
    # collector on, its passes over the long-lived ones (models, training rows, caches) took a fifth of the time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if models is None:
            by_id = dict(zip(frame[id_column].astype("string").tolist(), frame[text_column].tolist(), strict=True))
            models = complaint_models(taxonomy, overrides, by_id, corpus_dir, corpora_dir, cache_dir)
        return _analyse(frame, list(taxonomy), id_column, text_column, models, corpus_dir, corpora_dir)
    finally:
        if collecting:
            gc.enable()


def complaint_models(
    taxonomy: Iterable[Mapping[str, object]],
    overrides: Iterable[Mapping[str, object]] = (),
    texts: Mapping[str, object] | None = None,
    corpus_dir: Path = PROJECT_CORPUS_DIR,
    corpora_dir: Path | None = SHARED_CORPORA_DIR,
    cache_dir: Path | None = None,
) -> Models:
    """The fitted models :func:`analyse_texts` scores with: trained on the project corpus, the public
    corpora, the keyword ``taxonomy`` and the analysts' ``overrides``, each with its complaint's text
    from ``texts`` (complaint id → raw text; an override whose complaint has no text is left out).

    With a ``cache_dir``, models fitted before on the same inputs are found by a hash of the inputs' bytes
    (:func:`cxpipe.complaints.model.cached_models`): the training files are then neither parsed nor hashed
    row by row (about 0.4 CPU-s with the public corpora), only read and hashed as bytes.
    """
    taxonomy = list(taxonomy)
    overrides = list(overrides)
    by_id = {str(k): v for k, v in (texts or {}).items() if isinstance(v, str) and v}
    wanted = {str(r.get("complaint_id")) for r in overrides} & set(by_id)
    inputs = None
    if cache_dir is not None:
        from cxpipe.complaints.incremental import training_inputs_key

        inputs = training_inputs_key(taxonomy, overrides, {i: by_id[i] for i in wanted}, corpus_dir, corpora_dir)
        known = cached_models(inputs, cache_dir)
        if known is not None:
            return known
    cause_rows, sentiment_rows = training_rows(corpus_dir, corpora_dir)
    trained_on = frozenset(r["language"] for r in (*cause_rows, *sentiment_rows))
    if wanted:
        override_texts = sorted({by_id[i] for i in wanted})
        languages = detect_languages(override_texts, _languages(taxonomy, trained_on))
        language_of = {t: lang for t, (lang, _) in zip(override_texts, languages, strict=True)}
        # a new tuple: the shared one stays
        cause_rows += tuple(override_rows(overrides, {i: by_id[i] for i in wanted}, language_of))
    models = fit_models(taxonomy, cause_rows, sentiment_rows, cache_dir)
    models = Models(models.causes, models.sentiment, models.key, trained_on)
    if cache_dir is not None and inputs is not None:
        remember_models(inputs, models, cache_dir)
    return models


def _languages(taxonomy: Iterable[Mapping[str, object]], trained_on: Iterable[str]) -> set[str]:
    """The languages detection chooses from: the taxonomy's, the training rows' (``trained_on``) and the
    sentiment lexicons'."""
    return {str(r.get("language", "")) for r in taxonomy} | set(trained_on) | set(lexicons())


def _analyse(
    frame: pd.DataFrame,
    taxonomy: list[Mapping[str, object]],
    id_column: str,
    text_column: str,
    models: Models,
    corpus_dir: Path,
    corpora_dir: Path | None,
) -> pd.DataFrame:
    raw = [t if isinstance(t, str) else "" for t in frame[text_column].tolist()]
    codes, uniques = pd.factorize(pd.Series(raw, dtype="object"), sort=False)
    texts: list[str] = [str(t) for t in uniques]
    trained_on = models.training_languages
    if trained_on is None:
        cause_rows, sentiment_rows = training_rows(corpus_dir, corpora_dir)
        trained_on = frozenset(r["language"] for r in (*cause_rows, *sentiment_rows))
    cleaned = [clean_text(t) for t in texts]
    detected = detect_languages(texts, _languages(taxonomy, trained_on), cleaned)

    languages = [lang for lang, _ in detected]
    redacted = [redact_pii(t) for t in texts]
    # a text redaction left unchanged is one find_pii found nothing in: only changed texts are looked at again
    remaining = [",".join(pii_kinds(find_pii(r))) if r != t else "" for t, (r, _) in zip(texts, redacted, strict=True)]
    # one n-gram pass (as text_grams), looked up and counted once for both models' vocabularies
    batch = models.batch(ngrams([t.lower() for t in cleaned]))
    causes = models.causes.predict(texts, languages, batch)
    sentiments = sentiment_scores(texts, languages, models.sentiment, batch)

    unique = pd.DataFrame(
        {
            "language": languages,
            "language_confidence": [c for _, c in detected],
            "redacted_text": [r for r, _ in redacted],
            "pii_found": [",".join(k) for _, k in redacted],
            "pii_remaining": remaining,
            "root_cause": [c.root_cause for c in causes],
            "secondary_cause": [c.secondary_cause for c in causes],
            "evidence": [c.evidence for c in causes],
            "confidence": [c.confidence for c in causes],
            "classified_by": [c.method for c in causes],
            "sentiment": sentiments,
        }
    )
    out = unique.iloc[codes].reset_index(drop=True) if len(codes) else unique.iloc[0:0]
    out.insert(0, "complaint_id", frame[id_column].tolist())
    # explicit types, so an empty or all-null column still becomes VARCHAR/DOUBLE in the warehouse
    for column in OUTPUT_COLUMNS:
        numeric = column in NUMERIC_COLUMNS
        out[column] = pd.to_numeric(out[column]).astype("float64") if numeric else out[column].astype("string")
    return out[list(OUTPUT_COLUMNS)]
