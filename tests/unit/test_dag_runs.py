"""The argument and failure handling of cxpipe.dag_runs; the DAG runs themselves are the e2e tier's
(tests/e2e/test_runner_checks_e2e.py, and every `cxpipe run` there)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from cxpipe.dag_runs import parse_runs
from cxpipe.runner import RunError


def test_runs_are_dag_id_equals_date_in_order() -> None:
    assert parse_runs(["cx_ingest_sales=2026-11-01", "cx_transform_publish=2026-11-02"]) == [
        ("cx_ingest_sales", date(2026, 11, 1)),
        ("cx_transform_publish", date(2026, 11, 2)),
    ]


@pytest.mark.parametrize("bad", ["cx_ingest_sales", "=2026-11-01", "cx_ingest_sales=2026-13-01", "x=yesterday"])
def test_a_malformed_run_is_refused_with_the_form_to_give(bad: str) -> None:
    with pytest.raises(RunError, match=r"give each DAG run as DAG_ID=YYYY-MM-DD"):
        parse_runs([bad])


def test_without_arguments_the_module_prints_its_usage() -> None:
    done = subprocess.run([sys.executable, "-m", "cxpipe.dag_runs"], capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "usage: python -m cxpipe.dag_runs RESULT.json" in done.stderr
