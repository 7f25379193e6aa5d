"""The PostgreSQL reporting target on a real PostgreSQL server started by the tests."""

import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import duckdb
import psycopg
import pytest
from configured import configured
from conftest import publish_paused_at
from pg_server import PgServer, running_postgres

from cxpipe.contracts import PII_COLUMN_NAMES, REPORTING_TABLES
from cxpipe.gate import GateBlockedError, check_gate
from cxpipe.publish import PublishError, publish, rollback
from cxpipe.publish.postgres import BI_ROLE, publications
from cxpipe.settings import Settings

BI_PASSWORD = "bi-test-password"


@pytest.fixture(scope="module")
def pg_server() -> Iterator[PgServer]:
    with running_postgres() as server:
        yield server


@pytest.fixture
def pg_url(pg_server: PgServer, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> str:
    """A fresh database on the test server, configured as the reporting target."""
    name = "t_" + request.node.name.lower().replace("[", "_").replace("]", "").replace("-", "_")[:50]
    with psycopg.connect(pg_server.url(dbname="postgres"), autocommit=True) as con:
        con.execute(f'drop database if exists "{name}"')
        con.execute(f'create database "{name}"')
    url = pg_server.url(dbname=name)
    # for a publish started in a subprocess, which reads its settings from the environment
    monkeypatch.setenv("CX_REPORTING_POSTGRES_URL", url)
    monkeypatch.setenv("CX_BI_PASSWORD", BI_PASSWORD)
    return url


@pytest.fixture
def pg_settings(warehouse_copy: Settings, pg_url: str) -> Settings:
    """The built warehouse's settings with the test database as the PostgreSQL reporting target."""
    return configured(warehouse_copy, CX_REPORTING_POSTGRES_URL=pg_url, CX_BI_PASSWORD=BI_PASSWORD)


def _bi_url(admin_url: str) -> str:
    rest = admin_url.split("@", 1)[1]
    return f"postgresql://{BI_ROLE}:{BI_PASSWORD}@{rest}"


def _snapshot(url: str, staged: bool = True) -> dict[str, Any]:
    """Every schema, table and row (sorted) of the reporting schemas (``staged``: also loads not swapped in)."""
    with psycopg.connect(url) as con:
        schemas = [
            r[0]
            for r in con.execute(
                "select nspname from pg_namespace where nspname like 'reporting%' order by 1"
            ).fetchall()
            if staged or not r[0].startswith("reporting_new_")
        ]
        tables = con.execute(
            "select schemaname, tablename from pg_tables where schemaname = any(%s) order by 1, 2", [schemas]
        ).fetchall()
        rows = {f"{s}.{t}": sorted(map(str, con.execute(f'select * from "{s}"."{t}"').fetchall())) for s, t in tables}
    return {"schemas": schemas, "rows": rows}


def _counts(url: str, schema: str = "reporting") -> dict[str, int]:
    with psycopg.connect(url) as con:
        return {t: con.execute(f'select count(*) from "{schema}"."{t}"').fetchone()[0] for t in REPORTING_TABLES}


def test_publish_copies_to_postgres_and_keeps_old_schemas(pg_settings: Settings, pg_url: str) -> None:
    pg_settings = configured(pg_settings, CX_REPORTING_POSTGRES_URL=pg_url, CX_KEEP_PUBLICATIONS="2")
    first = publish(pg_settings, gate_status="passed")
    assert _counts(pg_url) == first.row_counts
    with psycopg.connect(pg_url) as con:
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'reporting' and table_name = 'satisfaction_index'"
            ).fetchall()
        )
        log = con.execute("select publication_id, row_counts from reporting.publication_log").fetchall()
    assert types["month"] == "date" and types["nps"] == "double precision" and types["publication_id"] == "bigint"
    assert log == [(1, first.row_counts)]

    for _ in range(4):
        publish(pg_settings, gate_status="passed")
    assert publications(pg_url) == [3, 4, 5]
    with psycopg.connect(pg_url) as con:
        ids = {
            t: con.execute(f"select distinct publication_id from reporting.{t}").fetchall() for t in REPORTING_TABLES
        }
    assert all(v == [(5,)] for v in ids.values())

    assert rollback(pg_settings) == 4
    with psycopg.connect(pg_url) as con:
        assert con.execute("select max(publication_id) from reporting.publication_log").fetchone() == (4,)
    assert publications(pg_url) == [3, 4, 5]


def test_gate_failure_leaves_postgres_row_identical(pg_settings: Settings, pg_url: str) -> None:
    publish(pg_settings, gate_status="passed")
    publish(pg_settings, gate_status="passed")
    before = _snapshot(pg_url)
    with duckdb.connect(str(pg_settings.build_db)) as con:
        con.execute("update marts.satisfaction_index set csat = -5")
    with pytest.raises(GateBlockedError, match=r"satisfaction_index\.csat"):
        check_gate(pg_settings)
    assert _snapshot(pg_url) == before


def test_a_failed_load_changes_neither_target(pg_settings: Settings, pg_url: str) -> None:
    publish(pg_settings, gate_status="passed")
    before = _snapshot(pg_url)
    duck_before = pg_settings.reporting_db.read_bytes()
    unreachable = configured(pg_settings, CX_REPORTING_POSTGRES_URL=pg_url.replace("/t_", "/no_such_db_"))
    with pytest.raises(PublishError, match="cannot connect to the PostgreSQL reporting target"):
        publish(unreachable, gate_status="passed")
    assert pg_settings.reporting_db.read_bytes() == duck_before
    assert _snapshot(pg_url) == before


@pytest.mark.parametrize("step", ["pg_copying", "pg_loaded"])
def test_a_publish_killed_during_the_load_leaves_postgres_intact(pg_settings: Settings, pg_url: str, step: str) -> None:
    publish(pg_settings, gate_status="passed")
    before = _snapshot(pg_url)
    process = publish_paused_at(pg_settings, step)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL

    # What BI reads is untouched; a completed but never swapped-in load may stay until the next publish.
    assert _snapshot(pg_url, staged=False) == before
    if step == "pg_copying":
        assert _snapshot(pg_url) == before  # the COPY transaction died with the process
    again = publish(pg_settings, gate_status="passed")
    assert again.publication_id == 2
    after = _snapshot(pg_url)
    assert after["schemas"] == ["reporting", "reporting_prev_1"]  # nothing left of the killed load
    assert _counts(pg_url) == again.row_counts


READ_ALL = (
    " union all ".join(
        f"select '{t}', count(*), count(distinct publication_id), min(publication_id) from reporting.{t}"
        for t in REPORTING_TABLES
    )
    + " union all select 'log', null, null, max(publication_id) from reporting.publication_log"
)


def test_a_concurrent_bi_reader_sees_whole_publications_only(pg_settings: Settings, pg_url: str) -> None:
    first = publish(pg_settings, gate_status="passed")
    expected = first.row_counts
    stop = threading.Event()
    report: dict[str, Any] = {"reads": 0, "seen": set(), "problems": []}

    def read() -> None:
        with psycopg.connect(_bi_url(pg_url), autocommit=True) as con:
            while not stop.is_set():
                try:
                    rows = con.execute(READ_ALL).fetchall()
                except psycopg.Error as exc:
                    report["problems"].append(f"{type(exc).__name__}: {exc}")
                    continue
                ids = {r[3] for r in rows}
                bad = [r for r in rows[:-1] if r[2] != 1 or r[1] != expected[r[0]]]
                if len(ids) != 1 or bad:
                    report["problems"].append(f"mixed or partial read: {rows}")
                report["seen"] |= ids
                report["reads"] += 1

    reader = threading.Thread(target=read)
    reader.start()
    try:
        published = [publish(pg_settings, gate_status="passed").publication_id for _ in range(4)]
        time.sleep(0.2)
    finally:
        stop.set()
        reader.join(timeout=60)
    print("postgres reader:", report["reads"], "reads, publications seen", sorted(report["seen"]))
    assert report["problems"] == []
    assert report["reads"] > 20
    assert len(report["seen"] & set(published)) >= 2


def test_the_bi_role_reads_reporting_only(pg_settings: Settings, pg_url: str) -> None:
    publish(pg_settings, gate_status="passed")
    publish(pg_settings, gate_status="passed")
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("create schema raw")
        admin.execute("create table raw.customers as select 'C000001' as customer_id, 'anna@example.com' as email")
        admin.execute("create table public.secrets as select 1 as x")

    with psycopg.connect(_bi_url(pg_url), autocommit=True) as bi:
        assert bi.execute("select count(*) from reporting.customer_segments").fetchone()[0] > 0
        columns = {
            r[0]
            for r in bi.execute("select column_name from information_schema.columns where table_schema = 'reporting'")
        }
        assert columns and not columns & PII_COLUMN_NAMES

        denied = [
            "select * from raw.customers",
            "select * from public.secrets",
            "select * from reporting_prev_1.customer_segments",
        ]
        for statement in denied:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                bi.execute(statement)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            bi.execute("delete from reporting.customer_segments")
        # Even with a read-write transaction forced, the role has no write privilege anywhere.
        for statement in (
            "delete from reporting.customer_segments",
            "insert into reporting.publication_log (publication_id) values (99)",
            "create table reporting.mine (x int)",
            "create table public.mine (x int)",
            "drop table reporting.satisfaction_index",
        ):
            with bi.transaction():
                bi.execute("set transaction read write")
                with (
                    pytest.raises((psycopg.errors.InsufficientPrivilege, psycopg.errors.InvalidSchemaName)),
                    bi.transaction(),
                ):
                    bi.execute(statement)
