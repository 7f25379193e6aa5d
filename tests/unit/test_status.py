"""``cxpipe status`` on states written by cxpipe's own code: the operations log, the load audit, a reporting file."""

import json
from dataclasses import replace
from datetime import UTC, date, datetime

import duckdb
import pytest
from configured import configured

from cxpipe.cli import main
from cxpipe.contracts import SOURCES
from cxpipe.demo import DemoSpec, generate
from cxpipe.gate import CheckRecord, GateResult, record_gate_run
from cxpipe.ingest import ingest_source
from cxpipe.publish.duckdb_file import PUBLICATION_LOG_DDL
from cxpipe.settings import Settings
from cxpipe.status import Exit, collect_status, due_date

DAY = date(2026, 11, 1)
#: the morning after DAY's ingest and transform are due (DAY ends, + 2 x 6 h wait, + 60 min)
MORNING_AFTER = datetime(2026, 11, 2, 14, tzinfo=UTC)


def _ingested(settings: Settings) -> None:
    generate(settings.landing_dir, DemoSpec(start=DAY, days=1, history_days=5, customers=20, orders_per_day=5))
    for source in SOURCES:
        ingest_source(settings, source, DAY)


def _published(settings: Settings, publication_id: int = 1, covers: date = DAY) -> None:
    """A reporting file's ``publication_log`` as publish writes it (the tables themselves do not matter here)."""
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.reporting_db)) as con:
        con.execute(PUBLICATION_LOG_DDL)
        con.execute(
            "insert into publication_log values (?, ?, ?, ?, 'run', 'passed', 10, '{\"complaints\": 3}', 'v', '{}')",
            [
                publication_id,
                datetime(2026, 11, 2, 1, tzinfo=UTC),
                datetime.combine(covers, datetime.min.time(), tzinfo=UTC),
                datetime.combine(covers.replace(day=covers.day + 1), datetime.min.time(), tzinfo=UTC),
            ],
        )


def _gate(settings: Settings, failing: bool) -> GateResult:
    result = GateResult(passed=not failing, checks_run=0, gate_run_id="g1" if failing else "g0")
    result.add(CheckRecord("gx", "complaints", "expect_table_row_count_to_be_between", None, "critical", True))
    result.add(CheckRecord("gx", "complaints", "expect_column_values_to_not_be_null", "region", "warning", False, 4))
    if failing:
        result.add(
            CheckRecord(
                "gx", "satisfaction_index", "expect_column_values_to_be_between", "nps", "critical", False, [150.0]
            )
        )
    record_gate_run(settings, result, datetime.now(UTC))
    return result


def test_due_date_follows_the_daily_schedule_the_landing_wait_and_the_task_timeout(settings: Settings) -> None:
    # DAY's ingest starts at midnight after DAY and may take 2 x 6 h; the transform 60 min more
    assert due_date(settings, datetime(2026, 11, 2, 12, 59, tzinfo=UTC)) is None  # nothing due before the start
    assert due_date(settings, datetime(2026, 11, 2, 13, 0, tzinfo=UTC)) == DAY
    assert due_date(settings, datetime(2026, 11, 20, 9, tzinfo=UTC)) == date(2026, 11, 18)
    quick = configured(settings, CX_LANDING_WAIT_HOURS="1", CX_TASK_TIMEOUT_MINUTES="30")
    assert due_date(quick, datetime(2026, 11, 2, 3, tzinfo=UTC)) == DAY
    ended = configured(settings, CX_END_DATE="2026-11-05")
    assert due_date(ended, datetime(2027, 1, 1, tzinfo=UTC)) == date(2026, 11, 5)


def test_an_empty_data_folder_says_nothing_was_published(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    status = collect_status(settings, MORNING_AFTER)
    assert status.exit_code == Exit.NOTHING_PUBLISHED
    assert status.publication is None and status.gate is None
    assert main(["status", "--now", "2026-11-02T14:00"]) == 3
    out = capsys.readouterr().out
    assert "nothing was published" in out and "NOTHING PUBLISHED (exit 3)" in out
    assert not settings.warehouse_dir.exists()  # status writes nothing


def test_healthy_state_exits_0_with_dates_and_quarantine_counts_per_source(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    _ingested(settings)
    _published(settings)
    _gate(settings, failing=False)

    status = collect_status(settings, MORNING_AFTER)
    assert status.exit_code == Exit.OK, status.problems
    assert [s.source for s in status.sources] == list(SOURCES)
    for source in status.sources:
        assert (source.last_landed, source.last_ingested, source.stale) == (DAY, DAY, False)
        assert source.rows_loaded_last > 0
    audits = (
        duckdb.connect()
        .execute(
            f"select sum(rows_quarantined) from read_parquet('{settings.lake_dir}/_load_audit/*/*/part-0.parquet')"
        )
        .fetchone()
    )
    assert audits is not None and sum(s.rows_quarantined_total for s in status.sources) == audits[0] > 0
    assert status.publication is not None and status.publication.last_covered_date == DAY
    assert status.gate is not None and status.gate.failing == []  # a warning does not fail the gate
    assert [(c.table, c.column, c.observed) for c in status.gate.warned] == [("complaints", "region", 4)]

    assert main(["status", "--now", "2026-11-02T14:00", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["state"] == "ok" and shown["publication"]["publication_id"] == 1
    assert shown["publication"]["last_covered_date"] == "2026-11-01"
    assert shown["gate"]["passed"] is True


def test_a_failed_last_gate_exits_4_naming_the_check_and_its_observed_value(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    _ingested(settings)
    _published(settings)
    _gate(settings, failing=True)
    assert main(["status", "--now", "2026-11-02T14:00"]) == int(Exit.GATE_FAILED) == 4
    out = capsys.readouterr().out
    assert "satisfaction_index.nps: expect_column_values_to_be_between (observed: [150.0])" in out
    assert "GATE FAILED (exit 4)" in out


def test_stale_sources_and_publication_exit_5(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    _ingested(settings)
    _published(settings)
    _gate(settings, failing=False)
    status = collect_status(settings, datetime(2026, 11, 4, 14, tzinfo=UTC))  # 2026-11-02 and 03 are due too
    assert status.exit_code == Exit.STALE
    assert all(s.stale for s in status.sources)
    assert "publication 1 is stale: it covers up to 2026-11-01, 2026-11-03 is due" in status.problems
    assert main(["status", "--now", "2026-11-04T14:00"]) == 5
    assert "social is stale: ingested up to 2026-11-01, 2026-11-03 is due" in capsys.readouterr().out


def test_a_source_the_deployment_does_not_have_is_never_stale(settings: Settings) -> None:
    _ingested(settings)
    _published(settings)
    _gate(settings, failing=False)
    partial = replace(configured(settings, CX_SOURCES="sales,crm"))
    status = collect_status(partial, datetime(2026, 11, 4, 14, tzinfo=UTC))
    stale = {s.source: s.stale for s in status.sources}
    assert stale == {"sales": True, "crm": True, "surveys": False, "social": False}
