"""Language detection (lingua), text cleaning, tokens and stems (jieba, Snowball).

PII redaction of complaint texts is :func:`cxpipe.privacy.redact_pii`.

Languages are ISO 639-1 codes. Detection chooses among :data:`LANGUAGES` plus every
language named by a row of the taxonomy, the training texts or the sentiment lexicon
(``detect_languages(texts, extra_languages)``), so adding a language is adding rows.
A text is labelled with its own language even when cxpipe has no keywords or training
texts for it; it is never relabelled as a language cxpipe knows better.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

#: Languages detected without any rows of their own: cxpipe's customers' languages and their neighbours.
LANGUAGES: tuple[str, ...] = ("en", "zh", "ru", "de", "sv", "pt", "es", "fr")
UNKNOWN = "unknown"

#: Snowball stemmer name per language (Chinese is segmented by jieba instead).
STEMMERS = {
    "en": "english",
    "ru": "russian",
    "de": "german",
    "sv": "swedish",
    "pt": "portuguese",
    "es": "spanish",
    "fr": "french",
    "it": "italian",
    "nl": "dutch",
    "da": "danish",
    "nb": "norwegian",
    "fi": "finnish",
}

#: Below this lingua confidence a language is reported as unknown (very short or mixed texts).
MIN_LANGUAGE_CONFIDENCE = 0.3

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA_HANGUL = re.compile(r"[\u3040-\u30ff\uac00-\ud7af]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_WORD = re.compile(r"[^\W\d_]+")

# Social-media noise that is not the customer's language: @handles, URLs, :emoji_codes:,
# HTML entities and #hashtag signs (the tag's word is kept).
_NOISE = re.compile(
    r"(?:https?://|www\.)\S+"  # URLs
    r"|(?<![\w.])@\w+"  # @handles (not e-mail addresses)
    r"|:[a-z0-9_+\-]{2,}:"  # :emoji_codes:
    r"|&#?\w+;"  # HTML entities
)
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f\u200d]")
_SPACES = re.compile(r"\s+")


def clean_text(text: str) -> str:
    """``text`` without @handles, URLs, ``:emoji_codes:`` and HTML entities, spaces collapsed.

    Emoji characters are kept (VADER reads them); :func:`detect_languages` removes them too.
    """
    return _SPACES.sub(" ", _NOISE.sub(" ", text.replace("#", " "))).strip()


@lru_cache(maxsize=16)
def _detector(languages: tuple[str, ...]) -> Any:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    chosen = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in languages]
    if len(chosen) == 1:  # lingua needs two languages to choose between
        chosen.append(Language.ENGLISH if chosen[0] != Language.ENGLISH else Language.GERMAN)
    return LanguageDetectorBuilder.from_languages(*chosen).with_preloaded_language_models().build()


def known_language(code: str) -> bool:
    """Whether lingua knows the ISO 639-1 ``code`` (so it can be detected)."""
    from lingua import IsoCode639_1

    return hasattr(IsoCode639_1, code.upper()) and len(code) == 2


def detection_languages(extra: Iterable[str] = ()) -> tuple[str, ...]:
    """:data:`LANGUAGES` plus the known codes in ``extra``, sorted (the detector's cache key)."""
    return tuple(sorted(set(LANGUAGES) | {c.lower() for c in extra if c and known_language(c.lower())}))


def detect_languages(texts: Sequence[str], extra_languages: Iterable[str] = ()) -> list[tuple[str, float]]:
    """Language and confidence of each of ``texts`` (one batch; see :func:`detect_language`).

    Texts written in Chinese characters (and no kana/hangul) are ``zh`` and texts in Cyrillic
    are ``ru`` when no other Cyrillic language is configured, with confidence 1: the script
    decides. Latin-script texts go to lingua in one parallel batch.
    """
    languages = detection_languages(extra_languages)
    cyrillic = [code for code in languages if code in {"ru", "uk", "be", "bg", "mk", "sr", "kk", "mn"}]
    out: list[tuple[str, float]] = [(UNKNOWN, 0.0)] * len(texts)
    pending: list[int] = []
    cleaned: list[str] = []
    for i, raw in enumerate(texts):
        text = _EMOJI.sub(" ", clean_text(raw)) if raw else ""
        if not _WORD.search(text):
            continue
        chinese = "zh" in languages and _CJK.search(text) and not _KANA_HANGUL.search(text)
        if chinese and len(_CJK.findall(text)) >= len(_LATIN.findall(text)) / 3:
            out[i] = ("zh", 1.0)
            continue
        if cyrillic == ["ru"] and _CYRILLIC.search(text) and len(_CYRILLIC.findall(text)) >= len(_LATIN.findall(text)):
            out[i] = ("ru", 1.0)
            continue
        pending.append(i)
        cleaned.append(text)
    if pending:
        detector = _detector(languages)
        for i, values in zip(pending, detector.compute_language_confidence_values_in_parallel(cleaned), strict=True):
            if not values:
                continue
            best = values[0]
            confidence = round(float(best.value), 3)
            code = best.language.iso_code_639_1.name.lower()
            out[i] = (code, confidence) if confidence >= MIN_LANGUAGE_CONFIDENCE else (UNKNOWN, confidence)
    return out


def detect_language(text: str | None) -> tuple[str, float]:
    """The language of ``text`` as an ISO 639-1 code and a confidence (0-1).

    Empty texts, texts without letters and texts lingua is unsure about give ``("unknown", conf)``.
    """
    return detect_languages([text or ""])[0]


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


@lru_cache(maxsize=16)
def stemmer(language: str) -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer(STEMMERS[language])


@lru_cache(maxsize=16)
def _stem_cache(language: str) -> dict[str, str]:
    return {}


def stems(tokens: list[str], language: str) -> list[str]:
    """Snowball stems of already lower-cased ``tokens`` in ``language`` (a key of :data:`STEMMERS`)."""
    cache = _stem_cache(language)
    missing = [t for t in set(tokens) if t not in cache]
    if missing:
        cache.update(zip(missing, stemmer(language).stemWords(missing), strict=True))
    return [cache[t] for t in tokens]


def tokenize(text: str, language: str) -> list[str]:
    """Tokens for matching and sentiment: jieba words for Chinese, Snowball stems otherwise."""
    if language == "zh":
        return segment_chinese(text)
    tokens = words(text)
    return stems(tokens, language) if language in STEMMERS else tokens
