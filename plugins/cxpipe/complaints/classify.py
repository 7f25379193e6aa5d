"""Root-cause classification from the analysts' keyword taxonomy (dbt seed ``complaint_taxonomy``).

Each taxonomy row is ``root_cause, language, keyword[, weight]``. A keyword applies to
texts of its own language only; the language ``all`` marks a keyword for every language
(brand and app names); a text whose language is ``unknown`` (too short to tell) is
matched with the keywords of every language. How a keyword matches:

* Chinese keywords (any CJK character): a substring of the text (Chinese has no
  spaces; substrings are more robust than one segmentation of the keyword).
* Other keywords: a phrase of Snowball stems in the keyword's language; the stems of
  text and keyword must be equal, so ``broken`` matches "broken" but not "brokenness"
  unless the stems agree. A word ending in ``*`` matches every word starting with it
  (``задерж*`` matches "задержка" and "задержали"). Keywords of ``all`` match
  lower-cased words without stemming.
* ``re:<pattern>``: a case-insensitive regular expression searched in the text.

All keywords of a language are found in one pass over all texts of that language in a
batch (Aho-Corasick automata, pyahocorasick). A keyword listed twice in another form (``piece`` and ``pieces`` have one
stem) counts once, and within a cause a stretch of text counts once: the longest keyword
covering it wins (``late`` inside ``too late`` adds nothing).

The score of a cause is the sum of the weights of its counted keywords. The best
cause wins; the runner-up is the secondary cause. Confidence is the share of the total
score that points to the winner, damped when the evidence is thin:
``top / total * (1 - exp(-top))``. No match at all gives ``other`` with confidence 0.
"""

from __future__ import annotations

import bisect
import csv
import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ahocorasick
import numpy as np

from cxpipe.complaints.text import (
    STEMMERS,
    UNKNOWN,
    detect_language,
    has_cjk,
    known_language,
    stems,
    stems_many,
    words,
)
from cxpipe.contracts import ROOT_CAUSES

#: The root causes the business reports on; ``other`` is the fallback and has no keywords.
CAUSES: tuple[str, ...] = ROOT_CAUSES
FALLBACK_CAUSE = "other"
METHOD = "keywords"
#: The taxonomy language of keywords that apply to texts of every language.
ALL_LANGUAGES = "all"

_CAUSE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class TaxonomyError(ValueError):
    """A taxonomy row cannot be used; the message names the file, row, column and the fix."""


@dataclass(frozen=True)
class Keyword:
    root_cause: str
    language: str
    text: str
    weight: float
    kind: str  # "substring", "stems", "words" or "regex"
    pattern: str = ""  # what the automaton looks for: lowered text, or " stem stem " on word boundaries
    regex: re.Pattern[str] | None = None


@dataclass(frozen=True)
class Classification:
    root_cause: str
    secondary_cause: str | None
    confidence: float
    evidence: str
    method: str


def _keyword(row: Mapping[str, object], where: str) -> Keyword:
    def value(name: str) -> str:
        raw = row.get(name)
        text = "" if raw is None or (isinstance(raw, float) and math.isnan(raw)) else str(raw).strip()
        if not text and name != "weight":
            raise TaxonomyError(f"{where}, column {name}: empty; fill it in or delete the row")
        return text

    cause, language, keyword = value("root_cause"), value("language").lower(), value("keyword")
    if not _CAUSE_NAME.match(cause):
        raise TaxonomyError(f"{where}, column root_cause: {cause!r} must be lower_snake_case (e.g. late_delivery)")
    if cause == FALLBACK_CAUSE:
        raise TaxonomyError(f"{where}, column root_cause: {FALLBACK_CAUSE!r} is the fallback and takes no keywords")
    if language != ALL_LANGUAGES and not known_language(language):
        raise TaxonomyError(
            f"{where}, column language: {language!r} is not an ISO 639-1 code lingua knows (e.g. en, zh, pt) "
            f"or {ALL_LANGUAGES!r}"
        )
    raw_weight = value("weight")
    try:
        weight = float(raw_weight) if raw_weight else 1.0
    except ValueError:
        raise TaxonomyError(f"{where}, column weight: {raw_weight!r} is not a number; use e.g. 1 or 2") from None
    if weight <= 0:
        raise TaxonomyError(f"{where}, column weight: {weight} must be positive")
    if keyword.startswith("re:"):
        try:
            regex = re.compile(keyword[3:], re.IGNORECASE)
        except re.error as exc:
            raise TaxonomyError(f"{where}, column keyword: bad regular expression {keyword[3:]!r} ({exc})") from None
        return Keyword(cause, language, keyword, weight, "regex", regex=regex)
    if has_cjk(keyword):
        return Keyword(cause, language, keyword, weight, "substring", pattern=keyword.lower())
    parts = [part for part in keyword.lower().split() if words(part)]
    tokens = words(keyword)
    if not tokens:
        raise TaxonomyError(f"{where}, column keyword: {keyword!r} has no letters; use re:<pattern> for symbols")
    # a word ending in * is a prefix: it is lower-cased but not stemmed
    prefix = [part.endswith("*") for part in parts] if len(parts) == len(tokens) else [False] * len(tokens)
    kind = "stems" if language in STEMMERS else "words"
    stemmed = stems(tokens, language) if kind == "stems" else tokens
    final = [t if p else s for t, s, p in zip(tokens, stemmed, prefix, strict=True)]
    pattern = " " + " ".join(final) + ("" if prefix[-1] else " ")
    return Keyword(cause, language, keyword, weight, kind, pattern=pattern)


def load_taxonomy(path: Path) -> list[dict[str, str]]:
    """Rows of a taxonomy CSV file (the dbt seed), for :class:`KeywordClassifier`."""
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@dataclass
class _Matcher:
    """The keywords of one language (plus those of ``all``) as automata over the text's forms."""

    automata: dict[str, Any] = field(default_factory=dict)  # kind -> automaton of pattern -> keywords
    regexes: list[Keyword] = field(default_factory=list)


class KeywordClassifier:
    """Classifies complaint texts with the keyword taxonomy. Build once, call :meth:`classify` per text."""

    def __init__(self, rows: Iterable[Mapping[str, object]], source: str = "complaint_taxonomy") -> None:
        self.keywords = [_keyword(row, f"{source} row {i}") for i, row in enumerate(rows, start=2)]
        if not self.keywords:
            raise TaxonomyError(f"{source}: no keywords; add rows root_cause,language,keyword")
        self.causes = sorted({k.root_cause for k in self.keywords})
        self.languages = sorted({k.language for k in self.keywords} - {ALL_LANGUAGES})
        self._matchers: dict[str, _Matcher] = {}

    def _matcher(self, language: str) -> _Matcher:
        matcher = self._matchers.get(language)
        if matcher is not None:
            return matcher
        matcher = _Matcher()
        grouped: dict[tuple[str, str], list[Keyword]] = {}
        for kw in self.keywords:
            if kw.language not in (language, ALL_LANGUAGES):
                continue
            if kw.kind == "regex":
                matcher.regexes.append(kw)
            else:
                grouped.setdefault((kw.kind, kw.pattern), []).append(kw)
        for (kind, pattern), kws in grouped.items():
            automaton = matcher.automata.get(kind)
            if automaton is None:
                automaton = matcher.automata[kind] = ahocorasick.Automaton()
            automaton.add_word(pattern, (len(pattern), tuple(kws)))
        for automaton in matcher.automata.values():
            automaton.make_automaton()
        self._matchers[language] = matcher
        return matcher

    def matches(self, text: str, language: str | None = None) -> list[tuple[Keyword, tuple[int, int]]]:
        """The keywords found in ``text`` (of ``language``; detected when not given) with where they matched.

        The span is (start, end) in the form of the text the keyword was matched on; spans
        of different kinds are kept apart by an offset so they never overlap.
        """
        return self.matches_many([text], [language])[0]

    def matches_many(
        self, texts: Sequence[str], languages: Sequence[str | None]
    ) -> list[list[tuple[Keyword, tuple[int, int]]]]:
        """:meth:`matches` of each text: the keywords of one language are looked for in all its texts at once."""
        found: list[list[tuple[Keyword, tuple[int, int]]]] = [[] for _ in texts]
        chosen = [
            (detect_language(text)[0] if language is None else language) if text else None
            for text, language in zip(texts, languages, strict=True)
        ]
        of = np.array(chosen, dtype=object)
        cyrillic, chinese, latin = _scripts(texts)
        # language -> (texts, place of the language for them: keeps spans of two languages apart)
        jobs: dict[str, list[tuple[np.ndarray, int]]] = {}
        own = len(self.languages)  # places 0..n-1: every language for an unknown text; n: its own language
        for language in sorted({c for c in chosen if c is not None}):
            which = np.flatnonzero(of == language)
            if language == UNKNOWN:  # too short or mixed to tell: every language's keywords may apply
                for place, lang in enumerate(self.languages):
                    jobs.setdefault(lang, []).append((which, place))
            else:
                jobs.setdefault(language, []).append((which, own))
        # and a passage in another script reads in that script's language (mixed en/ru tickets); Latin-script
        # languages never read each other's texts (an English word is no Swedish keyword)
        known = (of != None) & (of != UNKNOWN)  # noqa: E711 - elementwise
        for lang, place, passage, applies in (
            ("ru", own + 1, cyrillic, of != "ru"),
            ("zh", own + 2, chinese, of != "zh"),
            ("en", own + 3, latin, (of == "ru") | (of == "zh")),
        ):
            which = np.flatnonzero(passage & known & applies)
            if lang in self.languages and len(which):
                jobs.setdefault(lang, []).append((which, place))
        for lang, parts in jobs.items():
            which = np.concatenate([w for w, _ in parts]).tolist()
            places = np.concatenate([np.full(len(w), p) for w, p in parts]).tolist()
            for k, text_hits in self._matches_in([texts[i] for i in which], lang).items():
                base = places[k] * 100_000_000
                found[which[k]] += [(kw, (base + start, base + end)) for kw, (start, end) in text_hits]
        return found

    def _matches_in(self, texts: Sequence[str], language: str) -> dict[int, list[tuple[Keyword, tuple[int, int]]]]:
        """The keywords of ``language`` in ``texts`` (by position, texts without any left out): one automaton
        pass over all of them per kind."""
        matcher = self._matcher(language)
        found: dict[int, list[tuple[Keyword, tuple[int, int]]]] = {}
        lowered = [text.lower().replace("ё", "е") for text in texts]
        tokens: list[list[str]] | None = None
        for offset, (kind, automaton) in enumerate(sorted(matcher.automata.items())):
            if kind == "substring":
                haystacks = lowered
            else:
                if tokens is None:
                    tokens = [words(text) for text in texts]
                forms = stems_many(tokens, language) if kind == "stems" else tokens
                haystacks = [" " + " ".join(form) + " " for form in forms]
            # the texts joined by NUL (no pattern holds one); a match's end tells its text
            starts = list(itertools.accumulate((len(h) + 1 for h in haystacks), initial=0))
            base = offset * 10_000_000
            for end, (length, kws) in automaton.iter("\0".join(haystacks)):
                i = bisect.bisect_right(starts, end) - 1
                local = end - starts[i]
                found.setdefault(i, []).extend((kw, (base + local - length + 1, base + local)) for kw in kws)
        base = 90_000_000
        for r, kw in enumerate(matcher.regexes):
            assert kw.regex is not None
            for i, text in enumerate(lowered):
                hit = kw.regex.search(text)
                if hit:
                    span = (base + r * 100_000 + hit.start(), base + r * 100_000 + hit.end())
                    found.setdefault(i, []).append((kw, span))
        return found

    def scores(self, text: str, language: str | None = None) -> tuple[dict[str, float], dict[str, list[str]]]:
        """Score per cause and the keywords counted for it (a stretch of text counts once per cause)."""
        return _scores(self.matches(text, language))

    def scores_many(
        self, texts: Sequence[str], languages: Sequence[str | None]
    ) -> list[tuple[dict[str, float], dict[str, list[str]]]]:
        """:meth:`scores` of each text, matched in one batch."""
        return [_scores(hits) for hits in self.matches_many(texts, languages)]

    def classify(self, text: str | None, language: str | None = None) -> Classification:
        if not text or not text.strip():
            return Classification(FALLBACK_CAUSE, None, 0.0, "", "none")
        scores, evidence = self.scores(text, language)
        if not scores:
            return Classification(FALLBACK_CAUSE, None, 0.0, "", "none")
        longest = {cause: max(len(k) for k in kws) for cause, kws in evidence.items()}
        ranked = sorted(scores, key=lambda c: (-scores[c], -longest[c], c))
        top = scores[ranked[0]]
        confidence = top / sum(scores.values()) * (1 - math.exp(-top))
        return Classification(
            root_cause=ranked[0],
            secondary_cause=ranked[1] if len(ranked) > 1 else None,
            confidence=round(confidence, 3),
            evidence=format_evidence(ranked, evidence),
            method=METHOD,
        )

    def score_matrix(self, texts: Sequence[str], languages: Sequence[str]) -> list[dict[str, float]]:
        """:meth:`scores` of many texts (features for the learned model)."""
        return [scores for scores, _ in self.scores_many(texts, languages)]


def _scripts(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per text: has two Cyrillic letters in a row, a Chinese character, three Latin letters in a row.

    A passage in such a script reads as ru, zh and (in a ru or zh text) en. All texts at once: their code
    points in one array.
    """
    size = len(texts)
    lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=size)
    codes = np.frombuffer("\0".join(texts).encode("utf-32-le", "surrogatepass"), dtype="<u4")
    row_of = np.repeat(np.arange(size), lengths)[: len(codes)]
    cyrillic = (codes >= 0x400) & (codes <= 0x4FF)
    chinese = (
        ((codes >= 0x3400) & (codes <= 0x4DBF))
        | ((codes >= 0x4E00) & (codes <= 0x9FFF))
        | ((codes >= 0xF900) & (codes <= 0xFAFF))
    )
    folded = codes | 0x20
    latin = (folded >= 0x61) & (folded <= 0x7A)
    out = []
    for positions in (cyrillic[:-1] & cyrillic[1:], chinese, latin[:-2] & latin[1:-1] & latin[2:]):
        has = np.zeros(size, dtype=bool)
        has[row_of[: len(positions)][positions]] = True
        out.append(has)
    return out[0], out[1], out[2]


def _scores(hits: Sequence[tuple[Keyword, tuple[int, int]]]) -> tuple[dict[str, float], dict[str, list[str]]]:
    """Score per cause and the keywords counted for it, from one text's matches (:meth:`KeywordClassifier.scores`)."""
    scores: dict[str, float] = {}
    evidence: dict[str, list[str]] = {}
    if len(hits) < 2:
        for kw, _ in hits:
            scores[kw.root_cause] = kw.weight
            evidence[kw.root_cause] = [kw.text]
        return scores, evidence
    by_cause: dict[str, list[tuple[Keyword, tuple[int, int]]]] = {}
    for kw, span in hits:
        by_cause.setdefault(kw.root_cause, []).append((kw, span))
    for cause, cause_hits in by_cause.items():
        taken: list[tuple[int, int]] = []
        # longest first, then heaviest: a keyword inside a longer one of the same cause adds nothing
        for kw, (start, end) in sorted(cause_hits, key=lambda h: (h[1][0] - h[1][1], -h[0].weight, h[0].text)):
            if any(start <= e and s <= end for s, e in taken):
                continue
            taken.append((start, end))
            scores[cause] = scores.get(cause, 0.0) + kw.weight
            evidence.setdefault(cause, []).append(kw.text)
    return scores, evidence


def format_evidence(ranked: Sequence[str], evidence: Mapping[str, Sequence[str]]) -> str:
    """``damaged: broken, cracked; communication: no reply`` (causes in ``ranked`` order)."""
    return "; ".join(f"{cause}: " + ", ".join(sorted(set(evidence[cause]))) for cause in ranked if cause in evidence)
