"""Running and recording the gate on a real build: the gate log, Data Docs, the blocked publication."""

import hashlib
import json
from pathlib import Path

import duckdb
import pytest
from conftest import kept_for_run

from cxpipe.contracts import REPORTING_TABLES
from cxpipe.gate import GateBlockedError, check_gate, last_gate_run, table_config
from cxpipe.publish import publish
from cxpipe.settings import Settings
from cxpipe.warehouse import connect_ops


def _gx_expectations(settings: Settings) -> int:
    suites = settings.gx_dir / "gx" / "expectations"
    return sum(len(json.loads((suites / f"{t}.json").read_text())["expectations"]) for t in REPORTING_TABLES)


def _declared(settings: Settings, check: str) -> dict[str, dict[str, object]]:
    """The reporting tables whose suite declares generic check ``check``, with its settings."""
    configs = {t: table_config(settings, t) for t in REPORTING_TABLES}
    return {t: c[check] for t, c in configs.items() if check in c}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _blocked(settings: Settings) -> GateBlockedError:
    kept_for_run(settings, "run-x")
    with pytest.raises(GateBlockedError) as caught:
        check_gate(settings, run_id="run-x")
    return caught.value


def test_gate_passes_on_a_good_build_records_the_run_and_builds_data_docs(warehouse_copy: Settings) -> None:
    result = check_gate(warehouse_copy, warehouse_copy.data_dir / "gate.json")
    assert result.passed
    by_source = {s: sum(c.source == s for c in result.checks) for s in ("gx", "dbt", "generic")}
    assert by_source["gx"] == _gx_expectations(warehouse_copy)
    assert by_source["dbt"] > 20  # every dbt test upstream of the reporting tables
    # freshness and shares where the suites declare them; no drift before a first publication
    declared = len(_declared(warehouse_copy, "freshness")) + len(_declared(warehouse_copy, "shares"))
    assert declared >= 4 and by_source["generic"] == declared
    assert result.checks_run == sum(by_source.values())
    assert result.data_docs.endswith("index.html")
    assert Path(result.data_docs.removeprefix("file://")).exists()
    assert json.loads((warehouse_copy.data_dir / "gate.json").read_text())["passed"] is True

    logged = last_gate_run(warehouse_copy)
    assert logged is not None
    assert logged["gate_run_id"] == result.gate_run_id
    assert (logged["passed"], logged["checks_run"], logged["failed"]) == (True, result.checks_run, 0)
    assert len(json.loads(logged["checks"])) == result.checks_run


def test_gate_blocks_a_corrupt_build_names_the_check_and_leaves_reporting_untouched(
    warehouse_copy: Settings,
) -> None:
    publish(warehouse_copy, gate_status="passed")
    before = _sha(warehouse_copy.reporting_db)
    with duckdb.connect(str(warehouse_copy.build_db)) as con:
        con.execute("update marts.satisfaction_index set nps = 150 where dimension = 'total'")

    error = _blocked(warehouse_copy)

    message = str(error)
    assert "satisfaction_index.nps: expect_column_values_to_be_between failed" in message
    assert "nothing was published" in message
    assert [f.table for f in error.result.failures] == ["satisfaction_index"]
    assert _sha(warehouse_copy.reporting_db) == before
    with connect_ops(warehouse_copy.warehouse_dir) as con:
        gate = con.execute(
            "select passed, failed, failing from gate_runs where gate_run_id = ?", [error.result.gate_run_id]
        ).fetchone()
        attempt = con.execute(
            "select status, publication_id, run_id, reason from publication_log where status = 'blocked'"
        ).fetchone()
    assert gate is not None and gate[:2] == (False, 1)
    assert json.loads(gate[2])[0]["observed"]["unexpected_count"] > 0
    assert attempt is not None and attempt[:3] == ("blocked", None, "run-x")
    assert "satisfaction_index.nps" in attempt[3]
