"""Which dbt tests the gate expects and how it reads a run's results: small manifests, no dbt run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from cxpipe.gate import GateResult, collect_dbt_results, dbt_checks
from cxpipe.gate.dbt_results import column_check_records, expected_tests, listed_column_checks, run_results_folder
from cxpipe.settings import Settings

RUN = "scheduled__2026-11-02T00:00:00+00:00"
SOURCE = "source.cxpipe.sales.orders"
STAGING = "model.cxpipe.stg_sales__orders"
MART = "model.cxpipe.satisfaction_index"
OTHER = "model.cxpipe.scratch_model"  # not upstream of a reporting table


def _test(name: str, parent: str, severity: str = "ERROR", column: str | None = "order_id") -> dict[str, Any]:
    return {
        "resource_type": "test",
        "name": name,
        "column_name": column,
        "attached_node": None if parent.startswith("source.") else parent,
        "depends_on": {"nodes": [parent]},
        "config": {"severity": severity},
    }


TESTS = {
    "test.cxpipe.source_not_null_sales_orders_order_id.1": _test("source_not_null_sales_orders_order_id", SOURCE),
    "test.cxpipe.unique_stg_sales__orders_order_id.2": _test("unique_stg_sales__orders_order_id", STAGING),
    "test.cxpipe.no_unmapped_values_stg_sales__orders.3": _test("no_unmapped_values_stg", STAGING, "warn", None),
    "test.cxpipe.not_null_satisfaction_index_score.4": _test("not_null_satisfaction_index_score", MART),
    "test.cxpipe.not_null_scratch_model_id.5": _test("not_null_scratch_model_id", OTHER),
}
MANIFEST: dict[str, Any] = {
    "nodes": {
        STAGING: {"resource_type": "model", "name": "stg_sales__orders"},
        MART: {"resource_type": "model", "name": "satisfaction_index"},
        OTHER: {"resource_type": "model", "name": "scratch_model"},
        **TESTS,
    },
    "sources": {SOURCE: {"resource_type": "source", "name": "orders"}},
    "unit_tests": {"unit_test.cxpipe.satisfaction_index.test_weights": {"resource_type": "unit_test"}},
    "parent_map": {MART: [STAGING], STAGING: [SOURCE], SOURCE: [], OTHER: [STAGING]},
}
EXPECTED = [uid for uid in TESTS if "scratch" not in uid]
TABLES = ("satisfaction_index",)


def _keep(settings: Settings, results: dict[str, str], run_id: str = RUN, at: str = "2026-11-02T01:00:00") -> Path:
    """One dbt command's artifacts, kept by the Cosmos callback as a task of DAG run ``run_id`` keeps them."""
    project = settings.data_dir / "cosmos" / f"{run_id}-{at}".replace(":", "_")
    (project / "target").mkdir(parents=True)
    (project / "target" / "manifest.json").write_text(json.dumps(MANIFEST))
    run_results = {
        "metadata": {"generated_at": at},
        "results": [{"unique_id": uid, "status": status, "failures": 0} for uid, status in results.items()],
    }
    (project / "target" / "run_results.json").write_text(json.dumps(run_results))
    collect_dbt_results(str(project), context={"run_id": run_id})
    return run_results_folder(settings, run_id)


def _gate(settings: Settings, run_id: str | None = RUN) -> GateResult:
    result = GateResult(passed=True, checks_run=0)
    for record in dbt_checks(settings, TABLES, run_id):
        result.add(record)
    return result


def test_expected_tests_are_the_data_tests_upstream_of_the_reporting_models_sources_included() -> None:
    expected = expected_tests(MANIFEST, TABLES)
    assert sorted(expected) == sorted(EXPECTED)
    assert not any(uid.startswith("unit_test.") for uid in expected)  # unit tests are not demanded


def test_every_expected_test_passing_passes(settings: Settings) -> None:
    _keep(settings, {uid: "pass" for uid in EXPECTED} | {"unit_test.cxpipe.satisfaction_index.test_weights": "pass"})
    result = _gate(settings)
    assert result.failures == [] and result.warnings == [] and result.checks_run == len(EXPECTED)
    source = next(c for c in result.checks if c.check.startswith("source_"))
    assert (source.table, source.passed) == ("sales.orders", True)


def test_a_blocking_test_without_a_result_blocks_naming_it_and_saying_it_did_not_run(settings: Settings) -> None:
    _keep(settings, {uid: "pass" for uid in EXPECTED if "source_" not in uid and "unmapped" not in uid})
    result = _gate(settings)
    (failure,) = result.failures
    assert (failure.table, failure.expectation, failure.severity) == (
        "sales.orders",
        "source_not_null_sales_orders_order_id",
        "error",
    )
    assert failure.describe().startswith("sales.orders.order_id: source_not_null_sales_orders_order_id did not run (")
    # a warn test that did not run is a warning, not a block
    (warning,) = result.warnings
    assert warning.expectation == "no_unmapped_values_stg" and warning.observed["status"] == "not run"


def test_a_skipped_test_blocks_as_not_run_and_a_later_pass_of_the_same_run_clears_it(settings: Settings) -> None:
    first = {uid: "pass" for uid in EXPECTED} | {EXPECTED[1]: "skipped"}
    _keep(settings, first, at="2026-11-02T01:00:00")
    (failure,) = _gate(settings).failures
    assert failure.expectation == "unique_stg_sales__orders_order_id" and "skipped" in failure.observed["reason"]
    # the task is cleared and runs again in the same DAG run: its newer result counts
    _keep(settings, {EXPECTED[1]: "pass"}, at="2026-11-02T02:00:00")
    assert _gate(settings).failures == []


@pytest.mark.parametrize(("status", "blocks"), [("fail", True), ("error", True), ("warn", False)])
def test_failed_and_errored_tests_block_a_warn_result_warns(settings: Settings, status: str, blocks: bool) -> None:
    _keep(settings, {uid: "pass" for uid in EXPECTED} | {EXPECTED[3]: status})
    result = _gate(settings)
    assert [f.expectation for f in (result.failures if blocks else result.warnings)] == [
        "not_null_satisfaction_index_score"
    ]
    assert (result.warnings if blocks else result.failures) == []


def test_only_the_dag_runs_own_results_count(settings: Settings) -> None:
    _keep(settings, {uid: "pass" for uid in EXPECTED}, run_id="scheduled__2026-11-01T00:00:00+00:00")
    (failure,) = _gate(settings).failures  # this run's dbt tasks kept nothing (e.g. marked successful)
    assert failure.expectation == "dbt_run_results_present" and failure.severity == "error"
    assert "did not run" in failure.describe() and str(run_results_folder(settings, RUN)) in failure.describe()
    # without a run (``cxpipe gate``), the newest kept run stands for the build
    assert _gate(settings, None).failures == []


#: A column_checks test as dbt's manifest holds it: its checks in test_metadata.kwargs, its stored failures' relation.
FOLDED: dict[str, Any] = {
    **_test("column_checks_stg_sales__orders", STAGING, column=None),
    "test_metadata": {
        "name": "column_checks",
        "kwargs": {
            "not_null": ["order_id", "status"],
            "unique": ["order_id"],
            "accepted_values": {"status": ["placed", "shipped"]},
            "accepted_range": {"order_total": {"min_value": 0}},
            "model": "{{ get_where_subquery(ref('stg_sales__orders')) }}",
        },
    },
    "relation_name": '"audit"."column_checks_stg_sales__orders"',
}
LISTED = [
    ("order_id", "not_null"),
    ("status", "not_null"),
    ("order_id", "unique"),
    ("status", "accepted_values"),
    ("order_total", "accepted_range"),
]


def _stored(rows: list[tuple[str, str, int]]) -> duckdb.DuckDBPyConnection:
    """A build warehouse holding the folded test's stored failures, as dbt's store_failures writes them."""
    con = duckdb.connect()
    con.execute("create schema audit")
    con.execute(
        "create table audit.column_checks_stg_sales__orders (column_name varchar, rule varchar, failing_rows bigint)"
    )
    if rows:
        con.executemany("insert into audit.column_checks_stg_sales__orders values (?, ?, ?)", rows)
    return con


def test_a_column_checks_test_lists_each_column_and_rule() -> None:
    assert listed_column_checks(FOLDED) == LISTED


def test_a_passing_column_checks_test_is_one_passing_check_per_column_and_rule() -> None:
    records = column_check_records(FOLDED, {"status": "pass"}, None)
    assert [(r.table, r.column, r.check, r.passed, r.severity) for r in records] == [
        ("stg_sales__orders", column, rule, True, "error") for column, rule in LISTED
    ]


def test_a_failing_column_checks_test_names_each_failing_column_rule_and_row_count() -> None:
    build = _stored([("status", "accepted_values", 3), ("order_id", "unique", 2)])
    result = GateResult(passed=True, checks_run=0)
    for record in column_check_records(FOLDED, {"status": "fail", "failures": 5}, build):
        result.add(record)
    assert result.checks_run == len(LISTED)
    assert [(f.table, f.column, f.expectation, f.observed["failures"]) for f in result.failures] == [
        ("stg_sales__orders", "order_id", "unique", 2),
        ("stg_sales__orders", "status", "accepted_values", 3),
    ]
    assert result.failures[1].describe().startswith("stg_sales__orders.status: accepted_values failed (observed: ")
    assert "column_checks_stg_sales__orders" in result.failures[1].describe()


def test_a_failing_column_checks_test_without_its_stored_rows_fails_every_check_saying_why() -> None:
    for build in (None, duckdb.connect()):  # no warehouse given; a warehouse without the stored table
        records = column_check_records(FOLDED, {"status": "fail", "failures": 5}, build)
        assert [(r.column, r.check) for r in records] == LISTED
        assert not any(r.passed for r in records)
        assert all(r.observed["failures"] == 5 and "stored failures" in r.observed["reason"] for r in records)


@pytest.mark.parametrize("status", [None, "skipped", "error"])
def test_a_column_checks_test_that_did_not_run_or_errored_blocks_each_of_its_checks(status: str | None) -> None:
    result = None if status is None else {"status": status, "failures": None}
    records = column_check_records(FOLDED, result, _stored([]))
    assert [(r.column, r.check) for r in records] == LISTED
    assert not any(r.passed for r in records)
    expected = "error" if status == "error" else "not run"
    assert {r.observed["status"] for r in records} == {expected}


def test_dbt_checks_expand_a_column_checks_test_among_the_others(settings: Settings) -> None:
    manifest = {**MANIFEST, "nodes": {**MANIFEST["nodes"], "test.cxpipe.column_checks_stg_sales__orders.6": FOLDED}}
    project = settings.data_dir / "cosmos" / "folded"
    (project / "target").mkdir(parents=True)
    (project / "target" / "manifest.json").write_text(json.dumps(manifest))
    statuses = {uid: "pass" for uid in EXPECTED} | {"test.cxpipe.column_checks_stg_sales__orders.6": "fail"}
    results = {
        "metadata": {"generated_at": "2026-11-02T01:00:00"},
        "results": [
            {"unique_id": uid, "status": status, "failures": 4 if status == "fail" else 0}
            for uid, status in statuses.items()
        ],
    }
    (project / "target" / "run_results.json").write_text(json.dumps(results))
    collect_dbt_results(str(project), context={"run_id": RUN})
    checks = dbt_checks(settings, TABLES, RUN, _stored([("order_total", "accepted_range", 4)]))
    assert len(checks) == len(EXPECTED) + len(LISTED)
    assert [(c.table, c.column, c.check, c.observed["failures"]) for c in checks if not c.passed] == [
        ("stg_sales__orders", "order_total", "accepted_range", 4)
    ]
