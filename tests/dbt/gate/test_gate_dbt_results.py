"""dbt test results in the gate: real run_results of a real dbt build, as Cosmos tasks keep them."""

import json
from pathlib import Path

import pytest
from configured import configured

from cxpipe.contracts import REPORTING_TABLES
from cxpipe.gate import GateBlockedError, check_gate, run_gate
from cxpipe.settings import Settings


def _blocked(settings: Settings) -> GateBlockedError:
    with pytest.raises(GateBlockedError) as caught:
        check_gate(settings, run_id="run-x")
    return caught.value


def test_dbt_warn_results_are_warnings_and_do_not_block(warehouse_copy: Settings) -> None:
    result = run_gate(warehouse_copy)
    dbt_warnings = [w for w in result.warnings if w.source == "dbt"]
    assert result.passed
    assert dbt_warnings, "the demo build has a relationships test of severity warn that finds orphans"
    assert all(w.observed["status"] == "warn" for w in dbt_warnings)


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
    # the same build's single, unsplit run_results.json
    whole = {
        c.check
        for c in run_gate(configured(warehouse_copy, CX_DBT_ARTIFACTS_DIR=str(built))).checks
        if c.source == "dbt"
    }
    assert merged == whole and len(merged) > 20


def test_run_results_without_tests_give_one_warning(
    warehouse_copy: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = warehouse_copy.data_dir / "dbt_target"
    results = json.loads((built / "run_results.json").read_text())
    results["results"] = [r for r in results["results"] if not r["unique_id"].startswith("test.")]
    (tmp_path / "run_results.json").write_text(json.dumps(results))
    (tmp_path / "manifest.json").write_text((built / "manifest.json").read_text())
    from cxpipe.gate import dbt_checks

    (only,) = dbt_checks(configured(warehouse_copy, CX_DBT_ARTIFACTS_DIR=str(tmp_path)), REPORTING_TABLES)
    assert (only.check, only.passed, only.severity) == ("dbt_test_results_present", False, "warning")
    assert "has no dbt test results" in only.observed
