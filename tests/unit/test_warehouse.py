import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from cxpipe.warehouse import connect_ops, connect_read_only, ops_db, release_inprocess_dbt


def test_missing_build_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="run the dbt build"):
        connect_read_only(tmp_path / "cx.duckdb")


def test_reads_a_file_another_connection_in_this_process_wrote(tmp_path: Path) -> None:
    path = tmp_path / "cx.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table t as select 42 as answer")
    with connect_read_only(path) as con:
        assert con.execute("select answer from t").fetchone() == (42,)


def test_release_closes_the_database_an_in_process_dbt_run_left_open(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    path = tmp_path / "cx.duckdb"
    held = duckdb.connect(str(path))  # what dbt-duckdb keeps in its environment after a run

    class FakeEnvironment:
        def close(self) -> None:
            held.close()

    monkeypatch.setattr(DuckDBConnectionManager, "_ENV", FakeEnvironment())
    with pytest.raises(duckdb.ConnectionException):
        duckdb.connect(str(path), read_only=True)
    release_inprocess_dbt()
    assert DuckDBConnectionManager._ENV is None
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("select 1").fetchone() == (1,)


def test_the_operations_log_is_created_on_first_use_and_kept(tmp_path: Path) -> None:
    folder = tmp_path / "warehouse"
    with connect_ops(folder) as con:
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        con.execute("insert into publication_log (attempt_at, status, target) values (now(), 'blocked', 'all')")
    assert tables == {"gate_runs", "publication_log"}
    assert ops_db(folder).exists()
    with connect_ops(folder, read_only=True) as con:
        assert con.execute("select status from publication_log").fetchall() == [("blocked",)]


OPS_HOLDER = """
import sys, time
import duckdb
con = duckdb.connect(sys.argv[1])
print("open", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
print(time.time(), flush=True)
"""


def _holding_ops(folder: Path, seconds: float) -> subprocess.Popen[str]:
    with connect_ops(folder):
        pass  # create it
    child = subprocess.Popen(
        [sys.executable, "-c", OPS_HOLDER, str(ops_db(folder)), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "open"
    return child


def test_a_writer_of_the_operations_log_waits_while_another_process_holds_it(tmp_path: Path) -> None:
    child = _holding_ops(tmp_path, 2.0)
    try:
        with connect_ops(tmp_path, wait_s=60) as con:
            opened = time.time()
            con.execute("select count(*) from publication_log").fetchone()
        assert child.stdout is not None
        assert opened >= float(child.stdout.readline())  # only opened once the other process let go
    finally:
        child.kill()
        child.wait()


def test_the_wait_for_the_operations_log_is_bounded(tmp_path: Path) -> None:
    child = _holding_ops(tmp_path, 60.0)
    try:
        with pytest.raises(duckdb.IOException, match=r"(?i)lock"):
            connect_ops(tmp_path, wait_s=0.5)
    finally:
        child.kill()
        child.wait()
