"""The semantic layer (MetricFlow on the published warehouse) answers what the marts say.

One publication of the demo build; each test asks ``cxpipe metrics query`` (through
:func:`cxpipe.semantic_layer.query`) and compares every answer with the mart's own row,
read by SQL from the same published file. The marts round their rates to 2 decimals
(CES to 3), so answers agree to within that rounding.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import clone_data

from cxpipe.publish import publish
from cxpipe.semantic_layer import MetricQuery, SemanticLayerError, query, rows
from cxpipe.settings import Settings

ROUNDING = 0.0051  # half a unit in the marts' second decimal, plus float noise


@pytest.fixture(scope="module")
def published(built_warehouse: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    settings = clone_data(built_warehouse, tmp_path_factory.mktemp("semantic"))
    publish(settings, gate_status="passed")
    yield settings


def _mart(settings: Settings, sql: str) -> list[dict[str, Any]]:
    with duckdb.connect(str(settings.reporting_db), read_only=True) as con:
        result = con.execute(sql)
        names = [d[0] for d in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def _ask(settings: Settings, metrics: str, group_by: str, **options: Any) -> dict[tuple[str, ...], dict[str, str]]:
    """The answer by its group-by values (months as ISO dates)."""
    keys = group_by.split(",")
    answer = rows(query(settings, MetricQuery(metrics=tuple(metrics.split(",")), group_by=tuple(keys), **options)))
    assert answer, f"no rows for {metrics} by {group_by}"
    return {tuple(row[k][:10] if k.startswith("metric_time") else row[k] for k in keys): row for row in answer}


def _number(value: str) -> float | None:
    return None if value == "" else float(value)


def _agree(answer: dict[str, str], mart: dict[str, Any], pairs: dict[str, str], where: str) -> None:
    for metric, column in pairs.items():
        got, expected = _number(answer[metric]), mart[column]
        if expected is None:
            assert got is None, f"{where}: {metric} = {got}, the mart has none"
        else:
            message = f"{where}: {metric} {got} != {column} {expected}"
            assert got == pytest.approx(float(expected), abs=ROUNDING), message


SATISFACTION = {
    "csat": "csat",
    "nps": "nps",
    "nps_rolling_90d": "nps_rolling_90d",
    "ces": "ces",
    "on_time_rate": "on_time_rate",
    "complaint_rate": "complaint_rate",
    "satisfaction_index": "satisfaction_index",
    "sentiment": "sentiment",
    "survey_responses": "responses",
    "orders": "orders",
}


@pytest.mark.parametrize(("dimension", "group_by"), [("region", "event__region"), ("total", None)])
def test_satisfaction_metrics_by_month_equal_satisfaction_index(
    published: Settings, dimension: str, group_by: str | None
) -> None:
    """NPS by region by month (and CSAT, CES, on-time, complaint rate, rolling NPS, the composite
    index), and the same for the whole month, equal the mart's cells."""
    keys = "metric_time__month" + (f",{group_by}" if group_by else "")
    answer = _ask(published, ",".join(SATISFACTION), keys)
    cells = _mart(published, f"select * from satisfaction_index where dimension = '{dimension}' order by 1, 3")
    assert len(cells) >= 3
    for cell in cells:
        key = (cell["month"].isoformat(), cell["dimension_value"]) if group_by else (cell["month"].isoformat(),)
        assert key in answer, f"MetricFlow has no row for {key}"
        _agree(answer[key], cell, SATISFACTION, f"{dimension} {key}")
    # the rolling NPS goes on after the last month with answers; no other row is invented
    assert {k for k in answer if answer[k]["csat"] or answer[k]["orders"]} <= {
        ((c["month"].isoformat(), c["dimension_value"]) if group_by else (c["month"].isoformat(),)) for c in cells
    }


def test_revenue_and_customers_by_segment_and_month_equal_segment_summary(published: Settings) -> None:
    answer = _ask(published, "revenue,customers,orders,csat,nps,complaint_rate", "metric_time__month,event__segment")
    cells = _mart(published, "select * from segment_summary")
    pairs = {
        "revenue": "revenue",
        "customers": "active_customers",
        "orders": "orders",
        "csat": "csat",
        "nps": "nps",
        "complaint_rate": "complaint_rate",
    }
    for cell in cells:
        key = (cell["month"].isoformat(), cell["segment"])
        _agree(answer[key], cell, pairs, f"segment {key}")


def test_revenue_by_channel_equals_the_sum_over_the_events(published: Settings) -> None:
    answer = _ask(published, "revenue,orders", "event__channel")
    sums = _mart(
        published,
        "select channel, round(sum(revenue), 2) as revenue, sum(is_order) as orders from cx_events "
        "where event_type = 'order' group by channel",
    )
    assert len(sums) >= 3
    for row in sums:
        _agree(answer[(row["channel"],)], row, {"revenue": "revenue", "orders": "orders"}, row["channel"])


def test_complaints_by_root_cause_language_and_month_equal_the_pareto(published: Settings) -> None:
    answer = _ask(published, "complaints", "metric_time__month,complaint__language,complaint__root_cause")
    cells = _mart(published, "select * from complaint_root_causes where dimension = 'language'")
    assert cells
    for cell in cells:
        key = (cell["month"].isoformat(), cell["dimension_value"], cell["root_cause"])
        assert int(answer[key]["complaints"]) == cell["complaints"], key
    assert sum(int(r["complaints"]) for r in answer.values()) == sum(c["complaints"] for c in cells)


def test_kept_promise_rate_equals_expectation_gap(published: Settings) -> None:
    group_by = "metric_time__month,promise_cell__promise_type,promise_cell__channel,promise_cell__region"
    answer = _ask(published, "kept_promise_rate,promises_made", group_by)
    cells = _mart(published, "select * from expectation_gap where channel is not null and region is not null")
    assert cells
    for cell in cells:
        key = (cell["month"].isoformat(), cell["promise_type"], cell["channel"], cell["region"])
        _agree(answer[key], cell, {"kept_promise_rate": "kept_rate", "promises_made": "promises_made"}, str(key))


def test_the_published_file_is_only_read(published: Settings) -> None:
    before = published.reporting_db.stat().st_mtime_ns
    _ask(published, "crm_customers", "customer__region")
    assert published.reporting_db.stat().st_mtime_ns == before
    customers = _mart(published, "select count(*) as n from customer_segments")[0]["n"]
    by_region = _ask(published, "crm_customers", "customer__region")
    assert sum(int(r["crm_customers"]) for r in by_region.values()) == customers


def test_an_unknown_metric_is_named_in_the_error(published: Settings) -> None:
    with pytest.raises(SemanticLayerError, match="no_such_metric"):
        query(published, MetricQuery(metrics=("no_such_metric",)))


def test_nothing_published_is_a_clear_error(tmp_path: Path, built_warehouse: Settings) -> None:
    empty = Settings(
        project_dir=built_warehouse.project_dir,
        data_dir=tmp_path / "data",
        dbt_project_dir=built_warehouse.dbt_project_dir,
        gx_dir=built_warehouse.gx_dir,
        pii_key=built_warehouse.pii_key,
    )
    with pytest.raises(SemanticLayerError, match="nothing published yet"):
        query(empty, MetricQuery(metrics=("nps",)))


def test_a_saved_query_answers_as_its_metrics(published: Settings) -> None:
    answer = rows(query(published, MetricQuery(metrics=(), saved_query="satisfaction_by_month")))
    by_month = {row["metric_time__month"][:10]: row for row in answer}
    cells = _mart(published, "select * from satisfaction_index where dimension = 'total'")
    for cell in cells:
        pairs = {"csat": "csat", "nps": "nps", "satisfaction_index": "satisfaction_index"}
        _agree(by_month[cell["month"].isoformat()], cell, pairs, f"saved query {cell['month']}")


def test_cxpipe_metrics_query_writes_the_answer_as_csv(
    published: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cxpipe.cli import main

    monkeypatch.setenv("CX_DATA_DIR", str(published.data_dir))
    monkeypatch.setenv("CX_PII_KEY", published.pii_key)
    out = tmp_path / "nps_by_month.csv"
    argv = ["metrics", "query", "--metrics", "nps,csat", "--group-by", "metric_time__month", "-o", str(out)]
    assert main([*argv, "--order", "metric_time__month"]) == 0
    answer = rows(out.read_text(encoding="utf-8"))
    months = _mart(published, "select month, nps from satisfaction_index where dimension = 'total' order by month")
    assert [r["metric_time__month"][:10] for r in answer] == [m["month"].isoformat() for m in months]
    assert f"{len(months)} rows written" in capsys.readouterr().err
    assert main(["metrics", "query", "--metrics", "nps", "--group-by", "event__no_such_dimension"]) == 1
    assert "no_such_dimension" in capsys.readouterr().err
