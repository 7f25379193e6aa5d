"""The report and ``cxpipe status`` on a real build: the gate run for real, then published (or blocked)."""

from datetime import UTC, datetime, timedelta

import duckdb
import pytest
from conftest import DEMO_DATE, kept_for_run

from cxpipe.cli import main
from cxpipe.contracts import REPORTING_TABLES
from cxpipe.gate import GateBlockedError, check_gate
from cxpipe.publish import publish
from cxpipe.report import write_report
from cxpipe.settings import Settings

COVERED_FROM = datetime.combine(DEMO_DATE, datetime.min.time(), tzinfo=UTC)
#: the afternoon after the demo date: its ingest and transform are due, no later date is
AFTERNOON_AFTER = "2026-11-02T15:00"


def _gate_and_publish(settings: Settings) -> int:
    kept_for_run(settings, "run-1")
    check_gate(settings, run_id="run-1")
    publication = publish(
        settings,
        gate_status="passed",
        run_id="run-1",
        data_interval_start=COVERED_FROM,
        data_interval_end=COVERED_FROM + timedelta(days=1),
    )
    return publication.publication_id


def test_status_of_a_published_build_is_ok_then_names_the_check_a_blocked_gate_failed(
    warehouse_copy: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CX_DATA_DIR", str(warehouse_copy.data_dir))
    publication_id = _gate_and_publish(warehouse_copy)
    assert main(["status", "--now", AFTERNOON_AFTER]) == 0
    out = capsys.readouterr().out
    assert f"Publication: #{publication_id}" in out and "covers up to 2026-11-01" in out and "OK (exit 0)" in out

    with duckdb.connect(str(warehouse_copy.build_db)) as con:
        con.execute("update marts.satisfaction_index set nps = 150 where dimension = 'total'")
    kept_for_run(warehouse_copy, "run-2")
    with pytest.raises(GateBlockedError):
        check_gate(warehouse_copy, run_id="run-2")
    assert main(["status", "--now", AFTERNOON_AFTER]) == 4
    out = capsys.readouterr().out
    assert "satisfaction_index.nps: expect_column_values_to_be_between" in out
    assert "Last attempt: blocked" in out and "GATE FAILED (exit 4)" in out

    # and the report's data-quality section shows that gate with its failing check
    page = write_report(warehouse_copy)[0].read_text(encoding="utf-8")
    assert "FAILED" in page and "expect_column_values_to_be_between" in page and "150" in page

    assert main(["status", "--now", "2026-11-10T15:00"]) == 4  # gate failed wins over stale; both are listed
    assert "is stale" in capsys.readouterr().out


def test_report_of_the_demo_has_every_chart_and_of_empty_tables_says_no_data(warehouse_copy: Settings) -> None:
    publish(warehouse_copy, gate_status="passed")
    full = write_report(warehouse_copy)[0].read_text(encoding="utf-8")
    assert full.count('class="plotly-graph-div') == 9
    assert 'id="table-complaints"' in full and 'id="table-pareto"' in full

    # a small export: every reporting table published empty
    with duckdb.connect(str(warehouse_copy.build_db)) as con:
        for table in REPORTING_TABLES:
            con.execute(f'delete from marts."{table}"')
    publish(warehouse_copy, gate_status="passed")
    empty = write_report(warehouse_copy)[0].read_text(encoding="utf-8")
    assert "plotly-graph-div" not in empty
    for chart in ("satisfaction", "segments", "pareto", "language", "recovery"):
        assert f'id="chart-{chart}-nodata"' in empty
    for table in ("trend", "segments", "gap", "levels", "complaints", "alerts", "recovery"):
        assert f'id="table-{table}-nodata"' in empty
    assert 'id="table-publications"' in empty  # the publication log still has its rows
