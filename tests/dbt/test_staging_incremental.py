"""Staging tables merged per landing date: an edited mapping seed reaches the rows already stored."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import DEMO_DATE, copy_dbt_project, run_dbt, settings_for

from cxpipe.contracts import SOURCES
from cxpipe.demo import DemoSpec, generate
from cxpipe.ingest import ingest_source

# Builds its own warehouse several times: `make test` runs it, `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

SPEC = DemoSpec(start=DEMO_DATE, days=2, history_days=20, customers=50, orders_per_day=10)
MODEL = "stg_sales__orders"


def _key(value: str) -> str:
    """The seed's join key (macros/mappings.sql, mapping_key)."""
    return re.sub(r"[\s_-]+", " ", value.strip().lower())


def _orders(db: Path) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(f"select * from staging.{MODEL} order by order_id").fetchall()


def _run(settings: object, *args: str) -> str:
    result = run_dbt(settings, *args)  # type: ignore[arg-type]
    assert result.returncode == 0, result.stdout[-4000:]
    return result.stdout


def test_new_dates_only_and_an_edited_seed_rewrites_the_stored_rows(tmp_path: Path) -> None:
    settings = dataclasses.replace(settings_for(tmp_path), dbt_project_dir=copy_dbt_project(tmp_path / "dbt_project"))
    generate(settings.landing_dir, SPEC)
    for source in SOURCES:
        ingest_source(settings, source, DEMO_DATE)
    _run(settings, "seed")
    _run(settings, "run", "--select", MODEL)
    first = _orders(settings.build_db)
    assert first and {row[-1] for row in first} == {DEMO_DATE}

    # the next landing date: only its files are read, its versions replace the stored ones
    for source in SOURCES:
        ingest_source(settings, source, DEMO_DATE + timedelta(days=1))
    _run(settings, "run", "--select", MODEL)
    compiled = next((settings.data_dir / "dbt_target" / "compiled").rglob(f"{MODEL}.sql")).read_text()
    assert f"load_date > date '{DEMO_DATE.isoformat()}'" in compiled
    daily = _orders(settings.build_db)
    assert len(daily) > len(first)

    # an analyst maps a source channel to another business channel: every stored order of it follows
    seed = settings.dbt_project_dir / "seeds" / "sales_channel_map.csv"
    lines = seed.read_text(encoding="utf-8").splitlines()
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        row = con.execute(
            f"select source_channel, channel, count(*) from staging.{MODEL} "
            "where channel not in ('unknown', 'unmapped') group by all order by 3 desc limit 1"
        ).fetchone()
    assert row is not None
    source_channel, channel, _ = row
    other = "web" if channel != "web" else "store"
    edited = [
        f"{key},{other}" if _key(key) == _key(str(source_channel)) else line
        for line in lines
        for key in [line.split(",")[0]]
    ]
    assert edited != lines, f"no seed row for {source_channel!r}"
    seed.write_text("\n".join(edited) + "\n", encoding="utf-8")
    _run(settings, "seed")
    out = _run(settings, "run", "--select", MODEL)
    assert "maps source_channel differently now" in out, out[-3000:]
    remapped = _orders(settings.build_db)

    _run(settings, "run", "--select", MODEL, "--full-refresh")
    assert remapped == _orders(settings.build_db)
    assert any(r[2] == source_channel and r[3] == other for r in remapped)

    # nothing new and the seeds unchanged: no row is read again
    out = _run(settings, "run", "--select", MODEL)
    assert "differently now" not in out
    assert _orders(settings.build_db) == remapped
