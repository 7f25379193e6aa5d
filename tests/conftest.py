"""Shared fixtures: small real data sets built with cxpipe's own code and real dbt.

Tests live in tiers, one folder each, and every test is marked with its tier:
``unit`` (no dbt build, no server), ``dbt`` (a real dbt build of demo data),
``integration`` (a real PostgreSQL server, killed processes) and ``e2e`` (real Airflow).
``make test-fast`` runs unit + dbt; ``make test`` runs every tier.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from cxpipe.contracts import SOURCES
from cxpipe.demo import DemoSpec, generate
from cxpipe.ingest import ingest_source
from cxpipe.runner import dbt_parse
from cxpipe.settings import REPO_ROOT, Settings, load_settings

DEMO_DATE = date(2026, 11, 1)
SMALL_DEMO = DemoSpec(start=DEMO_DATE, days=2, history_days=60, customers=150, orders_per_day=12)

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="cxpipe-airflow-home-")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO_ROOT / "dags")


TIERS = ("unit", "dbt", "integration", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with the tier its folder names (``tests/<tier>/test_*.py``)."""
    tests_dir = Path(__file__).parent
    for item in items:
        tier = item.path.relative_to(tests_dir).parts[0]
        if tier not in TIERS:
            raise pytest.UsageError(f"{item.path}: tests live in one of tests/{{{','.join(TIERS)}}}/")
        item.add_marker(getattr(pytest.mark, tier))


def copy_gx_context(target: Path) -> Path:
    """A private copy of the committed GX file context (its outputs stay in the copy)."""
    shutil.copytree(REPO_ROOT / "expectations", target, ignore=shutil.ignore_patterns("uncommitted"))
    return target


def settings_for(root: Path) -> Settings:
    """Settings whose data and GX outputs live under ``root``."""
    return Settings(
        project_dir=REPO_ROOT,
        data_dir=root / "data",
        dbt_project_dir=REPO_ROOT / "dbt_project",
        gx_dir=copy_gx_context(root / "expectations"),
        pii_key="test-key",
    )


def run_dbt(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the dbt CLI of this environment against ``settings``' warehouse."""
    target = settings.data_dir / "dbt_target"
    env = {**os.environ, **settings.dbt_env()}
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            *args,
            "--project-dir",
            str(settings.dbt_project_dir),
            "--profiles-dir",
            str(settings.dbt_project_dir),
            "--target-path",
            str(target),
            "--log-path",
            str(settings.data_dir / "dbt_logs"),
        ],
        env=env,
        cwd=settings.dbt_project_dir,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings on an empty temporary data folder, also exported to the environment."""
    current = settings_for(tmp_path)
    monkeypatch.setenv("CX_DATA_DIR", str(current.data_dir))
    monkeypatch.setenv("CX_GX_DIR", str(current.gx_dir))
    monkeypatch.setenv("CX_PII_KEY", current.pii_key)
    return current


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Demo data ingested for every source and built by ``dbt build`` (models + tests)."""
    root = tmp_path_factory.mktemp("built")
    current = settings_for(root)
    generate(current.landing_dir, SMALL_DEMO)
    for source in SOURCES:
        ingest_source(current, source, DEMO_DATE)
    result = run_dbt(current, "build")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    yield current


def clone_data(source: Settings, root: Path) -> Settings:
    """A writable copy of another fixture's data folder and GX context."""
    shutil.copytree(source.data_dir, root / "data")
    return Settings(
        project_dir=source.project_dir,
        data_dir=root / "data",
        dbt_project_dir=source.dbt_project_dir,
        gx_dir=copy_gx_context(root / "expectations"),
        pii_key=source.pii_key,
    )


@pytest.fixture
def warehouse_copy(built_warehouse: Settings, tmp_path: Path) -> Settings:
    """A private, writable copy of the built warehouse, for tests that change it."""
    return clone_data(built_warehouse, tmp_path)


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """dbt's manifest in the project's target folder, which the transform DAG renders from."""
    settings = load_settings()
    dbt_parse(settings, {**os.environ, **settings.dbt_env(), "CX_BUILD_DB": ":memory:"})
    assert settings.manifest_path.exists()
    return settings.manifest_path


@dataclass
class Webhook:
    """A real local HTTP server standing in for a chat tool's incoming webhook."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Webhook]:
    """Receives alert POSTs; ``CX_ALERT_WEBHOOK_URL`` points at it for the test."""
    hook = Webhook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            hook.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(hook.status)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hook.url = f"http://127.0.0.1:{server.server_port}/hook"
    monkeypatch.setenv("CX_ALERT_WEBHOOK_URL", hook.url)
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()


def publish_paused_at(settings: Settings, step: str) -> subprocess.Popen[str]:
    """Start ``publish`` in a subprocess and return it once it is paused at ``step`` (to be killed there)."""
    env = {
        **os.environ,
        "CX_DATA_DIR": str(settings.data_dir),
        "CX_GX_DIR": str(settings.gx_dir),
    }
    code = (
        "import sys, time\n"
        "from cxpipe.settings import load_settings\n"
        "from cxpipe.publish import publish\n"
        "def pause(step):\n"
        "    if step == sys.argv[1]:\n"
        "        print(f'paused at {step}', file=sys.stderr, flush=True)\n"
        "        time.sleep(120)\n"
        "publish(load_settings(), gate_status='passed', on_step=pause)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code, step], env=env, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    line = process.stderr.readline()
    while line and "paused at" not in line:
        line = process.stderr.readline()
    assert f"paused at {step}" in line
    return process
