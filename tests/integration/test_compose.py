"""docker-compose.yml, Dockerfile and .env.example: valid, and meaning what the deployment needs.

There is no docker engine here, so the compose file is validated against the
compose-spec JSON schema (check-jsonschema's vendored copy) and its content is
checked: services, dependencies and their conditions, health checks, shared
Airflow settings, ports, volumes, image versions against uv.lock, and secrets
only by reference to the git-ignored .env file.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from cxpipe.settings import REPO_ROOT

COMPOSE = REPO_ROOT / "docker-compose.yml"
AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")
DATA = "/opt/cxpipe/data"
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|PII_KEY|_PASS$|DSN|CONN", re.IGNORECASE)
REFERENCE = re.compile(r"\$\{([A-Z0-9_]+)(:?[-?][^}]*)?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())  # resolves anchors and `<<` merges
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return dict(compose["services"])


def _locked(name: str) -> str:
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text())
    (version,) = {p["version"] for p in lock["package"] if p["name"] == name}
    return str(version)


def _env_example() -> dict[str, str]:
    pairs = [
        line.split("=", 1) for line in (REPO_ROOT / ".env.example").read_text().splitlines() if re.match(r"^\w+=", line)
    ]
    return {key: value for key, value in pairs}


def test_compose_file_is_valid_against_the_compose_spec_schema() -> None:
    checker = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or "check-jsonschema"
    done = subprocess.run(
        [checker, "--builtin-schema", "vendor.compose-spec", str(COMPOSE)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_rejects_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  postgres:\n    image: postgres:16.6\n    depends_on: 7\n")
    checker = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or "check-jsonschema"
    done = subprocess.run([checker, "--builtin-schema", "vendor.compose-spec", str(broken)], capture_output=True)
    assert done.returncode != 0


def test_airflow_3_layout_with_postgres_and_metabase(services: dict[str, Any]) -> None:
    assert set(services) == {"postgres", "airflow-init", *AIRFLOW_SERVICES, "metabase", "metabase-init"}
    commands = {name: services[name]["command"] for name in AIRFLOW_SERVICES}
    assert commands == {
        "airflow-apiserver": ["airflow", "api-server"],
        "airflow-scheduler": ["airflow", "scheduler"],
        "airflow-dag-processor": ["airflow", "dag-processor"],
        "airflow-triggerer": ["airflow", "triggerer"],
    }
    assert "airflow db migrate" in services["airflow-init"]["command"][-1]


def test_images_match_the_locked_versions() -> None:
    airflow = _locked("apache-airflow")
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert re.search(rf"^FROM apache/airflow:{re.escape(airflow)}-python3\.11$", dockerfile, re.MULTILINE)
    assert "uv export --frozen --no-dev" in dockerfile and "--require-hashes" in dockerfile
    uv_version = re.search(r"^UV_VERSION \?= (\S+)$", (REPO_ROOT / "Makefile").read_text(), re.MULTILINE)
    assert uv_version and f"ARG UV_VERSION={uv_version.group(1)}" in dockerfile
    for folder in ("plugins", "dags", "dbt_project", "expectations"):
        assert f"COPY --chown=airflow:root {folder} ./{folder}" in dockerfile
    assert "dbt parse" in dockerfile  # Cosmos renders the dbt tasks from the manifest


def test_airflow_services_share_image_settings_and_one_jwt_secret(services: dict[str, Any]) -> None:
    airflow = _locked("apache-airflow")
    envs = {name: services[name]["environment"] for name in ("airflow-init", *AIRFLOW_SERVICES)}
    for name, env in envs.items():
        assert services[name]["image"] == f"cxpipe-airflow:{airflow}", name
        assert services[name]["build"]["dockerfile"] == "Dockerfile"
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://airflow:${")
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith("@postgres:5432/airflow")
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        assert env["CX_DATA_DIR"] == DATA and env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/cxpipe/dags"
        assert env["AIRFLOW__CORE__PLUGINS_FOLDER"] == "/opt/cxpipe/plugins"
    for key in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__CORE__FERNET_KEY", "CX_PII_KEY"):
        values = {env[key] for env in envs.values()}
        assert len(values) == 1, key
        assert REFERENCE.fullmatch(values.pop()), key


def test_dependencies_wait_for_health_and_for_the_migration(services: dict[str, Any]) -> None:
    for name in AIRFLOW_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["postgres"] == {"condition": "service_healthy"}, name
        assert depends["airflow-init"] == {"condition": "service_completed_successfully"}, name
    assert services["airflow-scheduler"]["depends_on"]["airflow-apiserver"] == {"condition": "service_healthy"}
    assert services["airflow-init"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["metabase"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["metabase-init"]["depends_on"] == {"metabase": {"condition": "service_healthy"}}
    for name in ("postgres", *AIRFLOW_SERVICES, "metabase"):
        check = services[name]["healthcheck"]
        assert check["test"] and check["interval"] and check["retries"] >= 3, name
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"][-1]
    assert any("/api/v2/version" in part for part in services["airflow-apiserver"]["healthcheck"]["test"])


def test_ports_only_the_uis_and_on_localhost_unless_configured(services: dict[str, Any]) -> None:
    published = {name: service.get("ports", []) for name, service in services.items() if service.get("ports")}
    assert published == {
        "postgres": ["127.0.0.1:5432:5432"],
        "airflow-apiserver": ["${UI_BIND_ADDRESS:-127.0.0.1}:8080:8080"],
        "metabase": ["${UI_BIND_ADDRESS:-127.0.0.1}:3000:3000"],
    }
    assert _env_example()["UI_BIND_ADDRESS"] == "127.0.0.1"


def test_landing_lake_and_warehouse_are_volumes_of_every_airflow_service(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    for name in ("airflow-init", *AIRFLOW_SERVICES):
        mounts = {v.split(":")[-1]: v.rsplit(":", 1)[0] for v in services[name]["volumes"]}
        for folder in ("landing", "lake", "warehouse", "quarantine", "alerts"):
            assert f"{DATA}/{folder}" in mounts, (name, folder)
        assert mounts[f"{DATA}/lake"] == "cx-lake" and mounts[f"{DATA}/warehouse"] == "cx-warehouse"
    declared = set(compose["volumes"])
    named = {
        v.split(":")[0] for s in services.values() for v in s.get("volumes", []) if not v.startswith((".", "$", "/"))
    }
    assert named <= declared and {"cx-lake", "cx-warehouse", "postgres-data"} <= declared


def test_metabase_reads_the_reporting_database_as_the_read_only_role(services: dict[str, Any]) -> None:
    metabase = services["metabase"]
    assert metabase["image"].startswith("metabase/metabase:v") and ":latest" not in metabase["image"]
    assert metabase["environment"]["MB_DB_HOST"] == "postgres"
    setup = (REPO_ROOT / "deploy" / "metabase" / "metabase-setup.sh").read_text()
    assert '"dbname": "cx_reporting"' in setup and '"user": "cx_bi"' in setup
    assert "CX_BI_PASSWORD" in services["metabase-init"]["environment"]
    assert "CX_BI_PASSWORD" in services["airflow-scheduler"]["environment"]
    dsn = services["airflow-scheduler"]["environment"]["CX_REPORTING_POSTGRES_URL"]
    assert dsn.startswith("postgresql://cx_publisher:${") and dsn.endswith("@postgres:5432/cx_reporting")
    init = (REPO_ROOT / "deploy" / "postgres" / "init-databases.sh").read_text()
    assert "CREATE DATABASE cx_reporting" in init and "GRANT cx_bi TO cx_publisher WITH ADMIN OPTION" in init
    mount = "./deploy/postgres/init-databases.sh:/docker-entrypoint-initdb.d/10-init-databases.sh:ro"
    assert mount in services["postgres"]["volumes"]


def test_no_secret_is_written_in_the_compose_file(services: dict[str, Any]) -> None:
    example = _env_example()
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            text = str(value)
            for var, _ in REFERENCE.findall(text):
                assert var in example, f"{name}.{key} uses ${{{var}}}, which .env.example does not list"
            if SECRET_NAME.search(key) and key != "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE":
                literal = REFERENCE.sub("", text)
                assert REFERENCE.search(text), f"{name}.{key} holds a literal secret"
                assert not re.search(r":[^/:@]+@", literal), f"{name}.{key} has a password in its URL"


def test_env_example_ships_no_secret_values_and_env_is_ignored(services: dict[str, Any]) -> None:
    example = _env_example()
    secrets = {k: v for k, v in example.items() if SECRET_NAME.search(k)}
    assert secrets and all(v == "" for v in secrets.values()), secrets
    # every secret is required (`${VAR:?…}`: compose refuses it empty) and checked by airflow-init
    compose_text = COMPOSE.read_text()
    init = " ".join(services["airflow-init"]["command"])
    for name in secrets:
        assert re.search(rf"\$\{{{name}:\?", compose_text), f"{name} is not required by docker-compose.yml"
        checked = {
            "AIRFLOW_FERNET_KEY": "AIRFLOW__CORE__FERNET_KEY",
            "AIRFLOW_JWT_SECRET": "AIRFLOW__API_AUTH__JWT_SECRET",
        }
        assert checked.get(name, name) in init.split("check-secrets.sh", 1)[1], f"airflow-init does not check {name}"
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=REPO_ROOT, check=False)
    kept = subprocess.run(["git", "check-ignore", "-q", ".env.example"], cwd=REPO_ROOT, check=False)
    assert ignored.returncode == 0 and kept.returncode == 1


CHECK_SECRETS = REPO_ROOT / "deploy" / "compose" / "check-secrets.sh"


@pytest.mark.parametrize(
    ("value", "refusal"),
    [
        ("", "is not set"),
        ("change-me", "still holds the example value"),
        ("cxpipe-demo-key-not-secret", "still holds the example value"),
        ("short-secret", "is shorter than 16 characters"),
    ],
)
def test_check_secrets_refuses_missing_example_and_short_values_without_printing_them(value: str, refusal: str) -> None:
    env = {"PATH": "/usr/bin:/bin", "GOOD_SECRET": "x" * 32, "BAD_SECRET": value}
    done = subprocess.run(
        ["bash", str(CHECK_SECRETS), "GOOD_SECRET", "BAD_SECRET"], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert f"BAD_SECRET {refusal}" in done.stderr and "GOOD_SECRET" not in done.stderr
    assert "refusing to start" in done.stderr
    if value:
        assert value not in done.stderr + done.stdout


def test_check_secrets_passes_strong_values_and_the_image_ships_it() -> None:
    env = {"PATH": "/usr/bin:/bin", "A": "a" * 16, "B": "b" * 40}
    done = subprocess.run(["bash", str(CHECK_SECRETS), "A", "B"], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "2 secrets set" in done.stdout
    assert "deploy/compose/check-secrets.sh ./deploy/check-secrets.sh" in (REPO_ROOT / "Dockerfile").read_text()
