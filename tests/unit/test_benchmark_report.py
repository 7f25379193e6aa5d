"""The benchmark report's verdict on the peak-RSS target from SF 100 measurements made outside the harness."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from cxpipe.settings import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
from cxbench import report

TARGET = "Peak RSS ≤ 4 GB at SF 100 for every stage"


def _scale(sf: float, rss_mb: float) -> dict[str, object]:
    record = {"stage": report.DBT_FULL, "repeat": 0, "returncode": 0, "cpu_s": 1.0, "wall_s": 1.0}
    return {"sf": sf, "runs": [{**record, "max_rss_mb": rss_mb, "tree_peak_rss_mb": rss_mb}]}


def _entry(stage: str, mb: float, settings: str = report.DEFAULTS, measured: str = "2026-12-03") -> dict[str, object]:
    return {"stage": stage, "max_rss_mb": mb, "settings": settings, "measured": measured, "source": "x.json"}


def _peak_row(scales: list[dict[str, object]], entries: list[dict[str, object]] | None) -> str:
    (verdict,) = [v for target, _, v in report.targets(scales, entries) if target == TARGET]  # type: ignore[arg-type]
    return verdict


def test_without_sf100_measurements_the_verdict_is_the_trend() -> None:
    verdict = _peak_row([_scale(1, 1000), _scale(10, 2000)], None)
    assert verdict.startswith("not measured at SF 100; a straight line")


def test_a_stage_over_4_gb_with_the_defaults_is_not_met_and_named() -> None:
    entries = [_entry("ingest", 3300), _entry(report.AIRFLOW, 15000), _entry(report.AIRFLOW, 3900, "LIMIT=3GB")]
    verdict = _peak_row([_scale(1, 1000), _scale(10, 2000)], entries)
    assert verdict.startswith("not met at SF 100 with the defaults")
    assert f"{report.AIRFLOW} 14.65 GB" in verdict
    assert "1 of 2 stages over 4 GB" in verdict
    assert "with LIMIT=3GB: " in verdict and "every stage measured within 4 GB" in verdict


def test_the_latest_measurement_of_a_stage_counts() -> None:
    entries = [_entry("ingest", 7200, measured="2026-11-26"), _entry("ingest", 3300, measured="2026-11-28")]
    verdict = report.sf100_peak_verdict(entries)
    assert verdict is not None
    assert verdict.startswith("met at SF 100 with the defaults")
    assert "7.03" not in verdict and "ingest 3.22 GB" in verdict


def test_a_later_time_of_the_same_day_counts_whatever_the_order_of_the_files() -> None:
    earlier, later = (
        _entry(report.AIRFLOW, 11865, measured="2026-12-03"),
        _entry(report.AIRFLOW, 3617, measured="2026-12-03T11:17"),
    )
    for entries in ([earlier, later], [later, earlier]):
        verdict = report.sf100_peak_verdict(entries)
        assert verdict is not None and verdict.startswith("met at SF 100 with the defaults")
        assert f"{report.AIRFLOW} 3.53 GB" in verdict


def test_only_other_settings_is_not_a_verdict_on_the_defaults() -> None:
    verdict = report.sf100_peak_verdict([_entry("ingest", 100, "LIMIT=3GB")])
    assert verdict is not None and verdict.startswith("not measured at SF 100 with the defaults")


def test_the_files_are_read_from_every_results_folder(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / report.SF100_PEAKS).write_text(json.dumps({"stages": [_entry("ingest", 3300)]}))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "other.json").write_text(json.dumps({"stages": [_entry("ingest", 9999)]}))
    entries = report.load_sf100_peaks(tmp_path)
    assert [(e["stage"], e["max_rss_mb"], e["file"]) for e in entries] == [("ingest", 3300, f"a/{report.SF100_PEAKS}")]
