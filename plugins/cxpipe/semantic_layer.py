"""The semantic layer: MetricFlow answers metric queries from the published reporting warehouse.

The metrics (CSAT, NPS, rolling NPS, CES, on-time rate, complaint rate, composite index,
kept-promise rate, revenue, customers, …) and their dimensions are dbt semantic models in
``dbt_project/models/semantic/`` (docs/semantic-layer.md). MetricFlow reads them from dbt's
``semantic_manifest.json`` and queries the warehouse of the dbt profile's target: here the
target ``reporting``, the published ``reporting.duckdb`` opened **read only**
(``access_mode: READ_ONLY``), whose tables are all in schema ``main``.

MetricFlow looks for the manifest in ``<project>/target/``, so :func:`prepare` keeps a copy of
the dbt project under ``<data>/warehouse/semantic_layer/`` parsed for that target (the build's
own ``target/`` folder, which Cosmos reads, is never touched); it is parsed again when the
project changes. :func:`run_mf` runs any ``mf`` command there; :func:`query` runs
``mf query`` and returns its CSV.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cxpipe.settings import Settings

#: The dbt target of the published warehouse (dbt_project/profiles.yml).
TARGET = "reporting"
#: Files of the dbt project that are not its definition (outputs, the contracts' reference state).
_NOT_PROJECT = ("target", "logs", "dbt_packages", "contracts_state", "__pycache__")


class SemanticLayerError(RuntimeError):
    """MetricFlow could not answer: nothing published, a bad metric or dimension name, or a failed parse."""


@dataclass(frozen=True)
class MetricQuery:
    """One ``mf query``: metrics, group-bys (``metric_time__month``, ``event__region``, …) and options."""

    metrics: tuple[str, ...]
    group_by: tuple[str, ...] = ()
    where: tuple[str, ...] = ()
    order: tuple[str, ...] = ()
    limit: int | None = None
    start_time: str | None = None
    end_time: str | None = None
    saved_query: str | None = None
    extra: tuple[str, ...] = field(default=())

    def arguments(self) -> list[str]:
        args: list[str] = []
        if self.saved_query:
            args += ["--saved-query", self.saved_query]
        if self.metrics:
            args += ["--metrics", ",".join(self.metrics)]
        if self.group_by:
            args += ["--group-by", ",".join(self.group_by)]
        for condition in self.where:
            args += ["--where", condition]
        if self.order:
            args += ["--order", ",".join(self.order)]
        if self.limit is not None:
            args += ["--limit", str(self.limit)]
        if self.start_time:
            args += ["--start-time", self.start_time]
        if self.end_time:
            args += ["--end-time", self.end_time]
        return [*args, *self.extra]


def semantic_dir(settings: Settings) -> Path:
    """Where the parsed copy of the dbt project for the published warehouse is kept."""
    return settings.warehouse_dir / "semantic_layer"


def _fingerprint(project_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(project_dir.rglob("*")):
        relative = path.relative_to(project_dir)
        if path.is_file() and relative.parts[0] not in _NOT_PROJECT and "__pycache__" not in relative.parts:
            digest.update(str(relative).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def environment(settings: Settings, project: Path) -> dict[str, str]:
    """The environment of dbt and ``mf`` for the published warehouse (target ``reporting``, read only)."""
    return {
        **os.environ,
        **settings.dbt_env(),
        "CX_DBT_TARGET": TARGET,
        "CX_REPORTING_DB": str(settings.reporting_db),
        "DBT_PROJECT_DIR": str(project),
        "DBT_PROFILES_DIR": str(project),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }


def _tool(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def prepare(settings: Settings) -> Path:
    """The project folder MetricFlow runs in, parsed for the published warehouse; parsed again on a change."""
    if not settings.reporting_db.exists():
        raise SemanticLayerError(f"nothing published yet: {settings.reporting_db} does not exist (run `make run`)")
    folder = semantic_dir(settings)
    project = folder / "project"
    fingerprint = _fingerprint(settings.dbt_project_dir)
    stamp = project / "target" / "cxpipe_fingerprint"
    if stamp.exists() and stamp.read_text(encoding="utf-8") == fingerprint:
        return project
    folder.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix="project-", dir=folder))
    try:
        shutil.copytree(
            settings.dbt_project_dir, staged, ignore=shutil.ignore_patterns(*_NOT_PROJECT), dirs_exist_ok=True
        )
        done = subprocess.run(
            [_tool("dbt"), "parse", "--quiet", "--project-dir", str(staged), "--profiles-dir", str(staged)],
            env=environment(settings, staged),
            cwd=staged,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0 or not (staged / "target" / "semantic_manifest.json").exists():
            raise SemanticLayerError(f"dbt parse of the semantic layer failed:\n{(done.stdout + done.stderr)[-3000:]}")
        (staged / "target" / "cxpipe_fingerprint").write_text(fingerprint, encoding="utf-8")
        if project.exists():
            shutil.rmtree(project)
        staged.rename(project)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return project


def run_mf(settings: Settings, args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``mf <args>`` (MetricFlow's CLI) against the published warehouse; output captured."""
    project = prepare(settings)
    return subprocess.run(
        [_tool("mf"), *args],
        env=environment(settings, project),
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )


def query(settings: Settings, request: MetricQuery) -> str:
    """The answer of ``mf query`` as CSV text (a header row, then one row per group)."""
    if not request.metrics and not request.saved_query:
        raise SemanticLayerError("name at least one metric (--metrics) or a saved query (--saved-query)")
    with tempfile.TemporaryDirectory(prefix="cxpipe-mf-") as tmp:
        out = Path(tmp) / "answer.csv"
        done = run_mf(settings, ["query", *request.arguments(), "--csv", str(out), "--quiet"])
        if done.returncode != 0 or not out.exists():
            raise SemanticLayerError(_mf_error(done.stdout + done.stderr))
        return out.read_text(encoding="utf-8")


def rows(answer: str) -> list[dict[str, str]]:
    """The rows of a CSV answer of :func:`query`, by column name."""
    return list(csv.DictReader(io.StringIO(answer)))


def _mf_error(output: str) -> str:
    """The part of MetricFlow's output that says what went wrong."""
    lines = [line for line in output.splitlines() if line.strip()]
    for marker in ("ERROR", "Error", "error", "Exception"):
        found = [i for i, line in enumerate(lines) if marker in line]
        if found:
            return "\n".join(lines[found[0] : found[0] + 25])
    return "\n".join(lines[-25:]) or "mf query failed without output"
