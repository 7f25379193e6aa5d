"""Great Expectations suites in the gate: real suites on a real build."""

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import duckdb

from cxpipe.gate import last_gate_run, run_gate
from cxpipe.settings import Settings


def test_warning_severity_is_reported_but_does_not_block(warehouse_copy: Settings) -> None:
    suite_file = warehouse_copy.gx_dir / "gx" / "expectations" / "customer_segments.json"
    suite = json.loads(suite_file.read_text())
    suite["expectations"].append(
        {
            "type": "expect_table_row_count_to_be_between",
            "kwargs": {"max_value": 1},
            "meta": {},
            "severity": "warning",
        }
    )
    suite_file.write_text(json.dumps(suite))
    result = run_gate(warehouse_copy)
    assert result.passed
    assert [w.expectation for w in result.warnings if w.source == "gx"] == ["expect_table_row_count_to_be_between"]
    logged = last_gate_run(warehouse_copy)
    assert logged is not None and logged["warnings"] == len(result.warnings)


def _break_one_row(settings: Settings) -> int:
    """Set one `cx_events` row's CSAT out of its suite's range (1..5); return the table's row count."""
    with duckdb.connect(str(settings.build_db)) as con:
        con.execute(
            'update marts."cx_events" set csat = 9 '
            'where rowid = (select max(rowid) from marts."cx_events" where csat is not null)'
        )
        return int(con.execute('select count(*) from marts."cx_events"').fetchall()[0][0])


def test_a_bad_row_outside_the_data_docs_sample_still_blocks(warehouse_copy: Settings) -> None:
    """The verdict is computed over every row: a sample of 5 rows for GX does not hide the bad one."""
    suite = json.loads((warehouse_copy.gx_dir / "gx" / "expectations" / "cx_events.json").read_text())
    assert {"column": "csat", "min_value": 1, "max_value": 5} in [e["kwargs"] for e in suite["expectations"]]
    rows = _break_one_row(warehouse_copy)
    assert rows > 5
    settings = replace(warehouse_copy, gate=replace(warehouse_copy.gate, gx_sample_rows=5))
    result = run_gate(settings)
    assert not result.passed
    [failure] = result.failures
    assert (failure.table, failure.expectation, failure.column) == (
        "cx_events",
        "expect_column_values_to_be_between",
        "csat",
    )
    assert failure.observed == {"unexpected_count": 1, "examples": [9]}
    assert result.data_docs.endswith("index.html")  # the pages were built, from the samples


def test_without_data_docs_the_gate_does_not_run_great_expectations(warehouse_copy: Settings, tmp_path: Path) -> None:
    """CX_GATE_GX_SAMPLE_ROWS=0: every expectation still checked (in DuckDB), GX not even imported."""
    _break_one_row(warehouse_copy)
    code = (
        "import json, sys\n"
        "from cxpipe.gate import run_gate\n"
        "from cxpipe.settings import load_settings\n"
        "result = run_gate(load_settings())\n"
        "print(json.dumps({'gx_imported': 'great_expectations' in sys.modules, 'docs': result.data_docs,\n"
        "  'failures': [[f.table, f.column, f.observed] for f in result.failures], 'checks': result.checks_run}))\n"
    )
    env = {
        **os.environ,
        "CX_DATA_DIR": str(warehouse_copy.data_dir),
        "CX_GX_DIR": str(warehouse_copy.gx_dir),
        "CX_GATE_GX_SAMPLE_ROWS": "0",
    }
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["gx_imported"] is False and out["docs"] == ""
    assert out["failures"] == [["cx_events", "csat", {"unexpected_count": 1, "examples": [9]}]]
    assert out["checks"] == run_gate(warehouse_copy).checks_run  # the same checks as with GX
