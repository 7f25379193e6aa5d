"""Gate configuration: the suites' ``meta.cxpipe`` blocks, the drift threshold and the freshness date."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from cxpipe.config import Settings

#: Percent a table's row count or key metric may move against the last publication.
DRIFT_ENV = "CX_GATE_DRIFT_PCT"
DEFAULT_DRIFT_PCT = 50.0
#: Reference date for freshness (ISO date); default: the newest load date in the lake.
AS_OF_ENV = "CX_GATE_AS_OF"
#: Aggregates a suite may name for its drift metric.
DRIFT_AGGREGATES = frozenset({"avg", "sum", "min", "max", "median"})


def drift_pct_setting() -> str | None:
    """The raw ``CX_GATE_DRIFT_PCT`` setting (None when unset)."""
    return os.environ.get(DRIFT_ENV)


def as_of_setting() -> str | None:
    """The raw ``CX_GATE_AS_OF`` setting (None when unset)."""
    return os.environ.get(AS_OF_ENV)


def drift_threshold_pct() -> float:
    value = drift_pct_setting()
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
    if value := as_of_setting():
        return date.fromisoformat(value)
    partitions = [*settings.lake_dir.glob("_load_audit/*/load_date=*"), *settings.lake_dir.glob("*/*/*date=*")]
    dates = []
    for partition in partitions:
        try:
            dates.append(date.fromisoformat(partition.name.split("=", 1)[1]))
        except ValueError:
            continue
    return max(dates) if dates else datetime.now(UTC).date()
