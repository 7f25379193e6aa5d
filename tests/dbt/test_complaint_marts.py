"""The complaint reporting tables on demo data built by dbt: consistent with each other, no raw PII."""

from __future__ import annotations

import dataclasses
import re

import duckdb
import pytest
from conftest import run_dbt

from cxpipe.settings import Settings
from cxpipe.warehouse import connect_read_only


def test_every_complaint_source_is_present_and_classified(built_warehouse: Settings) -> None:
    with connect_read_only(built_warehouse.build_db) as con:
        rows = con.execute(
            "select complaint_source, count(*), count(*) filter (where root_cause is null or language is null) "
            "from marts.complaints group by all"
        ).fetchall()
    by_source = {r[0]: (r[1], r[2]) for r in rows}
    assert set(by_source) == {"ticket", "survey", "social"}
    assert all(unclassified == 0 for _, unclassified in by_source.values())


def test_pareto_alerts_and_recovery_add_up_to_the_complaints(built_warehouse: Settings) -> None:
    with connect_read_only(built_warehouse.build_db) as con:
        per_month = dict(con.execute("select complaint_month, count(*) from marts.complaints group by 1").fetchall())
        for dimension in ("all", "channel", "language"):
            pareto = dict(
                con.execute(
                    "select month, sum(complaints) from marts.complaint_root_causes where dimension = ? group by 1",
                    [dimension],
                ).fetchall()
            )
            assert pareto == per_month, dimension
        # the vital few of each month reach the threshold and the last rank has 100 %
        shortfalls = con.execute(
            "select month, dimension_value from marts.complaint_root_causes where dimension = 'all' "
            "group by all having max(cumulative_share_pct) < 99.99 "
            "or max(cumulative_share_pct) filter (where is_vital_few) < 80"
        ).fetchall()
        assert shortfalls == []
        tickets = dict(
            con.execute(
                "select complaint_month, count(*) from marts.complaints where complaint_source = 'ticket' group by 1"
            ).fetchall()
        )
        recovery = dict(con.execute("select month, sum(tickets) from marts.service_recovery group by 1").fetchall())
        assert recovery == tickets
        mismatched = con.execute(
            "select a.week_start from marts.complaint_alerts as a "
            "left join (select complaint_week, count(*) as n from marts.complaints group by 1) as c "
            "on a.week_start = c.complaint_week "
            "group by a.week_start, c.n having sum(a.complaints) != coalesce(c.n, 0)"
        ).fetchall()
        assert mismatched == []


@pytest.mark.slow
def test_pii_in_a_ticket_text_never_reaches_the_complaints_table(warehouse_copy: Settings) -> None:
    lake = warehouse_copy.lake_dir / "crm" / "tickets"
    (partition,) = lake.glob("load_date=2026-11-01")
    late = lake / "load_date=2026-11-02"
    late.mkdir()
    text = (
        "Charged twice! Card 4111 1111 1111 1111, mail me at olga.petrova@example.ru "
        "or call +7 912 345-67-89, заказ так и не привезли"
    )
    with duckdb.connect() as con:
        con.execute(
            f"copy (select * replace ('TPII1' as ticket_id, ? as text) "
            f"from '{partition}/part-0.parquet' limit 1) to '{late}/part-0.parquet' (format parquet)",
            [text],
        )
    result = run_dbt(warehouse_copy, "build", "--select", "+complaints", "--indirect-selection", "cautious")
    assert result.returncode == 0, result.stdout[-3000:]
    with connect_read_only(warehouse_copy.build_db) as con:
        row = con.execute(
            "select redacted_text, root_cause, secondary_cause from marts.complaints "
            "where complaint_id = 'ticket:TPII1'"
        ).fetchone()
        columns = [r[0] for r in con.execute("describe marts.complaints").fetchall()]
    assert row is not None
    redacted, cause, secondary = row
    assert redacted == "Charged twice! Card [CARD], mail me at [EMAIL] or call [PHONE], заказ так и не привезли"
    assert {cause, secondary} == {"price_billing", "late_delivery"}
    assert not {"complaint_text", "ticket_text", "text", "customer_id", "email", "phone"} & set(columns)


def _analysed_rows(settings: Settings) -> list[tuple[object, ...]]:
    with connect_read_only(settings.build_db) as con:
        return con.execute("select * from intermediate.int_complaint_texts_nlp order by complaint_id").fetchall()


@pytest.mark.slow
def test_the_text_analysis_in_small_batches_gives_the_rows_of_one_batch(
    built_warehouse: Settings, warehouse_copy: Settings
) -> None:
    """A full refresh of the analysis in batches of a few texts: the rows the one-batch build made."""
    expected = _analysed_rows(built_warehouse)
    texts = len({row[-2] for row in expected})  # distinct text hashes
    assert texts >= 6, texts
    size = texts // 3  # three batches and a remainder
    batched = dataclasses.replace(
        warehouse_copy, engine=dataclasses.replace(warehouse_copy.engine, complaint_batch_texts=size)
    )
    result = run_dbt(batched, "run", "--select", "int_complaint_texts_nlp", "--full-refresh")
    assert result.returncode == 0, result.stdout[-3000:]
    found = re.findall(r"(\d+) distinct texts analysed in (\d+) batches", result.stdout)
    assert found == [(str(texts), str(-(-texts // size)))], result.stdout[-3000:]
    assert _analysed_rows(batched) == expected
