"""The deployment's PostgreSQL roles, tested by publishing through them on a real server."""

import os
import subprocess

import psycopg
import pytest
from configured import configured
from pg_server import SUPERUSER, running_postgres

from cxpipe.publish import publish
from cxpipe.settings import REPO_ROOT, Settings

# The deployment's PostgreSQL init script (deploy/postgres/init-databases.sh), run against a real
# server: publish, as cx_publisher, swaps schema `reporting` in; BI, as cx_bi, can only read it.


def test_deployment_roles_let_publish_swap_reporting_and_bi_only_read(
    warehouse_copy: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_postgres() as server:
        env = {
            **os.environ,
            "PGHOST": "127.0.0.1",
            "PGPORT": str(server.port),
            "PGPASSWORD": server.password,
            "POSTGRES_USER": SUPERUSER,
            "AIRFLOW_DB_PASSWORD": "a",
            "METABASE_DB_PASSWORD": "m",
            "CX_PUBLISHER_PASSWORD": "p",
            "CX_BI_PASSWORD": "b",
        }
        init = subprocess.run(
            ["bash", str(REPO_ROOT / "deploy" / "postgres" / "init-databases.sh")],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert init.returncode == 0, init.stderr
        publisher = configured(
            warehouse_copy,
            CX_REPORTING_POSTGRES_URL=server.url("cx_publisher", "p", "cx_reporting"),
            CX_BI_PASSWORD="b",
        )
        publish(publisher, gate_status="passed")
        second = publish(publisher, gate_status="passed")

        with psycopg.connect(server.url("cx_bi", "b", "cx_reporting")) as bi:
            row = bi.execute("select count(*), min(publication_id) from reporting.customer_segments").fetchone()
            assert row == (second.row_counts["customer_segments"], second.publication_id)
            bi.rollback()
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                bi.execute("insert into reporting.customer_segments (customer_key) values ('x')")
            bi.rollback()
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                bi.execute("set transaction read write; delete from reporting.customer_segments")
