import subprocess
import sys

import pytest

from cxpipe.cli import main
from cxpipe.publish import publish
from cxpipe.settings import Settings


def test_demo_writes_landing_files(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--history-days", "5", "--customers", "20"]) == 0
    assert (settings.landing_dir / "sales" / "2026-11-01" / "orders.csv").exists()
    assert "sales/orders" in capsys.readouterr().out


def test_summary_without_publication_fails_and_says_so(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary"]) == 1
    assert "nothing published yet" in capsys.readouterr().err


def test_summary_lists_tables_path_and_how_to_open(
    warehouse_copy: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CX_DATA_DIR", str(warehouse_copy.data_dir))
    publish(warehouse_copy, gate_status="passed")
    assert main(["summary"]) == 0
    out = capsys.readouterr().out
    assert str(warehouse_copy.reporting_db) in out
    assert "satisfaction_index" in out and "publication_log" in out
    assert "duckdb.connect" in out


def test_module_entry_point_shows_help() -> None:
    done = subprocess.run([sys.executable, "-m", "cxpipe", "--help"], capture_output=True, text=True, check=True)
    assert "demo" in done.stdout and "run" in done.stdout and "summary" in done.stdout


def test_contracts_prints_markdown_or_dbt_sources(capsys: pytest.CaptureFixture[str]) -> None:
    from cxpipe.contracts import render_dbt_sources, render_markdown

    assert main(["contracts"]) == 0
    assert capsys.readouterr().out == render_markdown()
    assert main(["contracts", "--format", "dbt"]) == 0
    assert capsys.readouterr().out == render_dbt_sources()


def test_demo_scale_factor_sizes_the_data(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--scale", "0.01", "--history-days", "20"]) == 0
    out = capsys.readouterr().out
    customers = settings.landing_dir / "crm" / "2026-11-01" / "customers.csv"
    assert len(customers.read_text(encoding="utf-8").splitlines()) == 1 + 100
    lines = next(line for line in out.splitlines() if "sales/order_lines" in line)
    assert 800 < int(lines.split()[-2]) < 1200
