"""Personal data: the one definition of what counts as PII in cxpipe, and how it is hidden.

Ingest, the complaint NLP, the dbt test ``assert_complaints_have_no_raw_pii`` and the
PII scans of the tests all use this module, so they cannot disagree about what PII is.

What is personal data here
==========================

**PII columns** (``pii=True`` in :mod:`cxpipe.contracts`): customer ids, names, e-mail
addresses, phone numbers, social handles. Ingest replaces each value by
:func:`pseudonymise`, a keyed hash (``CX_PII_KEY``): tables still join on it, nobody can
read it back.

**Personal data in free text** (``free_text=True`` columns at ingest, complaint texts in
the complaint NLP). :func:`find_pii` finds five kinds, :func:`redact_pii` replaces them by
the tokens in :data:`REDACTION_TOKENS`. ``name`` and ``address`` (personal names, street
addresses) and disguised e-mail addresses and phone numbers (``anna(at)gmail(dot)com``) are
found by :mod:`cxpipe.privacy.free_text`, which says how and what it misses; the others:

``email``
    ``local@domain.tld``, letters of any script in the domain (``user@例子.中国``).
``card``
    A payment-card number: 13–19 digits, unbroken or grouped as cards are printed
    (4-4-4-4, 4-4-4-4-3, 4-6-5, 4-6-4, by spaces or dashes), that passes the **Luhn
    check**. Every issued card number does; a random number does only one time in ten,
    so order and reference numbers of that length are not taken for cards.
``phone``
    A number in **phone shape**: 7–15 digits (E.164 allows at most 15), an optional
    leading ``+`` and country code, groups separated by one space, dot, dash or slash, an
    area code optionally in brackets (``+7 (912) 345-67-89``, ``+44 (0)20 7946 0958``,
    ``070-123 45 67``, ``13812345678``); not glued to a letter or digit (Chinese and
    Japanese write numbers straight after their text, ``电话13812345678``, so those
    scripts do not glue), at most two one-digit groups, and not one of the things below.
    A run of digit groups too long for one phone (two phones side by side) is split into
    phone-sized pieces rather than let through.

What deliberately is not
========================

Every one of these is recognised first and never becomes a phone or a card, because
redacting it destroys what the text says while protecting nobody:

* **identifiers that mix letters and digits** — parcel tracking codes (``BR123456789BR``,
  ``1Z999AA10123456784``, ``JD0146000062811111``), order and invoice numbers
  (``O2026110100012``, ``INV-2026-000123``): a phone number has no letters in it.
* **numbers labelled as an order, invoice, ticket, tracking, … number** (``order
  123456789``, ``invoice no. 2026110123``, ``заказ № 123456789``, ``订单号 123456789012``,
  ``#123456789``).
* **amounts**: a number next to a currency sign or code (``{$110000.00}``,
  ``R$ 1.234,56``, ``1 234,56 €``, ``1299 SEK``, ``12 345 руб``) or with decimals
  (``110000.00``, ``1.234.567,89``): a phone number has no decimal part.
* **postal codes**: after a postcode word (``CEP 01310100``, ``PLZ``, ``ZIP``,
  ``индекс``, ``邮编``, ``〒100-0001``), and the shapes ``01310-100`` (Brazil) and
  ``90210-1234`` (US ZIP+4); the other countries' codes have fewer than 7 digits
  (``114 51``, ``10115``, ``101000``, ``200120``) or letters (``SW1A 1AA``).
* **dates and times**: ``2026-11-01``, ``2026-11-01T14:30:00Z``, ``01.11.2026``,
  ``11/01/2026``, ``01.11.26``, ``14:30``. A date written without separators
  (``20261101``) cannot be told from an 8-digit phone number and *is* redacted.
* **percentages**: ``12,5 %``.

Known limits: a tracking number of digits only (``9400 1000 0000 0000 0000 00``) looks
like phone numbers and is redacted unless labelled; a phone number glued to a word
(``tel0701234567``, ``0701234567-ext12``) reads as an identifier and is kept.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import threading
from collections.abc import Callable

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cxpipe.privacy import free_text
from cxpipe.privacy.free_text import (
    find_addresses,
    find_disguised_contacts,
    find_names,
    has_at_cue,
    may_hold_a_name,
)

PII_KINDS = ("email", "card", "phone", "name", "address")
REDACTION_TOKENS = {
    "email": "[EMAIL]",
    "card": "[CARD]",
    "phone": "[PHONE]",
    "name": "[NAME]",
    "address": "[ADDRESS]",
}

#: Scripts written without spaces between words (CJK, kana, Hangul, full-width forms):
#: a number right after such text is not glued to a word.
_CJK = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
#: A letter or digit of a script that separates words by spaces: a number touching one is
#: part of a word (an identifier), not a phone or card number.
_ALNUM = rf"[^\W_{_CJK}]"
_LETTER = rf"[^\W\d_{_CJK}]"

# letters of any script in the domain (åsa@exempel.se, user@例子.中国), a dotted domain
EMAIL = re.compile(rf"(?<![^\W{_CJK}])(?<![.%+-])(?:{_ALNUM}|[.%+_-])+@[\w-]+(?:\.[\w-]+)+")
#: 13-19 digits, unbroken or in the groups cards are printed in; not part of a longer chain of digit groups.
CARD = re.compile(
    rf"(?<!{_ALNUM})(?<![+.,)])(?<![\d)][ -])"
    r"(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{3})?|\d{4}([ -])\d{6}\2\d{4,5})"
    rf"(?![ -]?\d)(?![.,]\d)(?!{_ALNUM})"
)
#: A run of digit groups that may be a phone number: an optional ``+`` or ``(``, digits, separators,
#: and an extension (``x123``, ``ext. 12``, ``доб. 12``).
PHONE = re.compile(
    rf"(?<!{_ALNUM})(?<!\d[.,])(?P<number>(?:\+|\(\+?)?\d(?:[\d().\-/ \u00a0+]*\d)?)"
    rf"(?P<extension>(?i:[ \u00a0]?(?:x|ext\.?|доб\.?)[ \u00a0]?)\d{{1,6}}(?!{_ALNUM}))?(?!\d)(?![.,]\d)"
)
#: A phone number's extension glued to it (``0743x9150``) is not an identifier.
_EXTENSION = re.compile(r"(?:\d+[-_])*\d+x\d{1,6}", re.IGNORECASE)

_SP = "[ \u00a0\u202f]"  # the spaces numbers are written with (never a line break)
_Y4 = r"(?:19|20)\d{2}"
_M = r"(?:0?[1-9]|1[0-2])"
_D = r"(?:0?[1-9]|[12]\d|3[01])"
_TIME = r"(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:[.,]\d+)?)?"
_AT_TIME = rf"(?:[T ]{_TIME}(?:Z|[+-]\d{{2}}:?\d{{2}})?)?"
#: Numbers are "standalone" when not part of a longer chain of digit groups (``+7 912 12-11-20``).
_ALONE_BEFORE = rf"(?<!{_ALNUM})(?<![+.,)])(?<![\d)][ .\-/])"
_ALONE_AFTER = rf"(?![ .\-/]?\d)(?!{_ALNUM})"
_NUMBER = r"(?:\d{1,3}(?:[ \u00a0\u202f.,']\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)"
_CURRENCY_BEFORE = r"(?:R\$|US\$|A\$|C\$|HK\$|[$€£¥₽₹₩₴₺]|(?:SEK|NOK|DKK|EUR|USD|GBP|CNY|RMB|RUB|BRL|JPY|CHF|PLN)\b)"
_CURRENCY_AFTER = (
    rf"(?:[$€£¥₽₹₩₴₺元块]|:-|(?:kr|SEK|NOK|DKK|EUR|USD|GBP|CNY|RMB|RUB|BRL|JPY|CHF|PLN|руб\w*|р\.|"
    rf"euros?|dollars?|reais|yuan|kronor|kronen?)(?!{_LETTER}))"
)
_ID_LABEL = (
    r"(?:order|invoice|receipt|ticket|case|ref|reference|tracking|track|parcel|shipment|consignment|sku|"
    r"item|article|bestellung|bestellnummer|rechnung|rechnungsnummer|auftrag|auftragsnummer|sendung|"
    r"sendungsnummer|faktura|fakturanummer|kvitto|ärende|ärendenummer|ordernummer|kollinummer|"
    r"заказ\w*|накладн\w*|трек\w*|чек\w*|квитанц\w*|счет\w*|счёт\w*|pedido|nota fiscal|rastreio|"
    r"rastreamento|código)"
)
_ID_WORD = r"(?:number|no\.?|nr\.?|num\.?|id|code|номер|nummer)"
#: What precedes a number that is an identifier: ``order``, ``invoice no.``, ``заказ №``, ``订单号：``, ``#``.
_ID_LABEL_BEFORE = re.compile(
    rf"(?:(?i:(?<!{_LETTER}){_ID_LABEL}(?:{_SP}*{_ID_WORD})?{_SP}*[:#№]?{_SP}*)|[#№]{_SP}?"
    rf"|(?:订单|单号|运单|快递单|发票|工单|编号)号?[:：#]?{_SP}*)$"
)

#: What is deliberately not PII (module docstring), recognised before phone numbers are looked for.
NOT_PII: dict[str, re.Pattern[str]] = {
    "identifier": re.compile(rf"(?<!{_ALNUM})(?<![-_]){_ALNUM}+(?:[-_]{_ALNUM}+)*"),  # kept if letters + digits
    # a number right after an order/invoice/tracking/... label (_ID_LABEL_BEFORE)
    "labelled_identifier": re.compile(rf"(?<!{_ALNUM})\d+(?:[-/]\d+)*(?!{_ALNUM})"),
    "amount": re.compile(
        rf"(?<!{_ALNUM})(?<!\+)(?:{_CURRENCY_BEFORE}{_SP}?{_NUMBER}(?![.,]?\d)"
        rf"|(?<![.,]){_NUMBER}{_SP}?{_CURRENCY_AFTER}"
        rf"|{_ALONE_BEFORE}(?:[1-9]\d{{0,2}}(?:([ \u00a0\u202f.,'])\d{{3}})(?:\1\d{{3}})*|0|[1-9]\d*)[.,]\d{{1,2}}"
        rf"(?![.,]?\d)(?!{_ALNUM}))"
    ),
    "percentage": re.compile(rf"(?<!{_ALNUM})\d+(?:[.,]\d+)?{_SP}?%"),
    "postal_code": re.compile(
        rf"(?i:(?<!{_LETTER})(?:zip|zip{_SP}?code|postcode|post{_SP}?code|postal{_SP}?code|plz|postnummer|"
        rf"postnr\.?|cep|почтовый{_SP}индекс|индекс)(?!{_LETTER})[:.]?{_SP}*|(?:邮编|邮政编码)[:：]?{_SP}*|〒{_SP}?)"
        rf"\d{{3,5}}(?:[ -]?\d{{3,4}})?(?!{_ALNUM})"
        rf"|{_ALONE_BEFORE}\d{{5}}-\d{{3,4}}{_ALONE_AFTER}"
    ),
    "date": re.compile(
        rf"(?<!{_ALNUM})(?<![+.,])(?<!\d[.\-/])"
        rf"(?:{_Y4}([-/.]){_M}\1{_D}{_AT_TIME}|{_D}([-/.]){_M}\2{_Y4}{_AT_TIME}|{_M}([-/.]){_D}\3{_Y4}{_AT_TIME})"
        rf"(?![.\-/]\d)(?!{_ALNUM})"
        rf"|{_ALONE_BEFORE}{_D}([./]){_M}\4\d{{2}}{_ALONE_AFTER}"
    ),
    "time": re.compile(rf"(?<![\d:]){_TIME}(?![\d:])"),
}

#: What every text holding PII has at least one of (a lower-case text without digits holds none).
_MAY_HOLD_PII = re.compile(r"[@\d\u4e00-\u9fffA-ZÀ-ÞА-ЯЁ]|(?i:\bat\b)")
#: What every text holding an e-mail address, a card, phone number or street address has (``@``, an ``at``
#: word, a digit); names have a capitalised word or a Chinese cue. find_pii stops at once without either.
_CONTACT_CUES = re.compile(r"[@\d]")
#: Fewer digits than this: no phone or card number in the text.
_MIN_DIGITS = 7
_MAX_PHONE_DIGITS = 15
_GROUPS = re.compile(r"\d+")

Span = tuple[int, int]


def _per_distinct(values: pd.Series, one: Callable[[object], object]) -> pd.Series:
    """``values.map(one).astype("string")``, with ``one`` called once per distinct value (missing
    values are passed through as missing): columns repeat their values, a redaction costs far more
    than a lookup."""
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    # a list of Python values first: iterating an Arrow-backed array builds each value on its own
    done = np.array([one(value) for value in distinct.tolist()], dtype=object)
    out = np.full(len(values), None, dtype=object)
    found = codes >= 0
    out[found] = done[codes[found]]
    return pd.Series(out, index=values.index, name=values.name).astype("string")


def _string_array(values: pd.Series) -> tuple[pd.Series, pa.Array]:
    """``values`` as a pandas string Series and as one Arrow string array (missing values stay missing)."""
    text = values if isinstance(values.dtype, pd.StringDtype) else values.astype("string")
    array = pa.array(text.array)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return text, pc.cast(array, pa.string())


def _string_series(array: pa.Array, like: pd.Series) -> pd.Series:
    """An Arrow string array as a pandas string Series with ``like``'s index and name."""
    return pd.Series(pd.arrays.ArrowStringArray(array), index=like.index, name=like.name, dtype="string")


#: What Python's ``str.strip`` removes from ASCII text (``\s``: ``\t\n\v\f\r``, the separators U+001C-U+001F, space).
_ASCII_BLANKS = "".join(chr(i) for i in range(128) if chr(i).isspace())
#: SHA-256's block size: an HMAC key is padded (or first hashed) to it.
_SHA256_BLOCK = 64
#: HMAC-SHA256 (RFC 2104) of each binary value ``v`` given the padded key's inner and outer blocks,
#: as the first 24 hex characters: DuckDB's SHA-256 over the whole column in one statement.
_HMAC_SQL = "SELECT left(sha256($outer || unhex(sha256($inner || v))), 24) AS h FROM t"


#: One DuckDB connection per thread (and per process: a forked child opens its own) for the hashes: opening
#: one costs about as much as hashing a few thousand values, and a load hashes one column at a time.
_CONNECTIONS = threading.local()


def _connection() -> duckdb.DuckDBPyConnection:
    held: tuple[int, duckdb.DuckDBPyConnection] | None = getattr(_CONNECTIONS, "held", None)
    if held is None or held[0] != os.getpid():
        held = (os.getpid(), duckdb.connect(config={"threads": 1}))  # one thread: more would add CPU, not save it
        _CONNECTIONS.held = held
    return held[1]


def _hmac_column(normalised: pa.Array, secret: bytes) -> pa.Array:
    """``hmac.digest(secret, value.encode(), "sha256")[:12].hex()`` of each string of ``normalised``."""
    key = hashlib.sha256(secret).digest() if len(secret) > _SHA256_BLOCK else secret
    key = key.ljust(_SHA256_BLOCK, b"\0")
    inner = bytes(b ^ 0x36 for b in key)
    outer = bytes(b ^ 0x5C for b in key)
    t = pa.table({"v": pc.cast(normalised, pa.binary())})  # the UTF-8 bytes as they are (no escapes read)
    con = _connection()
    con.register("t", t)
    try:
        hashed = con.sql(_HMAC_SQL, params={"inner": inner, "outer": outer}).to_arrow_table()
    finally:
        con.unregister("t")
    return pc.cast(hashed.column("h").combine_chunks(), pa.string())


def pseudonymise(values: pd.Series, key: str) -> pd.Series:
    """Replace each non-empty value by a keyed hash (HMAC-SHA256, 24 hex chars).

    Values are trimmed and lower-cased first, so ``A@X.com `` and ``a@x.com`` agree. Each
    distinct value is hashed once, all of a column's in one DuckDB statement (its SHA-256; the
    HMAC construction of RFC 2104 around it).
    """
    _, array = _string_array(values)
    return _string_series(pseudonymise_array(array, key), values)


def pseudonymise_array(values: pa.Array | pa.ChunkedArray, key: str) -> pa.Array:
    """:func:`pseudonymise` of an Arrow string column (missing values stay missing), as a ``string`` array."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    encoded = pc.dictionary_encode(pc.cast(values, pa.string()))  # missing values stay missing
    hashed = _pseudonyms(encoded.dictionary, key.encode())
    return pc.take(hashed, encoded.indices)


def _pseudonyms(distinct: pa.Array, secret: bytes) -> pa.Array:
    """The pseudonym of each value of ``distinct`` (no missing values): missing for ``""``; else the HMAC of
    the value trimmed and lower-cased as Python does (by Arrow for ASCII values, where the two agree)."""
    other = pc.invert(pc.string_is_ascii(distinct))
    normalised = pc.ascii_lower(pc.utf8_trim(distinct, characters=_ASCII_BLANKS))
    if pc.any(other).as_py():
        fixed = [value.strip().lower() for value in distinct.filter(other).to_pylist()]
        normalised = pc.replace_with_mask(normalised, other, pa.array(fixed, pa.string()))
    hashed = _hmac_column(normalised, secret) if len(distinct) else pa.array([], pa.string())
    return pc.if_else(pc.equal(distinct, ""), pa.scalar(None, pa.string()), hashed)


def luhn_valid(digits: str) -> bool:
    """The Luhn check every payment-card number passes (``4111111111111111``)."""
    total = 0
    for position, ch in enumerate(reversed(digits)):
        value = int(ch)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _mask(text: str, spans: list[Span]) -> str:
    """``text`` with ``spans`` blanked out (same length, so offsets stay valid; blanks glue to nothing)."""
    if not spans:
        return text
    chars = list(text)
    for start, end in spans:
        chars[start:end] = "\0" * (end - start)
    return "".join(chars)


def _valid_gap(gap: str) -> bool:
    """Whether the characters between two digit groups may sit inside one phone number."""
    return (
        len(gap) <= 3
        and "+" not in gap
        and sum(gap.count(c) for c in ".-/") <= 1
        and sum(gap.count(c) for c in "()") <= 1
        and "  " not in gap
    )


def _phone_pieces(candidate: str, offset: int) -> list[Span]:
    """The phone numbers in a run of digit groups: pieces of valid shape, split where one cannot continue."""
    groups = [(m.start(), m.end()) for m in _GROUPS.finditer(candidate)]
    pieces: list[list[Span]] = [[groups[0]]]
    counts = [groups[0][1] - groups[0][0]]  # digits per piece, kept as pieces grow (a long run stays linear)
    for previous, group in itertools.pairwise(groups):
        digits = counts[-1] + group[1] - group[0]
        if _valid_gap(candidate[previous[1] : group[0]]) and digits <= _MAX_PHONE_DIGITS:
            pieces[-1].append(group)
            counts[-1] = digits
        else:
            pieces.append([group])
            counts.append(group[1] - group[0])
    spans: list[Span] = []
    for piece, digits in zip(pieces, counts, strict=True):
        single = sum(1 for start, end in piece if end - start == 1)
        if not _MIN_DIGITS <= digits <= _MAX_PHONE_DIGITS or single > 2:
            continue
        start, end = piece[0][0], piece[-1][1]
        while start > 0 and candidate[start - 1] in "+(":  # the country code's + or the area code's (
            start -= 1
        spans.append((offset + start, offset + end))
    return spans


def _is_identifier(token: str) -> bool:
    """A word that mixes letters and digits (``BR123456789BR``), other than a phone extension."""
    return bool(re.search(_LETTER, token) and re.search(r"\d", token)) and not _EXTENSION.fullmatch(token)


def find_pii(text: str | None) -> list[tuple[str, Span]]:
    """Every e-mail address, payment-card number and phone number in ``text``, as ``(kind, (start, end))``.

    Kinds are ``email``, ``card`` and ``phone`` (:data:`PII_KINDS`); spans do not overlap and
    come in text order. What is and is not PII, and why: the module docstring.
    """
    if not text or not (_CONTACT_CUES.search(text) or may_hold_a_name(text) or has_at_cue(text)):
        return []  # most texts: nothing any kind below needs
    found: list[tuple[str, Span]] = [("email", m.span()) for m in EMAIL.finditer(text)] if "@" in text else []
    rest = _mask(text, [span for _, span in found])
    found += find_disguised_contacts(rest)
    rest = _mask(rest, [span for _, span in found])
    for kind, spans in (("address", find_addresses(rest)), ("name", find_names(rest))):
        found += [(kind, span) for span in spans]
        rest = _mask(rest, spans)
    if sum(map(str.isdigit, rest)) < _MIN_DIGITS:  # too few digits for a phone or card number
        return sorted(found, key=lambda item: item[1])
    cards: list[Span] = []
    kept: list[Span] = []  # what is not PII, blanked out before phone numbers are looked for
    for m in CARD.finditer(rest):
        digits = re.sub(r"\D", "", m.group())
        if luhn_valid(digits):
            cards.append(m.span())
        elif len(digits) > _MAX_PHONE_DIGITS or len(digits) < len(m.group()):
            kept.append(m.span())  # card-shaped but no card number (a gift card, a typo): not a phone either
    found += [("card", span) for span in cards]
    rest = _mask(rest, cards)
    for name, pattern in NOT_PII.items():
        for m in pattern.finditer(rest):
            if name == "identifier" and not _is_identifier(m.group()):
                continue
            if name == "labelled_identifier" and (
                sum(map(str.isdigit, m.group())) < _MIN_DIGITS  # could not be a phone number anyway
                or not _ID_LABEL_BEFORE.search(rest, max(0, m.start() - 40), m.start())
            ):
                continue
            kept.append(m.span())
    rest = _mask(rest, kept)
    for m in PHONE.finditer(rest):
        pieces = _phone_pieces(m.group("number"), m.start())
        if pieces and m.group("extension") and pieces[-1][1] == m.end("number"):
            pieces[-1] = (pieces[-1][0], m.end())  # the extension belongs to the last number
        found += [("phone", span) for span in pieces]
    return sorted(found, key=lambda item: item[1])


def pii_kinds(found: list[tuple[str, Span]]) -> list[str]:
    """The kinds in a :func:`find_pii` result, each once, in the order of :data:`PII_KINDS`."""
    kinds = {kind for kind, _ in found}
    return [kind for kind in PII_KINDS if kind in kinds]


def redact_pii(text: str | None) -> tuple[str, list[str]]:
    """``text`` with everything :func:`find_pii` finds replaced by its token (:data:`REDACTION_TOKENS`).

    Returns the redacted text and the kinds replaced (``email``, ``card``, ``phone``), each once,
    in that order. Replacing a span can change how its neighbours read (a number next to a
    phone number), so this repeats until :func:`find_pii` finds nothing: redacting a redacted
    text changes nothing, and :func:`find_pii` finds nothing in the result.
    """
    if not text:
        return text or "", []
    kinds: set[str] = set()
    found = find_pii(text)
    while found:
        kinds.update(kind for kind, _ in found)
        parts: list[str] = []
        position = 0
        for kind, (start, end) in found:
            parts += [text[position:start], REDACTION_TOKENS[kind]]
            position = end
        text = "".join(parts) + text[position:]
        found = find_pii(text)
    return text, [kind for kind in PII_KINDS if kind in kinds]


#: Not an ASCII letter, digit or underscore: wherever Python's ``\\w`` does not match, this does (and more).
_NOT_ASCII_WORD = "[^A-Za-z0-9_]"
#: For Arrow's RE2, over a whole column at once: what every text in which :func:`find_pii` finds anything
#: has (a superset of its own first test, per kind it looks for; a text without it is returned as it is).
#: Each alternative holds wherever the Python patterns need it, and may hold where they find nothing:
#:
#: * seven digits or more (cards, phone numbers, numbers spelled digit by digit), as ``\\p{N}``, every
#:   character Python counts as a digit and more;
#: * ``@`` before a dot, a bracket or ``dot`` (e-mail addresses, plain or disguised), or after a bracket;
#: * an ``at`` word (``at``, ``собака``, ``ät``, ``arroba``, ``chez``) between characters that are not ASCII
#:   word characters, in any case (disguised e-mail addresses);
#: * the street-address cues of :mod:`~cxpipe.privacy.free_text`, its digits as ``\\p{N}``, the Russian
#:   street words in any case;
#: * a title, an introduction (in any case), two capitalised words in a row, or a Chinese name cue (names).
_CANDIDATE = "|".join(
    (
        r"(?s:(?:\p{N}.*){7})",
        r"@[^\t\n\v\f\r ]*[ \x{a0}]*(?:[.(\[{<]|(?i:dot))",
        r"[(\[{<][ \x{a0}]*@",
        rf"(?i:(?:^|{_NOT_ASCII_WORD})(?:at|собака|ät|arroba|chez)(?:$|{_NOT_ASCII_WORD}))",
        free_text.ADDRESS_CUE.pattern.replace(r"\d", r"\p{N}").replace(r"\u00a0", r"\x{a0}"),
        f"(?i:{free_text.ADDRESS_CUE_LOWER.pattern})",
        free_text.TITLE_CUE.pattern.replace(r"\u00a0", r"\x{a0}"),
        f"(?i:{free_text.INTRODUCTION_CUE.pattern})",
        rf"{free_text.CAP}[ \x{{a0}}]+[{free_text.UPPER}][{free_text.LOWER}]",
        free_text.ZH_CUE.pattern,
    )
)


def may_hold_contact_details(values: pa.Array) -> np.ndarray:
    """Which texts of ``values`` may hold something :func:`find_pii` finds (:data:`_CANDIDATE`, by Arrow's
    RE2 over the whole column); the others hold nothing to redact. Missing values are no candidates."""
    found = pc.match_substring_regex(values, _CANDIDATE)
    return np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), dtype=bool)


def mask_contact_details(values: pd.Series) -> pd.Series:
    """:func:`redact_pii` applied to each text of a free-text column (missing values stay missing),
    once per distinct text.

    Only the texts :func:`may_hold_contact_details` picks out of the column (one pass of Arrow's RE2) go
    through the patterns; the others are returned as they are. Of those, texts without ``@``, digits,
    capital letters, Chinese characters or the word ``at`` are returned as they are too.
    """
    _, array = _string_array(values)
    return _string_series(mask_contact_details_array(array), values)


def mask_contact_details_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """:func:`mask_contact_details` of an Arrow string column (missing values stay missing), as a ``string`` array."""

    def one(value: object) -> object:
        if not isinstance(value, str) or not value:
            return value
        if not _MAY_HOLD_PII.search(value):
            return value
        return redact_pii(value)[0]

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    array = pc.cast(values, pa.string())
    candidates = may_hold_contact_details(array)
    if candidates.any():
        chosen = array.filter(pa.array(candidates))
        redacted = _per_distinct(pd.Series(pd.arrays.ArrowStringArray(chosen), dtype="string"), one)
        replacements = pc.cast(pa.array(redacted.array), pa.string())
        array = pc.replace_with_mask(array, pa.array(candidates), replacements)
    return array
