"""cxpipe.ingest.load: one source and date end to end: balances, missing files, late rows, empty files, PII."""

import json
from datetime import date

import duckdb
import pyarrow.parquet as pq
import pytest
from ingest_helpers import DAY, GOOD, HEADER, _lake, _quarantine, _responses, _write

from cxpipe.contracts import CUSTOMERS, ENTITIES, POSTS, RESPONSES, SOURCES, ContractError
from cxpipe.demo import DemoSpec, generate
from cxpipe.ingest import ingest_entity, ingest_source, landing_file
from cxpipe.privacy import pseudonymise
from cxpipe.settings import Settings


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


def test_extra_column_is_loaded_and_reported_as_drift(settings: Settings) -> None:
    _responses(settings, GOOD + ",store-42", header=HEADER + ",kiosk_id")
    (result,) = ingest_source(settings, "surveys", DAY)
    assert result.drift_columns == ["kiosk_id"]
    assert result.rows_loaded == 1


def test_missing_file_fails_by_default_and_is_skipped_when_configured(settings: Settings) -> None:
    with pytest.raises(ContractError, match="no responses file landed for 2026-11-01"):
        ingest_source(settings, "surveys", DAY)
    (result,) = ingest_source(settings, "surveys", DAY, policy="skip")
    assert result.status == "no_file"
    with pytest.raises(ValueError, match="missing-file policy 'wait-forever'"):
        ingest_source(settings, "surveys", DAY, policy="wait-forever")


def test_wait_policy_fails_once_the_ingest_task_runs(settings: Settings) -> None:
    with pytest.raises(ContractError, match="CX_MISSING_FILE_POLICY_SURVEYS=skip"):
        ingest_source(settings, "surveys", DAY, policy="wait")


def test_late_rows_and_keys_of_earlier_dates_are_loaded_and_counted(settings: Settings) -> None:
    earlier = date(2026, 10, 31)
    path = landing_file(settings, RESPONSES, earlier)
    _write(settings, path, HEADER + "\n" + GOOD.replace("2026-10-30", "2026-10-31") + "\n")
    ingest_source(settings, "surveys", earlier)
    # R1 arrives again (a correction) and R5 belongs to an earlier day: both are loaded.
    _responses(
        settings,
        GOOD.replace("great", "corrected"),
        "R5,C5,O5,delivery,web,2026-10-20T09:00:00Z,2,3,2,late row",
        "R6,C6,O6,delivery,web,2026-11-01T09:00:00Z,4,9,6,today",
    )
    (result,) = ingest_source(settings, "surveys", DAY)
    assert (result.rows_loaded, result.rows_late, result.rows_superseding_earlier) == (3, 2, 1)
    assert {r["response_id"] for r in _lake(settings, "surveys", "responses")} == {"R1", "R5", "R6"}


@pytest.mark.parametrize("content", ["", HEADER + "\n"])
def test_empty_file_replaces_the_partition_with_an_empty_one(settings: Settings, content: str) -> None:
    _responses(settings, GOOD)
    ingest_source(settings, "surveys", DAY)
    _write(settings, landing_file(settings, RESPONSES, DAY), content)
    (result,) = ingest_source(settings, "surveys", DAY)
    assert (result.status, result.rows_in, result.rows_loaded) == ("empty", 0, 0)
    assert _lake(settings, "surveys", "responses") == []
    assert _quarantine(settings) == []


def test_empty_jsonl_file_is_loaded_as_empty(settings: Settings) -> None:
    _write(settings, landing_file(settings, POSTS, DAY), "\n\n")
    (result,) = ingest_source(settings, "social", DAY)
    assert (result.status, result.rows_in) == ("empty", 0)
    assert _lake(settings, "social", "posts") == []


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
    assert row["customer_id"] == pseudonymise(__import__("pandas").Series(["C1"]), settings.pii_key)[0]


def test_no_raw_pii_from_the_landing_files_reaches_the_lake(settings: Settings) -> None:
    import csv as csv_module

    generate(settings.landing_dir, DemoSpec(start=DAY, days=2, history_days=15, customers=60))
    landing = settings.landing_dir
    with (landing / "crm" / str(DAY) / "customers.csv").open(encoding="utf-8") as fh:
        customers = list(csv_module.DictReader(fh))
    pii = {row[c] for row in customers for c in ("customer_id", "full_name", "email", "phone") if row[c]}
    # A customer who writes their contact details into a ticket.
    someone = customers[0]
    ticket = {
        "ticket_id": "T-PII",
        "channel": "email",
        "created_at": "2026-11-01T10:00:00Z",
        "text": f"please call me on {someone['phone']} or write to {someone['email']}",
    }
    with (landing / "crm" / str(DAY) / "tickets.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(ticket, ensure_ascii=False) + "\n")
    for day in (DAY, date(2026, 11, 2)):
        for source in SOURCES:
            ingest_source(settings, source, day)
        with (landing / "social" / str(day) / "posts.jsonl").open(encoding="utf-8") as fh:
            pii |= {str(json.loads(line)["handle"]) for line in fh if line.strip() and json.loads(line).get("handle")}
    assert len(pii) > 150
    texts: list[str] = []
    for part in settings.lake_dir.rglob("*.parquet"):
        frame = pq.read_table(part).to_pandas()
        for column in frame.columns:
            if frame[column].dtype in (object, "string", "str"):
                texts += [str(v) for v in frame[column].dropna()]
    lake_text = "\n".join(texts)
    assert "T-PII" in lake_text and "[EMAIL]" in lake_text and "[PHONE]" in lake_text
    leaked = sorted(value for value in pii if value in lake_text)
    assert leaked == [], f"raw PII in the lake: {leaked[:5]}"


def test_outside_demo_mode_the_demo_pii_key_stops_ingest_before_anything_is_written(settings: Settings) -> None:
    from dataclasses import replace

    from cxpipe.settings import DEMO_PII_KEY, PiiKeyError

    generate(settings.landing_dir, DemoSpec(start=DAY, history_days=5, customers=10))
    demo_keyed = replace(settings, pii_key=DEMO_PII_KEY, demo_mode=False)
    with pytest.raises(PiiKeyError, match="CX_PII_KEY is not set"):
        ingest_source(demo_keyed, "crm", DAY)
    assert not list(settings.lake_dir.glob("crm/**/*.parquet"))
    assert ingest_source(replace(demo_keyed, demo_mode=True), "crm", DAY)  # the demo may use it


def test_lines_that_no_record_accounts_for_fail_the_balance() -> None:
    from cxpipe.ingest import LoadResult, RowBalanceError

    result = LoadResult("sales", "orders", "2026-11-01", "orders.csv", rows_in=2, rows_loaded=1, rows_quarantined=1)
    result.lines_in, result.lines_loaded, result.lines_quarantined, result.lines_blank = 5, 1, 1, 2
    expected = r"orders\.csv: 5 lines in but 1 loaded \+ 1 quarantined \+ 2 blank"
    with pytest.raises(RowBalanceError, match=expected):
        result.check_balance()
    result.lines_blank = 3
    result.check_balance()


def test_pseudonyms_remembered_in_the_process_are_per_key(settings: Settings) -> None:
    """The process keeps one memo of pseudonyms per key: another key hashes a value again, never reuses."""
    from dataclasses import replace

    import pandas as pd

    from cxpipe.privacy import pseudonymise

    _write(
        settings,
        landing_file(settings, CUSTOMERS, DAY),
        ",".join(CUSTOMERS.column_names)
        + "\nC1,Anna Berg,anna.berg@example.com,+46 700000000,1980,SE,Malmo,gold,10,2024-01-01,true,"
        + "2026-10-01T08:00:00Z\n",
    )
    for key in (settings.pii_key, settings.pii_key + "-other", settings.pii_key):
        ingest_entity(replace(settings, pii_key=key), CUSTOMERS, DAY, "fail")
        (row,) = _lake(settings, "crm", "customers")
        assert row["customer_id"] == pseudonymise(pd.Series(["C1"]), key)[0]
        assert row["email"] == pseudonymise(pd.Series(["anna.berg@example.com"]), key)[0]


def test_ingest_moves_arrow_off_mimalloc_unless_a_pool_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow as pa

    from cxpipe.ingest.load import use_arrow_memory_pool

    before = pa.default_memory_pool()
    try:
        pa.set_memory_pool(pa.mimalloc_memory_pool())
        monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "mimalloc")
        assert use_arrow_memory_pool() == "mimalloc"
        monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL")
        assert use_arrow_memory_pool() in ("jemalloc", "system")
        assert pa.default_memory_pool().backend_name in ("jemalloc", "system")
    finally:
        pa.set_memory_pool(before)
