"""Personal data: the one place that says what counts as PII and how it is hidden.

Two kinds of personal data reach cxpipe:

* **PII columns** (``pii=True`` in :mod:`cxpipe.contracts`): customer ids, names,
  e-mail addresses, phone numbers, social handles. Ingest replaces each value by
  :func:`pseudonymise`, a keyed hash (``CX_PII_KEY``), so tables can still be
  joined on it but the value cannot be read back.
* **Contact details written into free text** (``free_text=True`` columns at ingest,
  complaint texts in the complaint NLP): e-mail addresses, card-like numbers
  (13-19 digits) and phone numbers (7-15 digits, dates and times excepted) are
  replaced by the tokens in :data:`REDACTION_TOKENS` by :func:`redact_pii`;
  :func:`mask_contact_details` applies it to a column.

Names, street addresses and the like inside free text cannot be found reliably by
pattern and are not redacted.
"""

from __future__ import annotations

import hashlib
import hmac
import re

import pandas as pd

REDACTION_TOKENS = {"email": "[EMAIL]", "card": "[CARD]", "phone": "[PHONE]"}

# letters of any script on both sides (åsa@exempel.se, user@例子.中国), a dotted domain
EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
#: 13-19 digits, optionally grouped by spaces or dashes, not glued to letters or digits.
CARD = re.compile(r"(?<![A-Za-z0-9])\d(?:[ -]?\d){12,18}(?![A-Za-z0-9])")
#: An optional +, then digits with spaces, dots, dashes or brackets; 7-15 digits in all (see :func:`_phone`).
PHONE = re.compile(r"(?<![A-Za-z0-9])(?:\+|\(\d)?[\d(][\d\s().-]{5,}\d(?![A-Za-z0-9])")
#: A :data:`PHONE` match that is really a date (2026-11-01, 01.11.2026) or a time (14:30) is kept.
DATE_OR_TIME = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$|^\d{1,2}[.:]\d{2}$")
#: Fewer digits than this and no ``@``: nothing in the text can be redacted.
_MIN_DIGITS = 7


def pseudonymise(values: pd.Series, key: str) -> pd.Series:
    """Replace each non-empty value by a keyed hash (HMAC-SHA256, 24 hex chars).

    Values are trimmed and lower-cased first, so ``A@X.com `` and ``a@x.com`` agree.
    """
    secret = key.encode()
    cache: dict[str, str] = {}

    def one(value: object) -> object:
        if value is None or value is pd.NA or (isinstance(value, float) and value != value) or value == "":
            return None
        text = str(value).strip().lower()
        digest = cache.get(text)
        if digest is None:
            digest = hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()[:24]
            cache[text] = digest
        return digest

    return values.map(one).astype("string")


def _phone(match: re.Match[str]) -> str:
    found = match.group(0)
    digits = sum(ch.isdigit() for ch in found)
    if not _MIN_DIGITS <= digits <= 15 or DATE_OR_TIME.match(found.strip()):
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
    out = EMAIL.sub(REDACTION_TOKENS["email"], text)
    if out != text:
        kinds.append("email")
    carded = CARD.sub(REDACTION_TOKENS["card"], out)
    if carded != out:
        kinds.append("card")
    phoned = PHONE.sub(_phone, carded)
    if phoned != carded:
        kinds.append("phone")
    return phoned, kinds


def mask_contact_details(values: pd.Series) -> pd.Series:
    """:func:`redact_pii` applied to each text of a free-text column (missing values stay missing).

    Texts without ``@`` and with fewer than 7 digits cannot hold anything to redact and are
    returned as they are without running the patterns.
    """

    def one(value: object) -> object:
        if not isinstance(value, str) or not value:
            return value
        if "@" not in value and sum(ch.isdigit() for ch in value) < _MIN_DIGITS:
            return value
        return redact_pii(value)[0]

    return values.map(one).astype("string")
