"""Great Expectations: each reporting table's suite run through its checkpoint on a pandas frame."""

from __future__ import annotations

import logging
import os
from typing import Any

from cxpipe.gate.results import CheckRecord
from cxpipe.settings import Settings

log = logging.getLogger(__name__)

DATASOURCE = "reporting_build"
BATCH_DEFINITION = "whole_table"


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
