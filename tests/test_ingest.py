import json
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from cxpipe.config import Settings
from cxpipe.contracts import CUSTOMERS, ENTITIES, ORDERS, POSTS, RESPONSES, SOURCES, TICKETS, ContractError
from cxpipe.demo import DemoSpec, generate
from cxpipe.ingest import (
    ingest_entity,
    ingest_source,
    landing_file,
    landing_ready,
    missing_file_policy,
    pseudonymise,
)

DAY = date(2026, 11, 1)
HEADER = ",".join(RESPONSES.column_names)


def _write(settings: Settings, entity_file: Path, text: str) -> None:
    entity_file.parent.mkdir(parents=True, exist_ok=True)
    entity_file.write_text(text, encoding="utf-8")


def _responses(settings: Settings, *rows: str, header: str = HEADER) -> Path:
    path = landing_file(settings, RESPONSES, DAY)
    _write(settings, path, "\n".join([header, *rows]) + "\n")
    return path


def _quarantine(settings: Settings, entity_name: str = "responses", source: str = "surveys") -> list[dict[str, object]]:
    path = settings.quarantine_dir / source / entity_name / f"load_date={DAY}" / "part-0.parquet"
    return pq.read_table(path).to_pylist()


def _lake(settings: Settings, source: str, entity_name: str) -> list[dict[str, object]]:
    path = settings.lake_dir / source / entity_name / f"load_date={DAY}" / "part-0.parquet"
    return pq.read_table(path).to_pylist()


GOOD = "R1,C1,O1,delivery,web,2026-10-30T10:00:00Z,5,10,7,great"


def test_demo_day_balances_rows_in_against_loaded_and_quarantined(settings: Settings) -> None:
    generate(settings.landing_dir, DemoSpec(start=DAY, history_days=20, customers=60))
    for source in SOURCES:
        for result in ingest_source(settings, source, DAY):
            assert result.rows_in == result.rows_loaded + result.rows_quarantined
            assert result.rows_loaded > 0
    with duckdb.connect() as con:
        audit = con.execute(f"select * from read_parquet('{settings.lake_dir}/_load_audit/*/*/*.parquet')").df()
    assert len(audit) == len(ENTITIES)
    assert (audit.rows_in == audit.rows_loaded + audit.rows_quarantined).all()


def test_out_of_range_and_unparseable_values_are_quarantined_with_row_and_reason(settings: Settings) -> None:
    _responses(
        settings,
        GOOD,
        "R2,C2,O2,delivery,web,2026-10-30T10:00:00Z,5,11,7,nps too high",
        "R3,C3,O3,delivery,web,not a date,5,9,7,bad timestamp",
        "R4,C4,O4,teleport,web,2026-10-30T10:00:00Z,x,9,7,bad touchpoint and csat",
    )
    (result,) = ingest_source(settings, "surveys", DAY)
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (4, 1, 3)
    rejected = {row["source_row"]: row for row in _quarantine(settings)}
    assert rejected[2]["reason"] == "nps: above 10"
    assert "responded_at: cannot read 'not a date' as timestamp" in str(rejected[3]["reason"])
    assert "touchpoint: 'teleport' not in" in str(rejected[4]["reason"])
    assert "csat: cannot read 'x' as integer" in str(rejected[4]["reason"])
    assert json.loads(str(rejected[2]["raw"]))["nps"] == "11"
    assert [row["response_id"] for row in _lake(settings, "surveys", "responses")] == ["R1"]


def test_missing_required_column_fails_naming_file_and_column(settings: Settings) -> None:
    path = _responses(settings, "R1,O1", header="response_id,order_id")
    with pytest.raises(ContractError) as caught:
        ingest_source(settings, "surveys", DAY)
    message = str(caught.value)
    assert str(path) in message
    assert "touchpoint" in message and "responded_at" in message
    assert not (settings.lake_dir / "surveys").exists()


def test_extra_column_is_loaded_and_reported_as_drift(settings: Settings) -> None:
    _responses(settings, GOOD + ",store-42", header=HEADER + ",kiosk_id")
    (result,) = ingest_source(settings, "surveys", DAY)
    assert result.drift_columns == ["kiosk_id"]
    assert result.rows_loaded == 1


def test_duplicate_key_keeps_the_last_row_and_quarantines_the_earlier(settings: Settings) -> None:
    _responses(settings, GOOD, GOOD.replace("great", "changed my mind"))
    (result,) = ingest_source(settings, "surveys", DAY)
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    assert _lake(settings, "surveys", "responses")[0]["comment"] == "changed my mind"
    assert "duplicate key" in str(_quarantine(settings)[0]["reason"])


def test_malformed_json_line_is_quarantined_and_the_rest_loaded(settings: Settings) -> None:
    path = landing_file(settings, POSTS, DAY)
    good = {"post_id": "P1", "platform": "vk", "kind": "post", "posted_at": "2026-10-30T10:00:00Z", "text": "ok"}
    _write(settings, path, json.dumps(good) + "\n{not json\n" + json.dumps({**good, "post_id": "P2"}) + "\n")
    (result,) = ingest_source(settings, "social", DAY)
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    (bad,) = _quarantine(settings, "posts", "social")
    assert bad["source_row"] == 2
    assert str(bad["reason"]).startswith("malformed JSON")
    assert bad["raw"] == "{not json\n"


def test_missing_file_fails_by_default_and_is_skipped_when_configured(settings: Settings) -> None:
    with pytest.raises(ContractError, match="no responses file landed for 2026-11-01"):
        ingest_source(settings, "surveys", DAY)
    (result,) = ingest_source(settings, "surveys", DAY, policy="skip")
    assert result.status == "no_file"
    with pytest.raises(ValueError, match="missing-file policy 'wait-forever'"):
        ingest_source(settings, "surveys", DAY, policy="wait-forever")


def test_missing_file_policy_is_chosen_per_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CX_MISSING_FILE_POLICY", raising=False)
    assert missing_file_policy("social") == "fail"
    monkeypatch.setenv("CX_MISSING_FILE_POLICY", "skip")
    monkeypatch.setenv("CX_MISSING_FILE_POLICY_SOCIAL", "wait")
    assert (missing_file_policy("social"), missing_file_policy("crm")) == ("wait", "skip")
    monkeypatch.setenv("CX_MISSING_FILE_POLICY_CRM", "later")
    with pytest.raises(ValueError, match="CX_MISSING_FILE_POLICY_CRM"):
        missing_file_policy("crm")


def test_landing_ready_needs_every_file_of_the_source(settings: Settings) -> None:
    assert not landing_ready(settings, "crm", DAY)
    generate(settings.landing_dir, DemoSpec(start=DAY, history_days=2, customers=5))
    assert landing_ready(settings, "crm", DAY)
    landing_file(settings, TICKETS, DAY).unlink()
    assert not landing_ready(settings, "crm", DAY)


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


def test_pii_never_reaches_the_lake(settings: Settings) -> None:
    path = landing_file(settings, CUSTOMERS, DAY)
    _write(
        settings,
        path,
        ",".join(CUSTOMERS.column_names)
        + "\nC1,Anna Berg,anna.berg@example.com,+46 700000000,1980,SE,Malmo,gold,10,2024-01-01,true,"
        + "2026-10-01T08:00:00Z\n",
    )
    ingest_entity(settings, CUSTOMERS, DAY, "fail")
    (row,) = _lake(settings, "crm", "customers")
    lake_text = str(row)
    for raw in ("C1", "Anna Berg", "anna.berg@example.com", "+46 700000000"):
        assert f"'{raw}'" not in lake_text
    assert row["customer_id"] == pseudonymise(__import__("pandas").Series(["C1"]), "test-key")[0]


def test_pseudonymise_is_keyed_and_stable() -> None:
    import pandas as pd

    values = pd.Series(["a@x.com", "A@X.com ", "", None])
    hashed = pseudonymise(values, "k1")
    assert hashed[0] == hashed[1]
    assert pd.isna(hashed[2]) and pd.isna(hashed[3])
    assert pseudonymise(values, "k2")[0] != hashed[0]


def test_orders_negative_amount_is_quarantined(settings: Settings) -> None:
    path = landing_file(settings, ORDERS, DAY)
    row = "O1,C1,web,S1,SE,Malmo,2026-10-01T10:00:00Z,2026-10-05,2026-10-04T12:00:00Z,delivered,-5,SEK"
    _write(settings, path, ",".join(ORDERS.column_names) + "\n" + row + "\n")
    result = ingest_entity(settings, ORDERS, DAY, "fail")
    assert result.rows_quarantined == 1
    assert _quarantine(settings, "orders", "sales")[0]["reason"] == "order_total: below 0"
