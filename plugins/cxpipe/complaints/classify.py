"""Root-cause classification from the analysts' keyword taxonomy (dbt seed ``complaint_taxonomy``).

Each taxonomy row is ``root_cause, language, keyword[, weight]``. How a keyword matches:

* Chinese keywords (any CJK character): a substring of the text (Chinese has no
  spaces; substrings are more robust than one segmentation of the keyword).
* Other keywords: a phrase of Snowball stems in the keyword's language; the stems of
  text and keyword must be equal, so ``broken`` matches "broken" but not "brokenness"
  unless the stems agree. A word ending in ``*`` matches every word starting with it
  (``задерж*`` matches "задержка" and "задержали").
* ``re:<pattern>``: a case-insensitive regular expression searched in the text.

Keywords of every language are tried on every text, so mixed-language texts work.
The score of a cause is the sum of the weights of its distinct matching keywords.
The best cause wins; the runner-up is the secondary cause. Confidence is the share
of the total score that points to the winner, damped when the evidence is thin:
``top / total * (1 - exp(-top))``. No match at all gives ``other`` with confidence 0.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cxpipe.complaints.text import LANGUAGES, STEMMERS, has_cjk, stems, words
from cxpipe.contracts import ROOT_CAUSES

#: The root causes the business reports on; ``other`` is the fallback and has no keywords.
CAUSES: tuple[str, ...] = ROOT_CAUSES
FALLBACK_CAUSE = "other"
METHOD = "keywords"

_CAUSE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class TaxonomyError(ValueError):
    """A taxonomy row cannot be used; the message names the file, row, column and the fix."""


@dataclass(frozen=True)
class Keyword:
    root_cause: str
    language: str
    text: str
    weight: float
    kind: str  # "substring", "stems" or "regex"
    stems: tuple[str, ...] = ()
    prefix: tuple[bool, ...] = ()
    pattern: re.Pattern[str] | None = None


@dataclass(frozen=True)
class Classification:
    root_cause: str
    secondary_cause: str | None
    confidence: float
    evidence: str
    method: str


def _keyword(row: Mapping[str, object], where: str) -> Keyword:
    def field(name: str) -> str:
        value = row.get(name)
        text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value).strip()
        if not text and name != "weight":
            raise TaxonomyError(f"{where}, column {name}: empty; fill it in or delete the row")
        return text

    cause, language, keyword = field("root_cause"), field("language").lower(), field("keyword")
    if not _CAUSE_NAME.match(cause):
        raise TaxonomyError(f"{where}, column root_cause: {cause!r} must be lower_snake_case (e.g. late_delivery)")
    if cause == FALLBACK_CAUSE:
        raise TaxonomyError(f"{where}, column root_cause: {FALLBACK_CAUSE!r} is the fallback and takes no keywords")
    if language not in LANGUAGES:
        raise TaxonomyError(f"{where}, column language: {language!r} is not one of {', '.join(LANGUAGES)}")
    raw_weight = field("weight")
    try:
        weight = float(raw_weight) if raw_weight else 1.0
    except ValueError:
        raise TaxonomyError(f"{where}, column weight: {raw_weight!r} is not a number; use e.g. 1 or 2") from None
    if weight <= 0:
        raise TaxonomyError(f"{where}, column weight: {weight} must be positive")
    if keyword.startswith("re:"):
        try:
            pattern = re.compile(keyword[3:], re.IGNORECASE)
        except re.error as exc:
            raise TaxonomyError(f"{where}, column keyword: bad regular expression {keyword[3:]!r} ({exc})") from None
        return Keyword(cause, language, keyword, weight, "regex", pattern=pattern)
    if has_cjk(keyword):
        return Keyword(cause, language, keyword, weight, "substring")
    tokens = words(keyword)
    if not tokens:
        raise TaxonomyError(f"{where}, column keyword: {keyword!r} has no letters; use re:<pattern> for symbols")
    stem_language = language if language in STEMMERS else "en"
    # a word ending in * is a prefix: it is lower-cased but not stemmed
    prefix = tuple(part.endswith("*") for part in keyword.lower().split() if words(part))
    if len(prefix) != len(tokens):
        prefix = tuple(False for _ in tokens)
    plain = [t for t, p in zip(tokens, prefix, strict=True) if not p]
    stemmed = iter(stems(plain, stem_language))
    final = tuple(t if p else next(stemmed) for t, p in zip(tokens, prefix, strict=True))
    return Keyword(cause, language, keyword, weight, "stems", stems=final, prefix=prefix)


def load_taxonomy(path: Path) -> list[dict[str, str]]:
    """Rows of a taxonomy CSV file (the dbt seed), for :class:`KeywordClassifier`."""
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


class KeywordClassifier:
    """Classifies complaint texts with the keyword taxonomy. Build once, call :meth:`classify` per text."""

    def __init__(self, rows: Iterable[Mapping[str, object]], source: str = "complaint_taxonomy") -> None:
        self.keywords = [_keyword(row, f"{source} row {i}") for i, row in enumerate(rows, start=2)]
        if not self.keywords:
            raise TaxonomyError(f"{source}: no keywords; add rows root_cause,language,keyword")
        self.causes = sorted({k.root_cause for k in self.keywords})
        self._stem_languages = sorted({_stem_language(k) for k in self.keywords if k.kind == "stems"})

    def matches(self, text: str) -> list[Keyword]:
        """The distinct keywords found in ``text``."""
        lowered = text.lower().replace("ё", "е")
        tokens = words(text)
        stemmed = {lang: stems(tokens, lang) for lang in self._stem_languages}
        found: list[Keyword] = []
        for kw in self.keywords:
            if kw.kind == "substring":
                hit = kw.text.lower() in lowered
            elif kw.kind == "regex":
                hit = kw.pattern is not None and kw.pattern.search(lowered) is not None
            else:
                hit = _phrase_in(kw, stemmed[_stem_language(kw)])
            if hit:
                found.append(kw)
        return found

    def classify(self, text: str | None) -> Classification:
        if not text or not text.strip():
            return Classification(FALLBACK_CAUSE, None, 0.0, "", "none")
        found = self.matches(text)
        if not found:
            return Classification(FALLBACK_CAUSE, None, 0.0, "", "none")
        # the same word listed for several languages (e.g. "app") counts once per cause
        weights: dict[tuple[str, str], float] = {}
        for kw in found:
            key = (kw.root_cause, kw.text.lower())
            weights[key] = max(weights.get(key, 0.0), kw.weight)
        scores: dict[str, float] = {}
        longest: dict[str, int] = {}
        for (cause, keyword), weight in weights.items():
            scores[cause] = scores.get(cause, 0.0) + weight
            longest[cause] = max(longest.get(cause, 0), len(keyword))
        ranked = sorted(scores, key=lambda c: (-scores[c], -longest[c], c))
        top = scores[ranked[0]]
        confidence = top / sum(scores.values()) * (1 - math.exp(-top))
        evidence = "; ".join(
            f"{cause}: " + ", ".join(sorted({kw.text for kw in found if kw.root_cause == cause})) for cause in ranked
        )
        return Classification(
            root_cause=ranked[0],
            secondary_cause=ranked[1] if len(ranked) > 1 else None,
            confidence=round(confidence, 3),
            evidence=evidence,
            method=METHOD,
        )


def _stem_language(kw: Keyword) -> str:
    return kw.language if kw.language in STEMMERS else "en"


def _phrase_in(kw: Keyword, tokens: list[str]) -> bool:
    n = len(kw.stems)
    for start in range(len(tokens) - n + 1):
        if all(
            tokens[start + j].startswith(kw.stems[j]) if kw.prefix[j] else tokens[start + j] == kw.stems[j]
            for j in range(n)
        ):
            return True
    return False
