"""What the report shows, read from a published reporting file (``warehouse/reporting.duckdb``).

Each section is a set of small pandas frames queried from the reporting tables. A table that is
missing (an older publication) or empty (a small export, a partial deployment) gives empty
frames, which the page shows as "no data"; nothing here fails on an empty table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

#: Severity order of complaints, most severe first.
SEVERITY_ORDER = "case severity when 'high' then 0 when 'medium' then 1 else 2 end"
#: How many complaint texts the report quotes.
QUOTED_COMPLAINTS = 15
#: Alerts of the last this-many days before the newest week in ``complaint_alerts`` are "active".
ACTIVE_ALERT_DAYS = 28


@dataclass
class ReportData:
    """The frames of every section, keyed by name; see :func:`load_report_data`."""

    publication: dict[str, Any] = field(default_factory=dict)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)

    def frame(self, name: str) -> pd.DataFrame:
        return self.frames.get(name, pd.DataFrame())


#: name -> (table it reads, query). Queries read one table each; ``{t}`` is the table.
QUERIES: dict[str, tuple[str, str]] = {
    # satisfaction overview: the monthly trend of the whole business, and the newest month per dimension
    "trend": (
        "satisfaction_index",
        "select month, responses, csat, nps, nps_rolling_90d, ces, satisfaction_index, is_small_cell "
        "from {t} where dimension = 'total' order by month",
    ),
    "by_dimension": (
        "satisfaction_index",
        "select dimension, dimension_value, responses, csat, nps, ces, satisfaction_index, is_small_cell "
        "from {t} where month = (select max(month) from {t}) and dimension <> 'total' "
        "order by dimension, satisfaction_index desc nulls last, dimension_value",
    ),
    # segments: size and value from the customers, satisfaction from the newest month of the summary
    "segments": (
        "customer_segments",
        "select rfm_segment, count(*) as customers, sum(revenue) as revenue, any_value(reporting_currency) "
        "as currency, sum(revenue) / count(*) as revenue_per_customer, avg(csat) as csat, "
        "sum(complaints) as complaints from {t} group by rfm_segment order by revenue desc nulls last",
    ),
    "segment_month": (
        "segment_summary",
        "select month, segment, segment_customers, active_customers, revenue, reporting_currency, csat, nps, "
        "complaint_rate from {t} where month = (select max(month) from {t}) order by revenue desc nulls last",
    ),
    # expectation gap: kept rate per promise type and month; satisfaction when kept vs broken
    "kept_trend": (
        "expectation_gap",
        "select month, promise_type, sum(promises_made) as promises, "
        "100.0 * sum(promises_kept + promises_exceeded) / nullif(sum(promises_made - promises_open), 0) "
        "as kept_rate from {t} group by all order by month, promise_type",
    ),
    "gap_by_type": (
        "expectation_gap",
        "select promise_type, sum(promises_made) as promises, sum(promises_broken) as broken, "
        "100.0 * sum(promises_kept + promises_exceeded) / nullif(sum(promises_made - promises_open), 0) "
        "as kept_rate, sum(mean_gap * promises_broken) / nullif(sum(promises_broken), 0) as mean_gap_broken, "
        "any_value(gap_unit) as gap_unit, avg(csat_when_kept) as csat_when_kept, "
        "avg(csat_when_broken) as csat_when_broken from {t} group by promise_type order by broken desc",
    ),
    "levels": (
        "expectation_levels",
        "select promise_type, touchpoint, answers_kept, answers_broken, penalty, penalty_ci_low, penalty_ci_high, "
        "reward, reward_ci_low, reward_ci_high, expectation_level from {t} order by promise_type, touchpoint",
    ),
    # complaints: the Pareto of the newest month, trends per cause, languages
    "pareto": (
        "complaint_root_causes",
        "select month, root_cause, complaints, share_pct, cumulative_share_pct, is_vital_few, "
        "change_vs_previous_month from {t} where dimension = 'all' and month = (select max(month) from {t}) "
        "order by pareto_rank",
    ),
    "cause_trend": (
        "complaint_root_causes",
        "select month, root_cause, complaints from {t} where dimension = 'all' order by month, root_cause",
    ),
    "by_language": (
        "complaint_root_causes",
        "select dimension_value as language, root_cause, sum(complaints) as complaints from {t} "
        "where dimension = 'language' group by all order by language, complaints desc",
    ),
    "quoted_complaints": (
        "complaints",
        "select created_at, complaint_source, channel, language, root_cause, severity, redacted_text from {t} "
        f"order by {SEVERITY_ORDER}, created_at desc, complaint_id limit {QUOTED_COMPLAINTS}",
    ),
    # early warnings of the last weeks
    "alerts": (
        "complaint_alerts",
        "select week_start, week_end, root_cause, region, complaints, baseline_mean, p_value, ratio_to_baseline "
        "from {t} where is_alert and week_start > (select max(week_start) from {t}) - "
        f"interval {ACTIVE_ALERT_DAYS} day order by week_start desc, p_value, root_cause, region",
    ),
    # service recovery per cause over all months
    "recovery": (
        "service_recovery",
        "select root_cause, sum(tickets) as tickets, sum(resolved) as resolved, "
        "sum(resolved_within_sla_pct * resolved) / nullif(sum(resolved), 0) as within_sla_pct, "
        "median(median_resolution_hours) as median_resolution_hours, "
        "sum(reopen_rate_pct * resolved) / nullif(sum(resolved), 0) as reopen_rate_pct, "
        "sum(repurchase_pct_fast * complainers_fast) / nullif(sum(complainers_fast), 0) as repurchase_fast, "
        "sum(repurchase_pct_slow * complainers_slow) / nullif(sum(complainers_slow), 0) as repurchase_slow, "
        "sum(repurchase_pct_non_complainers * non_complainers) / nullif(sum(non_complainers), 0) "
        "as repurchase_non_complainers from {t} group by root_cause order by tickets desc",
    ),
    "publications": (
        "publication_log",
        "select publication_id, published_at, data_interval_start, data_interval_end, gate_status, gate_checks, "
        "row_counts, code_version from {t} order by publication_id desc limit 10",
    ),
}


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}


def load_report_data(reporting_db: Path) -> ReportData:
    """Every section's frames from the reporting file ``reporting_db`` (opened read-only)."""
    data = ReportData()
    with duckdb.connect(str(reporting_db), read_only=True) as con:
        present = _tables(con)
        for name, (table, query) in QUERIES.items():
            if table in present:
                data.frames[name] = con.execute(query.format(t=f'main."{table}"')).df()
            else:
                data.frames[name] = pd.DataFrame()
        if "publication_log" in present:
            row = con.execute(
                "select publication_id, published_at, data_interval_start, data_interval_end, gate_status, "
                "row_counts, skipped_tables from publication_log order by publication_id desc limit 1"
            ).fetchone()
            if row is not None:
                data.publication = {
                    "publication_id": int(row[0]),
                    "published_at": row[1],
                    "data_interval_start": row[2],
                    "data_interval_end": row[3],
                    "gate_status": row[4],
                    "row_counts": json.loads(row[5]),
                    "skipped_tables": json.loads(row[6]) if row[6] else {},
                }
    return data
