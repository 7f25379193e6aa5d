import hashlib
from datetime import date
from pathlib import Path

import duckdb

from cxpipe.contracts import ENTITIES
from cxpipe.demo import DemoSpec, generate

SPEC = DemoSpec(start=date(2026, 11, 1), days=2, history_days=30, customers=80)


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.*"))}


def test_same_seed_writes_identical_files(tmp_path: Path) -> None:
    generate(tmp_path / "a", SPEC)
    generate(tmp_path / "b", SPEC)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")


def test_writes_every_entity_for_every_landing_date(tmp_path: Path) -> None:
    counts = generate(tmp_path, SPEC)
    for entity in ENTITIES:
        for day in ("2026-11-01", "2026-11-02"):
            assert (tmp_path / entity.source / day / entity.file_name).exists()
        assert counts[f"{entity.source}/{entity.name}"] > 0


def test_late_deliveries_get_lower_satisfaction(tmp_path: Path) -> None:
    generate(tmp_path, DemoSpec(start=date(2026, 11, 1), history_days=90, customers=200))
    day = tmp_path / "{}" / "2026-11-01"
    csat_late, csat_on_time = (
        duckdb.connect()
        .execute(
            f"""
        select
            avg(try_cast(r.csat as int)) filter (where o.delivered_at::date > o.promised_date::date),
            avg(try_cast(r.csat as int)) filter (where o.delivered_at::date <= o.promised_date::date)
        from read_csv('{day.as_posix().format("surveys")}/responses.csv', all_varchar = true) r
        join read_csv('{day.as_posix().format("sales")}/orders.csv', all_varchar = true) o using (order_id)
        where try_cast(r.csat as int) between 1 and 5 and o.promised_date <> ''
        """
        )
        .fetchone()
    )
    assert csat_late + 1.0 < csat_on_time
