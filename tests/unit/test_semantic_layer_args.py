"""The semantic layer's wrapper: the mf arguments it builds, when it re-parses, what it reports."""

from pathlib import Path

import pytest

from cxpipe.semantic_layer import MetricQuery, SemanticLayerError, _fingerprint, _mf_error, query, rows
from cxpipe.settings import Settings


def test_a_query_becomes_mf_arguments() -> None:
    request = MetricQuery(
        metrics=("nps", "csat"),
        group_by=("metric_time__month", "event__region"),
        where=("{{ Dimension('event__segment') }} = 'champions'",),
        order=("-metric_time__month",),
        limit=10,
        start_time="2026-09-01",
    )
    assert request.arguments() == [
        "--metrics",
        "nps,csat",
        "--group-by",
        "metric_time__month,event__region",
        "--where",
        "{{ Dimension('event__segment') }} = 'champions'",
        "--order",
        "-metric_time__month",
        "--limit",
        "10",
        "--start-time",
        "2026-09-01",
    ]
    assert MetricQuery(metrics=(), saved_query="satisfaction_by_month").arguments() == [
        "--saved-query",
        "satisfaction_by_month",
    ]


def test_the_project_is_parsed_again_only_when_its_definition_changes(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "a.sql").write_text("select 1")
    first = _fingerprint(tmp_path)
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "manifest.json").write_text("{}")  # outputs do not count
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "dbt.log").write_text("...")
    assert _fingerprint(tmp_path) == first
    (tmp_path / "models" / "a.sql").write_text("select 2")
    assert _fingerprint(tmp_path) != first


def test_mf_errors_are_cut_to_what_went_wrong() -> None:
    output = "loading...\nparsing...\nERROR: the metric 'no_such' does not exist\n  suggestions: nps\n"
    assert _mf_error(output).startswith("ERROR: the metric 'no_such'")
    assert "suggestions: nps" in _mf_error(output)
    assert _mf_error("") == "mf query failed without output"


def test_a_query_needs_a_metric_or_a_saved_query(tmp_path: Path) -> None:
    settings = Settings(
        project_dir=tmp_path, data_dir=tmp_path / "data", dbt_project_dir=tmp_path, gx_dir=tmp_path, pii_key="k" * 32
    )
    with pytest.raises(SemanticLayerError, match="at least one metric"):
        query(settings, MetricQuery(metrics=()))


def test_csv_answers_read_as_rows() -> None:
    assert rows("metric_time__month,nps\n2026-10-01 00:00:00,12.5\n") == [
        {"metric_time__month": "2026-10-01 00:00:00", "nps": "12.5"}
    ]
