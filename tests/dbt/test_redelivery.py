"""Repair by re-delivery: a landing date delivered again, with fewer and changed rows, and loaded
again gives, after the next ordinary (incremental) build, the tables a full rebuild of the same lake gives."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import DEMO_DATE, comparable_columns, run_dbt, settings_for

from cxpipe.contracts import REPORTING_TABLES, SOURCES
from cxpipe.demo import DemoSpec, generate
from cxpipe.ingest import ingest_source
from cxpipe.settings import Settings
from cxpipe.warehouse import prepare_build

# Builds its own warehouse (or parses the project) several times: `make test` runs it, `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

DAYS = 6
SPEC = DemoSpec(start=DEMO_DATE, days=DAYS, history_days=45, customers=100, orders_per_day=10)
#: The first landing date (it carries the history): five days before the newest, outside the
#: incremental models' lookback window (cx_incremental_lookback_days = 3).
REDELIVERED = DEMO_DATE


def _build(settings: Settings, *, full_refresh: bool = False) -> None:
    """What a transform run does before the gate: prepare_build, then the dbt build."""
    prepare_build(settings, full_refresh)
    flags = ["--full-refresh"] if full_refresh else []
    result = run_dbt(settings, "build", *flags)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def _unreferenced(landing: Path, ids: list[str]) -> list[str]:
    """Of ``ids``, those that no landing file but the orders and order lines mentions."""
    others = b"".join(
        p.read_bytes() for p in landing.rglob("*") if p.is_file() and not p.name.startswith(("orders", "order_lines"))
    )
    return [i for i in ids if i.encode() not in others]


def _redeliver(settings: Settings) -> dict[str, list[str]]:
    """The source systems send REDELIVERED again: three orders (and their lines) and three tickets
    fewer, one order delivered four days later and one ticket answered three days later."""
    sales = settings.landing_dir / "sales" / REDELIVERED.isoformat()
    with (sales / "orders.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    dropped = _unreferenced(settings.landing_dir, [r["order_id"] for r in rows])[:3]
    late = next(
        r
        for r in rows
        if r["order_id"] not in dropped
        and r["promised_date"]
        and r["delivered_at"].endswith("Z")
        and r["delivered_at"][:10] <= r["promised_date"]
    )
    late["delivered_at"] = (datetime.fromisoformat(late["delivered_at"]) + timedelta(days=4)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    with (sales / "orders.csv").open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(r for r in rows if r["order_id"] not in dropped)
    for lines in sales.glob("order_lines*.csv"):  # ASCII ids in UTF-8, GBK and CP1251 files alike
        kept = [
            line
            for line in lines.read_bytes().splitlines(keepends=True)
            if not any(d.encode() in line for d in dropped)
        ]
        lines.write_bytes(b"".join(kept))

    tickets_file = settings.landing_dir / "crm" / REDELIVERED.isoformat() / "tickets.jsonl"
    tickets = [json.loads(line) for line in tickets_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    answered = [t for t in tickets if t["first_response_at"]]
    gone = [t["ticket_id"] for t in answered[:3]]
    slow = answered[3]
    slow["first_response_at"] = (datetime.fromisoformat(slow["created_at"]) + timedelta(days=3)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    tickets_file.write_text(
        "".join(json.dumps(t) + "\n" for t in tickets if t["ticket_id"] not in gone), encoding="utf-8"
    )
    return {"orders": dropped, "late": [late["order_id"]], "tickets": gone, "slow": [slow["ticket_id"]]}


def _tables(db: Path) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' and table_schema in ('intermediate', 'marts') order by 1"
        ).fetchall()
    return [r[0] for r in rows]


def _ids(db: Path, sql: str) -> set[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {str(r[0]) for r in con.execute(sql).fetchall()}


def test_a_redelivered_date_rebuilds_to_what_a_full_refresh_of_the_same_lake_builds(
    tmp_path: Path, dbt_manifest: Path
) -> None:
    daily = settings_for(tmp_path / "daily")
    generate(daily.landing_dir, SPEC)
    for offset in range(DAYS):
        for source in SOURCES:
            ingest_source(daily, source, DEMO_DATE + timedelta(days=offset))
    _build(daily)
    before = _ids(daily.build_db, "select order_id from intermediate.int_orders_enriched")

    changed = _redeliver(daily)
    assert len(changed["orders"]) == 3 and set(changed["orders"]) <= before and len(changed["tickets"]) == 3
    for source in ("sales", "crm"):
        ingest_source(daily, source, REDELIVERED)

    # without the rebuild, an incremental run keeps the orders the re-delivery removed
    stale = settings_for(tmp_path / "stale")
    shutil.copytree(daily.data_dir, stale.data_dir)
    result = run_dbt(stale, "run", "--select", "int_orders_enriched", "int_promises")
    assert result.returncode == 0, result.stdout[-4000:]
    assert set(changed["orders"]) <= _ids(stale.build_db, "select order_id from intermediate.int_orders_enriched")

    # the next ordinary run: prepare_build sees the date loaded again and drops the incremental models only
    _build(daily)
    incremental_db = tmp_path / "incremental.duckdb"
    shutil.copyfile(daily.build_db, incremental_db)
    assert not set(changed["orders"]) & _ids(incremental_db, "select order_id from intermediate.int_orders_enriched")
    promises = _ids(incremental_db, "select source_id from intermediate.int_promises")
    assert not set(changed["tickets"]) & promises and set(changed["slow"]) <= promises

    # a full rebuild of the same lake in a new data folder
    scratch = settings_for(tmp_path / "scratch")
    shutil.copytree(daily.lake_dir, scratch.lake_dir)
    _build(scratch, full_refresh=True)

    tables = _tables(incremental_db)
    assert tables == _tables(scratch.build_db)
    assert {f"marts.{t}" for t in REPORTING_TABLES} <= set(tables)
    assert {"intermediate.int_orders_enriched", "intermediate.int_promises"} <= set(tables)
    with duckdb.connect() as con:
        con.execute(f"attach '{incremental_db}' as daily (read_only)")
        con.execute(f"attach '{scratch.build_db}' as rebuilt (read_only)")
        for table in tables:
            counts = con.execute(
                f"select (select count(*) from daily.{table}), (select count(*) from rebuilt.{table})"
            ).fetchone()
            assert counts is not None and counts[0] == counts[1], (table, counts)
            columns = comparable_columns(con, "daily", table)
            for left, right in (("daily", "rebuilt"), ("rebuilt", "daily")):
                diff = con.execute(
                    f"select count(*) from (select {columns} from {left}.{table} "
                    f"except all select {columns} from {right}.{table})"
                ).fetchone()
                assert diff == (0,), f"{table}: rows of the {left} build missing from the {right} build"
        on_time = con.execute(
            "select is_on_time from daily.intermediate.int_orders_enriched where order_id = ?", changed["late"]
        ).fetchone()
        assert on_time == (False,)
