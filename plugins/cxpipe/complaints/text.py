"""Language detection (lingua), PII redaction, tokens and stems (jieba, Snowball)."""

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

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# 13-19 digits, optionally grouped by spaces or dashes, not glued to letters or digits
_CARD = re.compile(r"(?<![A-Za-z0-9])\d(?:[ -]?\d){12,18}(?![A-Za-z0-9])")
# an optional +, then digits with spaces, dots, dashes or brackets; 7-15 digits in all
_PHONE = re.compile(r"(?<![A-Za-z0-9])(?:\+|\(\d)?[\d(][\d\s().-]{5,}\d(?![A-Za-z0-9])")
_DATE_OR_TIME = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$|^\d{1,2}[.:]\d{2}$")

REDACTION_TOKENS = {"email": "[EMAIL]", "card": "[CARD]", "phone": "[PHONE]"}


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


def _phone(match: re.Match[str]) -> str:
    found = match.group(0)
    digits = sum(ch.isdigit() for ch in found)
    if not 7 <= digits <= 15 or _DATE_OR_TIME.match(found.strip()):
        return found
    return REDACTION_TOKENS["phone"]


def redact_pii(text: str | None) -> tuple[str, list[str]]:
    """``text`` with e-mail addresses, card-like numbers and phone numbers replaced by tokens.

    Returns the redacted text and the kinds of PII found (``email``, ``card``, ``phone``),
    each once, in that order. Names cannot be found reliably by pattern and are not redacted.
    """
    if not text:
        return text or "", []
    kinds: list[str] = []
    out = _EMAIL.sub(REDACTION_TOKENS["email"], text)
    if out != text:
        kinds.append("email")
    carded = _CARD.sub(REDACTION_TOKENS["card"], out)
    if carded != out:
        kinds.append("card")
    phoned = _PHONE.sub(_phone, carded)
    if phoned != carded:
        kinds.append("phone")
    return phoned, kinds


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
