"""``cxpipe status``: is today's data good? One look for an on-call engineer, one exit code for a monitor.

:func:`collect_status` reads what the pipeline already records — nothing is written:

* per source: the newest landing folder (``landing/<source>/<date>/``), the newest date in the
  load audit (``lake/_load_audit/<source>/load_date=<date>/``) with when it was ingested, and the
  rows quarantined on that date and in all;
* the last gate run (``gate_runs`` of the operations log) with each failing check and its observed value;
* the current publication (``publication_log`` of ``warehouse/reporting.duckdb``) and the last
  publication attempt (the operations ``publication_log``);
* freshness against the schedule (:func:`due_date`).

The exit code (:class:`Exit`) is the first that applies of: nothing published, last gate failed,
stale data; every problem is listed whatever the code.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import IntEnum
from typing import Any

import duckdb

from cxpipe.contracts import SOURCES
from cxpipe.gate.results import BLOCKING_SEVERITIES
from cxpipe.settings import Settings
from cxpipe.warehouse import connect_ops, ops_db


class Exit(IntEnum):
    """Exit codes of ``cxpipe status`` (1 and 2 are the CLI's own: an error, bad settings)."""

    OK = 0
    NOTHING_PUBLISHED = 3
    GATE_FAILED = 4
    STALE = 5


@dataclass
class SourceStatus:
    source: str
    #: whether the deployment has this source (``CX_SOURCES``); others are shown, never stale
    configured: bool
    last_landed: date | None = None
    last_ingested: date | None = None
    ingested_at: datetime | None = None
    rows_loaded_last: int = 0
    rows_quarantined_last: int = 0
    rows_quarantined_total: int = 0
    stale: bool = False


@dataclass
class FailingCheck:
    source: str
    table: str
    check: str
    column: str | None
    observed: Any

    def describe(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        return f"[{self.source}] {where}: {self.check} (observed: {self.observed})"


@dataclass
class GateStatus:
    gate_run_id: str
    finished_at: datetime
    passed: bool
    checks_run: int
    failed: int
    warnings: int
    #: the blocking checks that failed
    failing: list[FailingCheck] = field(default_factory=list)
    data_docs: str | None = None
    #: the checks that failed with a warning severity (recorded, not blocking)
    warned: list[FailingCheck] = field(default_factory=list)


@dataclass
class PublicationStatus:
    publication_id: int
    published_at: datetime
    gate_status: str
    data_interval_start: datetime | None
    data_interval_end: datetime | None
    row_counts: dict[str, int]

    @property
    def last_covered_date(self) -> date | None:
        """The last landing date the publication covers (its data interval ends the day after)."""
        if self.data_interval_end is None:
            return None
        return (self.data_interval_end - timedelta(days=1)).date()


@dataclass
class Attempt:
    attempt_at: datetime
    status: str
    target: str
    publication_id: int | None
    reason: str | None


@dataclass
class Status:
    checked_at: datetime
    #: the newest landing date that should be ingested and published by now (None: nothing due yet)
    due: date | None
    sources: list[SourceStatus]
    gate: GateStatus | None
    publication: PublicationStatus | None
    last_attempt: Attempt | None
    problems: list[str] = field(default_factory=list)
    exit_code: Exit = Exit.OK

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["exit_code"] = int(self.exit_code)
        data["state"] = self.exit_code.name.lower()
        if self.publication is not None:
            covered = self.publication.last_covered_date
            data["publication"]["last_covered_date"] = covered.isoformat() if covered else None
        parsed: dict[str, Any] = json.loads(json.dumps(data, default=_iso))
        return parsed


def _iso(value: object) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def due_date(settings: Settings, now: datetime) -> date | None:
    """The newest landing date that should be in the lake and published at ``now``.

    The ingest run of landing date *D* starts when *D* ends (midnight UTC) and may last
    ``2 × CX_LANDING_WAIT_HOURS`` (the DAG run's timeout); the transform that follows gets
    ``CX_TASK_TIMEOUT_MINUTES`` more. So *D* is due once ``D + 1 day + that grace`` has passed.
    Never after ``CX_END_DATE``; None before the first scheduled date is due.
    """
    schedule = settings.schedule
    grace = schedule.landing_wait * 2 + schedule.task_timeout
    due = (now.astimezone(UTC) - grace).date() - timedelta(days=1)
    if schedule.end_date is not None:
        due = min(due, schedule.end_date)
    return due if due >= schedule.start_date else None


def _last_landed(settings: Settings, source: str) -> date | None:
    root = settings.landing_dir / source
    found = []
    for folder in root.iterdir() if root.is_dir() else []:
        try:
            found.append(date.fromisoformat(folder.name))
        except ValueError:
            continue  # not a landing date folder
    return max(found, default=None)


def _source_status(settings: Settings, source: str, due: date | None) -> SourceStatus:
    current = SourceStatus(source, configured=source in settings.ingest.sources)
    current.last_landed = _last_landed(settings, source)
    parts = sorted((settings.lake_dir / "_load_audit" / source).glob("load_date=*/part-0.parquet"))
    if parts:
        with duckdb.connect() as con:
            rows = con.execute(
                "select load_date::date, max(ingested_at), sum(rows_loaded), sum(rows_quarantined) "
                "from read_parquet(?, union_by_name = true) group by all order by 1",
                [[str(p) for p in parts]],
            ).fetchall()
        last = rows[-1]
        current.last_ingested, current.ingested_at = last[0], last[1]
        current.rows_loaded_last, current.rows_quarantined_last = int(last[2] or 0), int(last[3] or 0)
        current.rows_quarantined_total = sum(int(r[3] or 0) for r in rows)
    if current.configured and due is not None:
        current.stale = current.last_ingested is None or current.last_ingested < due
    return current


def _gate_and_attempt(settings: Settings) -> tuple[GateStatus | None, Attempt | None]:
    if not ops_db(settings.warehouse_dir).exists():
        return None, None
    with connect_ops(settings.warehouse_dir, read_only=True) as con:
        gate_row = con.execute(
            "select gate_run_id, finished_at, passed, checks_run, failed, warnings, failing, data_docs "
            "from gate_runs order by finished_at desc limit 1"
        ).fetchone()
        attempt_row = con.execute(
            "select attempt_at, status, target, publication_id, reason from publication_log "
            "order by attempt_at desc limit 1"
        ).fetchone()
    gate = None
    if gate_row is not None:
        found = [
            (
                f.get("severity") in BLOCKING_SEVERITIES,
                FailingCheck(f.get("source", "?"), f["table"], f["expectation"], f.get("column"), f.get("observed")),
            )
            for f in json.loads(gate_row[6])
        ]
        run_id, finished_at, passed, checks_run, failed, warnings = gate_row[:6]
        gate = GateStatus(
            str(run_id),
            finished_at,
            bool(passed),
            int(checks_run),
            int(failed),
            int(warnings),
            [check for blocking, check in found if blocking],
            gate_row[7] or None,
            [check for blocking, check in found if not blocking],
        )
    attempt = Attempt(*attempt_row) if attempt_row is not None else None
    return gate, attempt


def _publication(settings: Settings) -> PublicationStatus | None:
    if not settings.reporting_db.exists():
        return None
    with duckdb.connect(str(settings.reporting_db), read_only=True) as con:
        row = con.execute(
            "select publication_id, published_at, gate_status, data_interval_start, data_interval_end, row_counts "
            "from publication_log order by publication_id desc limit 1"
        ).fetchone()
    if row is None:
        return None
    return PublicationStatus(int(row[0]), row[1], row[2], row[3], row[4], json.loads(row[5]))


def collect_status(settings: Settings, now: datetime | None = None) -> Status:
    """What the pipeline has landed, ingested, checked and published, and whether that is good enough."""
    now = now or datetime.now(UTC)
    due = due_date(settings, now)
    sources = [_source_status(settings, source, due) for source in SOURCES]
    gate, attempt = _gate_and_attempt(settings)
    publication = _publication(settings)
    status = Status(now, due, sources, gate, publication, attempt)

    codes: list[Exit] = []
    if publication is None:
        status.problems.append(f"nothing was published: {settings.reporting_db} does not exist or has no publication")
        codes.append(Exit.NOTHING_PUBLISHED)
    if gate is not None and not gate.passed:
        checks = "; ".join(f.describe() for f in gate.failing) or f"{gate.failed} blocking check(s)"
        status.problems.append(f"the last quality gate ({gate.finished_at:%Y-%m-%d %H:%M} UTC) failed: {checks}")
        codes.append(Exit.GATE_FAILED)
    for source in sources:
        if source.stale:
            ingested = source.last_ingested.isoformat() if source.last_ingested else "nothing"
            status.problems.append(f"{source.source} is stale: ingested up to {ingested}, {due} is due")
    published_stale = (
        publication is not None
        and due is not None
        and (covered := publication.last_covered_date) is not None
        and covered < due
    )
    if published_stale:
        assert publication is not None
        status.problems.append(
            f"publication {publication.publication_id} is stale: it covers up to {publication.last_covered_date}, "
            f"{due} is due"
        )
    if published_stale or any(s.stale for s in sources):
        codes.append(Exit.STALE)
    status.exit_code = min(codes, default=Exit.OK)
    return status


# ------------------------------------------------------------------ terminal


def render(status: Status, console: Any) -> None:
    """Print ``status`` on a rich ``Console`` (plain text when it is not a terminal)."""
    from rich.markup import escape
    from rich.table import Table

    due = status.due.isoformat() if status.due else "nothing due yet"
    console.print(f"[bold]cxpipe status[/] at {status.checked_at:%Y-%m-%d %H:%M} UTC; due landing date: {due}")

    table = Table(title="Sources", title_justify="left")
    counts = ("loaded", "quarantined", "quarantined, all dates")
    for column in ("source", "landed", "ingested", "ingested at (UTC)", *counts):
        table.add_column(column, justify="right" if column in counts else "left")
    for source in status.sources:
        name = source.source if source.configured else f"{source.source} (not configured)"
        ingested = source.last_ingested.isoformat() if source.last_ingested else "-"
        table.add_row(
            f"[red]{name}[/]" if source.stale else name,
            source.last_landed.isoformat() if source.last_landed else "-",
            f"[red]{ingested} (stale)[/]" if source.stale else ingested,
            f"{source.ingested_at:%Y-%m-%d %H:%M}" if source.ingested_at else "-",
            str(source.rows_loaded_last),
            str(source.rows_quarantined_last),
            str(source.rows_quarantined_total),
        )
    console.print(table)

    publication = status.publication
    if publication is None:
        console.print("Publication: [red]nothing published[/]")
    else:
        covered = publication.last_covered_date
        console.print(
            f"Publication: #{publication.publication_id} at {publication.published_at:%Y-%m-%d %H:%M} UTC, "
            f"gate {publication.gate_status}, covers up to {covered.isoformat() if covered else 'unknown'}"
        )
    if status.last_attempt is not None:
        attempt = status.last_attempt
        reason = f": {attempt.reason}" if attempt.reason else ""
        console.print(
            f"Last attempt: {attempt.status} ({attempt.target}) at {attempt.attempt_at:%Y-%m-%d %H:%M} UTC{reason}",
            markup=False,
        )
    gate = status.gate
    if gate is None:
        console.print("Quality gate: never ran")
    else:
        verdict = "[green]passed[/]" if gate.passed else "[red]FAILED[/]"
        console.print(
            f"Quality gate: {verdict} at {gate.finished_at:%Y-%m-%d %H:%M} UTC, {gate.checks_run} checks, "
            f"{gate.failed} blocking failure(s), {gate.warnings} warning(s)"
        )
        for check in gate.failing:
            console.print(f"  - {check.describe()}", markup=False, highlight=False)
    for problem in status.problems:
        console.print(f"[red]problem:[/] {escape(problem)}", highlight=False)
    verdict = "OK" if status.exit_code == Exit.OK else status.exit_code.name.replace("_", " ")
    style = "green" if status.exit_code == Exit.OK else "red"
    console.print(f"[bold {style}]{verdict}[/] (exit {int(status.exit_code)})")
