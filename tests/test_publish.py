"""Atomic publication of the reporting warehouse."""

import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from cxpipe.config import Settings
from cxpipe.publish import PublishError, code_version, publish, published_tables
from cxpipe.reporting import REPORTING_TABLES


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_publish_copies_every_reporting_table_and_logs_the_publication(warehouse_copy: Settings) -> None:
    first = publish(warehouse_copy, gate_status="passed", gate_checks=21, run_id="run-1")
    second = publish(warehouse_copy, gate_status="passed", run_id="run-2")
    assert (first.publication_id, second.publication_id) == (1, 2)
    tables = published_tables(warehouse_copy.reporting_db)
    assert set(tables) == {*REPORTING_TABLES, "publication_log"}
    assert all(tables[t] == first.row_counts[t] > 0 for t in REPORTING_TABLES)
    with duckdb.connect(str(warehouse_copy.reporting_db), read_only=True) as con:
        log = con.execute(
            "select run_id, gate_status, row_counts, code_version from publication_log order by 1"
        ).fetchall()
    assert [(r[0], r[1]) for r in log] == [("run-1", "passed"), ("run-2", "passed")]
    assert json.loads(log[0][2]) == first.row_counts
    assert log[0][3] == code_version()
    assert list(warehouse_copy.warehouse_dir.glob(".*.tmp*")) == []


def test_a_pii_column_stops_publication_and_keeps_the_old_file(warehouse_copy: Settings) -> None:
    publish(warehouse_copy, gate_status="passed")
    before = _sha(warehouse_copy.reporting_db)
    with duckdb.connect(str(warehouse_copy.build_db)) as con:
        con.execute("create table marts.leaky as select 'anna@example.com' as email")
    with pytest.raises(PublishError, match=r"leaky has PII column\(s\) \['email'\]"):
        publish(warehouse_copy, gate_status="passed", tables=(*REPORTING_TABLES, "leaky"))
    assert _sha(warehouse_copy.reporting_db) == before
    assert list(warehouse_copy.warehouse_dir.glob(".*.tmp*")) == []


def test_publish_without_a_build_says_what_to_run(settings: Settings) -> None:
    with pytest.raises(PublishError, match="run the dbt build first"):
        publish(settings, gate_status="passed")
    assert not settings.reporting_db.exists()


def test_code_version_can_be_pinned_by_the_deployment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CX_CODE_VERSION", "v9")
    assert code_version() == "v9"


def test_leftovers_of_an_interrupted_publish_are_removed_by_the_next(warehouse_copy: Settings) -> None:
    warehouse_copy.warehouse_dir.mkdir(parents=True, exist_ok=True)
    stale = warehouse_copy.warehouse_dir / ".reporting.duckdb.0123abcd.tmp"
    stale.write_bytes(b"half a file")
    publish(warehouse_copy, gate_status="passed")
    assert not stale.exists()
    assert published_tables(warehouse_copy.reporting_db)["publication_log"] == 1
