"""The quality gate: real dbt results, real Great Expectations suites, a real built warehouse."""

import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from cxpipe.config import Settings
from cxpipe.contracts import REPORTING_TABLES
from cxpipe.gate import GateBlockedError, check_gate, drift_threshold_pct, last_gate_run, run_gate, table_config
from cxpipe.publish import publish
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


def test_dbt_warn_results_are_warnings_and_do_not_block(warehouse_copy: Settings) -> None:
    result = run_gate(warehouse_copy)
    dbt_warnings = [w for w in result.warnings if w.source == "dbt"]
    assert result.passed
    assert dbt_warnings, "the demo build has a relationships test of severity warn that finds orphans"
    assert all(w.observed["status"] == "warn" for w in dbt_warnings)


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


def test_a_failed_dbt_test_upstream_of_a_reporting_table_blocks(warehouse_copy: Settings) -> None:
    results_file = warehouse_copy.data_dir / "dbt_target" / "run_results.json"
    results = json.loads(results_file.read_text())
    victim = next(r for r in results["results"] if r["unique_id"].startswith("test.cxpipe.not_null_stg_"))
    victim["status"], victim["failures"] = "fail", 3
    results_file.write_text(json.dumps(results))

    error = _blocked(warehouse_copy)

    name = victim["unique_id"].split(".")[2]
    assert [(f.source, f.expectation) for f in error.result.failures] == [("dbt", name)]
    assert "[dbt] " in str(error) and name in str(error)
    assert error.result.failures[0].observed == {"status": "fail", "failures": 3}


def test_stale_data_fails_freshness(warehouse_copy: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CX_GATE_AS_OF", "2027-06-01")
    error = _blocked(warehouse_copy)
    fresh = _declared(warehouse_copy, "freshness")
    assert {"complaint_root_causes", "customer_segments", "satisfaction_index"} <= fresh.keys()
    assert sorted((f.table, f.expectation) for f in error.result.failures) == sorted(
        (table, f"freshness_within_{config['max_age_days']}_days") for table, config in fresh.items()
    )
    assert error.result.failures[0].observed["as_of"] == "2027-06-01"


def test_shares_must_sum_to_100_per_month_and_breakdown(warehouse_copy: Settings) -> None:
    with duckdb.connect(str(warehouse_copy.build_db)) as con:
        con.execute(
            "update marts.complaint_root_causes set share_pct = share_pct / 2 "
            "where month = (select max(month) from marts.complaint_root_causes) and dimension = 'all'"
        )
    error = _blocked(warehouse_copy)
    assert [(f.table, f.expectation) for f in error.result.failures] == [("complaint_root_causes", "shares_sum_to_100")]
    assert len(error.result.failures[0].observed) == 1
    (month, dimension, value, total) = error.result.failures[0].observed[0]
    assert (month, dimension, value) == ("2026-11-01", "all", "all") and abs(float(total) - 50) < 0.1


def test_drift_against_the_last_publication_blocks_beyond_the_threshold(
    warehouse_copy: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(warehouse_copy, gate_status="passed")
    with duckdb.connect(str(warehouse_copy.build_db)) as con:
        con.execute("delete from marts.customer_segments where hash(customer_key) % 10 < 7")
        con.execute("update marts.satisfaction_index set satisfaction_index = satisfaction_index / 3")

    error = _blocked(warehouse_copy)
    failed = {(f.table, f.expectation, f.column) for f in error.result.failures}
    assert failed == {
        ("customer_segments", "row_count_drift_within_50_pct", None),
        ("satisfaction_index", "avg_drift_within_50_pct", "satisfaction_index"),
    }
    rows = next(f for f in error.result.failures if f.table == "customer_segments").observed
    assert rows["current"] < rows["previous"] * 0.5

    monkeypatch.setenv("CX_GATE_DRIFT_PCT", "90")
    assert run_gate(warehouse_copy).passed


def test_drift_threshold_must_be_a_percentage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CX_GATE_DRIFT_PCT", "lots")
    with pytest.raises(ValueError, match="CX_GATE_DRIFT_PCT='lots' is not a number"):
        drift_threshold_pct()
    monkeypatch.delenv("CX_GATE_DRIFT_PCT")
    assert drift_threshold_pct() == 50.0


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
    assert [w.expectation for w in result.warnings if w.source == "gx"] == ["expect_table_row_count_to_be_between"]
    logged = last_gate_run(warehouse_copy)
    assert logged is not None and logged["warnings"] == len(result.warnings)


def test_results_collected_from_each_cosmos_task_are_merged_by_the_gate(
    warehouse_copy: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from cxpipe.gate import collect_dbt_results, dbt_artifacts_dir

    monkeypatch.setenv("CX_DATA_DIR", str(warehouse_copy.data_dir))
    built = warehouse_copy.data_dir / "dbt_target"
    results = json.loads((built / "run_results.json").read_text())
    tests = [r for r in results["results"] if r["unique_id"].startswith("test.")]
    half = len(results["results"]) // 2
    failing = next(r for r in tests if r["unique_id"].startswith("test.cxpipe.unique_"))
    for n, part in enumerate((results["results"][:half], results["results"][half:])):
        project = tmp_path / f"cosmos-task-{n}"  # what Cosmos' temporary project copy holds after one dbt command
        (project / "target").mkdir(parents=True)
        (project / "target" / "manifest.json").write_text((built / "manifest.json").read_text())
        chunk = [dict(r, status="fail", failures=2) if r is failing else r for r in part]
        (project / "target" / "run_results.json").write_text(json.dumps({**results, "results": chunk}))
        collect_dbt_results(str(project), context={"run_id": "scheduled__2026-11-01T00:00:00+00:00"})

    folder = dbt_artifacts_dir(warehouse_copy)
    assert folder is not None and folder.parent.name == "dbt_results"
    assert len(list(folder.glob("run_results*.json"))) == 2

    error = _blocked(warehouse_copy)
    assert [(f.source, f.expectation) for f in error.result.failures] == [("dbt", failing["unique_id"].split(".")[2])]
    merged = {c.check for c in error.result.checks if c.source == "dbt" and c.observed != "not run"}
    monkeypatch.setenv("CX_DBT_ARTIFACTS_DIR", str(built))  # the same build's single, unsplit run_results.json
    whole = {c.check for c in run_gate(warehouse_copy).checks if c.source == "dbt"}
    assert merged == whole and len(merged) > 20


def test_run_results_without_tests_give_one_warning(
    warehouse_copy: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = warehouse_copy.data_dir / "dbt_target"
    results = json.loads((built / "run_results.json").read_text())
    results["results"] = [r for r in results["results"] if not r["unique_id"].startswith("test.")]
    (tmp_path / "run_results.json").write_text(json.dumps(results))
    (tmp_path / "manifest.json").write_text((built / "manifest.json").read_text())
    monkeypatch.setenv("CX_DBT_ARTIFACTS_DIR", str(tmp_path))
    from cxpipe.gate import dbt_checks

    (only,) = dbt_checks(warehouse_copy, REPORTING_TABLES)
    assert (only.check, only.passed, only.severity) == ("dbt_test_results_present", False, "warning")
    assert "has no dbt test results" in only.observed
