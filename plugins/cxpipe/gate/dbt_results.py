"""dbt test results: kept per DAG run by a Cosmos callback, read back as gate checks."""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

import duckdb

from cxpipe.contracts import dbt_model_id
from cxpipe.gate.results import NOT_RUN, CheckRecord
from cxpipe.settings import Settings

#: Folder holding dbt's ``run_results.json`` and ``manifest.json`` of the build.
DBT_ARTIFACTS_ENV = "CX_DBT_ARTIFACTS_DIR"


def dbt_results_dir(settings: Settings) -> Path:
    """Where :func:`collect_dbt_results` keeps the dbt artifacts of each DAG run."""
    return settings.warehouse_dir / "dbt_results"


def run_results_folder(settings: Settings, run_id: object) -> Path:
    """``warehouse/dbt_results/<run id>/``: where the dbt commands of one DAG run keep their results."""
    return dbt_results_dir(settings) / re.sub(r"[^A-Za-z0-9_.-]+", "_", str(run_id or "manual"))


def collect_dbt_results(project_dir: str, **kwargs: Any) -> None:
    """Cosmos callback (``operator_args={"callback": "cxpipe.gate.collect_dbt_results"}``).

    Cosmos runs each dbt command in a temporary copy of the project; this keeps
    the command's ``run_results.json`` (and the manifest) under
    ``warehouse/dbt_results/<run id>/`` so the gate can read every test result of
    the run. One file per command, so parallel tasks never write the same file.
    """
    from cxpipe.settings import load_settings

    context = kwargs.get("context") or {}
    folder = run_results_folder(load_settings(), context.get("run_id"))
    folder.mkdir(parents=True, exist_ok=True)
    target = Path(project_dir) / "target"
    for name, kept in (
        ("run_results.json", f"run_results.{uuid.uuid4().hex}.json"),
        ("manifest.json", "manifest.json"),
    ):
        if (target / name).exists():
            tmp = folder / f".{kept}.tmp"
            shutil.copyfile(target / name, tmp)
            os.replace(tmp, folder / kept)


def dbt_artifacts_dir(settings: Settings, run_id: str | None = None) -> Path | None:
    """The folder with the build's dbt results.

    The setting ``CX_DBT_ARTIFACTS_DIR`` first. For a DAG run (``run_id``), only that run's own
    folder (:func:`run_results_folder`): another run's results say nothing about this build, so
    None when its dbt tasks kept none. Without a run id (``cxpipe gate``): the newest DAG run's
    folder, then the data folder's ``dbt_target``, then dbt's ``target``.
    """
    if settings.gate.dbt_artifacts_dir is not None:
        return settings.gate.dbt_artifacts_dir
    if run_id is not None:
        own = run_results_folder(settings, run_id)
        return own if any(own.glob("run_results*.json")) and (own / "manifest.json").exists() else None
    runs = dbt_results_dir(settings)
    collected = [d for d in runs.iterdir() if d.is_dir() and any(d.glob("run_results*.json"))] if runs.exists() else []
    candidates = [max(collected, key=lambda d: d.stat().st_mtime)] if collected else []
    for candidate in (*candidates, settings.data_dir / "dbt_target", settings.dbt_target_dir):
        if any(candidate.glob("run_results*.json")) and (candidate / "manifest.json").exists():
            return candidate
    return None


def _merged_results(folder: Path) -> dict[str, dict[str, Any]]:
    """Results by unique id over every run_results file of ``folder``; the newest command wins."""
    files = []
    for path in folder.glob("run_results*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        files.append((str(data.get("metadata", {}).get("generated_at", "")), data.get("results", [])))
    merged: dict[str, dict[str, Any]] = {}
    for _, results in sorted(files, key=lambda f: f[0]):
        merged.update({r["unique_id"]: r for r in results})
    return merged


def _ancestors(manifest: dict[str, Any], roots: set[str]) -> set[str]:
    parents: dict[str, list[str]] = manifest.get("parent_map") or {}
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        todo.extend(parents.get(node, []))
    return seen


#: dbt result status of a test that ran and passed; anything else (or no result) does not pass.
PASS = "pass"


def expected_tests(manifest: dict[str, Any], tables: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Every dbt data test on the reporting models ``tables`` and everything upstream of them.

    Model, seed, snapshot and source tests (singular ones too), by unique id, from the manifest
    of the run: tests disabled there are not expected. dbt unit tests (``unit_tests:``) are not
    data tests and not expected: they check model logic on fixed inputs, and production runs
    may exclude them (``DBT_EXCLUDE_RESOURCE_TYPES=unit_test``). A partial deployment expects
    the same tests: a source it lacks is read as an empty file and its tests still run.
    """
    upstream = _ancestors(manifest, {dbt_model_id(manifest, t) for t in tables})
    return {
        unique_id: node
        for unique_id, node in sorted(manifest.get("nodes", {}).items())
        if node.get("resource_type") == "test" and set(node.get("depends_on", {}).get("nodes", [])) & upstream
    }


def dbt_test_severity(node: dict[str, Any]) -> str:
    """``error`` (blocks) or ``warning``, from the test's dbt severity."""
    return "error" if str(node.get("config", {}).get("severity", "error")).lower() == "error" else "warning"


def not_run(reason: str) -> dict[str, str]:
    """What the gate records as observed for a test without a result of its own in the run."""
    return {"status": NOT_RUN, "reason": reason}


def dbt_test_record(node: dict[str, Any], result: dict[str, Any] | None) -> CheckRecord:
    """One test as a gate check: passed only with the result ``pass``.

    A blocking (severity ``error``) test without a result, or ``skipped``, blocks as not run;
    ``warn`` is a warning; ``fail`` and ``error`` block.
    """
    severity = dbt_test_severity(node)
    tested = (node.get("attached_node") or node["depends_on"]["nodes"][0]).split(".")
    table = ".".join(tested[2:]) if tested[0] == "source" else tested[-1]  # sales.orders, or the model
    status = None if result is None else str(result.get("status"))
    observed: Any
    if status == PASS:
        observed = None
    elif status is None:
        observed = not_run("no result in this run's dbt results: its task failed, was skipped or never selected it")
    elif status == "skipped":
        observed = not_run("skipped by dbt (an upstream node failed)")
    else:
        observed = {"status": status, "failures": result.get("failures") if result else None}
        if status == "warn":
            severity = "warning"
    return CheckRecord("dbt", table, node["name"], node.get("column_name"), severity, status == PASS, observed)


def dbt_checks(
    settings: Settings,
    tables: tuple[str, ...],
    run_id: str | None = None,
    build: duckdb.DuckDBPyConnection | None = None,
) -> list[CheckRecord]:
    """Every dbt test on the reporting models and everything upstream of them, as gate checks.

    Each blocking test must have the result ``pass`` among the results the run kept
    (:func:`dbt_artifacts_dir`); one that did not run blocks, named, like one that failed.
    No results at all is one blocking check. A model's ``column_checks`` test counts as one
    check per column and rule it lists (:func:`column_check_records`); ``build``, the build
    warehouse, is where the failing ones' stored rows are read.
    """
    folder = dbt_artifacts_dir(settings, run_id)
    if folder is None or not any(folder.glob("run_results*.json")):
        where = str(run_results_folder(settings, run_id)) if run_id is not None else "this build"
        return [
            CheckRecord(
                "dbt",
                "dbt",
                "dbt_run_results_present",
                None,
                "error",
                False,
                not_run(
                    f"no dbt run_results.json and manifest.json kept for {where}: "
                    f"no dbt test is known to have run (set {DBT_ARTIFACTS_ENV} to read other results)"
                ),
            )
        ]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    status = _merged_results(folder)
    expected = expected_tests(manifest, tables)
    records: list[CheckRecord] = []
    for unique_id, node in expected.items():
        if (node.get("test_metadata") or {}).get("name") == COLUMN_CHECKS:
            records += column_check_records(node, status.get(unique_id), build)
        else:
            records.append(dbt_test_record(node, status.get(unique_id)))
    return records


#: The generic test that checks several columns of a model in one query (dbt_project/tests/generic/column_checks.sql).
COLUMN_CHECKS = "column_checks"
#: Its rules, in the order the test lists them.
COLUMN_RULES = ("not_null", "unique", "accepted_values", "accepted_range")


def listed_column_checks(node: dict[str, Any]) -> list[tuple[str, str]]:
    """(column, rule) of each check a ``column_checks`` test node lists, in the test's order."""
    kwargs = (node.get("test_metadata") or {}).get("kwargs") or {}
    checks: list[tuple[str, str]] = []
    for rule in COLUMN_RULES:
        listed = kwargs.get(rule) or []
        checks += [(str(column), rule) for column in listed]  # a list of columns, or a mapping keyed by column
    return checks


def column_check_records(
    node: dict[str, Any], result: dict[str, Any] | None, build: duckdb.DuckDBPyConnection | None
) -> list[CheckRecord]:
    """A ``column_checks`` test as one gate check per (column, rule) it lists.

    All pass when the test passed; none ran when the test did not (each named, with the reason).
    When it failed, its stored rows (``store_failures``: column_name, rule, failing_rows) name the
    failing checks with their row counts, the others pass; when those rows cannot be read (no
    ``build``, or the table is gone), every check of the test is recorded as failed with the test's
    total and the reason, so the gate still blocks and names the model and its checks.
    """
    whole = dbt_test_record(node, result)
    checks = listed_column_checks(node)
    if whole.passed or whole.observed.get("status") not in ("fail", "warn"):
        # passed, not run, skipped, or a runtime error: the same outcome for each check of the test
        return [
            CheckRecord("dbt", whole.table, rule, column, whole.severity, whole.passed, whole.observed)
            for column, rule in checks
        ]
    failing, reason = _stored_column_failures(node, build)
    records = []
    for column, rule in checks:
        if failing is None:
            observed: dict[str, Any] = {**whole.observed, "test": node["name"], "reason": reason}
            records.append(CheckRecord("dbt", whole.table, rule, column, whole.severity, False, observed))
        elif (column, rule) in failing:
            observed = {"status": whole.observed["status"], "failures": failing[(column, rule)], "test": node["name"]}
            records.append(CheckRecord("dbt", whole.table, rule, column, whole.severity, False, observed))
        else:
            records.append(CheckRecord("dbt", whole.table, rule, column, whole.severity, True, None))
    return records


def _stored_column_failures(
    node: dict[str, Any], build: duckdb.DuckDBPyConnection | None
) -> tuple[dict[tuple[str, str], int] | None, str]:
    """The failing rows per (column, rule) a failed ``column_checks`` test stored, or None and why not."""
    relation = node.get("relation_name")
    if build is None or not relation:
        return None, "its stored failures were not available to the gate: each check of the test counts as failed"
    try:
        rows = build.execute(f"select column_name, rule, failing_rows from {relation}").fetchall()
    except duckdb.Error as error:
        return None, f"its stored failures {relation} could not be read ({error}): each check counts as failed"
    return {(str(column), str(rule)): int(count) for column, rule, count in rows}, ""
