"""No raw PII in either reporting target.

Two scans of every published cell: for the demo's real PII values (every value of a PII column in
every landing file), and — on every text cell — for anything cxpipe.privacy.find_pii, the one
definition of PII, finds (an e-mail address, a card number, a phone number).
"""

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import psycopg
import pytest
from configured import configured
from pg_server import PgServer, running_postgres

from cxpipe.contracts import ENTITIES, REPORTING_TABLES
from cxpipe.ingest.decoding import decode
from cxpipe.privacy import find_pii
from cxpipe.publish import publish
from cxpipe.settings import Settings


@pytest.fixture(scope="module")
def pg_server() -> Iterator[PgServer]:
    with running_postgres() as server:
        yield server


def landed_pii(landing: Path) -> set[str]:
    """Every value of a PII column (contracts) in every landing file, extra parts included, decoded as ingest does."""
    values: set[str] = set()
    for entity in ENTITIES:
        pii = [c.name for c in entity.columns if c.pii]
        if not pii:
            continue
        paths = [*landing.glob(f"{entity.source}/*/{entity.file_name}")]
        paths += landing.glob(f"{entity.source}/*/{entity.file_stem}.*.{entity.file_format}")
        for path in paths:
            text, _ = decode(path.read_bytes())  # the Chinese and Russian stores' exports are GBK / CP1251
            lines = io.StringIO(text, newline="")
            records = csv.DictReader(lines) if entity.file_format == "csv" else (json.loads(line) for line in lines)
            for record in records:
                values |= {str(record[c]).strip() for c in pii if record.get(c) not in (None, "")}
    return {v for v in values if len(v) >= 5}


def _scanner(values: set[str]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)), re.IGNORECASE)


#: A cell of a published table: where it is, its text, and whether the column is a text column.
Cell = tuple[str, str, bool]


def duckdb_cells(path: Path) -> Iterator[Cell]:
    with duckdb.connect(str(path), read_only=True) as con:
        for (table,) in con.execute("select table_name from information_schema.tables").fetchall():
            columns = [(r[0], r[1]) for r in con.execute(f'describe "{table}"').fetchall()]
            for column, column_type in columns:
                for (cell,) in con.execute(f'select distinct "{column}"::varchar from "{table}"').fetchall():
                    if cell is not None:
                        yield f"{table}.{column}", cell, column_type == "VARCHAR"
            yield f"{table} (column names)", " ".join(c for c, _ in columns), True


def postgres_cells(url: str) -> Iterator[Cell]:
    with psycopg.connect(url) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name, data_type from information_schema.columns "
            "where table_schema like 'reporting%'"
        ).fetchall()
        for schema, table, column, data_type in columns:
            query = f'select distinct "{column}"::text from "{schema}"."{table}"'
            for (cell,) in con.execute(query).fetchall():  # type: ignore[arg-type]
                if cell is not None:
                    yield f"{schema}.{table}.{column}", cell, data_type in ("text", "character varying")
            yield f"{schema}.{table} (column name)", column, True


def leaks(cells: Iterator[Cell], pattern: re.Pattern[str]) -> list[str]:
    """Cells holding one of the landed PII values."""
    return [f"{where}: {match.group(0)}" for where, cell, _ in cells if (match := pattern.search(cell))][:10]


def pii_in_text(cells: Iterator[Cell]) -> list[str]:
    """Text cells in which cxpipe.privacy.find_pii finds PII (numbers, dates and ids are not text cells)."""
    found = (
        f"{where}: {kind} {cell[start:end]!r}"
        for where, cell, is_text in cells
        if is_text
        for kind, (start, end) in find_pii(cell)
    )
    return list(found)[:10]


def test_the_scanner_finds_a_real_email_hidden_in_a_harmless_column(warehouse_copy: Settings, tmp_path: Path) -> None:
    values = landed_pii(warehouse_copy.landing_dir)
    email = next(v for v in values if "@" in v)
    probe = tmp_path / "probe.duckdb"
    with duckdb.connect(str(probe)) as con:
        con.execute("create table notes as select ? as note", [f"call back {email.upper()} tomorrow"])
    assert leaks(duckdb_cells(probe), _scanner(values)) == [f"notes.note: {email.upper()}"]


def test_find_pii_scan_finds_contact_details_in_text_cells_only(tmp_path: Path) -> None:
    probe = tmp_path / "probe.duckdb"
    with duckdb.connect(str(probe)) as con:
        con.execute(
            "create table notes as select 'call +46 70 123 45 67 about BR123456789BR, {$110000.00}' as note, "
            "1234567890123 as big_number, 0.123456789 as share"
        )
    assert pii_in_text(duckdb_cells(probe)) == ["notes.note: phone '+46 70 123 45 67'"]


def test_no_published_table_of_either_target_holds_raw_pii(
    warehouse_copy: Settings, pg_server: PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = pg_server.url()
    warehouse_copy = configured(warehouse_copy, CX_REPORTING_POSTGRES_URL=url, CX_BI_PASSWORD="bi-test-password")
    values = landed_pii(warehouse_copy.landing_dir)
    kinds = {"email": any("@" in v for v in values), "customer id": any(re.fullmatch(r"C\d+", v) for v in values)}
    assert all(kinds.values()) and len(values) > 300, (kinds, len(values))
    publish(warehouse_copy, gate_status="passed")
    publish(warehouse_copy, gate_status="passed")  # a kept old schema is scanned too

    pattern = _scanner(values)
    duck_cells = list(duckdb_cells(warehouse_copy.reporting_db))
    pg_cells = list(postgres_cells(url))
    assert {c.split(".")[0] for c, _, _ in duck_cells} >= set(REPORTING_TABLES)
    assert {c.split(".")[0] for c, _, _ in pg_cells} == {"reporting", "reporting_prev_1"}
    assert len(duck_cells) > 1000 and len(pg_cells) > 1000
    assert leaks(iter(duck_cells), pattern) == []
    assert leaks(iter(pg_cells), pattern) == []
    assert sum(is_text for _, _, is_text in duck_cells) > 1000
    assert pii_in_text(iter(duck_cells)) == []
    assert pii_in_text(iter(pg_cells)) == []
