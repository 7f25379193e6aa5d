"""Lake coverage: which landing dates every configured source (``CX_SOURCES``) has loaded, and what a run covers.

Read from the load audit the ingest writes (``lake/_load_audit/<source>/load_date=<date>/``).
No Airflow here: the transform DAG's ``check_lake`` task and the ingest DAGs'
``announce_complete`` task call these functions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from cxpipe.contracts import SOURCES
from cxpipe.run_range import param_range
from cxpipe.settings import Settings

log = logging.getLogger(__name__)


class LakeIncompleteError(RuntimeError):
    """The lake lacks landing dates a transform run was asked to cover."""


@dataclass(frozen=True)
class LakeCoverage:
    """Which landing dates each of the deployment's sources (``CX_SOURCES``) has in the lake (from the load audit).

    Only ``sources`` are waited for: a source the deployment does not have never makes a date incomplete.
    """

    dates: dict[str, list[date]] = field(default_factory=dict)
    sources: tuple[str, ...] = SOURCES

    @property
    def complete_dates(self) -> list[date]:
        """Dates that every configured source has loaded (the only dates a publication can claim to cover)."""
        loaded = [set(self.dates.get(s, [])) for s in self.sources]
        common = set.intersection(*loaded) if loaded else set()
        return sorted(common)

    def missing(self, first: date, last: date) -> list[tuple[str, date]]:
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        return [(source, day) for source in self.sources for day in days if day not in self.dates.get(source, [])]

    def late_sources(self) -> dict[str, date | None]:
        """Sources behind the newest landing date any source has: source -> its last loaded date."""
        newest = max((max(self.dates[s]) for s in self.sources if self.dates.get(s)), default=None)
        return {
            source: (max(self.dates[source]) if self.dates.get(source) else None)
            for source in self.sources
            if newest is not None and newest not in self.dates.get(source, [])
        }


def lake_coverage(settings: Settings) -> LakeCoverage:
    """Read the load audit partitions (``lake/_load_audit/<source>/load_date=<date>/``) of the configured sources."""
    found: dict[str, list[date]] = {}
    for source in settings.ingest.sources:
        root = settings.lake_dir / "_load_audit" / source
        days = [
            date.fromisoformat(p.name.removeprefix("load_date="))
            for p in (root.glob("load_date=*") if root.exists() else [])
            if (p / "part-0.parquet").exists()
        ]
        found[source] = sorted(days)
    return LakeCoverage(found, settings.ingest.sources)


def incomplete_dates(settings: Settings, days: list[date]) -> dict[str, list[str]]:
    """Of ``days``, those some configured source has not loaded yet: date -> the sources still missing."""
    coverage = lake_coverage(settings)
    return {
        day.isoformat(): missing
        for day in days
        if (missing := [s for s in coverage.sources if day not in coverage.dates.get(s, [])])
    }


def check_lake(settings: Settings, params: dict[str, Any]) -> dict[str, Any]:
    """Decide what a transform run covers; raise :class:`LakeIncompleteError` if it cannot build.

    Only the deployment's sources (``CX_SOURCES``) count.

    * A manual run with ``from_date``/``to_date`` requires every configured source to have loaded
      every date of the range, and publishes that range.
    * Any other run publishes the landing dates all configured sources have loaded (the late-source
      rule: a publication never claims a date for which a source is still missing); sources
      ahead of a late one are built in but the claimed interval stops at the last complete date.
    """
    coverage = lake_coverage(settings)
    bounds = param_range(params)
    if bounds is not None:
        first, last = bounds
        if missing := coverage.missing(first, last):
            shown = ", ".join(f"{source} {day}" for source, day in missing[:20])
            more = f" and {len(missing) - 20} more" if len(missing) > 20 else ""
            raise LakeIncompleteError(
                f"the lake has no load of {shown}{more} (looked in {settings.lake_dir / '_load_audit'}); "
                "run the cx_ingest_<source> DAGs for those dates first (a manual run with the same "
                "from_date/to_date), then re-run this DAG"
            )
    else:
        complete = coverage.complete_dates
        if not complete:
            empty = [s for s in coverage.sources if not coverage.dates.get(s)]
            raise LakeIncompleteError(
                f"no landing date is loaded for every configured source (CX_SOURCES={','.join(coverage.sources)}; "
                f"nothing yet from: {', '.join(empty) or 'none'}; "
                f"dates per source: { {s: [str(d) for d in v] for s, v in coverage.dates.items()} }); "
                "run the missing ingest DAGs first"
            )
        first, last = complete[0], complete[-1]
        if late := coverage.late_sources():
            log.warning("late source(s), publication covers up to %s: %s", last, late)
    return {
        "from_date": first.isoformat(),
        "to_date": last.isoformat(),
        "late_sources": {s: (d.isoformat() if d else None) for s, d in coverage.late_sources().items()},
    }
