"""``cxpipe check``: what ingest would make of a folder of exports, without writing anything.

Files are read exactly as ingest reads them (:func:`~cxpipe.ingest.landing.read_file`:
declared or detected encoding, CSV / JSON Lines with physical line numbers) and
validated by the same code (:func:`~cxpipe.ingest.validation.validate`,
:func:`~cxpipe.ingest.validation.deduplicate`) against the run's contract
(:func:`~cxpipe.ingest.contract.load_contract`, ``CX_CONTRACT_OVERRIDES`` merged). The
report says, per file, how many rows would load and why the others would be
quarantined (reason counts and the first line numbers, never row content: rows may
hold personal data), which required columns or files are missing (blockers), which
columns are extra (drift) and the encoding used; per open-list column, the values
the dbt mapping seeds do not map, each with a suggested seed row.

Nothing is written: no lake, no quarantine, no audit.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from cxpipe.contracts import ContractError, Entity
from cxpipe.ingest.contract import load_contract
from cxpipe.ingest.landing import INTERNAL_COLUMNS, entity_files, format_hint, missing_columns, read_file
from cxpipe.ingest.load import drift_columns
from cxpipe.ingest.parsing import name_key
from cxpipe.ingest.validation import (
    COUNTRY,
    THOUSANDS_SEPARATORS,
    deduplicate,
    grouped_number,
    unknown_values,
    validate,
)
from cxpipe.privacy import mask_contact_details
from cxpipe.settings import Settings

#: Line numbers shown per quarantine reason and file.
LINES_SHOWN = 5
#: Unmapped values shown per column (the most frequent); the rest are counted.
VALUES_SHOWN = 20
#: How close (difflib ratio) a value must be to a seed's value for a suggestion.
CLOSENESS = 0.8

#: Which seed maps an open-list column in the staging models: (source, entity, column) -> seed.
#: Country columns are joined to ``country_regions`` (see :data:`COUNTRY_SEED`).
MAPPING_SEEDS: dict[tuple[str, str, str], str] = {
    ("sales", "orders", "status"): "order_status_map",
    ("sales", "orders", "channel"): "sales_channel_map",
    ("sales", "returns", "return_channel"): "sales_channel_map",
    ("sales", "order_lines", "category"): "category_map",
    ("surveys", "responses", "channel"): "sales_channel_map",
    ("crm", "tickets", "channel"): "ticket_channel_map",
}
COUNTRY_SEED = "country_regions"
RATES_SEED = "exchange_rates"


# ------------------------------------------------------------------ the report


@dataclass
class Reason:
    """One kind of quarantine reason in one file: how many rows and their first lines."""

    reason: str
    count: int = 0
    lines: list[int] = field(default_factory=list)


@dataclass
class FileCheck:
    file: str
    encoding: str = ""
    rows: int = 0
    would_load: int = 0
    quarantined: int = 0
    reasons: list[Reason] = field(default_factory=list)
    drift_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    #: Why the file cannot be read at all (a malformed header, an unreadable file).
    error: str = ""


@dataclass
class Unmapped:
    """A loaded value of an open-list column that the dbt mapping does not map."""

    column: str
    value: str
    count: int
    #: The seed file to add the row to, or empty when no seed maps the column.
    seed: str = ""
    #: The seed's header (the format of :attr:`suggestion`).
    seed_header: str = ""
    #: A seed row in the seed's CSV format (canonical value blank when none is obvious),
    #: or, without a seed, the contract override that makes the value known.
    suggestion: str = ""
    #: The canonical value (or country code) the value probably means, when one is close.
    closest: str = ""


@dataclass
class EntityCheck:
    source: str
    entity: str
    #: The landing date (empty when the folder holds one date's files directly).
    date: str
    folder: str
    #: ``checked``, ``no_file`` (a blocker unless skipped) or ``optional`` (no file, loads as empty).
    status: str = "checked"
    files: list[FileCheck] = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)
    #: Per column, how many more unmapped values than shown.
    more_unmapped: dict[str, int] = field(default_factory=dict)
    #: Currencies of loaded rows without an exchange rate to the reporting currency: {code: rows}. Rows dated
    #: before a currency's first rate have none either (the rate used is the latest on or before the date).
    currencies_without_rate: dict[str, int] = field(default_factory=dict)
    #: Of those, the currencies whose rates start after some rows' dates: {code: first rate_date}.
    rates_start_after: dict[str, str] = field(default_factory=dict)
    blockers: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class CheckReport:
    folder: str
    contract: str
    reporting_currency: str
    entities: list[EntityCheck] = field(default_factory=list)
    #: Problems outside any entity (a source without files); entity blockers are in :attr:`blockers`.
    folder_blockers: list[str] = field(default_factory=list)
    folder_warnings: list[str] = field(default_factory=list)

    @property
    def blockers(self) -> list[str]:
        return self.folder_blockers + [b for e in self.entities for b in e.blockers]

    @property
    def warnings(self) -> list[str]:
        return self.folder_warnings + [w for e in self.entities for w in e.warnings]

    @property
    def files(self) -> list[FileCheck]:
        return [f for e in self.entities for f in e.files]

    @property
    def exit_code(self) -> int:
        return 1 if self.blockers else 0

    def totals(self) -> dict[str, int]:
        files = self.files
        return {
            "files": len(files),
            "rows": sum(f.rows for f in files),
            "would_load": sum(f.would_load for f in files),
            "quarantined": sum(f.quarantined for f in files),
            "unmapped_values": sum(len(e.unmapped) + sum(e.more_unmapped.values()) for e in self.entities),
            "blockers": len(self.blockers),
            "warnings": len(self.warnings),
        }

    def summary(self) -> str:
        t = self.totals()
        dates = sorted({e.date for e in self.entities if e.date})
        where = f"{len({e.source for e in self.entities})} source(s)" + (f", {len(dates)} date(s)" if dates else "")
        line = (
            f"{where}, {t['files']} file(s), {t['rows']:,} rows: {t['would_load']:,} would load, "
            f"{t['quarantined']:,} would be quarantined; {t['unmapped_values']} unmapped value(s), "
            f"{t['warnings']} warning(s)"
        )
        if self.blockers:
            return f"BLOCKED: {line}; {t['blockers']} blocker(s) must be fixed before ingest can load this (exit 1)"
        return f"OK: {line}; everything can load (exit 0)"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            blockers=self.blockers,
            warnings=self.warnings,
            totals=self.totals(),
            summary=self.summary(),
            exit_code=self.exit_code,
        )
        return data


# ------------------------------------------------------------------ quarantine reasons without row content

_LINE = re.compile(r"^lines? \d+")
_UNDECODABLE = re.compile(r"^line \d+, (?P<column>[^:]+): bytes that are not valid (?P<encoding>[^;\s]+)")
_FIELDS = re.compile(r"expected \d+ fields as in the header, found \d+")
_CHARACTER = re.compile(r"^line \d+, (?P<column>[^:]+): (?P<kind>control|private-use) character U\+[0-9A-F]+")
_BOUND = re.compile(r"(?:below|above) -?[\d.e+]+")
_AS_TYPE = re.compile(r" as (?P<type>\w+)$")


def _split_reasons(text: str, columns: frozenset[str]) -> list[str]:
    """A row's ``; ``-joined reasons, one by one (a reason's own ``; …`` hint stays with it)."""
    reasons: list[str] = []
    for part in text.split("; "):
        starts = _LINE.match(part) is not None or part.split(":", 1)[0] in columns
        if reasons and not starts:
            reasons[-1] += "; " + part
        else:
            reasons.append(part)
    return reasons


def reason_kind(reason: str, entity: Entity) -> str:
    """The kind of a quarantine reason, without the value it quotes (values may be personal data).

    Only the reason templates of :mod:`~cxpipe.ingest.parsing` and
    :mod:`~cxpipe.ingest.validation` are kept word for word; whatever else a reason says
    is reduced to its column.
    """
    undecodable = _UNDECODABLE.match(reason)
    if undecodable:
        return f"{undecodable['column']}: bytes that are not valid {undecodable['encoding']}"
    character = _CHARACTER.match(reason)
    if character:
        if character["kind"] == "control":
            return f"{character['column']}: control character (not allowed in this column)"
        return f"{character['column']}: private-use character U+F700-U+F7FF (stands for an undecodable byte)"
    if _LINE.match(reason):
        fields = _FIELDS.search(reason)
        if fields:
            return fields.group()
        if "a quote opened here does not close" in reason:
            return "a quote does not close (the lines up to the next quote are set aside)"
        if "malformed JSON" in reason:
            return "malformed JSON"
        if "cannot parse CSV" in reason:
            return "cannot parse CSV"
        return "unreadable record"
    name, _, rest = reason.partition(": ")
    if name not in entity.column_names:
        return "other problem"
    column = entity.column(name)
    if rest == "required value is missing" or _BOUND.fullmatch(rest) or rest == f"before {column.not_before}":
        return reason
    if rest.startswith("duplicate key"):
        return f"{name}: duplicate key (a later row of the date has the same key)"
    if rest.startswith("cannot read "):
        typed = _AS_TYPE.search(rest)
        return f"{name}: cannot read as {typed['type'] if typed else column.type}"
    if " is not an " in rest:
        return f"{name}: {rest[rest.rindex(' is not an ') + 1 :]}"
    if " not in " in rest and column.allowed is not None:
        return f"{name}: not in {', '.join(column.allowed)}"
    return f"{name}: invalid value"


def _reasons_by_file(entity: Entity, frame: pd.DataFrame, texts: pd.Series) -> dict[str, list[Reason]]:
    """Per file, each reason kind with its count and first line numbers (only quarantined rows are visited)."""
    columns = frozenset(entity.column_names)
    kinds_of: dict[str, list[str]] = {}
    found: dict[str, dict[str, Reason]] = {}
    bad = frame.loc[texts.index]
    for file, line, text in zip(bad["_source_file"], bad["_source_row"], texts, strict=True):
        kinds = kinds_of.get(text)
        if kinds is None:
            kinds = list(dict.fromkeys(reason_kind(r, entity) for r in _split_reasons(text, columns)))
            kinds_of[text] = kinds
        per_file = found.setdefault(file, {})
        for kind in kinds:
            reason = per_file.setdefault(kind, Reason(kind))
            reason.count += 1
            if len(reason.lines) < LINES_SHOWN:
                reason.lines.append(int(line))
    return {file: sorted(reasons.values(), key=lambda r: (-r.count, r.reason)) for file, reasons in found.items()}


# ------------------------------------------------------------------ mapping seeds


def mapping_key(value: str) -> str:
    """The dbt macro ``mapping_key``: lower case, trimmed, runs of blanks/underscores/hyphens as one blank."""
    return re.sub(r"[\s_-]+", " ", value.strip().lower())


def normalized_code(value: str) -> str:
    """The dbt macro ``normalized_code``: lower case, trimmed, blanks and hyphens as one underscore."""
    return re.sub(r"[\s-]+", "_", value.strip().lower())


def _plain(value: str) -> str:
    """For closeness only: the mapping key without accents."""
    decomposed = unicodedata.normalize("NFKD", mapping_key(value))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _csv_row(values: Sequence[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(values)
    return out.getvalue()


@dataclass
class Seed:
    name: str
    header: list[str]
    rows: list[dict[str, str]]

    @classmethod
    def read(cls, folder: Path, name: str) -> Seed | None:
        path = folder / f"{name}.csv"
        if not path.is_file():
            return None
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            return cls(name, list(reader.fieldnames or []), rows)


class MapSeed:
    """A mapping seed (``source_<x>,<x>[,…]``): the first column is matched by :func:`mapping_key`."""

    def __init__(self, seed: Seed) -> None:
        self.seed = seed
        self.source_column, self.canonical_column = seed.header[0], seed.header[1]
        self.by_key = {mapping_key(row[self.source_column]): row for row in seed.rows}
        self.by_plain: dict[str, dict[str, str]] = {}
        for row in seed.rows:
            self.by_plain.setdefault(_plain(row[self.source_column]), row)
            self.by_plain.setdefault(_plain(row[self.canonical_column]), row)

    def maps(self, value: str) -> bool:
        return mapping_key(value) in self.by_key

    def suggest(self, value: str) -> tuple[str, str]:
        """A seed row for ``value`` and the canonical value it got (blank when none is obvious)."""
        plain = _plain(value)
        row = self.by_plain.get(plain)
        if row is None:
            close = difflib.get_close_matches(plain, list(self.by_plain), n=1, cutoff=CLOSENESS)
            row = self.by_plain[close[0]] if close else None
        rest = [row[c] for c in self.seed.header[1:]] if row else [""] * (len(self.seed.header) - 1)
        return _csv_row([value, *rest]), (row[self.canonical_column] if row else "")


class CountrySeed:
    """``country_regions``: one row per ISO code, joined on the (upper-case) code."""

    _REGION_COLUMNS = ("region", "subregion", "intermediate_region", "un_region")

    def __init__(self, seed: Seed) -> None:
        self.seed = seed
        self.codes = {row["country"].upper() for row in seed.rows}
        self.by_name = {_plain(row.get("country_name", "")): row for row in seed.rows}

    def maps(self, value: str) -> bool:
        return value.upper() in self.codes

    def suggest(self, value: str) -> tuple[str, str]:
        """A row keyed by the value as given; its regions copied from the country it is closest to by name."""
        close = difflib.get_close_matches(_plain(value), list(self.by_name), n=1, cutoff=CLOSENESS)
        row = self.by_name[close[0]] if close else None
        values = {c: "" for c in self.seed.header}
        values["country"] = value
        if "country_name" in values:
            values["country_name"] = value
        if row is not None:
            values.update({c: row[c] for c in self._REGION_COLUMNS if c in row})
        return _csv_row([values[c] for c in self.seed.header]), (row["country"] if row else "")


# ------------------------------------------------------------------ checking


@dataclass
class _Seeds:
    folder: Path
    reporting_currency: str
    _cache: dict[str, Seed | None] = field(default_factory=dict)

    def get(self, name: str) -> Seed | None:
        if name not in self._cache:
            self._cache[name] = Seed.read(self.folder, name)
        return self._cache[name]

    def rated_currencies(self) -> dict[str, date] | None:
        """Each currency with a rate to the reporting currency, and the first date a rate applies from."""
        seed = self.get(RATES_SEED)
        if seed is None:
            return None
        first: dict[str, date] = {}
        for row in seed.rows:
            if row.get("reporting_currency", "").upper() != self.reporting_currency:
                continue
            try:
                start = date.fromisoformat(row.get("rate_date", "").strip())
            except ValueError:
                continue  # a row whose date does not read: dbt's seed test names it
            currency = row["currency"].upper()
            first[currency] = min(first.get(currency, start), start)
        first.pop(self.reporting_currency, None)  # the reporting currency needs no rate
        return first


def _shown(value: str) -> tuple[str, bool]:
    """The value as the report shows it: contact details masked (then no seed row is suggested)."""
    masked = str(mask_contact_details(pd.Series([value], dtype="string")).iloc[0])
    return masked, masked != value


def _unmapped_values(entity: Entity, typed: pd.DataFrame, good: pd.Series, seeds: _Seeds, check: EntityCheck) -> None:
    known_lists = unknown_values(entity, typed, good)  # open lists without a seed: what the audit would count
    for column in entity.columns:
        is_country = column.standard == COUNTRY and column.allowed is None
        if not (column.is_open or is_country):
            continue
        seed_name = COUNTRY_SEED if is_country else MAPPING_SEEDS.get((entity.source, entity.name, column.name), "")
        seed = seeds.get(seed_name) if seed_name else None
        mapper: MapSeed | CountrySeed | None = None
        if seed is not None:
            mapper = CountrySeed(seed) if is_country else MapSeed(seed)
            values = typed.loc[good, column.name].dropna().astype(str)
            counts = values.value_counts()
            pairs = [(str(v), int(n)) for v, n in counts.items() if not mapper.maps(str(v))]
        else:
            # no seed: staging keeps the value as a normalised code; unknown unless that code is known
            known = {normalized_code(k) for k in column.known or ()}
            pairs = [(v, n) for v, n in known_lists.get(column.name, {}).items() if normalized_code(v) not in known]
        pairs.sort(key=lambda item: (-item[1], item[0]))
        if len(pairs) > VALUES_SHOWN:
            check.more_unmapped[column.name] = len(pairs) - VALUES_SHOWN
        for value, count in pairs[:VALUES_SHOWN]:
            shown, masked = _shown(value)
            item = Unmapped(column.name, shown, count, seed=f"{seed_name}.csv" if mapper else "")
            if mapper is not None:
                item.seed_header = ",".join(mapper.seed.header)
                if not masked:
                    item.suggestion, item.closest = mapper.suggest(value)
            elif not masked:
                close = difflib.get_close_matches(normalized_code(value), list(column.known or ()), 1, CLOSENESS)
                item.closest = close[0] if close else ""
                item.suggestion = (
                    f"sources.{entity.source}.entities.{entity.name}.columns.{column.name}: "
                    f"{{allowed_add: [{_csv_row([value])}]}}"
                )
            check.unmapped.append(item)


def _currencies(entity: Entity, typed: pd.DataFrame, good: pd.Series, seeds: _Seeds, check: EntityCheck) -> None:
    """Count the rows the gate's money test would find without a rate: a currency without any, or a row dated
    (its event time's UTC date, as dbt's ``order_date``) before the currency's first ``rate_date``."""
    if "currency" not in entity.column_names:
        return
    first_rate = seeds.rated_currencies()
    if first_rate is None:
        return
    currency = typed.loc[good, "currency"].dropna().astype(str).str.upper()
    currency = currency[currency != seeds.reporting_currency]
    unrated = ~currency.isin(list(first_rate))
    if entity.event_column is not None and first_rate:
        dated = typed.loc[currency.index, entity.event_column]
        day = pd.to_datetime(dated, utc=True).dt.tz_localize(None).dt.normalize()
        starts = pd.to_datetime(currency.map({c: d.isoformat() for c, d in first_rate.items()}))
        early = day < starts
        unrated |= early
        check.rates_start_after = {c: first_rate[c].isoformat() for c in sorted(set(currency[early]))}
    missing = {str(c): int(n) for c, n in currency[unrated].value_counts().items()}
    if missing:
        check.currencies_without_rate = missing
        starts_late = "".join(
            f"; {c}'s first rate is from {d}, the rows dated before it have none"
            for c, d in check.rates_start_after.items()
        )
        check.warnings.append(
            f"{check.folder}/{entity.file_name}: no exchange rate to {seeds.reporting_currency} in seed "
            f"{RATES_SEED}.csv for {', '.join(sorted(missing))}{starts_late}; the gate's test "
            f"every_amount_has_an_exchange_rate would block publication (add rows "
            f"currency,rate_date,rate_to_reporting,{seeds.reporting_currency} from the first order date on)"
        )


def check_entity(
    settings: Settings, entity: Entity, folder: Path, shown_folder: str, day: str, seeds: _Seeds
) -> EntityCheck:
    """Check one entity's files in one date's ``folder`` as ingest would read and validate them."""
    check = EntityCheck(entity.source, entity.name, day, shown_folder)
    paths = entity_files(folder, entity)
    if not paths:
        check.status = "optional" if entity.optional else "no_file"
        policy = settings.ingest.missing_file_policy_for(entity.source)
        where = f"{shown_folder}/{entity.file_name}"
        if entity.optional:
            check.warnings.append(f"{where}: no file; the entity is optional and would load as empty")
        elif policy == "skip":
            check.warnings.append(f"{where}: no file; skipped (CX_MISSING_FILE_POLICY: skip)")
        else:
            check.blockers.append(f"{where}: missing; ingest of {entity.source} would fail (policy {policy})")
        return check
    declared = settings.ingest.encoding_for(entity.source, entity.name)
    frames: list[pd.DataFrame] = []
    encodings: list[str] = []
    lossy = False
    by_name: dict[str, FileCheck] = {}
    for path in paths:
        report = FileCheck(f"{shown_folder}/{path.name}")
        check.files.append(report)
        try:
            frame, encoding, undecodable = read_file(entity, path, declared)
        except ContractError as exc:
            report.error = f"{exc.message}. {exc.hint}".strip(". ") if exc.hint else exc.message
            check.blockers.append(f"{report.file}: cannot be read: {report.error}")
            continue
        except (OSError, LookupError) as exc:  # unreadable file, unknown declared codec
            report.error = str(exc)
            check.blockers.append(f"{report.file}: cannot be read: {report.error}")
            continue
        report.encoding = encoding
        report.rows = len(frame)
        report.drift_columns = drift_columns(entity, [c for c in frame.columns if c not in INTERNAL_COLUMNS])
        if report.drift_columns:
            check.warnings.append(
                f"{report.file}: columns not in the contract (drift; not loaded): {', '.join(report.drift_columns)}"
            )
        above = int(frame.attrs.get("above_header", 0))
        if above:
            check.warnings.append(
                f"{report.file}: line{'s 1-' if above > 1 else ' '}{above} above the header "
                f"{'are' if above > 1 else 'is'} not read (a title or notes, not records)"
            )
        empty = int(frame.attrs.get("empty_records", 0))
        if empty:
            check.warnings.append(
                f"{report.file}: {empty:,} row{'s' if empty > 1 else ''} of empty values only (a spreadsheet's "
                f"empty rows) {'are' if empty > 1 else 'is'} skipped like blank lines, not loaded or quarantined"
            )
        report.missing_columns = missing_columns(entity, frame)
        if report.missing_columns:
            check.blockers.append(
                f"{report.file}: required column(s) {', '.join(report.missing_columns)} missing; "
                f"ingest of {entity.source} would fail for this date"
            )
            named = [name for name in report.drift_columns if not name.startswith("column ")]
            # a name of another column of the source (CustomerID in a line file) is that column, no alias
            taken = {name_key(c) for e in load_contract(settings).entities_of(entity.source) for c in e.column_names}
            named = [name for name in named if name_key(name) not in taken]
            for missing in report.missing_columns:
                check.warnings.append(_missing_column_hint(entity, report.file, missing, named))
            continue
        frames.append(frame)
        encodings.append(encoding)
        lossy = lossy or undecodable
        by_name[path.name] = report
    if not frames:
        return check
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    del frames
    for name in entity.column_names:
        if name not in frame.columns:
            frame[name] = ""
    load_date = date.fromisoformat(day) if _is_date(day) else None  # without a date folder: today
    typed, reasons = validate(entity, frame, encodings[0], lossy, load_date)
    deduplicate(entity, frame, typed, reasons)
    good = reasons.ok
    rows = frame["_source_file"].value_counts()
    quarantined = frame.loc[~good, "_source_file"].value_counts()
    found = _reasons_by_file(entity, frame, reasons.text[~good])
    for name, report in by_name.items():
        report.quarantined = int(quarantined.get(name, 0))
        report.would_load = int(rows.get(name, 0)) - report.quarantined
        report.reasons = found.get(name, [])
    _unmapped_values(entity, typed, good, seeds, check)
    _currencies(entity, typed, good, seeds, check)
    _null_words(entity, frame, check, f"{shown_folder}/{entity.file_stem}")
    _float_ids(entity, frame, check, f"{shown_folder}/{entity.file_stem}")
    _decimal_commas(entity, frame, check, f"{shown_folder}/{entity.file_stem}")
    return check


#: How exports write a missing value: looked for in every column; ``NA`` and ``None`` only where text
#: cannot hold them (in a text column they may be values: ``NA`` is Namibia's country code).
_NULL_WORDS = ("NULL", "null", "Null", "\\N", "#N/A", "N/A", "n/a")
_NULL_WORDS_TYPED = (*_NULL_WORDS, "NA", "None", "none", "nil")


def _null_words(entity: Entity, frame: pd.DataFrame, check: EntityCheck, where: str) -> None:
    """A warning per column holding words that exports write for a missing value, which the source does not
    declare as ``null_values``: such values are quarantined (typed columns) or loaded as text."""
    for column in entity.columns:
        words = _NULL_WORDS if column.type == "string" else _NULL_WORDS_TYPED
        counts = frame[column.name].fillna("").astype(str).str.strip().value_counts()
        found = {w: int(counts[w]) for w in words if w in counts.index and w not in entity.null_values}
        if found:
            shown = ", ".join(f"'{w}' ×{n}" for w, n in found.items())
            outcome = "loaded as text" if column.type == "string" else f"quarantined (not a {column.type})"
            listed = ", ".join(f"'{w}'" for w in (*entity.null_values, *found))  # YAML: no escapes
            check.warnings.append(
                f"{where} {column.name}: {shown} look like missing values and would be {outcome}; if they "
                f"mean missing, declare them for the source in the contract overrides: sources: "
                f"{entity.source}: null_values: [{listed}]"
            )


#: A whole number written with a decimal part of zeros (``17850.0``): how a spreadsheet or a data frame writes an
#: integer id column that has empty cells (the column becomes floating point).
_FLOAT_ID = r"[0-9]+\.0+"


def _float_ids(entity: Entity, frame: pd.DataFrame, check: EntityCheck, where: str) -> None:
    """A warning per id column (the key, ``*_id``) holding whole numbers written as decimals: ids are compared as
    text, so ``17850.0`` here and ``17850`` in another file are two customers (two pseudonyms), silently."""
    for column in entity.columns:
        if column.type != "string" or not (column.name == entity.key or column.name.endswith("_id")):
            continue
        values = frame[column.name].fillna("").astype(str).str.strip()
        found = int(values.str.fullmatch(_FLOAT_ID).sum())
        if found:
            given = int((values != "").sum())
            check.warnings.append(
                f"{where} {column.name}: {found:,} of {given:,} value(s) are whole numbers written with a decimal "
                f"part (as 123.0), as a spreadsheet or data frame writes an integer column with empty cells; ids are "
                f"compared as text, so 123.0 and 123 in another file are different ids: re-export the ids as text, "
                f"written the same way in every file"
            )


#: A number written with a decimal comma (``12,50``, ``-0,5``): no thousands grouping (``1,234`` is not one).
_DECIMAL_COMMA = r"[+-]?[0-9]*,(?:[0-9]{1,2}|[0-9]{4,})"


def _decimal_commas(entity: Entity, frame: pd.DataFrame, check: EntityCheck, where: str) -> None:
    """A warning per number column of a CSV file holding values written with a decimal comma, or with digits
    grouped by thousands, which the source does not declare (``decimal_mark``, ``thousands_separator``): such
    values are quarantined as not numbers."""
    if entity.file_format != "csv":
        return
    for column in entity.columns:
        if column.type not in ("number", "integer") or column.name not in frame.columns:
            continue
        values = frame[column.name].fillna("").astype(str).str.strip()
        if entity.decimal_mark != ",":
            found = int(values.str.fullmatch(_DECIMAL_COMMA).sum())
            if found:
                check.warnings.append(
                    f"{where} {column.name}: {found} value(s) look like numbers with a decimal comma (as 12,50) and "
                    f"would be quarantined; if the comma is the decimal mark, declare it for the source in the "
                    f"contract overrides: sources: {entity.source}: decimal_mark: ','"
                )
        if entity.thousands_separator is None:
            mark = re.escape(entity.decimal_mark)
            plain = values.str.fullmatch(f"[+-]?[0-9]*(?:{mark}[0-9]*)?")
            counts = {
                separator: int((values.str.fullmatch(grouped_number(separator, entity.decimal_mark)) & ~plain).sum())
                for separator in THOUSANDS_SEPARATORS
                if separator != entity.decimal_mark
            }
            separator, found = max(counts.items(), key=lambda item: item[1])
            if found:
                example = "1,234.50" if entity.decimal_mark == "." else "1.234,50"
                check.warnings.append(
                    f"{where} {column.name}: {found} value(s) look like numbers with digits grouped by thousands (as "
                    f"{example}) and would be quarantined; declare the separator for the source in the contract "
                    f"overrides: sources: {entity.source}: thousands_separator: '{separator}'"
                )


#: How alike (difflib's ratio, case and separators aside) a file's column name must be to a missing contract
#: column's to be suggested as its alias: ``OrderNumber`` for ``order_id`` (0.56) is, ``InvoiceDate`` for
#: ``line_id`` (0.47) and ``Country`` for ``category`` (0.53) are not.
ALIAS_CLOSENESS = 0.55


def _closest(column: str, names: list[str]) -> str:
    """The name most like ``column`` (case and separators aside, as headers are matched), else empty."""
    keys = {name_key(name): name for name in names}
    found = difflib.get_close_matches(name_key(column), list(keys), n=1, cutoff=ALIAS_CLOSENESS)
    return keys[found[0]] if found else ""


def _missing_column_hint(entity: Entity, file: str, column: str, named: list[str]) -> str:
    """What to declare for a required column a file lacks: its alias when a column of the file is named like it,
    else the ways out (an alias, a default, not required; the key has to be delivered)."""
    where = f"sources: {entity.source}: entities: {entity.name}: columns: {column}:"
    close = _closest(column, named)
    if close:
        return (
            f"{file}: if one of its other columns ({', '.join(named)}) is {column}, declare its name as an alias "
            f"in the contract overrides: {where} {{aliases: [{close}]}}"
        )
    others = f" ({', '.join(named)})" if named else ""
    if column == entity.key:
        return (
            f"{file}: no column is named like {column}, the key: if one of its other columns{others} is it, declare "
            f"{where} {{aliases: [<name>]}}; else derive a unique {column} for every row before landing"
        )
    same = (
        ""
        if entity.column(column).type in ("timestamp", "date")
        else "; a value the same for every row: {default: <value>}"
    )
    return (
        f"{file}: no column is named like {column}: if one of its other columns{others} is it, declare {where} "
        f"{{aliases: [<name>]}}{same}; a column the export cannot deliver: {{required: false}}"
    )


def _is_date(name: str) -> bool:
    try:
        date.fromisoformat(name)
    except ValueError:
        return False
    return len(name) == 10


def _unclaimed(folder: Path, entities: Sequence[Entity]) -> list[str]:
    claimed = {p.name for e in entities for p in entity_files(folder, e)}
    return sorted(
        p.name for p in folder.iterdir() if p.is_file() and p.name not in claimed and not p.name.startswith(".")
    )


def _unclaimed_why(name: str, source: str, entities: Sequence[Entity]) -> str:
    hint = format_hint(name, entities)
    return f"not read: {hint}" if hint else f"not a file of any {source} entity; ignored"


def check_folder(settings: Settings, folder: Path, source: str | None = None) -> CheckReport:
    """Check a folder of exports: the landing layout ``<folder>/<source>/<date>/<files>``, or with
    ``source`` also ``<folder>/<date>/<files>`` (one source's folder) or one date's files directly.

    Raises :class:`~cxpipe.contracts.ContractError` when ``CX_CONTRACT_OVERRIDES`` is wrong, and
    ``ValueError`` for an unknown ``source``.
    """
    contract = load_contract(settings)
    overrides = settings.ingest.contract_overrides
    report = CheckReport(
        str(folder),
        f"base contract + {overrides}" if overrides else "base contract",
        settings.publish.reporting_currency,
    )
    seeds = _Seeds(settings.dbt_project_dir / "seeds", settings.publish.reporting_currency)
    if not folder.is_dir():
        report.folder_blockers.append(f"{folder}: not a folder")
        return report
    # the deployment's sources (CX_SOURCES): the others are not ingested, so not needed
    deployed = [name for name in contract.sources if name in settings.ingest.sources]
    sources = [source] if source else deployed
    if source is not None:
        entities = contract.entities_of(source)  # ValueError naming the sources for a wrong one
        if any(entity_files(folder, e) for e in entities):  # one date's files directly
            report.entities = [check_entity(settings, e, folder, ".", "", seeds) for e in entities]
            for name in _unclaimed(folder, entities):
                report.folder_warnings.append(f"./{name}: {_unclaimed_why(name, source, entities)}")
            return report
        if not (folder / source).is_dir() and any(_is_date(p.name) for p in folder.iterdir() if p.is_dir()):
            return _check_dates(settings, report, folder, source, source, seeds)
    else:
        for extra in sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name not in sources):
            why = "not in CX_SOURCES" if extra in contract.sources else "not a source of the contract"
            report.folder_warnings.append(f"{extra}/: {why} ({', '.join(sources)}); ignored")
    for name in sources:
        _check_dates(settings, report, folder / name, name, name, seeds)
    return report


def _check_dates(
    settings: Settings, report: CheckReport, folder: Path, source: str, shown: str, seeds: _Seeds
) -> CheckReport:
    entities = load_contract(settings).entities_of(source)
    days = sorted(p.name for p in folder.iterdir() if p.is_dir() and _is_date(p.name)) if folder.is_dir() else []
    if not days:
        report.folder_blockers.append(
            f"{shown}/: no files for source {source} (expected {shown}/<YYYY-MM-DD>/"
            f"{entities[0].file_name} and the other {source} files)"
        )
        return report
    for other in sorted(p.name for p in folder.iterdir() if not (p.is_dir() and _is_date(p.name))):
        report.folder_warnings.append(f"{shown}/{other}: not a date folder (YYYY-MM-DD); ignored")
    for day in days:
        report.entities.extend(check_entity(settings, e, folder / day, f"{shown}/{day}", day, seeds) for e in entities)
        for name in _unclaimed(folder / day, entities):
            report.folder_warnings.append(f"{shown}/{day}/{name}: {_unclaimed_why(name, source, entities)}")
    return report


# ------------------------------------------------------------------ rendering


def render_text(report: CheckReport) -> str:
    """The report for a terminal: per date and entity, each file, its reasons, then unmapped values."""
    out = [f"cxpipe check {report.folder} ({report.contract}; reporting currency {report.reporting_currency})"]
    for problem in report.folder_blockers:
        out.append(f"BLOCKER {problem}")
    current = None
    for e in report.entities:
        heading = f"{e.source} {e.date}".rstrip()
        if heading != current:
            out.append(f"\n{heading}")
            current = heading
        if e.status != "checked":
            out.append(f"  {e.entity}: no file ({'optional, loads as empty' if e.status == 'optional' else 'missing'})")
        for f in e.files:
            name = f.file.rsplit("/", 1)[-1]
            if f.error:
                out.append(f"  {name}: cannot be read: {f.error}")
                continue
            line = (
                f"  {name} [{f.encoding}] {f.rows:,} rows: {f.would_load:,} would load, {f.quarantined:,} quarantined"
            )
            if f.missing_columns:
                missing = ", ".join(f.missing_columns)
                line = f"  {name} [{f.encoding}] {f.rows:,} rows: MISSING required column(s) {missing}"
            out.append(line)
            for r in f.reasons:
                etc = ", …" if r.count > len(r.lines) else ""
                out.append(f"      {r.count:>8,} × {r.reason} (line {', '.join(map(str, r.lines))}{etc})")
            if f.drift_columns:
                out.append(f"      drift: extra column(s) {', '.join(f.drift_columns)} (not loaded)")
        if e.currencies_without_rate:
            late = e.rates_start_after
            codes = ", ".join(
                f"{c} ×{n:,}" + (f" (dated before its first rate, {late[c]})" if c in late else "")
                for c, n in sorted(e.currencies_without_rate.items())
            )
            out.append(f"    no exchange rate to {report.reporting_currency}: {codes}")
        by_column: dict[str, list[Unmapped]] = {}
        for u in e.unmapped:
            by_column.setdefault(u.column, []).append(u)
        for column, items in by_column.items():
            target = (
                f"{items[0].seed} ({items[0].seed_header})" if items[0].seed else "no mapping seed; contract override"
            )
            more = e.more_unmapped.get(column, 0)
            out.append(f"    {e.entity}.{column}: {len(items) + more} unmapped value(s) → {target}")
            for u in items:
                hint = f"   # {u.count:,} rows" + (f", closest: {u.closest}" if u.closest else "")
                out.append(f"      {u.suggestion or repr(u.value) + ' (masked: fix the export)'}{hint}")
            if more:
                out.append(f"      … and {more} more")
    if report.blockers:
        out.append("\nBlockers:")
        out.extend(f"  - {b}" for b in report.blockers)
    if report.warnings:
        out.append("\nWarnings:")
        out.extend(f"  - {w}" for w in report.warnings)
    out.append("")
    out.append(report.summary())
    return "\n".join(out) + "\n"
