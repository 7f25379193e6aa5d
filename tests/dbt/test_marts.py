"""The marts on demo data: customer segments, CRM history, and what the generator makes true."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest
from conftest import run_dbt

from cxpipe.contracts import MARTS_SCHEMA, PII_COLUMN_NAMES
from cxpipe.settings import Settings
from cxpipe.warehouse import connect_read_only

RFM_SEGMENTS = {
    "champions",
    "loyal",
    "potential loyalists",
    "new",
    "at risk",
    "cannot lose",
    "hibernating",
    "lost",
    "prospect",
}


def _rows(settings: Settings, sql: str) -> list[tuple[object, ...]]:
    with connect_read_only(settings.build_db) as con:
        return con.execute(sql).fetchall()


#: Every customer: of the CRM, or known only from orders (docs/decisions/0045).
_CUSTOMERS = (
    "select customer_key from staging.stg_crm__customers union "
    "select customer_key from intermediate.int_orders_enriched where customer_key is not null"
)


def test_customer_segments_has_one_row_per_customer_and_no_pii(built_warehouse: Settings) -> None:
    ((customers,),) = _rows(built_warehouse, f"select count(*) from ({_CUSTOMERS})")
    ((rows, keys),) = _rows(
        built_warehouse, f"select count(*), count(distinct customer_key) from {MARTS_SCHEMA}.customer_segments"
    )
    assert rows == keys == customers > 0
    columns = {r[0] for r in _rows(built_warehouse, f"describe {MARTS_SCHEMA}.customer_segments")}
    assert not columns & PII_COLUMN_NAMES
    segments = {
        r[0] for r in _rows(built_warehouse, f"select distinct rfm_segment from {MARTS_SCHEMA}.customer_segments")
    }
    assert segments <= RFM_SEGMENTS
    assert len(segments) >= 5, segments


def test_promises_broken_per_customer_add_up_to_the_broken_promises(built_warehouse: Settings) -> None:
    ((per_customer,),) = _rows(built_warehouse, f"select sum(promises_broken) from {MARTS_SCHEMA}.customer_segments")
    ((broken,),) = _rows(
        built_warehouse,
        f"select count(*) from intermediate.int_promises where is_broken and customer_key in ({_CUSTOMERS})",
    )
    assert per_customer == broken > 0


def test_segment_summary_orders_and_revenue_match_the_orders(built_warehouse: Settings) -> None:
    # revenue is net and in the reporting currency: each order converted with the latest
    # rate on or before its UTC date, cancelled orders left out (recomputed here from staging
    # and the seed with DuckDB's own as-of join); credit notes are no orders
    ((orders, revenue),) = _rows(
        built_warehouse, f"select sum(orders), sum(revenue) from {MARTS_SCHEMA}.segment_summary"
    )
    ((expected_orders, expected_revenue, missing_rates),) = _rows(
        built_warehouse,
        "select count(*) filter (where o.order_total >= 0), "
        "sum(o.order_total * case when o.currency = 'EUR' then 1 else r.rate_to_reporting end) "
        "filter (where o.status <> 'cancelled'), "
        "count(*) filter (where o.currency <> 'EUR' and r.rate_to_reporting is null) "
        "from staging.stg_sales__orders as o "
        "asof left join (select * from reference.exchange_rates where reporting_currency = 'EUR') as r "
        "on o.currency = r.currency and (o.ordered_at at time zone 'UTC')::date >= r.rate_date",
    )
    assert missing_rates == 0
    assert orders == expected_orders
    assert abs(float(revenue) - float(expected_revenue)) < 1
    # the marts that carry money say which currency it is, and it is one currency
    for table in ("segment_summary", "customer_segments", "expectation_gap"):
        currencies = _rows(built_warehouse, f"select distinct reporting_currency from {MARTS_SCHEMA}.{table}")
        assert currencies == [("EUR",)], table


def test_one_time_buyers_are_never_champions_and_every_score_is_used(built_warehouse: Settings) -> None:
    # frequency is by thresholds (1 purchase scores 1), recency and monetary by rank with ties
    # at the lower score: one-time buyers cannot reach champions, and every score 1-5 occurs
    ((one_time_champions,),) = _rows(
        built_warehouse,
        f"select count(*) from {MARTS_SCHEMA}.customer_segments where orders = 1 and rfm_segment = 'champions'",
    )
    assert one_time_champions == 0
    for score in ("recency_score", "monetary_score"):
        used = {r[0] for r in _rows(built_warehouse, f"select distinct {score} from {MARTS_SCHEMA}.customer_segments")}
        assert {1, 2, 3, 4, 5} <= used, score


def _write_partition(lake: Path, source: str, entity: str, load_date: date, sql: str) -> None:
    folder = lake / source / entity / f"load_date={load_date.isoformat()}"
    folder.mkdir(parents=True)
    with duckdb.connect() as con:
        con.execute(f"copy ({sql}) to '{folder}/part-0.parquet' (format parquet)")


@pytest.mark.slow
def test_snapshot_keeps_the_membership_tier_a_customer_had_when_ordering(warehouse_copy: Settings) -> None:
    lake = warehouse_copy.lake_dir
    first = next((lake / "crm" / "customers").glob("load_date=*")) / "part-0.parquet"
    orders = next((lake / "sales" / "orders").glob("load_date=*")) / "part-0.parquet"
    (customer, tier) = _rows(
        warehouse_copy,
        "select customer_key, membership_tier_at_order from intermediate.int_orders_enriched "
        "where membership_tier_at_order not in ('gold', 'guest', 'unknown') order by order_id limit 1",
    )[0]
    # the CRM upgrades the customer to gold on 2 November; they order again the day after
    later = date(2026, 11, 2)
    _write_partition(
        lake,
        "crm",
        "customers",
        later,
        f"select * replace ('gold' as membership_tier, timestamptz '2026-11-02 09:00:00+00' as updated_at) "
        f"from '{first}' where customer_id = '{customer}'",
    )
    _write_partition(
        lake,
        "sales",
        "orders",
        later,
        f"select * replace ('ONEW' as order_id, timestamptz '2026-11-03 10:00:00+00' as ordered_at) "
        f"from '{orders}' where customer_id = '{customer}' limit 1",
    )
    result = run_dbt(warehouse_copy, "build")
    assert result.returncode == 0, result.stdout[-3000:]

    versions = _rows(
        warehouse_copy,
        "select membership_tier, dbt_valid_to is null from snapshots.crm_customers_snapshot "
        f"where customer_key = '{customer}' order by dbt_valid_from",
    )
    assert versions == [(tier, False), ("gold", True)]
    tiers = dict(
        _rows(
            warehouse_copy,
            "select order_id = 'ONEW', list(distinct membership_tier_at_order) "
            f"from intermediate.int_orders_enriched where customer_key = '{customer}' group by 1",
        )
    )
    assert tiers == {False: [tier], True: ["gold"]}
    ((current,),) = _rows(
        warehouse_copy,
        f"select membership_tier from {MARTS_SCHEMA}.customer_segments where customer_key = '{customer}'",
    )
    assert current == "gold"


def _pooled(settings: Settings, promise_type: str, metric: str, outcome: str) -> tuple[float, int]:
    """A metric of expectation_gap pooled over all its cells, weighted by the answers behind each cell."""
    ((value, answers),) = _rows(
        settings,
        f"select sum({metric}_when_{outcome} * {metric}_answers_{outcome}) / sum({metric}_answers_{outcome}), "
        f"sum({metric}_answers_{outcome}) from {MARTS_SCHEMA}.expectation_gap "
        f"where promise_type = '{promise_type}' and {metric}_answers_{outcome} > 0",
    )
    return float(value), int(answers)


def test_satisfaction_is_lower_when_delivery_promises_are_broken(built_warehouse: Settings) -> None:
    # the demo generator lowers CSAT and NPS after a late delivery; expectation_gap must show it
    for metric in ("csat", "nps"):
        kept, kept_answers = _pooled(built_warehouse, "delivery_date", metric, "kept")
        broken, broken_answers = _pooled(built_warehouse, "delivery_date", metric, "broken")
        assert kept_answers >= 30 and broken_answers >= 30, (kept_answers, broken_answers)
        assert broken < kept - 10, (metric, kept, broken)


def test_pooled_satisfaction_from_expectation_gap_matches_the_survey_answers(built_warehouse: Settings) -> None:
    # the per-cell CSAT of kept delivery promises pools back to the CSAT of those answers
    kept, answers = _pooled(built_warehouse, "delivery_date", "csat", "kept")
    ((expected, expected_answers),) = _rows(
        built_warehouse,
        "select 100.0 * count(*) filter (where r.csat >= 4) / count(r.csat), count(r.csat) "
        "from staging.stg_surveys__responses as r "
        "join intermediate.int_promises as p on p.order_id = r.order_id "
        "where p.promise_type = 'delivery_date' and p.is_kept",
    )
    assert answers == expected_answers
    assert abs(kept - float(expected)) < 0.01  # each cell is rounded to 2 decimals


def test_delivery_is_a_basic_expectation_in_the_demo_data(built_warehouse: Settings) -> None:
    # late deliveries cost satisfaction, early ones earn nothing extra: a penalty without a reward
    ((level, penalty_low, reward_low),) = _rows(
        built_warehouse,
        f"select expectation_level, penalty_ci_low, reward_ci_low from {MARTS_SCHEMA}.expectation_levels "
        "where promise_type = 'delivery_date'",
    )
    assert penalty_low > 0
    assert reward_low <= 0
    assert level == "basic"


@pytest.mark.slow
def test_dbt_docs_generate_documents_the_marts_metrics_and_dashboards(warehouse_copy: Settings) -> None:
    result = run_dbt(warehouse_copy, "docs", "generate")
    assert result.returncode == 0, result.stdout[-3000:]
    target = warehouse_copy.data_dir / "dbt_target"
    catalog = json.loads((target / "catalog.json").read_text())["nodes"]
    manifest = json.loads((target / "manifest.json").read_text())
    marts = ("customer_segments", "segment_summary", "satisfaction_index", "expectation_gap", "expectation_levels")
    # the reporting models are versioned: their ids end in the version (model.cxpipe.<name>.v1)
    ids = {
        uid: node["name"]
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node.get("version") == node.get("latest_version")
    }
    latest = {name: uid for uid, name in ids.items()}
    for model in marts:
        assert latest[model] in catalog, model
        assert manifest["nodes"][latest[model]]["description"], model
    # doc blocks are rendered into the column descriptions
    columns = manifest["nodes"][latest["satisfaction_index"]]["columns"]
    assert columns["nps"]["description"].startswith("NPS: percentage of promoters")
    assert (
        "first rule that matches wins"
        in manifest["nodes"][latest["customer_segments"]]["columns"]["rfm_segment"]["description"]
    )
    dashboards = {e["name"]: e["depends_on"]["nodes"] for e in manifest["exposures"].values()}
    assert set(dashboards) == {
        "customer_segments_dashboard",
        "satisfaction_overview_dashboard",
        "promise_keeping_dashboard",
    }
    assert {ids[n] for deps in dashboards.values() for n in deps} == set(marts)
