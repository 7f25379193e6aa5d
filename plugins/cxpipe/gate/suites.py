"""Gate configuration: the suites' ``meta.cxpipe`` blocks and the date freshness is measured against."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from cxpipe.settings import Settings

#: Aggregates a suite may name for its drift metric.
DRIFT_AGGREGATES = frozenset({"avg", "sum", "min", "max", "median"})


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


def suite_expectations(settings: Settings, table: str) -> list[dict[str, Any]]:
    """The expectations of a table's GX suite as its JSON file holds them (``type``, ``kwargs``, ``severity``)."""
    path = suite_path(settings, table)
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: every reporting table needs a GX suite (see docs/gate.md, 'Adding a table')"
        )
    expectations = json.loads(path.read_text(encoding="utf-8")).get("expectations") or []
    if not isinstance(expectations, list):
        raise ValueError(f"{path}: expectations must be a list")
    return expectations


def as_of_date(settings: Settings) -> date:
    """The date freshness is measured against: ``settings.gate.as_of``, else the newest load date in the lake."""
    if settings.gate.as_of is not None:
        return settings.gate.as_of
    partitions = [*settings.lake_dir.glob("_load_audit/*/load_date=*"), *settings.lake_dir.glob("*/*/*date=*")]
    dates = []
    for partition in partitions:
        try:
            dates.append(date.fromisoformat(partition.name.split("=", 1)[1]))
        except ValueError:
            continue
    return max(dates) if dates else datetime.now(UTC).date()
