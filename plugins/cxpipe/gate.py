"""Quality gate: Great Expectations suites on the built reporting tables.

dbt tests run inside the dbt build (a failing test fails its Airflow task and
nothing downstream runs); this gate adds the Great Expectations suites kept in
``expectations/gx/expectations/<table>.json``. Each reporting table has a
checkpoint of the same name that validates the table (read from the build
warehouse into pandas: GX's SQL route on DuckDB is broken) and updates the Data
Docs. Expectations with severity ``critical`` block publication; ``warning`` and
``info`` ones are reported only.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cxpipe.config import Settings
from cxpipe.reporting import MARTS_SCHEMA, REPORTING_TABLES
from cxpipe.warehouse import connect_read_only

log = logging.getLogger(__name__)

DATASOURCE = "reporting_build"
BATCH_DEFINITION = "whole_table"
BLOCKING_SEVERITIES = frozenset({"critical"})


@dataclass
class CheckFailure:
    table: str
    expectation: str
    column: str | None
    severity: str
    observed: Any

    def describe(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        return f"{where}: {self.expectation} failed (observed: {self.observed})"


@dataclass
class GateResult:
    passed: bool
    checks_run: int
    failures: list[CheckFailure] = field(default_factory=list)
    warnings: list[CheckFailure] = field(default_factory=list)
    data_docs: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=str, indent=2)


class GateBlockedError(RuntimeError):
    """Raised when a blocking check fails: publication must not happen."""

    def __init__(self, result: GateResult) -> None:
        self.result = result
        lines = "\n".join(f"  - {f.describe()}" for f in result.failures)
        super().__init__(
            f"quality gate failed: {len(result.failures)} blocking check(s) of {result.checks_run}; "
            f"nothing was published.\n{lines}\nData Docs: {result.data_docs}"
        )


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


def run_gate(settings: Settings, tables: tuple[str, ...] = REPORTING_TABLES) -> GateResult:
    """Validate each reporting table in the build warehouse; never raises on failures."""
    context = _context(settings)
    result = GateResult(passed=True, checks_run=0)
    with connect_read_only(settings.build_db) as con:
        frames = {t: con.execute(f'select * from {MARTS_SCHEMA}."{t}"').df() for t in tables}
    for table, frame in frames.items():
        checkpoint = _checkpoint(context, table)
        outcome = checkpoint.run(batch_parameters={"dataframe": frame})
        for validation in outcome.run_results.values():
            for check in validation.results:
                result.checks_run += 1
                if check.success:
                    continue
                config = check.expectation_config
                failure = CheckFailure(
                    table=table,
                    expectation=config.type,
                    column=config.kwargs.get("column")
                    or (",".join(config.kwargs["column_list"]) if "column_list" in config.kwargs else None),
                    severity=str(getattr(config.severity, "value", config.severity)),
                    observed=_observed(check.result),
                )
                blocking = failure.severity in BLOCKING_SEVERITIES
                (result.failures if blocking else result.warnings).append(failure)
    result.passed = not result.failures
    index = settings.data_docs_index
    result.data_docs = index.as_uri() if index.exists() else ""
    for warning in result.warnings:
        log.warning("gate warning (not blocking): %s", warning.describe())
    return result


def check_gate(settings: Settings, report_path: Path | None = None) -> GateResult:
    """Run the gate, write its report, and raise :class:`GateBlockedError` if it blocks."""
    result = run_gate(settings)
    if report_path is not None:
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(result.to_json(), encoding="utf-8")
    if not result.passed:
        raise GateBlockedError(result)
    log.info("quality gate passed: %d checks, %d warnings", result.checks_run, len(result.warnings))
    return result
