"""The benchmark harness (`make bench`) still runs: every stage and baseline at a tiny scale factor.

One repeat at SF 0.02 into a temporary folder; the report, the plot and the raw JSON must
name every stage and baseline, and the equality checks (the transform floor against dbt's
warehouse, the pandas script against the two marts) must pass. Timings are never asserted:
they depend on the machine and its load.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MODEL_CACHE

from cxpipe.settings import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
from cxbench import report

# The harness runs every stage once, the Airflow pipeline included: a few minutes on 2 shared cores.
pytestmark = pytest.mark.timeout(40 * 60)


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory, airflow_db: Path) -> Path:
    root = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "benchmarks" / "harness.py"),
            "--sf",
            "0.02",
            "--repeats",
            "1",
            "--workdir",
            str(root / "work"),
            "--results",
            str(root / "results"),
            "--doc",
            str(root / "docs" / "benchmarks.md"),
            "--plot",
            str(root / "docs" / "benchmarks.png"),
            "--model-cache",
            str(MODEL_CACHE),
            "--airflow-db",
            str(airflow_db),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    return root


def test_every_stage_and_baseline_ran_and_is_recorded(bench: Path) -> None:
    result = json.loads((bench / "results" / "bench_sf0.02.json").read_text(encoding="utf-8"))
    ran = {r["stage"]: r for r in result["runs"]}
    assert set(report.STAGES) <= set(ran), set(report.STAGES) - set(ran)
    failed = {stage: r.get("error_tail", "")[-800:] for stage, r in ran.items() if r["returncode"] != 0}
    assert not failed, failed
    for record in ran.values():
        assert {"cpu_s", "wall_s", "max_rss_mb", "tree_peak_rss_mb"} <= set(record)
    commands = ran[report.AIRFLOW]["result"]["commands"]
    assert any("cx_transform_publish" in c["command"] for c in commands)


def test_equality_checks_passed(bench: Path) -> None:
    result = json.loads((bench / "results" / "bench_sf0.02.json").read_text(encoding="utf-8"))
    (check,) = result["checks"]
    assert check["floor_vs_dbt"]["passed"], {
        k: v for k, v in check["floor_vs_dbt"]["relations"].items() if v["status"] == "different"
    }
    assert len(check["floor_vs_dbt"]["relations"]) > 30  # every seed, model and the snapshot
    for table in ("satisfaction_index", "complaint_root_causes"):
        assert check[f"pandas_vs_{table}"]["passed"], check[f"pandas_vs_{table}"]


def test_report_and_plot_name_every_stage_and_baseline(bench: Path) -> None:
    doc = (bench / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert doc.index("## Ratios") < doc.index("## Absolute figures")
    for stage in report.STAGES:
        assert stage in doc, stage
    for label, _, _ in report.RATIOS:
        assert f"| {label} |" in doc, label
    assert "Load average" in doc and "## Where the project stands against the targets" in doc
    assert "FAILED" not in doc
    assert (bench / "docs" / "benchmarks.png").read_bytes().startswith(b"\x89PNG")
