"""cxpipe.ingest.lake: staged partitions renamed together, byte-identical re-runs, the load audit."""

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from ingest_helpers import DAY, GOOD, HEADER, _lake, _responses

from cxpipe.contracts import CUSTOMERS, ENTITIES, SOURCES, TICKETS, ContractError
from cxpipe.demo import DemoSpec, generate
from cxpipe.ingest import ingest_source, landing_file
from cxpipe.settings import Settings


def test_rerunning_a_date_replaces_its_partition_row_for_row(settings: Settings) -> None:
    generate(settings.landing_dir, DemoSpec(start=DAY, history_days=10, customers=40))
    ingest_source(settings, "sales", DAY)
    first = _lake(settings, "sales", "orders")
    ingest_source(settings, "sales", DAY)
    assert _lake(settings, "sales", "orders") == first
    files = list((settings.lake_dir / "sales" / "orders").rglob("*"))
    assert [p.name for p in files if p.is_file()] == ["part-0.parquet"]


def test_failed_write_leaves_the_previous_partition(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    _responses(settings, GOOD)
    ingest_source(settings, "surveys", DAY)
    before = _lake(settings, "surveys", "responses")
    _responses(settings, GOOD.replace("R1", "R9"))

    def crash(*_: object, **__: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", crash)
    with pytest.raises(OSError, match="disk full"):
        ingest_source(settings, "surveys", DAY)
    monkeypatch.undo()
    assert _lake(settings, "surveys", "responses") == before
    leftovers = [p for p in settings.lake_dir.rglob(".*.tmp")]
    assert leftovers == []


def test_crash_half_way_through_a_write_leaves_the_previous_partition(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _responses(settings, GOOD)
    ingest_source(settings, "surveys", DAY)
    target = settings.lake_dir / "surveys" / "responses" / f"load_date={DAY}" / "part-0.parquet"
    before = target.read_bytes()
    _responses(settings, GOOD.replace("R1", "R9"))
    real_write = pq.write_table

    def write_half_then_crash(table: object, where: object, **kw: object) -> None:
        real_write(table, where, **kw)
        Path(str(where)).write_bytes(Path(str(where)).read_bytes()[:100])
        raise OSError("killed mid-write")

    monkeypatch.setattr(pq, "write_table", write_half_then_crash)
    with pytest.raises(OSError, match="killed mid-write"):
        ingest_source(settings, "surveys", DAY)
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert list(settings.lake_dir.rglob("*.tmp")) == []


def test_a_failing_entity_leaves_every_partition_of_the_source_as_it_was(settings: Settings) -> None:
    generate(settings.landing_dir, DemoSpec(start=DAY, history_days=3, customers=10))
    ingest_source(settings, "crm", DAY)
    customers_before = _lake(settings, "crm", "customers")
    customers = landing_file(settings, CUSTOMERS, DAY)
    customers.write_text(customers.read_text(encoding="utf-8").replace("C0", "D0"), encoding="utf-8")
    tickets = landing_file(settings, TICKETS, DAY)
    tickets.write_text('{"ticket_id": "T1"}\n', encoding="utf-8")  # no channel, created_at, text
    with pytest.raises(ContractError, match="required column"):
        ingest_source(settings, "crm", DAY)
    assert _lake(settings, "crm", "customers") == customers_before


def test_ingesting_a_day_twice_gives_a_byte_identical_lake(settings: Settings) -> None:
    generate(settings.landing_dir, DemoSpec(start=DAY, history_days=10, customers=40, bad_row_share=0.05))

    def snapshot() -> dict[str, bytes]:
        files = [*settings.lake_dir.rglob("*.parquet"), *settings.quarantine_dir.rglob("*.parquet")]
        return {str(p.relative_to(settings.data_dir)): p.read_bytes() for p in files if "_load_audit" not in p.parts}

    for source in SOURCES:
        ingest_source(settings, source, DAY)
    first = snapshot()
    for source in SOURCES:
        ingest_source(settings, source, DAY)
    assert snapshot() == first
    assert len(first) == 2 * len(ENTITIES)
    assert sum(pq.read_metadata(settings.data_dir / p).num_rows for p in first if p.startswith("quarantine")) > 0


def test_drift_columns_are_recorded_in_the_load_audit(settings: Settings) -> None:
    _responses(settings, GOOD + ",store-42,x", header=HEADER + ",kiosk_id,zz_note")
    ingest_source(settings, "surveys", DAY)
    (audit,) = pq.read_table(settings.lake_dir / "_load_audit" / "surveys" / f"load_date={DAY}").to_pylist()
    assert audit["drift_columns"] == "kiosk_id,zz_note"
    assert audit["rows_in"] == audit["rows_loaded"] == 1


def test_the_quarantine_table_shows_each_row_as_json_of_its_landing_text(tmp_path: Path) -> None:
    """Raw text per row from the columns at once: every column not starting with ``_`` in order, a missing
    value as "", quotes and non-ASCII text as JSON writes them, an undecodable byte as its escape, and a
    row's own ``_raw`` (a malformed line) as it is; each landing path built from the folder and the name."""
    import pandas as pd

    from cxpipe.ingest.lake import quarantine_table

    bad = pd.DataFrame(
        {
            "_source_file": ["orders.csv", "orders.pos-ru.csv", "orders.csv"],
            "_source_row": [2, 7, 9],
            "_raw": [None, None, '{"broken'],
            "order_id": pd.Series(["O1", None, "O3"], dtype="string"),
            "note": pd.Series(['say "hi"', "заказ \uf7e9", "x"], dtype=object),
        }
    )
    table = quarantine_table(bad, tmp_path, pd.Series(["a", "b", "c"]))
    assert table.to_pylist() == [
        {
            "source_file": str(tmp_path / "orders.csv"),
            "source_row": 2,
            "raw": '{"order_id": "O1", "note": "say \\"hi\\""}',
            "reason": "a",
        },
        {
            "source_file": str(tmp_path / "orders.pos-ru.csv"),
            "source_row": 7,
            "raw": '{"order_id": "", "note": "заказ \\xe9"}',
            "reason": "b",
        },
        {"source_file": str(tmp_path / "orders.csv"), "source_row": 9, "raw": '{"broken', "reason": "c"},
    ]
    only_internal = quarantine_table(bad[["_source_file", "_source_row"]], tmp_path, pd.Series(["a", "b", "c"]))
    assert only_internal["raw"].to_pylist() == ["{}", "{}", "{}"]
