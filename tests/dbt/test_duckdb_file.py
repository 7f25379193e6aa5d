"""Write → audit → publish of the reporting warehouse: atomic, killable, reader-safe, with rollback."""

import hashlib
import json
from pathlib import Path

import duckdb
import pytest
from configured import configured

from cxpipe.cli import main
from cxpipe.contracts import REPORTING_TABLES, SEMANTIC_LAYER_TABLES
from cxpipe.gate import GateBlockedError, check_gate
from cxpipe.publish import (
    PublishError,
    archived,
    code_version,
    current_publication_id,
    list_publications,
    publish,
    published_tables,
    rollback,
)
from cxpipe.settings import Settings
from cxpipe.warehouse import connect_ops


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _attempts(settings: Settings) -> list[tuple[str, int | None]]:
    with connect_ops(settings.warehouse_dir) as con:
        return [
            tuple(r)
            for r in con.execute("select status, publication_id from publication_log order by attempt_at").fetchall()
        ]


def test_publish_copies_every_reporting_table_and_logs_the_publication(warehouse_copy: Settings) -> None:
    first = publish(warehouse_copy, gate_status="passed", gate_checks=21, run_id="run-1")
    second = publish(warehouse_copy, gate_status="passed", run_id="run-2")
    assert (first.publication_id, second.publication_id) == (1, 2)
    tables = published_tables(warehouse_copy.reporting_db)
    assert set(tables) == {*REPORTING_TABLES, *SEMANTIC_LAYER_TABLES, "publication_log"}
    assert all(tables[t] == first.row_counts[t] > 0 for t in REPORTING_TABLES)
    assert tables["metricflow_time_spine"] == 14976  # one row per day of 2000-2040, not a publication's data
    with duckdb.connect(str(warehouse_copy.reporting_db), read_only=True) as con:
        log = con.execute(
            "select run_id, gate_status, row_counts, code_version from publication_log order by 1"
        ).fetchall()
        ids = {t: con.execute(f"select distinct publication_id from {t}").fetchall() for t in REPORTING_TABLES}
    assert [(r[0], r[1]) for r in log] == [("run-1", "passed"), ("run-2", "passed")]
    assert json.loads(log[0][2]) == first.row_counts
    assert log[0][3] == code_version(warehouse_copy)
    assert all(v == [(2,)] for v in ids.values())
    assert list(warehouse_copy.warehouse_dir.glob(".*.tmp*")) == []
    assert _attempts(warehouse_copy) == [("published", 1), ("published", 2)]


def test_a_pii_column_stops_publication_and_keeps_the_old_file(warehouse_copy: Settings) -> None:
    publish(warehouse_copy, gate_status="passed")
    before = _sha(warehouse_copy.reporting_db)
    with duckdb.connect(str(warehouse_copy.build_db)) as con:
        con.execute("create table marts.leaky as select 'anna@example.com' as email")
    with pytest.raises(PublishError, match=r"leaky has PII column\(s\) \['email'\]"):
        publish(warehouse_copy, gate_status="passed", tables=(*REPORTING_TABLES, "leaky"))
    assert _sha(warehouse_copy.reporting_db) == before
    assert list(warehouse_copy.warehouse_dir.glob(".*.tmp*")) == []
    assert _attempts(warehouse_copy) == [("published", 1), ("failed", 2)]


def test_gate_failure_leaves_the_reporting_file_byte_identical(
    warehouse_copy: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CX_DATA_DIR", str(warehouse_copy.data_dir))
    publish(warehouse_copy, gate_status="passed")
    before = _sha(warehouse_copy.reporting_db)
    with duckdb.connect(str(warehouse_copy.build_db)) as con:
        # the contract's not-null constraint refuses a null key in the build itself
        refused = r"NOT NULL constraint failed: customer_segments\.customer_key"
        with pytest.raises(duckdb.ConstraintException, match=refused):
            con.execute("update marts.customer_segments set customer_key = null where recency_score = 1")
        con.execute("update marts.customer_segments set lifecycle_stage = 'immortal' where recency_score = 1")
    with pytest.raises(GateBlockedError, match=r"customer_segments\.lifecycle_stage"):
        check_gate(warehouse_copy)
    assert _sha(warehouse_copy.reporting_db) == before
    assert _attempts(warehouse_copy) == [("published", 1), ("blocked", None)]
    assert main(["publications", "--attempts"]) == 0
    newest = capsys.readouterr().out.splitlines()[0]
    assert "blocked" in newest and "quality gate failed: customer_segments.lifecycle_stage" in newest


def test_publish_without_a_build_says_what_to_run(settings: Settings) -> None:
    with pytest.raises(PublishError, match="run the dbt build first"):
        publish(settings, gate_status="passed")
    assert not settings.reporting_db.exists()


def test_leftovers_of_an_interrupted_publish_are_removed_by_the_next(warehouse_copy: Settings) -> None:
    warehouse_copy.warehouse_dir.mkdir(parents=True, exist_ok=True)
    stale = warehouse_copy.warehouse_dir / ".reporting.duckdb.0123abcd.tmp"
    stale.write_bytes(b"half a file")
    publish(warehouse_copy, gate_status="passed")
    assert not stale.exists()
    assert published_tables(warehouse_copy.reporting_db)["publication_log"] == 1


def test_old_publications_are_kept_and_can_be_rolled_back(
    warehouse_copy: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CX_DATA_DIR", str(warehouse_copy.data_dir))
    monkeypatch.setenv("CX_KEEP_PUBLICATIONS", "2")  # for the CLI, which reads its settings from the environment
    warehouse_copy = configured(warehouse_copy, CX_KEEP_PUBLICATIONS="2")
    for _ in range(5):
        publish(warehouse_copy, gate_status="passed")
    assert sorted(archived(warehouse_copy)) == [3, 4, 5]  # the current one and the 2 before it

    assert main(["publications"]) == 0
    out = capsys.readouterr().out
    assert "5  " in out and "<- current" in out and "customer_segments=" in out

    assert main(["rollback"]) == 0
    assert current_publication_id(warehouse_copy.reporting_db) == 4
    assert rollback(warehouse_copy, 3) == 3
    with duckdb.connect(str(warehouse_copy.reporting_db), read_only=True) as con:
        assert con.execute("select distinct publication_id from satisfaction_index").fetchall() == [(3,)]
    assert main(["rollback", "1"]) == 1
    assert "publication 1 is not kept (kept: [3, 4, 5])" in capsys.readouterr().err

    with pytest.raises(PublishError, match="publication 3 is already the current one"):
        rollback(warehouse_copy, 3)
    monkeypatch.setenv("CX_KEEP_PUBLICATIONS", "three")
    assert main(["publications"]) == 2  # a bad setting stops the CLI before it reads anything
    assert "CX_KEEP_PUBLICATIONS='three'" in capsys.readouterr().err
    assert current_publication_id(warehouse_copy.reporting_db) == 3
    after = publish(warehouse_copy, gate_status="passed")
    assert after.publication_id == 6  # ids are never reused after a rollback
    assert [r["publication_id"] for r in list_publications(warehouse_copy)] == [6, 5, 4]
    statuses = [s for s, _ in _attempts(warehouse_copy)]
    assert statuses.count("rolled_back") == 2
