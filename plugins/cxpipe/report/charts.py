"""The report's charts: plotly figures from the frames of :mod:`cxpipe.report.data`, as HTML ``<div>`` fragments.

Each function returns None for an empty frame (the page says "no data" instead). The fragments
do not include plotly's JavaScript: the page embeds it once (:func:`plotly_js`). Plotly reads a
subset of HTML in text (``<b>``, ``<a href>``); every label that comes from the data goes
through :func:`label`, so a value like ``<a href="javascript:…">`` is drawn as text.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

#: Plotly options of every chart: no link to plotly's site, no editing, resizes with the page.
CONFIG = {"displaylogo": False, "responsive": True}
SMALL_CELL_COLOUR = "#d62728"
LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "height": 380,
    "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
    "legend": {"orientation": "h", "y": -0.15},
}


def plotly_js() -> str:
    """plotly.js as shipped inside the plotly package (no download, no CDN)."""
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


def label(value: object) -> str:
    """A data value as plotly text: ``&``, ``<`` and ``>`` escaped, so plotly's pseudo-HTML never reads a tag in it
    (plotly draws ``&lt;`` as ``<``; quotes stay as they are, plotly would draw ``&quot;`` literally)."""
    return html.escape("" if value is None or value is pd.NA else str(value), quote=False)


def labels(values: pd.Series) -> list[str]:
    return [label(v) for v in values]


def to_div(figure: go.Figure, chart_id: str) -> str:
    """The figure as a ``<div>`` (and the ``<script>`` that draws it), without plotly.js."""
    figure.update_layout(**LAYOUT)
    figure.update_xaxes(type="category")  # months and names, never a date axis plotly guesses
    return str(
        pio.to_html(figure, include_plotlyjs=False, full_html=False, config=CONFIG, div_id=chart_id, validate=True)
    )


def satisfaction_trend(trend: pd.DataFrame) -> str | None:
    """NPS (and rolling 90 days), CSAT, CES and the composite index per month; small cells marked."""
    if trend.empty:
        return None
    months = [str(m)[:7] for m in trend["month"]]
    small = trend["is_small_cell"].fillna(False).astype(bool).tolist()
    colours = [SMALL_CELL_COLOUR if s else "#1f77b4" for s in small]
    hover = [f"{n} responses{' (small cell)' if s else ''}" for n, s in zip(trend["responses"], small, strict=True)]
    figure = make_subplots(rows=2, cols=2, subplot_titles=("NPS", "CSAT %", "CES (1-7)", "Composite index 0-100"))
    panels = [("nps", 1, 1), ("csat", 1, 2), ("ces", 2, 1), ("satisfaction_index", 2, 2)]
    for column, row, col in panels:
        figure.add_trace(
            go.Scatter(
                x=months,
                y=trend[column],
                mode="lines+markers",
                name=column,
                marker={"color": colours, "size": 9, "symbol": ["x" if s else "circle" for s in small]},
                text=hover,
                hovertemplate="%{x}: %{y}<br>%{text}<extra></extra>",
                showlegend=False,
            ),
            row=row,
            col=col,
        )
    figure.add_trace(
        go.Scatter(
            x=months,
            y=trend["nps_rolling_90d"],
            mode="lines",
            name="NPS rolling 90 days",
            line={"dash": "dot"},
        ),
        row=1,
        col=1,
    )
    figure.update_layout(height=520, title_text="Whole business, per month (red x: small cell)")
    return to_div(figure, "chart-satisfaction")


def responses(trend: pd.DataFrame) -> str | None:
    """Survey responses per month; small cells in red."""
    if trend.empty:
        return None
    small = trend["is_small_cell"].fillna(False).astype(bool)
    figure = go.Figure(
        go.Bar(
            x=[str(m)[:7] for m in trend["month"]],
            y=trend["responses"],
            marker_color=[SMALL_CELL_COLOUR if s else "#1f77b4" for s in small],
            name="responses",
        )
    )
    figure.update_layout(title_text="Survey responses per month", height=300)
    return to_div(figure, "chart-responses")


def segments(frame: pd.DataFrame) -> str | None:
    """Customers, revenue and CSAT per RFM segment."""
    if frame.empty:
        return None
    names = labels(frame["rfm_segment"])
    figure = make_subplots(rows=1, cols=3, subplot_titles=("Customers", "Revenue", "CSAT %"))
    figure.add_trace(go.Bar(x=names, y=frame["customers"], name="customers"), row=1, col=1)
    figure.add_trace(go.Bar(x=names, y=frame["revenue"], name="revenue"), row=1, col=2)
    figure.add_trace(go.Bar(x=names, y=frame["csat"], name="CSAT"), row=1, col=3)
    figure.update_layout(showlegend=False, title_text="RFM segments")
    return to_div(figure, "chart-segments")


def kept_rate(frame: pd.DataFrame) -> str | None:
    """Share of promises kept per promise type and month."""
    if frame.empty:
        return None
    figure = go.Figure()
    for promise_type, rows in frame.groupby("promise_type", sort=True):
        figure.add_trace(
            go.Scatter(
                x=[str(m)[:7] for m in rows["month"]],
                y=rows["kept_rate"],
                mode="lines+markers",
                name=label(promise_type),
            )
        )
    figure.update_layout(title_text="Promises kept (or exceeded), % of those due", yaxis_title="%")
    return to_div(figure, "chart-kept-rate")


def expectation_levels(frame: pd.DataFrame) -> str | None:
    """Penalty of a broken and reward of an exceeded promise (CSAT points), with their 95 % intervals."""
    if frame.empty:
        return None
    names = [f"{label(p)} / {label(t)}" for p, t in zip(frame["promise_type"], frame["touchpoint"], strict=True)]
    figure = go.Figure()
    for column, colour in (("penalty", SMALL_CELL_COLOUR), ("reward", "#2ca02c")):
        figure.add_trace(
            go.Bar(
                x=names,
                y=frame[column],
                name=column,
                marker_color=colour,
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (frame[f"{column}_ci_high"] - frame[column]).tolist(),
                    "arrayminus": (frame[column] - frame[f"{column}_ci_low"]).tolist(),
                },
            )
        )
    figure.update_layout(barmode="group", title_text="Penalty and reward (CSAT points, 95 % interval)")
    return to_div(figure, "chart-expectation-levels")


def pareto(frame: pd.DataFrame) -> str | None:
    """Complaints per root cause of the newest month, with the cumulative share."""
    if frame.empty:
        return None
    names = labels(frame["root_cause"])
    vital = frame["is_vital_few"].fillna(False).astype(bool)
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    figure.add_trace(
        go.Bar(
            x=names,
            y=frame["complaints"],
            name="complaints",
            marker_color=[SMALL_CELL_COLOUR if v else "#7f7f7f" for v in vital],
        ),
        secondary_y=False,
    )
    figure.add_trace(
        go.Scatter(x=names, y=frame["cumulative_share_pct"], name="cumulative %", mode="lines+markers"),
        secondary_y=True,
    )
    figure.update_yaxes(range=[0, 105], secondary_y=True)
    month = str(frame["month"].iloc[0])[:7]
    figure.update_layout(title_text=f"Pareto of root causes, {month} (red: the vital few)")
    return to_div(figure, "chart-pareto")


def cause_trend(frame: pd.DataFrame) -> str | None:
    """Complaints per root cause and month."""
    if frame.empty:
        return None
    figure = go.Figure()
    for cause, rows in frame.groupby("root_cause", sort=True):
        figure.add_trace(
            go.Scatter(
                x=[str(m)[:7] for m in rows["month"]], y=rows["complaints"], mode="lines+markers", name=label(cause)
            )
        )
    figure.update_layout(title_text="Complaints per root cause and month")
    return to_div(figure, "chart-cause-trend")


def by_language(frame: pd.DataFrame) -> str | None:
    """Complaints per language, stacked by root cause."""
    if frame.empty:
        return None
    figure = go.Figure()
    for cause, rows in frame.groupby("root_cause", sort=True):
        figure.add_trace(go.Bar(x=labels(rows["language"]), y=rows["complaints"], name=label(cause)))
    figure.update_layout(barmode="stack", title_text="Complaints per language and root cause (all months)")
    return to_div(figure, "chart-language")


def recovery(frame: pd.DataFrame) -> str | None:
    """90-day repurchase of complainers resolved fast or slowly, and of non-complainers, per root cause."""
    if frame.empty:
        return None
    names = labels(frame["root_cause"])
    figure = go.Figure()
    for column, name in (
        ("repurchase_fast", "resolved fast"),
        ("repurchase_slow", "resolved slowly"),
        ("repurchase_non_complainers", "non-complainers"),
    ):
        figure.add_trace(go.Bar(x=names, y=frame[column], name=name))
    figure.update_layout(barmode="group", title_text="Repurchase within 90 days, %", yaxis_title="%")
    return to_div(figure, "chart-recovery")
