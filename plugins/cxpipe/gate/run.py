"""Running the gate and recording it: ``gate_runs`` and ``publication_log`` of the operations log."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from cxpipe.contracts import MARTS_SCHEMA, REPORTING_TABLES
from cxpipe.gate.checks import generic_checks
from cxpipe.gate.dbt_results import dbt_checks
from cxpipe.gate.gx import GxBatch, gx_checks
from cxpipe.gate.results import CheckRecord, GateBlockedError, GateResult
from cxpipe.gate.sql_expectations import evaluate, split_suite
from cxpipe.gate.suites import suite_expectations
from cxpipe.settings import Settings
from cxpipe.warehouse import connect_ops, connect_read_only, release_inprocess_dbt, tables_expected_empty

log = logging.getLogger(__name__)


#: The GX expectation that a table has rows: skipped for a table the deployment's sources cannot feed.
ROW_COUNT_EXPECTATION = "expect_table_row_count_to_be_between"
#: The seed of the Data Docs' samples: the same build gives the same sample.
SAMPLE_SEED = 16


def run_gate(settings: Settings, tables: tuple[str, ...] = REPORTING_TABLES, run_id: str | None = None) -> GateResult:
    """Run every check on the build warehouse; records the run, never raises on failures.

    ``run_id``: the DAG run whose dbt results count (``warehouse/dbt_results/<run id>/``);
    every blocking dbt test upstream of ``tables`` must have passed in that run.

    A table the deployment's sources cannot feed (``cxpipe.warehouse.tables_expected_empty``) and
    that is empty is skipped, with its reason, by the checks that need rows: the GX row-count
    expectation, freshness, shares and drift (recorded as skipped checks). Its other checks
    run; every other table is checked in full, so an empty table that should have rows blocks.
    """
    started = datetime.now(UTC)
    result = GateResult(passed=True, checks_run=0, gate_run_id=uuid.uuid4().hex)
    batches: dict[str, GxBatch] = {}
    with connect_read_only(settings.build_db) as build:
        for record in dbt_checks(settings, tables, run_id, build):
            result.add(record)
        rows = {t: int(build.execute(f'select count(*) from {MARTS_SCHEMA}."{t}"').fetchall()[0][0]) for t in tables}
        skipped = tables_expected_empty(settings, rows)
        result.skipped_tables = skipped
        for table, reason in skipped.items():
            log.warning("%s is empty and not checked for rows, freshness, shares or drift: %s", table, reason)
            result.add(CheckRecord("generic", table, "freshness_shares_drift", None, "critical", True, None, reason))
        for table in tables:
            in_sql, in_gx = split_suite(suite_expectations(settings, table))
            for record in evaluate(build, f'{MARTS_SCHEMA}."{table}"', table, in_sql):
                result.add(_skip_row_count(record, skipped))
            if batch := _gx_batch(build, table, rows[table], in_gx, settings.gate.gx_sample_rows):
                batches[table] = batch
        previous = (
            duckdb.connect(str(settings.reporting_db), read_only=True) if settings.reporting_db.exists() else None
        )
        try:
            checked = tuple(t for t in tables if t not in skipped)
            for record in generic_checks(settings, build, previous, checked):
                result.add(record)
        finally:
            if previous is not None:
                previous.close()
    for record in gx_checks(settings, batches):
        result.add(_skip_row_count(record, skipped))
    result.passed = not result.failures
    index = settings.data_docs_index
    result.data_docs = index.as_uri() if batches and index.exists() else ""  # not built when GX did not run
    for warning in result.warnings:
        log.warning("gate warning (not blocking): %s", warning.describe())
    record_gate_run(settings, result, started)
    return result


def _skip_row_count(record: CheckRecord, skipped: dict[str, str]) -> CheckRecord:
    """The row-count expectation of a table the deployment cannot feed: recorded as skipped, with the reason."""
    if record.table in skipped and record.check == ROW_COUNT_EXPECTATION:
        return replace(record, passed=True, skipped=skipped[record.table])
    return record


def _gx_batch(
    build: duckdb.DuckDBPyConnection, table: str, rows: int, in_gx: list[dict[str, Any]], sample_rows: int
) -> GxBatch | None:
    """What GX validates of ``table``: the whole table when part of its suite is left to GX (``in_gx``),
    else — for the Data Docs only — at most ``sample_rows`` rows (a seeded reservoir sample); None when
    nothing is left to GX and ``sample_rows`` is 0."""
    relation = f'{MARTS_SCHEMA}."{table}"'
    if in_gx:
        return GxBatch(build.execute(f"select * from {relation}").df(), rows, sampled=False, counts_untranslated=True)
    if sample_rows == 0:
        return None
    if rows <= sample_rows:
        return GxBatch(build.execute(f"select * from {relation}").df(), rows, sampled=False, counts_untranslated=False)
    sample = build.execute(
        f"select * from {relation} using sample reservoir({sample_rows} rows) repeatable ({SAMPLE_SEED})"
    ).df()
    return GxBatch(sample, rows, sampled=True, counts_untranslated=False)


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
            "insert into publication_log (attempt_at, status, target, gate_run_id, run_id, reason, skipped_tables) "
            "values (?, 'blocked', 'all', ?, ?, ?, ?)",
            [
                datetime.now(UTC),
                result.gate_run_id,
                run_id,
                f"quality gate failed: {reason}",
                json.dumps(result.skipped_tables, sort_keys=True),
            ],
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
    """Run the gate on the dbt results of ``run_id``, write its report, raise :class:`GateBlockedError` if it blocks."""
    result = run_gate(settings, run_id=run_id)
    if report_path is not None:
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(result.to_json(), encoding="utf-8")
    if not result.passed:
        record_blocked(settings, result, run_id)
        raise GateBlockedError(result)
    log.info("quality gate passed: %d checks, %d warnings", result.checks_run, len(result.warnings))
    return result
