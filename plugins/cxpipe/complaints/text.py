"""Language detection (lingua), tokens and stems (jieba, Snowball).

PII redaction of complaint texts is :func:`cxpipe.privacy.redact_pii`.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any

#: Languages cxpipe's customers write in. Restricting lingua to them makes it faster and more accurate.
LANGUAGES: tuple[str, ...] = ("en", "zh", "ru", "de", "sv")
UNKNOWN = "unknown"

#: Snowball stemmer name per language (Chinese is segmented by jieba instead).
STEMMERS = {"en": "english", "ru": "russian", "de": "german", "sv": "swedish"}

#: Below this lingua confidence a language is reported as unknown (very short or mixed texts).
MIN_LANGUAGE_CONFIDENCE = 0.3

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=1)
def _detector() -> Any:
    from lingua import Language, LanguageDetectorBuilder

    languages = {
        "en": Language.ENGLISH,
        "zh": Language.CHINESE,
        "ru": Language.RUSSIAN,
        "de": Language.GERMAN,
        "sv": Language.SWEDISH,
    }
    return LanguageDetectorBuilder.from_languages(*languages.values()).build()


_ISO = {"ENGLISH": "en", "CHINESE": "zh", "RUSSIAN": "ru", "GERMAN": "de", "SWEDISH": "sv"}


def detect_language(text: str | None) -> tuple[str, float]:
    """The language of ``text`` as an ISO 639-1 code and lingua's confidence (0-1).

    Empty texts, texts without letters and texts lingua is unsure about give ``("unknown", conf)``.
    """
    if not text or not _WORD.search(text):
        return UNKNOWN, 0.0
    values = _detector().compute_language_confidence_values(text)
    if not values:
        return UNKNOWN, 0.0
    best = values[0]
    confidence = float(best.value)
    if confidence < MIN_LANGUAGE_CONFIDENCE:
        return UNKNOWN, round(confidence, 3)
    return _ISO[best.language.name], round(confidence, 3)


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def segment_chinese(text: str) -> list[str]:
    """Chinese words of ``text`` (jieba, accurate mode), without spaces and punctuation."""
    return [w for w in _jieba().lcut(text) if w.strip() and (has_cjk(w) or _WORD.fullmatch(w))]


def words(text: str) -> list[str]:
    """Lower-case alphabetic words of ``text`` (any script except Chinese characters); ё is read as е."""
    lowered = _CJK.sub(" ", text.lower().replace("ё", "е"))
    return _WORD.findall(lowered)


@lru_cache(maxsize=8)
def stemmer(language: str) -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer(STEMMERS[language])


def stems(tokens: list[str], language: str) -> list[str]:
    """Snowball stems of already lower-cased ``tokens`` in ``language`` (en, ru, de, sv)."""
    return list(stemmer(language).stemWords(tokens))


def tokenize(text: str, language: str) -> list[str]:
    """Tokens for matching and sentiment: jieba words for Chinese, Snowball stems otherwise."""
    if language == "zh":
        return segment_chinese(text)
    tokens = words(text)
    return stems(tokens, language) if language in STEMMERS else tokens
