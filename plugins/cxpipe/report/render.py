"""The report page: jinja2 (autoescape on) over the frames of :mod:`cxpipe.report.data` and the charts.

The page is one self-contained HTML file: plotly.js is embedded once, every chart is an inline
script, and the Content-Security-Policy allows nothing else — no request leaves the page, and a
script without the page's nonce does not run. Every value from the data is escaped by jinja2
(tables, texts) or by :func:`cxpipe.report.charts.label` (chart labels), so a complaint reading
``<script>…`` is shown as text.
"""

from __future__ import annotations

import math
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from cxpipe.report import charts
from cxpipe.report.data import ACTIVE_ALERT_DAYS, ReportData, load_report_data
from cxpipe.settings import Settings
from cxpipe.status import Status, collect_status

REPORT_NAME = "report.html"
REPORT_PATTERN = re.compile(r"^report-(\d+)\.html$")
#: An opening script tag in a plotly fragment (whose data is JSON with ``<`` escaped, so only plotly's own).
SCRIPT_TAG = re.compile(r"<script(?=[\s>])")


class ReportError(RuntimeError):
    """The report cannot be made (nothing published); the message says what to do."""


@dataclass
class Table:
    """A frame as the page shows it: column titles and rows of formatted text (escaped by the template)."""

    columns: list[str]
    rows: list[list[str]]
    #: row indexes to mark (small cells, failing checks)
    marked: frozenset[int] = frozenset()


def fmt(value: Any) -> str:
    """One cell as text: numbers rounded, dates ISO, missing values as a dash."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:,.1f}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, pd.Timestamp | datetime):
        if value.hour == value.minute == value.second == 0:
            return value.strftime("%Y-%m-%d")
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def table(frame: pd.DataFrame, columns: dict[str, str], mark: str | None = None) -> Table | None:
    """``frame``'s ``columns`` (name -> title) as a :class:`Table`; None when it is empty."""
    if frame.empty:
        return None
    rows = [[fmt(value) for value in record] for record in frame[list(columns)].itertuples(index=False)]
    marked = frozenset(i for i, flag in enumerate(frame[mark].tolist()) if flag is True) if mark else frozenset()
    return Table(list(columns.values()), rows, marked)


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("cxpipe.report", "templates"),
        autoescape=True,  # every value is HTML-escaped unless the template says otherwise
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _quality(status: Status) -> dict[str, Any]:
    gate = status.gate
    checks = [("blocking", c) for c in (gate.failing if gate else [])]
    checks += [("warning", c) for c in (gate.warned if gate else [])]
    failing = Table(
        ["", "source", "table", "column", "check", "observed"],
        [[kind, c.source, c.table, c.column or "–", c.check, fmt(c.observed)] for kind, c in checks],
        frozenset(i for i, (kind, _) in enumerate(checks) if kind == "blocking"),
    )
    quarantine = Table(
        ["source", "last ingested", "rows loaded (last date)", "quarantined (last date)", "quarantined (all dates)"],
        [
            [
                s.source + ("" if s.configured else " (not configured)"),
                fmt(s.last_ingested),
                fmt(s.rows_loaded_last),
                fmt(s.rows_quarantined_last),
                fmt(s.rows_quarantined_total),
            ]
            for s in status.sources
        ],
    )
    return {"gate": gate, "failing": failing, "quarantine": quarantine, "last_attempt": status.last_attempt}


def render_report(data: ReportData, status: Status, generated_at: datetime | None = None) -> str:
    """The report page as text."""
    generated_at = generated_at or datetime.now(UTC)
    f = data.frame
    nonce = secrets.token_urlsafe(16)
    chart_divs = {
        "satisfaction": charts.satisfaction_trend(f("trend")),
        "responses": charts.responses(f("trend")),
        "segments": charts.segments(f("segments")),
        "kept_rate": charts.kept_rate(f("kept_trend")),
        "levels": charts.expectation_levels(f("levels")),
        "pareto": charts.pareto(f("pareto")),
        "cause_trend": charts.cause_trend(f("cause_trend")),
        "language": charts.by_language(f("by_language")),
        "recovery": charts.recovery(f("recovery")),
    }
    # the charts' inline scripts carry the page's nonce, as the Content-Security-Policy requires
    with_nonce = {
        name: SCRIPT_TAG.sub(f'<script nonce="{nonce}"', div) if div else None for name, div in chart_divs.items()
    }
    tables = {
        "trend": table(
            f("trend"),
            {
                "month": "month",
                "responses": "responses",
                "nps": "NPS",
                "nps_rolling_90d": "NPS 90 d",
                "csat": "CSAT %",
                "ces": "CES",
                "satisfaction_index": "index",
                "is_small_cell": "small cell",
            },
            mark="is_small_cell",
        ),
        "by_dimension": table(
            f("by_dimension"),
            {
                "dimension": "dimension",
                "dimension_value": "value",
                "responses": "responses",
                "nps": "NPS",
                "csat": "CSAT %",
                "ces": "CES",
                "satisfaction_index": "index",
                "is_small_cell": "small cell",
            },
            mark="is_small_cell",
        ),
        "segments": table(
            f("segments"),
            {
                "rfm_segment": "segment",
                "customers": "customers",
                "revenue": "revenue",
                "currency": "currency",
                "revenue_per_customer": "revenue / customer",
                "csat": "CSAT %",
                "complaints": "complaints",
            },
        ),
        "segment_month": table(
            f("segment_month"),
            {
                "segment": "segment",
                "segment_customers": "customers",
                "active_customers": "active",
                "revenue": "revenue",
                "csat": "CSAT %",
                "nps": "NPS",
                "complaint_rate": "complaints / 1,000 orders",
            },
        ),
        "gap_by_type": table(
            f("gap_by_type"),
            {
                "promise_type": "promise",
                "promises": "made",
                "broken": "broken",
                "kept_rate": "kept %",
                "mean_gap_broken": "mean gap when broken",
                "gap_unit": "unit",
                "csat_when_kept": "CSAT kept",
                "csat_when_broken": "CSAT broken",
            },
        ),
        "levels": table(
            f("levels"),
            {
                "promise_type": "promise",
                "touchpoint": "touchpoint",
                "answers_kept": "answers kept",
                "answers_broken": "answers broken",
                "penalty": "penalty",
                "reward": "reward",
                "expectation_level": "level",
            },
        ),
        "pareto": table(
            f("pareto"),
            {
                "root_cause": "root cause",
                "complaints": "complaints",
                "share_pct": "share %",
                "cumulative_share_pct": "cumulative %",
                "is_vital_few": "vital few",
                "change_vs_previous_month": "vs previous month",
            },
            mark="is_vital_few",
        ),
        "quoted": table(
            f("quoted_complaints"),
            {
                "created_at": "when",
                "complaint_source": "source",
                "channel": "channel",
                "language": "language",
                "root_cause": "root cause",
                "severity": "severity",
                "redacted_text": "text (redacted)",
            },
        ),
        "alerts": table(
            f("alerts"),
            {
                "week_start": "week",
                "root_cause": "root cause",
                "region": "region",
                "complaints": "complaints",
                "baseline_mean": "baseline",
                "ratio_to_baseline": "× baseline",
                "p_value": "p-value",
            },
        ),
        "recovery": table(
            f("recovery"),
            {
                "root_cause": "root cause",
                "tickets": "tickets",
                "within_sla_pct": "within SLA %",
                "median_resolution_hours": "median resolution h",
                "reopen_rate_pct": "reopened %",
                "repurchase_fast": "repurchase fast %",
                "repurchase_slow": "repurchase slow %",
                "repurchase_non_complainers": "repurchase non-complainers %",
            },
        ),
        "publications": table(
            f("publications"),
            {
                "publication_id": "id",
                "published_at": "published (UTC)",
                "data_interval_start": "from",
                "data_interval_end": "to (excl.)",
                "gate_status": "gate",
                "gate_checks": "checks",
                "code_version": "code",
            },
        ),
    }
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            nonce=nonce,
            plotly_js=charts.plotly_js(),
            generated_at=generated_at,
            publication=data.publication,
            charts=with_nonce,
            tables=tables,
            quality=_quality(status),
            active_alert_days=ACTIVE_ALERT_DAYS,
            fmt=fmt,
        )
    )


def reports_dir(settings: Settings) -> Path:
    return settings.data_dir / "reports"


def _write(path: Path, text: str) -> None:
    """Write ``text`` beside ``path`` and rename it over ``path``: readers never see half a page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _prune(folder: Path, keep: int) -> None:
    """Keep the reports of the newest ``keep`` publications."""
    found = sorted((int(m.group(1)), p) for p in folder.glob("report-*.html") if (m := REPORT_PATTERN.match(p.name)))
    for _, path in found[: max(len(found) - keep, 0)]:
        path.unlink()


def write_report(settings: Settings, out: Path | None = None, now: datetime | None = None) -> list[Path]:
    """Render the report of the current publication; return the files written.

    Without ``out``: ``<data>/reports/report.html`` (the latest) and ``report-<publication id>.html``
    (kept for the publications kept for rollback, ``CX_KEEP_PUBLICATIONS`` + the current one).
    With ``out``: that file only.
    """
    path = settings.reporting_db
    if not path.exists():
        raise ReportError(f"nothing published yet: {path} does not exist (run `cxpipe run` first)")
    data = load_report_data(path)
    page = render_report(data, collect_status(settings, now), now)
    if out is not None:
        _write(out, page)
        return [out]
    folder = reports_dir(settings)
    written = [folder / REPORT_NAME]
    if data.publication:
        written.append(folder / f"report-{data.publication['publication_id']}.html")
    for target in written:
        _write(target, page)
    _prune(folder, settings.publish.keep_publications + 1)
    return written


def report_files(settings: Settings) -> Iterable[Path]:
    """The latest report, if there is one (for the paths printed after a run)."""
    latest = reports_dir(settings) / REPORT_NAME
    return [latest] if latest.exists() else []
