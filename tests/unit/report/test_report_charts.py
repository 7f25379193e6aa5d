"""Report charts: no chart for no data, data labels escaped for plotly, no plotly.js in a fragment."""

import json
import re

import pandas as pd
import pytest

from cxpipe.report import charts

PAYLOAD = '<a href="javascript:window.__xss=1">x</a>'


def _plot_data(div: str) -> list[dict[str, object]]:
    """The traces a fragment hands to Plotly.newPlot."""
    match = re.search(r"Plotly\.newPlot\(\s*\"[^\"]+\",\s*(\[.*?\]),\s*\{", div, re.S)
    assert match, div[:500]
    traces: list[dict[str, object]] = json.loads(match.group(1))
    return traces


@pytest.mark.parametrize(
    "chart",
    [
        charts.satisfaction_trend,
        charts.responses,
        charts.segments,
        charts.kept_rate,
        charts.expectation_levels,
        charts.pareto,
        charts.cause_trend,
        charts.by_language,
        charts.recovery,
    ],
)
def test_an_empty_frame_gives_no_chart(chart: object) -> None:
    assert callable(chart)
    assert chart(pd.DataFrame()) is None


def test_labels_from_the_data_are_html_escaped_for_plotly() -> None:
    assert charts.label(PAYLOAD) == '&lt;a href="javascript:window.__xss=1"&gt;x&lt;/a&gt;'
    assert charts.label("B&Q") == "B&amp;Q"
    assert charts.label(None) == ""
    frame = pd.DataFrame(
        {"language": [PAYLOAD, "en"], "root_cause": ["late_delivery", "damaged"], "complaints": [3, 1]}
    )
    div = charts.by_language(frame)
    assert div is not None and 'id="chart-language"' in div
    xs = [x for trace in _plot_data(div) for x in trace["x"]]  # type: ignore[attr-defined]
    assert charts.label(PAYLOAD) in xs and PAYLOAD not in xs
    assert "<a href" not in div  # the JSON in the page escapes every '<' besides


def test_a_fragment_holds_the_chart_not_plotly_js() -> None:
    trend = pd.DataFrame(
        {
            "month": pd.to_datetime(["2026-09-01", "2026-10-01"]),
            "responses": [40, 12],
            "csat": [60.0, 55.0],
            "nps": [-10.0, -20.0],
            "nps_rolling_90d": [-10.0, -15.0],
            "ces": [5.0, 4.5],
            "satisfaction_index": [58.0, 54.0],
            "is_small_cell": [False, True],
        }
    )
    div = charts.satisfaction_trend(trend)
    assert div is not None and len(div) < 100_000
    assert len(charts.plotly_js()) > 1_000_000  # the whole library, embedded once by the page
    traces = _plot_data(div)
    nps = traces[0]
    assert nps["x"] == ["2026-09", "2026-10"]
    assert nps["marker"]["symbol"] == ["circle", "x"]  # type: ignore[index]  # the small cell is marked
