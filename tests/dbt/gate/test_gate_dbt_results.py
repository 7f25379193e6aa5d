"""dbt test results in the gate: real run_results of a real dbt build, as Cosmos tasks keep them."""

import json
from pathlib import Path

import duckdb
import pytest
from configured import configured
from conftest import kept_for_run, run_dbt

from cxpipe.contracts import REPORTING_TABLES
from cxpipe.gate import GateBlockedError, check_gate, run_gate
from cxpipe.settings import Settings

RUN = "scheduled__2026-11-01T00:00:00+00:00"


def _blocked(settings: Settings, run_id: str = "run-x") -> GateBlockedError:
    with pytest.raises(GateBlockedError) as caught:
        check_gate(settings, run_id=run_id)
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
    victim = next(r for r in results["results"] if r["unique_id"].startswith("test.cxpipe.source_not_null_sales_"))
    victim["status"], victim["failures"] = "fail", 3
    results_file.write_text(json.dumps(results))
    kept_for_run(warehouse_copy, "run-x")

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
    # a test upstream of the reporting tables (the semantic layer's time spine is not)
    failing = next(r for r in tests if r["unique_id"].startswith("test.cxpipe.source_not_null_sales_"))
    for n, part in enumerate((results["results"][:half], results["results"][half:])):
        project = tmp_path / f"cosmos-task-{n}"  # what Cosmos' temporary project copy holds after one dbt command
        (project / "target").mkdir(parents=True)
        (project / "target" / "manifest.json").write_text((built / "manifest.json").read_text())
        chunk = [dict(r, status="fail", failures=2) if r is failing else r for r in part]
        (project / "target" / "run_results.json").write_text(json.dumps({**results, "results": chunk}))
        collect_dbt_results(str(project), context={"run_id": RUN})

    folder = dbt_artifacts_dir(warehouse_copy, RUN)
    assert folder is not None and folder.parent.name == "dbt_results" and folder == dbt_artifacts_dir(warehouse_copy)
    assert len(list(folder.glob("run_results*.json"))) == 2

    error = _blocked(warehouse_copy, RUN)
    assert [(f.source, f.expectation) for f in error.result.failures] == [("dbt", failing["unique_id"].split(".")[2])]
    merged = {c.check for c in error.result.checks if c.source == "dbt"}
    # the same build's single, unsplit run_results.json
    whole = {
        c.check
        for c in run_gate(configured(warehouse_copy, CX_DBT_ARTIFACTS_DIR=str(built))).checks
        if c.source == "dbt"
    }
    assert merged == whole and len(merged) > 20


def test_blocking_tests_that_did_not_run_block_naming_each_test(warehouse_copy: Settings) -> None:
    """A model task that failed or was skipped leaves its tests without results: each blocks as not run."""
    from cxpipe.gate.dbt_results import expected_tests, listed_column_checks

    built = warehouse_copy.data_dir / "dbt_target"
    results = json.loads((built / "run_results.json").read_text())
    manifest = json.loads((built / "manifest.json").read_text())
    orders = [
        uid
        for uid, node in expected_tests(manifest, REPORTING_TABLES).items()
        if node.get("attached_node") == "model.cxpipe.stg_sales__orders"
        and node["config"]["severity"].lower() == "error"
    ]
    assert orders, "stg_sales__orders has blocking tests"
    skipped = orders[0]
    results["results"] = [
        dict(r, status="skipped") if r["unique_id"] == skipped else r
        for r in results["results"]
        if r["unique_id"] not in orders[1:]
    ]
    (built / "run_results.json").write_text(json.dumps(results))
    kept_for_run(warehouse_copy, "run-x")

    error = _blocked(warehouse_copy)

    # a column_checks test is one check per column and rule it lists, each named with its column
    names = {
        (rule, column)
        for uid in orders
        for column, rule in (
            listed_column_checks(manifest["nodes"][uid])
            if manifest["nodes"][uid]["test_metadata"]["name"] == "column_checks"
            else [(manifest["nodes"][uid].get("column_name"), uid.split(".")[2])]
        )
    }
    assert {(f.expectation, f.column) for f in error.result.failures} == names
    assert {("not_null", "order_id"), ("unique", "order_id"), ("accepted_values", "status")} <= names
    for failure in error.result.failures:
        assert failure.source == "dbt" and failure.observed["status"] == "not run"
        assert f"{failure.expectation} did not run" in str(error)
    node = manifest["nodes"][skipped]
    of_skipped = (
        {(rule, column) for column, rule in listed_column_checks(node)}
        if node["test_metadata"]["name"] == "column_checks"
        else {(skipped.split(".")[2], node.get("column_name"))}
    )
    reasons = [f.observed["reason"] for f in error.result.failures if (f.expectation, f.column) in of_skipped]
    assert len(reasons) == len(of_skipped) and all("skipped" in r for r in reasons)


def test_a_run_whose_dbt_tasks_kept_no_results_blocks(warehouse_copy: Settings, tmp_path: Path) -> None:
    """The DAG run's own folder counts: another run's (or a manual build's) results do not stand in for it."""
    assert run_gate(warehouse_copy).passed  # cxpipe gate, no run: the newest build's results
    error = _blocked(warehouse_copy, "manual__2026-11-02T00:00:00+00:00")
    (only,) = error.result.failures
    assert (only.expectation, only.severity) == ("dbt_run_results_present", "error")
    assert "dbt_run_results_present did not run" in str(error) and "manual__2026-11-02T00_00_00_00_00" in str(error)

    # results without a single test: every blocking test upstream of the reporting tables blocks
    built = warehouse_copy.data_dir / "dbt_target"
    results = json.loads((built / "run_results.json").read_text())
    results["results"] = [r for r in results["results"] if not r["unique_id"].startswith("test.")]
    (tmp_path / "run_results.json").write_text(json.dumps(results))
    (tmp_path / "manifest.json").write_text((built / "manifest.json").read_text())
    from cxpipe.gate import dbt_checks
    from cxpipe.gate.dbt_results import expected_tests, listed_column_checks

    checks = dbt_checks(configured(warehouse_copy, CX_DBT_ARTIFACTS_DIR=str(tmp_path)), REPORTING_TABLES)
    expected = expected_tests(json.loads((built / "manifest.json").read_text()), REPORTING_TABLES)
    listed = sum(
        len(listed_column_checks(node)) if node["test_metadata"]["name"] == "column_checks" else 1
        for node in expected.values()
        if node.get("test_metadata")
    ) + sum(1 for node in expected.values() if not node.get("test_metadata"))  # singular tests
    assert len(checks) == listed > 100 and not any(c.passed for c in checks)
    assert {c.severity for c in checks} == {"error", "warning"}


def test_failing_column_checks_are_named_by_model_column_rule_and_rows(warehouse_copy: Settings) -> None:
    """Real bad rows, a real ``dbt test`` of the model: each failing check of its column_checks test
    blocks with its column, rule and row count (from the stored failures); its other checks pass."""
    whole = (warehouse_copy.data_dir / "dbt_target" / "run_results.json").read_text()
    with duckdb.connect(str(warehouse_copy.build_db)) as con:
        orders = [
            i for (i,) in con.execute("select order_id from staging.stg_sales__orders order by 1 limit 5").fetchall()
        ]
        con.execute("update staging.stg_sales__orders set status = 'lost' where order_id in (?, ?, ?)", orders[:3])
        con.execute("update staging.stg_sales__orders set channel = null where order_id in (?, ?)", orders[3:5])
    tested = run_dbt(warehouse_copy, "test", "--select", "stg_sales__orders,test_name:column_checks")
    assert tested.returncode == 1, tested.stdout[-2000:]
    folder = kept_for_run(warehouse_copy, "run-x")
    (folder / "run_results.json").rename(folder / "run_results.column_checks.json")
    (folder / "run_results.json").write_text(whole)  # the build's results beside it; the later test run wins
    build = json.loads((folder / "run_results.column_checks.json").read_text())
    assert [r["status"] for r in build["results"]] == ["fail"]

    error = _blocked(warehouse_copy)

    failing = sorted((f.table, f.column, f.expectation, f.observed["failures"]) for f in error.result.failures)
    assert failing == [
        ("stg_sales__orders", "channel", "not_null", 2),
        ("stg_sales__orders", "status", "accepted_values", 3),
    ]
    assert "stg_sales__orders.status: accepted_values failed" in str(error)
    passed = {(c.column, c.check) for c in error.result.checks if c.table == "stg_sales__orders" and c.passed}
    assert {("order_id", "not_null"), ("order_id", "unique"), ("status", "not_null")} <= passed
