"""Quality gate: every blocking check must pass before the reporting tables are published.

Three kinds of checks run against the audited build (``warehouse/cx.duckdb``):

* **dbt tests** — the results of the last ``dbt build``/``dbt test``
  (``run_results.json``) for every test on the reporting models and everything
  they depend on (from ``manifest.json``). Severity ``error`` failures block;
  severity ``warn`` results are warnings.
* **Great Expectations suites** — ``expectations/gx/expectations/<table>.json``,
  one per reporting table, run through the table's checkpoint on a pandas frame
  (GX's SQL route on DuckDB is broken) and rendered into the Data Docs.
  Expectations of severity ``critical`` block; ``warning``/``info`` ones do not.
* **Generic checks**, generated from the suite's ``meta.cxpipe`` block so that a
  new reporting table only needs its suite: freshness of the newest data, shares
  summing to 100 per group, and drift against the last publication (row count and
  a key metric may not move more than ``CX_GATE_DRIFT_PCT`` percent).

Every run is recorded in the ``gate_runs`` table of the operations log
(``warehouse/ops.duckdb``) with each check, its status and its failing values; a
blocked run also adds a ``blocked`` row to the operations ``publication_log``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from cxpipe.config import Settings
from cxpipe.contracts import MARTS_SCHEMA, REPORTING_TABLES, dbt_model_id
from cxpipe.warehouse import connect_ops, connect_read_only, release_inprocess_dbt

log = logging.getLogger(__name__)

DATASOURCE = "reporting_build"
BATCH_DEFINITION = "whole_table"
BLOCKING_SEVERITIES = frozenset({"critical", "error"})

#: Percent a table's row count or key metric may move against the last publication.
DRIFT_ENV = "CX_GATE_DRIFT_PCT"
DEFAULT_DRIFT_PCT = 50.0
#: Reference date for freshness (ISO date); default: the newest load date in the lake.
AS_OF_ENV = "CX_GATE_AS_OF"
#: Folder holding dbt's ``run_results.json`` and ``manifest.json`` of the build.
DBT_ARTIFACTS_ENV = "CX_DBT_ARTIFACTS_DIR"
#: Aggregates a suite may name for its drift metric.
DRIFT_AGGREGATES = frozenset({"avg", "sum", "min", "max", "median"})


@dataclass
class CheckFailure:
    """One check that did not pass (blocking or a warning)."""

    table: str
    expectation: str
    column: str | None
    severity: str
    observed: Any
    source: str = "gx"

    def describe(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        return f"{where}: {self.expectation} failed (observed: {self.observed})"


@dataclass
class CheckRecord:
    """One check that ran, for the gate log."""

    source: str
    table: str
    check: str
    column: str | None
    severity: str
    passed: bool
    observed: Any = None


@dataclass
class GateResult:
    passed: bool
    checks_run: int
    failures: list[CheckFailure] = field(default_factory=list)
    warnings: list[CheckFailure] = field(default_factory=list)
    data_docs: str = ""
    gate_run_id: str = ""
    checks: list[CheckRecord] = field(default_factory=list)

    def add(self, record: CheckRecord) -> None:
        self.checks.append(record)
        self.checks_run += 1
        if record.passed:
            return
        failure = CheckFailure(
            table=record.table,
            expectation=record.check,
            column=record.column,
            severity=record.severity,
            observed=record.observed,
            source=record.source,
        )
        (self.failures if record.severity in BLOCKING_SEVERITIES else self.warnings).append(failure)

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=str, indent=2)


class GateBlockedError(RuntimeError):
    """Raised when a blocking check fails: publication must not happen."""

    def __init__(self, result: GateResult) -> None:
        self.result = result
        lines = "\n".join(f"  - [{f.source}] {f.describe()}" for f in result.failures)
        super().__init__(
            f"quality gate failed: {len(result.failures)} blocking check(s) of {result.checks_run}; "
            f"nothing was published.\n{lines}\nData Docs: {result.data_docs or 'not built'}\n"
            f"Gate run {result.gate_run_id} is in the gate_runs table of the operations log."
        )


# ---------------------------------------------------------------- configuration


def drift_threshold_pct() -> float:
    value = os.environ.get(DRIFT_ENV)
    if not value:
        return DEFAULT_DRIFT_PCT
    try:
        pct = float(value)
    except ValueError as exc:
        raise ValueError(f"{DRIFT_ENV}={value!r} is not a number: set it to a percentage such as 50") from exc
    if pct < 0:
        raise ValueError(f"{DRIFT_ENV}={value!r} must not be negative")
    return pct


def suite_path(settings: Settings, table: str) -> Path:
    return settings.gx_dir / "gx" / "expectations" / f"{table}.json"


def table_config(settings: Settings, table: str) -> dict[str, Any]:
    """The ``meta.cxpipe`` block of a table's suite: generic checks to generate."""
    path = suite_path(settings, table)
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: every reporting table needs a GX suite (see docs/gate.md, 'Adding a table')"
        )
    meta = json.loads(path.read_text(encoding="utf-8")).get("meta") or {}
    config = meta.get("cxpipe") or {}
    if not isinstance(config, dict):
        raise ValueError(f"{path}: meta.cxpipe must be an object")
    return config


def as_of_date(settings: Settings) -> date:
    """The date freshness is measured against."""
    if value := os.environ.get(AS_OF_ENV):
        return date.fromisoformat(value)
    partitions = [*settings.lake_dir.glob("_load_audit/*/load_date=*"), *settings.lake_dir.glob("*/*/*date=*")]
    dates = []
    for partition in partitions:
        try:
            dates.append(date.fromisoformat(partition.name.split("=", 1)[1]))
        except ValueError:
            continue
    return max(dates) if dates else datetime.now(UTC).date()


# ---------------------------------------------------------------- dbt test results


def dbt_results_dir(settings: Settings) -> Path:
    """Where :func:`collect_dbt_results` keeps the dbt artifacts of each DAG run."""
    return settings.warehouse_dir / "dbt_results"


def collect_dbt_results(project_dir: str, **kwargs: Any) -> None:
    """Cosmos callback (``operator_args={"callback": "cxpipe.gate.collect_dbt_results"}``).

    Cosmos runs each dbt command in a temporary copy of the project; this keeps
    the command's ``run_results.json`` (and the manifest) under
    ``warehouse/dbt_results/<run id>/`` so the gate can read every test result of
    the run. One file per command, so parallel tasks never write the same file.
    """
    from cxpipe.config import load_settings

    context = kwargs.get("context") or {}
    run_id = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(context.get("run_id") or "manual"))
    folder = dbt_results_dir(load_settings()) / run_id
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


def dbt_artifacts_dir(settings: Settings) -> Path | None:
    """The folder with the build's dbt results: the env var, the newest DAG run's, the data folder, dbt's target."""
    if value := os.environ.get(DBT_ARTIFACTS_ENV):
        return Path(value)
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


def dbt_checks(settings: Settings, tables: tuple[str, ...]) -> list[CheckRecord]:
    """dbt test results on the reporting models and everything upstream of them."""
    folder = dbt_artifacts_dir(settings)
    if folder is None or not any(folder.glob("run_results*.json")):
        return [
            CheckRecord(
                "dbt",
                "dbt",
                "dbt_run_results_present",
                None,
                "warning",
                False,
                f"no run_results.json found (set {DBT_ARTIFACTS_ENV}); dbt tests were enforced by the dbt build only",
            )
        ]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    status = _merged_results(folder)
    if not any(unique_id.startswith("test.") for unique_id in status):
        message = f"{folder} has no dbt test results (the last dbt command ran no tests)"
        return [CheckRecord("dbt", "dbt", "dbt_test_results_present", None, "warning", False, message)]
    upstream = _ancestors(manifest, {dbt_model_id(manifest, t) for t in tables})
    records = []
    for unique_id, node in sorted(manifest.get("nodes", {}).items()):
        if node.get("resource_type") != "test":
            continue
        if not set(node.get("depends_on", {}).get("nodes", [])) & upstream:
            continue
        severity = str(node.get("config", {}).get("severity", "error")).lower()
        table = (node.get("attached_node") or node["depends_on"]["nodes"][0]).split(".")[-1]
        result = status.get(unique_id)
        if result is None:
            records.append(
                CheckRecord("dbt", table, node["name"], node.get("column_name"), "warning", False, "not run")
            )
            continue
        passed = result["status"] in ("pass", "success")
        observed = None if passed else {"status": result["status"], "failures": result.get("failures")}
        if result["status"] == "warn":
            severity = "warning"
        records.append(
            CheckRecord(
                "dbt",
                table,
                node["name"],
                node.get("column_name"),
                "error" if severity == "error" else "warning",
                passed,
                observed,
            )
        )
    return records


# ---------------------------------------------------------------- generic checks


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    return row[0] if row else None


def _change_pct(old: float, new: float) -> float:
    return abs(new - old) / max(abs(old), 1.0) * 100.0


def generic_checks(
    settings: Settings,
    build: duckdb.DuckDBPyConnection,
    previous: duckdb.DuckDBPyConnection | None,
    tables: tuple[str, ...],
) -> list[CheckRecord]:
    """Freshness, shares summing to 100 and drift, as declared in each suite's ``meta.cxpipe``."""
    records: list[CheckRecord] = []
    threshold = drift_threshold_pct()
    as_of = as_of_date(settings)
    previous_tables = (
        {r[0] for r in previous.execute("select table_name from information_schema.tables").fetchall()}
        if previous is not None
        else set()
    )
    for table in tables:
        config = table_config(settings, table)
        source = f'{MARTS_SCHEMA}."{table}"'
        if fresh := config.get("freshness"):
            column, max_age = fresh["column"], int(fresh["max_age_days"])
            newest = _scalar(build, f'select max("{column}") from {source}')
            newest_date = newest.date() if isinstance(newest, datetime) else newest
            ok = newest_date is not None and newest_date >= as_of - timedelta(days=max_age)
            records.append(
                CheckRecord(
                    "generic",
                    table,
                    f"freshness_within_{max_age}_days",
                    column,
                    "critical",
                    ok,
                    {"newest": str(newest), "as_of": str(as_of)},
                )
            )
        if shares := config.get("shares"):
            column = shares["column"]
            groups = ", ".join(f'"{g}"' for g in shares.get("group_by", []))
            tolerance = float(shares.get("tolerance", 0.1))
            select = f'select {groups + "," if groups else ""} sum("{column}") as total from {source}'
            sql = f"{select} {'group by ' + groups if groups else ''}"
            bad = build.execute(f"select * from ({sql}) where abs(total - 100) > {tolerance} limit 5").fetchall()
            records.append(
                CheckRecord(
                    "generic",
                    table,
                    "shares_sum_to_100",
                    column,
                    "critical",
                    not bad,
                    [list(map(str, row)) for row in bad] or None,
                )
            )
        if previous is None or table not in previous_tables:
            continue
        rows = int(_scalar(build, f"select count(*) from {source}"))
        old_rows = int(_scalar(previous, f'select count(*) from main."{table}"'))
        change = _change_pct(old_rows, rows)
        records.append(
            CheckRecord(
                "generic",
                table,
                f"row_count_drift_within_{threshold:g}_pct",
                None,
                "critical",
                change <= threshold,
                {"previous": old_rows, "current": rows, "change_pct": round(change, 2)},
            )
        )
        if metric := config.get("drift_metric"):
            column, agg = metric["column"], metric.get("agg", "avg").lower()
            if agg not in DRIFT_AGGREGATES:
                raise ValueError(
                    f"{suite_path(settings, table)}: drift_metric.agg {agg!r} not in {sorted(DRIFT_AGGREGATES)}"
                )
            where = f"where {metric['where']}" if metric.get("where") else ""
            new = _scalar(build, f'select {agg}("{column}") from {source} {where}')
            old = _scalar(previous, f'select {agg}("{column}") from main."{table}" {where}')
            if new is None or old is None:
                continue
            change = _change_pct(float(old), float(new))
            records.append(
                CheckRecord(
                    "generic",
                    table,
                    f"{agg}_drift_within_{threshold:g}_pct",
                    column,
                    "critical",
                    change <= threshold,
                    {"previous": round(float(old), 4), "current": round(float(new), 4), "change_pct": round(change, 2)},
                )
            )
    return records


# ---------------------------------------------------------------- Great Expectations


def _context(settings: Settings) -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx  # slow import (~10 s): only when the gate runs

    return gx.get_context(mode="file", project_root_dir=str(settings.gx_dir))


def _checkpoint(context: Any, table: str) -> Any:
    """The checkpoint named after ``table``; created (and saved) on first use."""
    import great_expectations as gx
    from great_expectations.checkpoint.actions import UpdateDataDocsAction

    try:
        return context.checkpoints.get(table)
    except Exception:  # noqa: BLE001 - GX raises a private DataContextError subclass
        log.info("creating GX datasource asset, validation definition and checkpoint for %s", table)
    try:
        datasource = context.data_sources.get(DATASOURCE)
    except KeyError:
        datasource = context.data_sources.add_pandas(DATASOURCE)
    try:
        asset = datasource.get_asset(table)
    except LookupError:
        asset = datasource.add_dataframe_asset(table)
    try:
        batch = asset.get_batch_definition(BATCH_DEFINITION)
    except KeyError:
        batch = asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION)
    suite = context.suites.get(table)
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=table, data=batch, suite=suite)
    )
    return context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=table,
            validation_definitions=[definition],
            actions=[UpdateDataDocsAction(name="update_data_docs")],
            result_format="SUMMARY",
        )
    )


def _observed(result: dict[str, Any]) -> Any:
    if "observed_value" in result:
        return result["observed_value"]
    if "partial_unexpected_list" in result:
        return {
            "unexpected_count": result.get("unexpected_count"),
            "examples": result["partial_unexpected_list"][:5],
        }
    return result


def gx_checks(settings: Settings, frames: dict[str, Any]) -> list[CheckRecord]:
    context = _context(settings)
    records = []
    for table, frame in frames.items():
        outcome = _checkpoint(context, table).run(batch_parameters={"dataframe": frame})
        for validation in outcome.run_results.values():
            for check in validation.results:
                config = check.expectation_config
                column = config.kwargs.get("column") or (
                    ",".join(config.kwargs["column_list"]) if "column_list" in config.kwargs else None
                )
                records.append(
                    CheckRecord(
                        "gx",
                        table,
                        config.type,
                        column,
                        str(getattr(config.severity, "value", config.severity)),
                        bool(check.success),
                        None if check.success else _observed(check.result),
                    )
                )
    return records


# ---------------------------------------------------------------- running and recording


def run_gate(settings: Settings, tables: tuple[str, ...] = REPORTING_TABLES) -> GateResult:
    """Run every check on the build warehouse; records the run, never raises on failures."""
    started = datetime.now(UTC)
    result = GateResult(passed=True, checks_run=0, gate_run_id=uuid.uuid4().hex)
    for record in dbt_checks(settings, tables):
        result.add(record)
    with connect_read_only(settings.build_db) as build:
        frames = {t: build.execute(f'select * from {MARTS_SCHEMA}."{t}"').df() for t in tables}
        previous = (
            duckdb.connect(str(settings.reporting_db), read_only=True) if settings.reporting_db.exists() else None
        )
        try:
            for record in generic_checks(settings, build, previous, tables):
                result.add(record)
        finally:
            if previous is not None:
                previous.close()
    for record in gx_checks(settings, frames):
        result.add(record)
    result.passed = not result.failures
    index = settings.data_docs_index
    result.data_docs = index.as_uri() if index.exists() else ""
    for warning in result.warnings:
        log.warning("gate warning (not blocking): %s", warning.describe())
    record_gate_run(settings, result, started)
    return result


def record_gate_run(settings: Settings, result: GateResult, started: datetime) -> None:
    failing = [asdict(f) for f in result.failures] + [asdict(w) for w in result.warnings]
    with connect_ops(settings.warehouse_dir) as con:
        con.execute(
            "insert into gate_runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                result.gate_run_id,
                started,
                datetime.now(UTC),
                result.passed,
                result.checks_run,
                len(result.failures),
                len(result.warnings),
                json.dumps(failing, default=str),
                json.dumps([asdict(c) for c in result.checks], default=str),
                result.data_docs,
            ],
        )


def record_blocked(settings: Settings, result: GateResult, run_id: str | None = None) -> None:
    reason = "; ".join(f.describe() for f in result.failures)
    with connect_ops(settings.warehouse_dir) as con:
        con.execute(
            "insert into publication_log values (?, 'blocked', null, 'all', ?, ?, null, ?)",
            [datetime.now(UTC), result.gate_run_id, run_id, f"quality gate failed: {reason}"],
        )


def last_gate_run(settings: Settings) -> dict[str, Any] | None:
    """The newest row of ``gate_runs`` as a dict (None before the first run)."""
    release_inprocess_dbt()
    with connect_ops(settings.warehouse_dir) as con:
        cursor = con.execute("select * from gate_runs order by finished_at desc limit 1")
        row = cursor.fetchone()
        if row is None:
            return None
        return dict(zip([d[0] for d in cursor.description], row, strict=True))


def check_gate(settings: Settings, report_path: Path | None = None, run_id: str | None = None) -> GateResult:
    """Run the gate, write its report, and raise :class:`GateBlockedError` if it blocks."""
    result = run_gate(settings)
    if report_path is not None:
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(result.to_json(), encoding="utf-8")
    if not result.passed:
        record_blocked(settings, result, run_id)
        raise GateBlockedError(result)
    log.info("quality gate passed: %d checks, %d warnings", result.checks_run, len(result.warnings))
    return result
