"""The quality gate: real Great Expectations suites on a real built warehouse."""

import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from cxpipe.config import Settings
from cxpipe.gate import GateBlockedError, check_gate, run_gate
from cxpipe.publish import publish
from cxpipe.reporting import REPORTING_TABLES


def _expectations(settings: Settings) -> int:
    suites = settings.gx_dir / "gx" / "expectations"
    return sum(len(json.loads((suites / f"{t}.json").read_text())["expectations"]) for t in REPORTING_TABLES)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_gate_passes_on_a_good_build_and_builds_data_docs(warehouse_copy: Settings) -> None:
    result = check_gate(warehouse_copy, warehouse_copy.data_dir / "gate.json")
    assert result.passed
    assert result.checks_run == _expectations(warehouse_copy)
    assert result.data_docs.endswith("index.html")
    assert json.loads((warehouse_copy.data_dir / "gate.json").read_text())["passed"] is True


def test_gate_blocks_a_corrupt_build_names_the_check_and_leaves_reporting_untouched(
    warehouse_copy: Settings,
) -> None:
    publish(warehouse_copy, gate_status="passed")
    before = _sha(warehouse_copy.reporting_db)
    with duckdb.connect(str(warehouse_copy.build_db)) as con:
        con.execute("update marts.satisfaction_index set nps = 150 where dimension = 'total'")

    with pytest.raises(GateBlockedError) as caught:
        check_gate(warehouse_copy)

    message = str(caught.value)
    assert "satisfaction_index.nps: expect_column_values_to_be_between failed" in message
    assert "nothing was published" in message
    assert [f.table for f in caught.value.result.failures] == ["satisfaction_index"]
    assert _sha(warehouse_copy.reporting_db) == before


def test_warning_severity_is_reported_but_does_not_block(warehouse_copy: Settings) -> None:
    suite_file = warehouse_copy.gx_dir / "gx" / "expectations" / "customer_segments.json"
    suite = json.loads(suite_file.read_text())
    suite["expectations"].append(
        {
            "type": "expect_table_row_count_to_be_between",
            "kwargs": {"max_value": 1},
            "meta": {},
            "severity": "warning",
        }
    )
    suite_file.write_text(json.dumps(suite))
    result = run_gate(warehouse_copy)
    assert result.passed
    assert [w.expectation for w in result.warnings] == ["expect_table_row_count_to_be_between"]
