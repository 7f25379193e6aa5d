"""Great Expectations: each reporting table's suite through its checkpoint, on a pandas frame.

The blocking verdict of the expectations :mod:`cxpipe.gate.sql_expectations` can compute is
taken in DuckDB over every row; GX validates what is left of a suite (an expectation type or
argument the SQL route does not know) on the **whole** table, and renders the Data Docs. For
the Data Docs alone a table bigger than ``CX_GATE_GX_SAMPLE_ROWS`` is validated on a seeded
sample of that many rows (DuckDB's reservoir sample), so the page of a big table shows a
sample's results; the gate's own record of every check is complete.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cxpipe.gate.results import CheckRecord
from cxpipe.gate.sql_expectations import translatable
from cxpipe.settings import Settings

log = logging.getLogger(__name__)

DATASOURCE = "reporting_build"
BATCH_DEFINITION = "whole_table"


@dataclass
class GxBatch:
    """What GX validates for one table: the frame, whether it is a sample, and which expectations count."""

    frame: Any
    rows: int  # rows of the whole table
    sampled: bool
    #: the GX results of the expectations the SQL route leaves to GX are the gate's checks
    #: (only on a whole table: a sample is for the Data Docs)
    counts_untranslated: bool


def _context(settings: Settings) -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx  # slow import (~10 s): only when the gate runs GX

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


def gx_checks(settings: Settings, batches: dict[str, GxBatch]) -> list[CheckRecord]:
    """Run each table's checkpoint on its batch; the checks of the expectations it counts.

    The checkpoints' Data Docs action runs once for all tables at the end (one site build
    instead of one per table: rendering the site was most of GX's time).
    """
    if not batches:
        return []
    context = _context(settings)
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    run_id = RunIdentifier(run_time=datetime.now(UTC))
    records = []
    rendered: list[Any] = []
    for table, batch in batches.items():
        checkpoint = _checkpoint(context, table)
        # the checkpoint's validations, run one by one (each stores its result), and its Data Docs
        # action once for every table below: building the site once instead of once per table
        for definition in checkpoint.validation_definitions:
            validation = definition.run(
                checkpoint_id=checkpoint.id,
                batch_parameters={"dataframe": batch.frame},
                result_format=checkpoint.result_format,
                run_id=run_id,
            )
            suite = ExpectationSuiteIdentifier(name=definition.suite.name)
            rendered += [ValidationResultIdentifier(suite, run_id, validation.batch_id), suite]
            for check in validation.results:
                config = check.expectation_config
                if not batch.counts_untranslated or translatable({"type": config.type, "kwargs": config.kwargs}):
                    continue  # computed in DuckDB over every row (cxpipe.gate.sql_expectations)
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
    context.build_data_docs(resource_identifiers=rendered)
    return records
