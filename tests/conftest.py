"""Shared fixtures: small real data sets built with cxpipe's own code and real dbt.

Tests live in tiers, one folder each, and every test is marked with its tier:
``unit`` (no dbt build, no server), ``dbt`` (a real dbt build of demo data),
``integration`` (a real PostgreSQL server, killed processes, headless Chromium) and ``e2e`` (real Airflow).
``make test-fast`` runs unit + dbt without the tests marked ``slow`` (a dbt-tier test that builds its own
warehouse or parses the project several times); ``make test`` runs every test.
"""

from __future__ import annotations

import atexit
import csv
import fcntl
import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest

from cxpipe.contracts import SOURCES
from cxpipe.demo import DemoSpec, generate
from cxpipe.ingest import ingest_source
from cxpipe.runner import dbt_parse
from cxpipe.settings import REPO_ROOT, Settings, load_settings

DEMO_DATE = date(2026, 11, 1)
SMALL_DEMO = DemoSpec(start=DEMO_DATE, days=2, history_days=60, customers=150, orders_per_day=12)
#: The PII key of the fixtures built with :func:`settings_for` (a run given it pseudonymises as they do).
TEST_PII_KEY = "test-key-for-pseudonymising"

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
# The suite runs on demo data: the processes it starts (cxpipe run, Airflow) may use the demo
# PII key. Fixtures built with `settings_for` have a key of their own and no demo mode.
os.environ.setdefault("CX_DEMO_MODE", "true")
#: One cache of fitted complaint models for every test (and xdist worker) of a run: they are keyed
#: by a hash of their training data, so each is trained once instead of in every dbt build.
MODEL_CACHE = Path(tempfile.gettempdir()) / f"cxpipe-test-models-{os.getuid()}"
os.environ.setdefault("CX_MODEL_CACHE_DIR", str(MODEL_CACHE))
# Spark's JVM (the Spark build tests) runs builds of a few thousand rows: the fast JIT compiler alone
# (C1) with one compiler thread, and one garbage-collector thread. The JVM of the Spark e2e run took
# 107 CPU-s instead of 151 (benchmarks/notes.md); a deployment keeps the JVM's defaults, for long builds.
os.environ.setdefault("JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:CICompilerCount=1 -XX:+UseSerialGC")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="cxpipe-airflow-home-")
atexit.register(shutil.rmtree, os.environ["AIRFLOW_HOME"], ignore_errors=True)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO_ROOT / "dags")
# as in the deployment: Airflow puts its plugins folder, where the cxpipe package lives, on sys.path
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(REPO_ROOT / "plugins")


TIERS = ("unit", "dbt", "integration", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with the tier its folder names (``tests/<tier>/test_*.py``)."""
    tests_dir = Path(__file__).parent
    for item in items:
        tier = item.path.relative_to(tests_dir).parts[0]
        if tier not in TIERS:
            raise pytest.UsageError(f"{item.path}: tests live in one of tests/{{{','.join(TIERS)}}}/")
        item.add_marker(getattr(pytest.mark, tier))


#: Modules outside tests/e2e whose tests share one costly module fixture: one worker runs each.
ONE_WORKER_MODULES: tuple[str, ...] = ()


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``pytest -n N --dist loadgroup``: each e2e module, and each module of :data:`ONE_WORKER_MODULES`, is
    one group that one worker runs, one test after another (its tests share the module's Airflow run or
    Spark build, which a second worker would make again); every other test goes to whichever worker is free.

    The group is the module's path, not an ``xdist_group`` mark: pytest-xdist 3.8 tags grouped
    tests by rewriting their node ids, which pytest 9.2 ignores (pytest-xdist issue #1386).
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    tests = Path(__file__).parent.relative_to(config.rootpath).as_posix()
    grouped = (f"{tests}/e2e/", *(f"{tests}/{module}::" for module in ONE_WORKER_MODULES))

    class E2EGroupScheduling(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return nodeid.split("::", 1)[0] if nodeid.startswith(grouped) else super()._split_scope(nodeid)

    return E2EGroupScheduling(config, log)


def check_plugins_folder() -> None:
    """Fail clearly when Airflow's plugin scan would import the cxpipe package's modules.

    Airflow imports every ``.py`` file of its plugins folder that ``.airflowignore`` does not
    exclude, each as a top-level module named after the file: ``cxpipe/__main__.py`` would
    run the cxpipe CLI inside every Airflow process that loads plugins.
    """
    from airflow._shared.module_loading import find_path_from_directory

    plugins = os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"]
    scanned = [p for p in find_path_from_directory(plugins, ".airflowignore", "glob") if p.endswith(".py")]
    assert not scanned, f"Airflow's plugin scan would import {scanned[:3]}...: exclude them in {plugins}/.airflowignore"


def write_small_corpus(folder: Path, per_language: int = 80) -> Path:
    """The first ``per_language`` train rows of each language of the project's complaint corpus, written to
    ``folder`` in the corpus' layout: models that fit in seconds."""
    from cxpipe.complaints.corpora import PROJECT_CORPUS_DIR

    for path in sorted(PROJECT_CORPUS_DIR.glob("complaints_*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            rows = [r for r in reader if r["split"] == "train"][:per_language]
            fields = reader.fieldnames or []
        with (folder / path.name).open("w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
    return folder


def copy_gx_context(target: Path) -> Path:
    """A private copy of the committed GX file context (its outputs stay in the copy)."""
    shutil.copytree(REPO_ROOT / "expectations", target, ignore=shutil.ignore_patterns("uncommitted"))
    return target


def copy_dbt_project(target: Path) -> Path:
    """A private copy of the dbt project, for Airflow runs that parse it (``CX_DBT_PROJECT_DIR``).

    dbt and Cosmos write the manifest and partial parse into the project's ``target`` folder;
    in a copy, no other test (or test session) reads a manifest that is being rewritten.
    """
    shutil.copytree(REPO_ROOT / "dbt_project", target, ignore=shutil.ignore_patterns("target", "logs"))
    return target


def kept_for_run(settings: Settings, run_id: str) -> Path:
    """The dbt results of ``run_dbt`` (``<data>/dbt_target``) kept for DAG run ``run_id``, as its
    Cosmos tasks keep theirs (``warehouse/dbt_results/<run id>/``); the gate of that run reads them."""
    from cxpipe.gate.dbt_results import run_results_folder

    folder = run_results_folder(settings, run_id)
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("run_results.json", "manifest.json"):
        shutil.copyfile(settings.data_dir / "dbt_target" / name, folder / name)
    return folder


def cxpipe_run_env(root: Path, airflow_db: Path) -> dict[str, str]:
    """The environment of a ``cxpipe run`` on its own folders under ``root``: data, GX context, a copy of
    the migrated Airflow database (``cxpipe run`` finds it up to date), a copy of the dbt project and a
    Cosmos cache of its own."""
    check_plugins_folder()
    (root / "airflow").mkdir(parents=True)
    shutil.copyfile(airflow_db, root / "airflow" / "airflow.db")
    return {
        **os.environ,
        "CX_DATA_DIR": str(root / "data"),
        "CX_GX_DIR": str(copy_gx_context(root / "expectations")),
        "AIRFLOW_HOME": str(root / "airflow"),
        # `cxpipe run` parses the project (its manifest): a copy, so no other test reads it half written
        "CX_DBT_PROJECT_DIR": str(copy_dbt_project(root / "dbt_project")),
        # Cosmos keeps dbt's partial parse between tasks in its cache: this run's own, not the
        # machine-wide default that Airflow runs of other data folders (other sessions) overwrite
        "AIRFLOW__COSMOS__CACHE_DIR": str(root / "cosmos"),
    }


def settings_for(root: Path) -> Settings:
    """Settings whose data and GX outputs live under ``root``."""
    return Settings(
        project_dir=REPO_ROOT,
        data_dir=root / "data",
        dbt_project_dir=REPO_ROOT / "dbt_project",
        gx_dir=copy_gx_context(root / "expectations"),
        pii_key=TEST_PII_KEY,
        model_cache_dir=MODEL_CACHE,
    )


#: dbt's partial parse of each project folder, kept by :func:`run_dbt` for the next run of this test
#: session to start from (the xdist workers of one run share it; ``PYTEST_XDIST_TESTRUNUID``).
DBT_PARSE_CACHE = (
    Path(tempfile.gettempdir())
    / f"cxpipe-test-dbt-parse-{os.getuid()}"
    / os.environ.get("PYTEST_XDIST_TESTRUNUID", f"pid{os.getpid()}")
)


def _relative_to_data(settings: Settings) -> dict[str, str]:
    """The paths dbt reads from the environment, relative to the data folder where they are in it.

    dbt parses a project again from scratch when its connection (the DuckDB file's path) or an
    environment variable the project reads has changed; with paths relative to the data folder, which
    :func:`run_dbt` runs dbt in, every data folder of the suite looks the same to dbt's partial parse.
    """
    paths = {
        "CX_BUILD_DB": settings.build_db,
        "CX_REPORTING_DB": settings.reporting_db,
        "CX_LAKE_DIR": settings.lake_dir,
    }
    return {
        name: str(path.relative_to(settings.data_dir))
        for name, path in paths.items()
        if path.is_relative_to(settings.data_dir)
    }


def run_dbt(settings: Settings, *args: str, unit_tests: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the dbt CLI of this environment against ``settings``' warehouse, as a production build
    runs it (without dbt's unit tests) or, with ``unit_tests``, with them.

    dbt runs in the data folder, with its paths relative to it (:func:`_relative_to_data`), and a new
    target folder starts from the partial parse of an earlier run on the same project folder: dbt
    checks that parse against the project's files, profile and variables and parses what changed
    (about 3 CPU-s instead of 6-7 for the whole project).
    """
    target = settings.data_dir / "dbt_target"
    env = {**os.environ, **settings.dbt_env(), **_relative_to_data(settings)}
    if unit_tests:
        del env["DBT_EXCLUDE_RESOURCE_TYPES"]
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    project = hashlib.sha256(str(settings.dbt_project_dir.resolve()).encode()).hexdigest()[:16]
    kept, parsed = DBT_PARSE_CACHE / f"{project}.msgpack", target / "partial_parse.msgpack"
    if kept.exists() and not parsed.exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(kept, parsed)
    done = _dbt(settings, env, args)
    if parsed.exists() and not kept.exists():
        DBT_PARSE_CACHE.mkdir(parents=True, exist_ok=True)
        partial = kept.with_name(f"{kept.name}.{os.getpid()}")
        shutil.copyfile(parsed, partial)
        partial.replace(kept)  # whole or not at all, for the other workers
    return done


def _dbt(settings: Settings, env: dict[str, str], args: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    target = settings.data_dir / "dbt_target"
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
        cwd=settings.data_dir,
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


def _xdist_shared(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """Under pytest-xdist, the temporary folder that every worker of this run shares; else None."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return None
    return tmp_path_factory.getbasetemp().parent


@contextmanager
def _exclusive(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_file`` (between processes)."""
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build_warehouse(root: Path) -> Settings:
    current = settings_for(root)
    generate(current.landing_dir, SMALL_DEMO)
    for source in SOURCES:
        ingest_source(current, source, DEMO_DATE)
    result = run_dbt(current, "build", unit_tests=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return current


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Demo data ingested for every source and built by ``dbt build``: models, seeds, snapshot,
    data tests and the dbt unit tests (the one build of the suite that runs those).

    Tests only read it (``warehouse_copy`` is a private copy for a test that changes it), so
    under pytest-xdist the first worker that needs it builds it for all of them.
    """
    shared = _xdist_shared(tmp_path_factory)
    if shared is None:
        return _build_warehouse(tmp_path_factory.mktemp("built"))
    saved = shared / "built_warehouse.pickle"
    with _exclusive(shared / "built_warehouse.lock"):
        if not saved.exists():
            built = _build_warehouse(Path(tempfile.mkdtemp(prefix="built-", dir=shared)))
            saved.write_bytes(pickle.dumps(built))
    current: Settings = pickle.loads(saved.read_bytes())
    return current


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
def dbt_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dbt's manifest in the project's target folder, which the transform DAG renders from.

    Parsed once per test run: under pytest-xdist by the first worker that needs it (the
    workers share the folder; a second parse would rewrite it while another worker reads it).
    """
    settings = load_settings()
    shared = _xdist_shared(tmp_path_factory)
    with _exclusive(shared / "dbt_manifest.lock") if shared else nullcontext():
        if shared is None or not (shared / "dbt_manifest.done").exists():
            dbt_parse(settings, {**os.environ, **settings.dbt_env(), "CX_BUILD_DB": ":memory:"})
            if shared is not None:
                (shared / "dbt_manifest.done").touch()
    assert settings.manifest_path.exists()
    return settings.manifest_path


@pytest.fixture(scope="session")
def airflow_db() -> Iterator[Path]:
    """A migrated Airflow metadata database (SQLite): ``airflow db migrate`` once per session;
    each Airflow home of the e2e tests starts from a copy of the file."""
    home = Path(tempfile.mkdtemp(prefix="cxpipe-airflow-db-"))  # not under pytest's pruned temporary root
    try:
        airflow = str(Path(sys.executable).parent / "airflow")
        env = {**os.environ, "AIRFLOW_HOME": str(home)}
        done = subprocess.run([airflow, "db", "migrate"], env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        yield home / "airflow.db"
    finally:
        shutil.rmtree(home, ignore_errors=True)


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


def comparable_columns(con: duckdb.DuckDBPyConnection, catalog: str, table: str) -> str:
    """The select list to compare ``table`` (``schema.name``) of two builds by: every column, the DOUBLE
    columns of an ``intermediate`` table to 9 decimals. A sum of doubles depends on the order DuckDB adds
    them in, which differs between an incremental build and a full one in the last bits
    (``int_customers_rfm``'s category share: 39.98719635002108 against …07; its revenue by up to 1.8e-12).
    Rounded to 12 decimals, such a pair still fell on both sides of a rounding boundary now and then; at 9
    decimals a difference of 1e-12 splits a pair about once in a thousand. The reporting tables round
    their figures and are compared exactly."""
    schema, name = table.split(".")
    rows = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = ? and table_schema = ? and table_name = ? order by ordinal_position",
        [catalog, schema, name],
    ).fetchall()
    return ", ".join(f'round("{c}", 9)' if schema == "intermediate" and t == "DOUBLE" else f'"{c}"' for c, t in rows)
