"""Report data: a reporting file without tables or rows gives empty frames, never an error."""

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from cxpipe.publish.duckdb_file import PUBLICATION_LOG_DDL
from cxpipe.report.data import QUERIES, load_report_data


def test_a_reporting_file_with_only_its_publication_log_gives_empty_frames(tmp_path: Path) -> None:
    path = tmp_path / "reporting.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(PUBLICATION_LOG_DDL)
        con.execute(
            "insert into publication_log values (7, ?, null, null, 'run', 'passed', 3, '{\"complaints\": 0}', 'v', "
            '\'{"complaints": "needs crm.tickets"}\')',
            [datetime(2026, 11, 2, tzinfo=UTC)],
        )
    data = load_report_data(path)
    assert set(data.frames) == set(QUERIES)
    assert all(frame.empty for name, frame in data.frames.items() if name != "publications")
    assert data.frame("publications")["publication_id"].tolist() == [7]
    assert data.publication["publication_id"] == 7
    assert data.publication["skipped_tables"] == {"complaints": "needs crm.tickets"}
    assert data.frame("not a section").empty


def test_an_empty_table_gives_an_empty_frame(tmp_path: Path) -> None:
    path = tmp_path / "reporting.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            "create table complaint_alerts (week_start date, week_end date, root_cause varchar, region varchar, "
            "complaints integer, baseline_mean double, p_value double, ratio_to_baseline double, is_alert boolean)"
        )
    data = load_report_data(path)
    assert data.frame("alerts").empty and list(data.frame("alerts").columns)[:2] == ["week_start", "week_end"]
    assert data.publication == {}
