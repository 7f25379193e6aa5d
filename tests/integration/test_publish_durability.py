"""A publish killed mid-way, and readers during swaps: the DuckDB reporting file is never half-written."""

import hashlib
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import publish_paused_at

from cxpipe.contracts import REPORTING_TABLES
from cxpipe.publish import current_publication_id, publish, published_tables
from cxpipe.settings import Settings

TESTS = Path(__file__).parents[1]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("step", ["loaded", "verified"])
def test_a_publish_killed_mid_way_leaves_the_old_publication_and_the_next_run_succeeds(
    warehouse_copy: Settings, step: str
) -> None:
    publish(warehouse_copy, gate_status="passed")
    before = _sha(warehouse_copy.reporting_db)
    process = publish_paused_at(warehouse_copy, step)
    assert list(warehouse_copy.warehouse_dir.glob(".reporting.duckdb.*.tmp")), "the new file is being written"
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL

    assert _sha(warehouse_copy.reporting_db) == before
    assert current_publication_id(warehouse_copy.reporting_db) == 1

    again = publish(warehouse_copy, gate_status="passed")
    assert again.publication_id == 2
    assert list(warehouse_copy.warehouse_dir.glob(".*.tmp*")) == []
    assert published_tables(warehouse_copy.reporting_db)["publication_log"] == 2


def test_readers_never_see_a_missing_half_loaded_or_mixed_publication(warehouse_copy: Settings) -> None:
    publish(warehouse_copy, gate_status="passed")
    reader = subprocess.Popen(
        [
            sys.executable,
            str(TESTS / "reporting_reader.py"),
            str(warehouse_copy.reporting_db),
            "12",
            ",".join(REPORTING_TABLES),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    published = [publish(warehouse_copy, gate_status="passed").publication_id for _ in range(5)]
    out, _ = reader.communicate(timeout=120)
    report = json.loads(out)
    print("reader:", report["reads"], "reads, publications seen", report["seen"])
    assert report["problems"] == []
    assert report["reads"] > 20
    assert len(set(report["seen"]) & set(published)) >= 2, report  # it read across several swaps
