"""The shape of a source contract in Python: :class:`Contract` of :class:`Entity` of :class:`Column`.

The contract itself is data (``dbt_project/contracts/sources.yml``, read by
:mod:`cxpipe.contracts.contract_file`); these classes are what the rest of cxpipe
works with.

A string column's values are checked one of three ways:

* ``allowed``: a *closed* list; any other value sends its row to quarantine;
* ``known``: an *open* list the business owns (statuses, channels, categories…); any
  non-empty value loads, values outside the list are counted in the load audit;
* ``standard``: a code list a standard defines (ISO 4217 currencies, ISO 3166-1
  alpha-2 countries); values are upper-cased, anything else is quarantined.
  ``allowed`` then narrows the standard's codes, ``allowed_extra`` adds codes to them.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["string", "integer", "number", "timestamp", "date", "boolean"]
FileFormat = Literal["csv", "jsonl"]
Standard = Literal["iso4217", "iso3166-1-alpha-2"]

#: What each code standard is called in quarantine reasons and documentation.
STANDARDS: dict[str, str] = {
    "iso4217": "ISO 4217 currency code",
    "iso3166-1-alpha-2": "ISO 3166-1 alpha-2 country code",
}


@functools.cache
def standard_codes(standard: str) -> frozenset[str]:
    """Every code of ``standard`` (``iso4217`` or ``iso3166-1-alpha-2``), from pycountry."""
    import pycountry  # loads its databases; only ingest and contract overrides need them

    if standard == "iso4217":
        return frozenset(c.alpha_3 for c in pycountry.currencies)
    if standard == "iso3166-1-alpha-2":
        return frozenset(c.alpha_2 for c in pycountry.countries)
    raise ValueError(f"unknown code standard {standard!r}; expected one of {', '.join(STANDARDS)}")


#: Country names real exports use that ISO 3166 does not list under that spelling.
COUNTRY_ALIASES: dict[str, str] = {
    "UK": "GB",
    "GREAT BRITAIN": "GB",
    "ENGLAND": "GB",
    "SCOTLAND": "GB",
    "WALES": "GB",
    "NORTHERN IRELAND": "GB",
    "EIRE": "IE",
    "RUSSIA": "RU",
    "RSA": "ZA",
    "KOREA": "KR",
    "SOUTH KOREA": "KR",
    "BRASIL": "BR",
    "DEUTSCHLAND": "DE",
    "HOLLAND": "NL",
    "USA": "US",
    "U.S.A.": "US",
    "UAE": "AE",
}


@functools.cache
def country_code(value: str) -> str | None:
    """The ISO 3166-1 alpha-2 code of a country given as alpha-2, alpha-3, numeric code or English
    name (``United Kingdom``, ``EIRE``, ``GBR`` → ``GB``); None when no country has that name."""
    import pycountry

    text = value.strip()
    if alias := COUNTRY_ALIASES.get(text.upper()):
        return alias
    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        return None


#: Days before the load date a timestamp or date may lie unless the contract says otherwise (about 100 years).
DAYS_BEFORE_LOAD = 36525
#: Days after the load date a timestamp or date may lie unless the contract says otherwise: a local
#: time late on the load date west of UTC is the next day in UTC.
DAYS_AFTER_LOAD = 1


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    required: bool = True
    description: str = ""
    #: A closed list: other values are quarantined (for a ``standard`` column: the codes it narrows to).
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    #: PII is replaced by a keyed hash before it reaches the lake.
    pii: bool = False
    #: Free text written by customers: e-mail addresses and phone numbers in it are masked.
    free_text: bool = False
    #: An open list the business owns: other non-empty values load and are counted in the load audit.
    known: tuple[str, ...] | None = None
    #: Values are codes of this standard, upper-cased at ingest; other values are quarantined.
    standard: Standard | None = None
    #: Codes a ``standard`` column accepts besides the standard's own (e.g. ``XK``).
    allowed_extra: tuple[str, ...] = ()
    #: Timestamps and dates: values more than this many days before the load date are quarantined.
    days_before_load: int = DAYS_BEFORE_LOAD
    #: Timestamps and dates: values more than this many days after the load date are quarantined.
    days_after_load: int = DAYS_AFTER_LOAD
    #: Other names the column has in the exports (a CSV header's, a JSON key), read as this column.
    aliases: tuple[str, ...] = ()
    #: The value of a row that has none for this column (an empty value, or a file without the column): a
    #: constant of the whole source, such as the platform of a review export. Checked as any value.
    default: str | None = None
    #: Timestamps: the column of the same entity this one may not be earlier than (a ticket is resolved after it
    #: was created); a row where it is earlier is quarantined, as every duration computed from the two would be
    #: negative.
    not_before: str | None = None

    @property
    def is_open(self) -> bool:
        """Any non-empty value loads; values outside :attr:`known` are counted."""
        return self.known is not None


#: A plain decimal number (ASCII digits: Python's ``\d`` would take any Unicode digit); an integer (``12`` or
#: ``12.0``). What ingest reads as a number or integer, and what a column's default must be.
NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?"
INTEGER = r"[+-]?[0-9]+(?:\.0*)?"
#: Timestamp formats that are counts since 1970-01-01 00:00 UTC (Unix time), not strptime formats: the name
#: -> the unit counted. Their values are in UTC whatever the source's time zone.
EPOCH_FORMATS = {"unix_seconds": "s", "unix_milliseconds": "ms"}


@dataclass(frozen=True)
class Entity:
    source: str
    name: str
    file_format: FileFormat
    key: str
    columns: tuple[Column, ...]
    description: str = ""
    #: The column that says when the row's event happened; rows older than their landing
    #: date are counted as late in the load audit (they are loaded all the same).
    event_column: str | None = None
    #: The landing file's name; empty: ``<name>.<file_format>``.
    file: str = ""
    #: A missing file is loaded as empty, whatever the source's missing-file policy.
    optional: bool = False
    #: IANA time zone of the source's timestamps without an offset (converted to UTC at ingest).
    timezone: str = "UTC"
    #: strptime formats accepted besides ISO 8601 (nothing is guessed), or a name of :data:`EPOCH_FORMATS`; two
    #: that read a value differently: ambiguous.
    timestamp_formats: tuple[str, ...] = ()
    #: Values read as missing in every column (``NULL``, ``\\N``: how a database export writes a null), compared
    #: after trimming; none unless the source declares them, as any such word may be a value elsewhere.
    null_values: tuple[str, ...] = ()
    #: What separates a CSV file's fields: ``,`` (default), ``;``, a tab or ``|``.
    delimiter: str = ","
    #: What separates a number's whole part from its fraction in CSV files: ``.`` (default) or ``,`` (``12,50``). With
    #: ``,`` a number holding a ``.`` is not read (it may be a thousands separator); a CSV file separated
    #: by commas then needs such numbers in quotes.
    decimal_mark: str = "."
    #: What groups a number's digits by thousands in CSV files (``1,234.50``; ``1.234,50`` with the decimal comma;
    #: ``1 234,50``, where a blank also stands for the no-break spaces; ``1'234.50``): none by default. Digits
    #: grouped otherwise (``12,34,567``) are not read.
    thousands_separator: str | None = None

    @property
    def file_name(self) -> str:
        return self.file or f"{self.name}.{self.file_format}"

    @property
    def file_stem(self) -> str:
        """The file name without ``.<format>``: extra parts are ``<stem>.<anything>.<format>``."""
        return self.file_name.removesuffix(f".{self.file_format}")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def names_in_files(self) -> dict[str, str]:
        """Each name a column may have in a file (its own, its aliases) -> the column."""
        names = {c.name: c.name for c in self.columns}
        names.update({alias: c.name for c in self.columns for alias in c.aliases})
        return names

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.source}.{self.name} has no column {name!r}")


@dataclass(frozen=True)
class Contract:
    """Every source and its entities, as read from a contract file (and any overrides)."""

    entities: tuple[Entity, ...]
    #: (source, description) in the contract's order.
    source_descriptions: tuple[tuple[str, str], ...]
    #: The file(s) it was read from, for messages.
    origin: str = ""

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(source for source, _ in self.source_descriptions)

    def description(self, source: str) -> str:
        return dict(self.source_descriptions)[source]

    def entities_of(self, source: str) -> Sequence[Entity]:
        """The entities one source delivers; raises for an unknown source."""
        found = [e for e in self.entities if e.source == source]
        if not found:
            raise ValueError(f"unknown source {source!r}; expected one of {', '.join(self.sources)}")
        return found

    def entity(self, source: str, name: str) -> Entity:
        for entity in self.entities_of(source):
            if entity.name == name:
                return entity
        known = ", ".join(e.name for e in self.entities_of(source))
        raise KeyError(f"source {source!r} has no entity {name!r}; expected one of {known}")


@dataclass
class ContractError(Exception):
    """A landing file breaks its contract so badly that no row can be loaded,
    or a contract file is malformed (``location``: where inside it)."""

    path: str
    message: str
    hint: str = field(default="")
    #: Where in the file: a dotted path such as ``sources.sales.entities.orders.key``, or a line.
    location: str = field(default="")

    def __str__(self) -> str:
        where = f"{self.path}: {self.location}" if self.location else self.path
        text = f"{where}: {self.message}"
        return f"{text}. {self.hint}" if self.hint else text
