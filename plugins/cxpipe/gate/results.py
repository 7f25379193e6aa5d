"""What the gate reports: each check that ran, the failures, and the error that blocks publication."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

BLOCKING_SEVERITIES = frozenset({"critical", "error"})
#: ``observed["status"]`` of a check that should have run in the build and did not.
NOT_RUN = "not run"


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
        if isinstance(self.observed, dict) and self.observed.get("status") == NOT_RUN:
            return f"{where}: {self.expectation} did not run ({self.observed.get('reason')})"
        return f"{where}: {self.expectation} failed (observed: {self.observed})"


@dataclass
class CheckRecord:
    """One check that ran (or was skipped, ``skipped`` saying why), for the gate log."""

    source: str
    table: str
    check: str
    column: str | None
    severity: str
    passed: bool
    observed: Any = None
    skipped: str | None = None


@dataclass
class GateResult:
    passed: bool
    checks_run: int
    failures: list[CheckFailure] = field(default_factory=list)
    warnings: list[CheckFailure] = field(default_factory=list)
    data_docs: str = ""
    gate_run_id: str = ""
    checks: list[CheckRecord] = field(default_factory=list)
    #: reporting tables the deployment's sources cannot feed, empty as expected: table -> reason
    skipped_tables: dict[str, str] = field(default_factory=dict)

    def add(self, record: CheckRecord) -> None:
        self.checks.append(record)
        if record.skipped is not None:  # recorded, not run: never a failure
            return
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
