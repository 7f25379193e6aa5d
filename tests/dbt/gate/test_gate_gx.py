"""Great Expectations suites in the gate: real suites on a real build."""

import json

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
