"""Sentiment from -1 (very negative) to 1 (very positive).

:func:`sentiment_scores` (what the pipeline uses) scores a batch: a language with a
learned model (:class:`cxpipe.complaints.model.SentimentModel`, trained on labelled
texts) uses it, except English, which uses VADER; the others fall back to
:func:`sentiment_score`, the rule-based scorer:

English uses VADER (a rule-based model tuned for short social texts). Chinese,
Russian, German and Swedish use a small valence lexicon per language: Chinese is
segmented by jieba, the others are matched on Snowball stems; a negation word
right before a lexicon word flips it. The sum of valences is squashed to (-1, 1)
with VADER's own normalisation ``x / sqrt(x^2 + 15)`` so the scales agree.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cxpipe.complaints.text import clean_text, segment_chinese, stems, words

#: Languages scored by a rule-based resource even when labelled texts exist (VADER reads English best).
RULE_BASED = frozenset({"en"})

if TYPE_CHECKING:
    from cxpipe.complaints.features import Batch, Grams
    from cxpipe.complaints.model import SentimentModel

#: Valence lexicons (language, word, valence) for the languages VADER does not know.
LEXICON_PATH = Path(__file__).with_name("sentiment_lexicon.csv")


@lru_cache(maxsize=1)
def lexicons() -> dict[str, dict[str, float]]:
    """Word -> valence per language, from ``sentiment_lexicon.csv`` (edit it to add words)."""
    out: dict[str, dict[str, float]] = {}
    with LEXICON_PATH.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            out.setdefault(row["language"], {})[row["word"]] = float(row["valence"])
    return out


NEGATIONS: dict[str, frozenset[str]] = {
    "zh": frozenset({"不", "没", "没有", "别", "不是", "无"}),
    "ru": frozenset({"не", "нет", "ни"}),
    "de": frozenset({"nicht", "kein", "keine", "nie"}),
    "sv": frozenset({"inte", "ej", "aldrig"}),
}


@lru_cache(maxsize=1)
def _vader() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


@lru_cache(maxsize=8)
def _stemmed_lexicon(language: str) -> dict[str, float]:
    lexicon = lexicons()[language]
    if language == "zh":
        return lexicon
    return dict(zip(stems(list(lexicon), language), lexicon.values(), strict=True))


def _squash(total: float) -> float:
    return total / math.sqrt(total * total + 15.0)


def sentiment_score(text: str | None, language: str) -> float | None:
    """Sentiment of ``text`` in ``language`` from -1 to 1; ``None`` for an empty text.

    Languages without a lexicon (and ``unknown``) are scored with VADER, which knows
    English words and emoji; mixed-language texts are common enough for that to help.
    """
    if not text or not text.strip():
        return None
    text = clean_text(text) or text
    if language not in lexicons():
        return round(float(_vader().polarity_scores(text)["compound"]), 4)
    lexicon = _stemmed_lexicon(language)
    if language == "zh":
        tokens = segment_chinese(text)
        negations = NEGATIONS["zh"]
    else:
        raw = words(text)
        tokens = stems(raw, language)
        negations = NEGATIONS[language]
    total = 0.0
    for i, token in enumerate(tokens):
        valence = lexicon.get(token)
        if valence is None and language == "zh" and len(token) > 1:
            # jieba keeps some phrases whole (e.g. 太慢了): score their known characters/words
            valence = next((v for w, v in lexicon.items() if len(w) > 1 and w in token), None)
        if valence is None:
            continue
        previous = tokens[i - 1] if i else ""
        if previous in negations:
            valence = -valence
        total += valence
    return round(_squash(total), 4)


def sentiment_scores(
    texts: Sequence[str],
    languages: Sequence[str],
    model: SentimentModel | None,
    grams: Grams | Batch | None = None,
) -> list[float | None]:
    """Sentiment of each text (``None`` when empty): the learned model of its language, else VADER/lexicon.

    ``grams``: the n-grams (or batch) of ``texts`` when the caller has them already (shared with the root cause).
    """
    out: list[float | None] = [None] * len(texts)
    by_language: dict[str, list[int]] = {}
    for i, (text, language) in enumerate(zip(texts, languages, strict=True)):
        if text and text.strip():
            by_language.setdefault(language, []).append(i)
    for language, positions in by_language.items():
        if model is not None and language in model.models and language not in RULE_BASED:
            rows = np.asarray(positions) if grams is not None else None
            values = model.scores([texts[i] for i in positions], language, grams, rows)
            for i, value in zip(positions, values, strict=True):
                out[i] = float(value)
        else:
            for i in positions:
                out[i] = sentiment_score(texts[i], language)
    return out
