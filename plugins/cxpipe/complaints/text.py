"""Language detection (lingua), text cleaning, tokens and stems (jieba, Snowball).

PII redaction of complaint texts is :func:`cxpipe.privacy.redact_pii`.

Languages are ISO 639-1 codes. Detection chooses among :data:`LANGUAGES` plus every
language named by a row of the taxonomy, the training texts or the sentiment lexicon
(``detect_languages(texts, extra_languages)``), so adding a language is adding rows.
A text is labelled with its own language even when cxpipe has no keywords or training
texts for it; it is never relabelled as a language cxpipe knows better.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

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
#: Texts of at least this many characters are first read by lingua's low-accuracy mode, which decides
#: them when its confidence is at least LOW_ACCURACY_SURE (on the benchmark's texts it then agrees with
#: the high-accuracy mode 1,460 times of 1,462); shorter texts and the rest go to the high-accuracy mode.
LOW_ACCURACY_MIN_CHARS = 40
LOW_ACCURACY_SURE = 0.99

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA_HANGUL = re.compile(r"[\u3040-\u30ff\uac00-\ud7af]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_WORD = re.compile(r"[^\W\d_]+")
_WORD_NOT_CJK = re.compile(r"[^\W\d_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

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


#: What :func:`script_counts` counts per text.
SCRIPTS = ("letters", "cjk", "kana_hangul", "cyrillic", "latin")
_TABLE_SIZE = 0x32400  # up to CJK extension H


@lru_cache(maxsize=1)
def _letter_table() -> np.ndarray:
    """Whether each code point below :data:`_TABLE_SIZE` is a letter as ``[^\\W\\d_]`` reads it, emoji
    (:data:`_EMOJI`, removed before detection) left out."""
    letter = np.fromiter((bool(_WORD.match(chr(c))) for c in range(_TABLE_SIZE)), dtype=bool, count=_TABLE_SIZE)
    letter[[ord(c) for c in "\ufe0f\u200d"]] = False
    letter[0x2600:0x27C0] = False
    letter[0x1F000:0x1FB00] = False
    return letter


def script_counts(texts: Sequence[str]) -> dict[str, np.ndarray]:
    """Per text, the number of letters and of Chinese, kana/hangul, Cyrillic and Latin characters (as the
    patterns :data:`_CJK`, :data:`_KANA_HANGUL`, :data:`_CYRILLIC`, :data:`_LATIN` match), for all texts at once."""
    size = len(texts)
    lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=size)
    codes = np.frombuffer("\0".join(texts).encode("utf-32-le", "surrogatepass"), dtype="<u4")
    row_of = np.repeat(np.arange(size), lengths)[: len(codes)]

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(row_of[mask], minlength=size)

    def between(low: int, high: int) -> np.ndarray:
        return (codes >= low) & (codes <= high)

    letters = _letter_table()[np.minimum(codes, _TABLE_SIZE - 1)] & (codes < _TABLE_SIZE)
    return {
        "letters": count(letters),
        "cjk": count(between(0x3400, 0x4DBF) | between(0x4E00, 0x9FFF) | between(0xF900, 0xFAFF)),
        "kana_hangul": count(between(0x3040, 0x30FF) | between(0xAC00, 0xD7AF)),
        "cyrillic": count(between(0x400, 0x4FF)),
        "latin": count(between(0x41, 0x5A) | between(0x61, 0x7A) | between(0xC0, 0x24F)),
    }


def clean_text(text: str) -> str:
    """``text`` without @handles, URLs, ``:emoji_codes:`` and HTML entities, spaces collapsed.

    Emoji characters are kept (VADER reads them); :func:`detect_languages` removes them too.
    """
    return _SPACES.sub(" ", _NOISE.sub(" ", text.replace("#", " "))).strip()


@lru_cache(maxsize=16)
def _detector(languages: tuple[str, ...], low_accuracy: bool = False) -> Any:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    chosen = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in languages]
    if len(chosen) == 1:  # lingua needs two languages to choose between
        chosen.append(Language.ENGLISH if chosen[0] != Language.ENGLISH else Language.GERMAN)
    builder = LanguageDetectorBuilder.from_languages(*chosen).with_preloaded_language_models()
    return (builder.with_low_accuracy_mode() if low_accuracy else builder).build()


def known_language(code: str) -> bool:
    """Whether lingua knows the ISO 639-1 ``code`` (so it can be detected)."""
    from lingua import IsoCode639_1

    return hasattr(IsoCode639_1, code.upper()) and len(code) == 2


def detection_languages(extra: Iterable[str] = ()) -> tuple[str, ...]:
    """:data:`LANGUAGES` plus the known codes in ``extra``, sorted (the detector's cache key)."""
    return tuple(sorted(set(LANGUAGES) | {c.lower() for c in extra if c and known_language(c.lower())}))


def detect_languages(
    texts: Sequence[str], extra_languages: Iterable[str] = (), cleaned: Sequence[str] | None = None
) -> list[tuple[str, float]]:
    """Language and confidence of each of ``texts`` (one batch; see :func:`detect_language`).

    Texts written in Chinese characters (and no kana/hangul) are ``zh`` and texts in Cyrillic
    are ``ru`` when no other Cyrillic language is configured, with confidence 1: the script
    decides (its characters are counted for all texts at once). Latin-script texts go to
    lingua in parallel batches: long ones first to its low-accuracy mode, and what it is not
    sure about (and every short text) to its high-accuracy mode. ``cleaned``: the texts after
    :func:`clean_text`, when the caller has them.
    """
    languages = detection_languages(extra_languages)
    cyrillic_languages = [code for code in languages if code in {"ru", "uk", "be", "bg", "mk", "sr", "kk", "mn"}]
    out: list[tuple[str, float]] = [(UNKNOWN, 0.0)] * len(texts)
    if cleaned is None:
        cleaned = [clean_text(raw) if raw else "" for raw in texts]
    counts = script_counts([c if raw else "" for c, raw in zip(cleaned, texts, strict=True)])
    letters, cjk, kana_hangul, cyrillic, latin = (counts[name] for name in SCRIPTS)
    decided = letters == 0  # no letters (emoji aside): unknown
    if "zh" in languages:
        chinese = ~decided & (cjk > 0) & (kana_hangul == 0) & (cjk >= latin / 3)
        for i in np.flatnonzero(chinese).tolist():
            out[i] = ("zh", 1.0)
        decided |= chinese
    if cyrillic_languages == ["ru"]:
        russian = ~decided & (cyrillic > 0) & (cyrillic >= latin)
        for i in np.flatnonzero(russian).tolist():
            out[i] = ("ru", 1.0)
        decided |= russian
    pending: list[int] = np.flatnonzero(~decided).tolist()
    cleaned = [_EMOJI.sub(" ", cleaned[i]) for i in pending]
    if not pending:
        return out
    # lingua's low-accuracy mode (trigrams only, 3x cheaper) decides long texts it is sure about;
    # the others (and every short text) are read by its high-accuracy mode
    long = [k for k, text in enumerate(cleaned) if len(text) >= LOW_ACCURACY_MIN_CHARS]
    best: dict[int, Any] = {}
    if long:
        quick = _detector(languages, low_accuracy=True).compute_language_confidence_values_in_parallel(
            [cleaned[k] for k in long]
        )
        best = {
            k: values[0]
            for k, values in zip(long, quick, strict=True)
            if values and values[0].value >= LOW_ACCURACY_SURE
        }
    rest = [k for k in range(len(cleaned)) if k not in best]
    if rest:
        accurate = _detector(languages).compute_language_confidence_values_in_parallel([cleaned[k] for k in rest])
        best.update({k: values[0] for k, values in zip(rest, accurate, strict=True) if values})
    for k, value in best.items():
        confidence = round(float(value.value), 3)
        code = value.language.iso_code_639_1.name.lower()
        out[pending[k]] = (code, confidence) if confidence >= MIN_LANGUAGE_CONFIDENCE else (UNKNOWN, confidence)
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
    return _WORD_NOT_CJK.findall(text.lower().replace("ё", "е"))


@lru_cache(maxsize=16)
def stemmer(language: str) -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer(STEMMERS[language])


#: Words whose stems are remembered per language; past it the memory starts again.
STEM_CACHE_SIZE = 300_000


@lru_cache(maxsize=16)
def _stem_cache(language: str) -> dict[str, str]:
    return {}


def _stem_lookup(words: Iterable[str], language: str) -> dict[str, str]:
    cache = _stem_cache(language)
    missing = [t for t in set(words) if t not in cache]
    if missing:
        if len(cache) + len(missing) > STEM_CACHE_SIZE:
            cache.clear()
        cache.update(zip(missing, stemmer(language).stemWords(missing), strict=True))
    return cache


def stems(tokens: list[str], language: str) -> list[str]:
    """Snowball stems of already lower-cased ``tokens`` in ``language`` (a key of :data:`STEMMERS`)."""
    cache = _stem_lookup(tokens, language)
    return [cache[t] for t in tokens]


def stems_many(token_lists: Sequence[list[str]], language: str) -> list[list[str]]:
    """:func:`stems` of many token lists, each distinct word stemmed once (PyStemmer when installed)."""
    cache = _stem_lookup(itertools.chain.from_iterable(token_lists), language)
    return [[cache[t] for t in tokens] for tokens in token_lists]


def tokenize(text: str, language: str) -> list[str]:
    """Tokens for matching and sentiment: jieba words for Chinese, Snowball stems otherwise."""
    if language == "zh":
        return segment_chinese(text)
    tokens = words(text)
    return stems(tokens, language) if language in STEMMERS else tokens
