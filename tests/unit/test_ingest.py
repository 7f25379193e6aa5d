import json
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from cxpipe.config import Settings
from cxpipe.contracts import (
    CUSTOMERS,
    ENTITIES,
    ORDER_LINES,
    ORDERS,
    POSTS,
    RESPONSES,
    SOURCES,
    TICKETS,
    ContractError,
)
from cxpipe.demo import DemoSpec, generate
from cxpipe.ingest import (
    ingest_entity,
    ingest_source,
    landing_file,
    landing_ready,
    mask_contact_details,
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
    # source_row is the physical line in the file: the header is line 1.
    rejected = {row["source_row"]: row for row in _quarantine(settings)}
    assert rejected[3]["reason"] == "nps: above 10"
    assert "responded_at: cannot read 'not a date' as timestamp" in str(rejected[4]["reason"])
    assert "touchpoint: 'teleport' not in" in str(rejected[5]["reason"])
    assert "csat: cannot read 'x' as integer" in str(rejected[5]["reason"])
    assert json.loads(str(rejected[3]["raw"]))["nps"] == "11"
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
    assert str(bad["reason"]).startswith("line 2: malformed JSON")
    assert bad["raw"] == "{not json"


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


# --------------------------------------------------------------------------- encodings

CN_ROWS = [
    ("R1", "快递太慢了，说好的周二送到，到现在还没有消息"),
    ("R2", "桌子收到的时候已经坏了，客服一直不回复"),
    ("R3", "服务很好，安装师傅很专业，非常满意"),
    ("R4", "网上显示有货，到店里说缺货，浪费时间"),
]
RU_ROWS = [
    ("R1", "Доставка опоздала на неделю, никто не позвонил"),
    ("R2", "Шкаф привезли поврежденный, царапины на дверце"),
    ("R3", "Отличный сервис, быстрая доставка, спасибо"),
    ("R4", "Не хватает винтов, собрать невозможно"),
]


def _comment_rows(rows: list[tuple[str, str]]) -> str:
    lines = [HEADER] + [f'{rid},C1,O1,delivery,web,2026-10-30T10:00:00Z,3,7,5,"{text}"' for rid, text in rows]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("encoding", "rows"),
    [("utf-8", CN_ROWS), ("utf-8-sig", RU_ROWS), ("gbk", CN_ROWS), ("cp1251", RU_ROWS)],
)
def test_encodings_are_detected_and_text_survives(settings: Settings, encoding: str, rows: list) -> None:
    path = landing_file(settings, RESPONSES, DAY)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_comment_rows(rows).encode(encoding))
    (result,) = ingest_source(settings, "surveys", DAY)
    assert (result.rows_in, result.rows_loaded) == (4, 4)
    assert [r["comment"] for r in _lake(settings, "surveys", "responses")] == [text for _, text in rows]
    assert result.encoding  # recorded in the audit
    if encoding.startswith("utf-8"):
        assert result.encoding == encoding


def test_declared_encoding_wins_over_detection(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    path = landing_file(settings, RESPONSES, DAY)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_comment_rows(RU_ROWS[:1]).encode("cp1251"))
    monkeypatch.setenv("CX_ENCODING_SURVEYS", "cp1251")
    (result,) = ingest_source(settings, "surveys", DAY)
    assert result.encoding == "cp1251"
    assert _lake(settings, "surveys", "responses")[0]["comment"] == RU_ROWS[0][1]
    monkeypatch.setenv("CX_ENCODING_SURVEYS_RESPONSES", "klingon")
    with pytest.raises(ValueError, match="CX_ENCODING_SURVEYS_RESPONSES='klingon' is not an encoding"):
        ingest_source(settings, "surveys", DAY)


def test_corrupt_bytes_quarantine_only_their_row_naming_line_and_column(settings: Settings) -> None:
    path = landing_file(settings, RESPONSES, DAY)
    path.parent.mkdir(parents=True, exist_ok=True)
    good = _comment_rows(CN_ROWS).encode("utf-8")
    broken = b"R9,C9,O9,delivery,web,2026-10-30T10:00:00Z,3,7,5,caf\xe9 was cold\n"
    path.write_bytes(good + broken)
    (result,) = ingest_source(settings, "surveys", DAY)
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (5, 4, 1)
    assert result.encoding == "utf-8"
    (bad,) = _quarantine(settings)
    assert bad["source_row"] == 6
    assert str(bad["reason"]).startswith("line 6, comment: bytes that are not valid utf-8")
    assert "CX_ENCODING_SURVEYS" in str(bad["reason"])
    assert "caf\\xe9 was cold" in str(bad["raw"])


# --------------------------------------------------------------------------- CSV shape


def test_quoted_newlines_and_delimiters_keep_physical_line_numbers(settings: Settings) -> None:
    _responses(
        settings,
        'R1,C1,O1,delivery,web,2026-10-30T10:00:00Z,5,10,7,"late, but\nthe driver was\nkind"',
        "R2,C2,O2,delivery,web,2026-10-30T10:00:00Z,5,11,7,nps too high",
        'R3,C3,O3,delivery,web,2026-10-30T10:00:00Z,4,8,6,"said ""fine"", ok"',
    )
    (result,) = ingest_source(settings, "surveys", DAY)
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    lake = _lake(settings, "surveys", "responses")
    assert [(r["_source_row"], r["comment"]) for r in lake] == [
        (2, "late, but\nthe driver was\nkind"),
        (6, 'said "fine", ok'),
    ]
    (bad,) = _quarantine(settings)
    assert (bad["source_row"], bad["reason"]) == (5, "nps: above 10")


def test_row_with_wrong_field_count_is_quarantined_with_its_exact_text(settings: Settings) -> None:
    ragged = "R2,C2,O2,delivery,web,2026-10-30T10:00:00Z,5,10,7,fast, cheap, friendly"
    _responses(settings, GOOD, ragged)
    (result,) = ingest_source(settings, "surveys", DAY)
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    (bad,) = _quarantine(settings)
    assert bad["source_row"] == 3
    assert bad["raw"] == ragged + "\n"
    assert str(bad["reason"]).startswith("line 3: expected 10 fields as in the header, found 12")


def test_unclosed_quote_sets_the_rest_aside_without_losing_it(settings: Settings) -> None:
    _responses(
        settings, GOOD, 'R2,C2,O2,delivery,web,2026-10-30T10:00:00Z,5,10,7,"never closed', GOOD.replace("R1", "R3")
    )
    (result,) = ingest_source(settings, "surveys", DAY)
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (2, 1, 1)
    (bad,) = _quarantine(settings)
    assert bad["source_row"] == 3 and "R3," in str(bad["raw"])
    assert str(bad["reason"]).startswith("line 3: a quote opened here does not close before line 4")


def test_duplicate_header_name_fails_naming_the_column(settings: Settings) -> None:
    _responses(settings, GOOD + ",x", header=HEADER + ",comment")
    with pytest.raises(ContractError, match=r"line 1 \(header\), column 11: column 'comment' twice"):
        ingest_source(settings, "surveys", DAY)


def test_negative_price_is_quarantined_with_reason(settings: Settings) -> None:
    path = landing_file(settings, ORDER_LINES, DAY)
    rows = ["L1,O1,P1,sofas,1,1,true,100,100,0", "L2,O1,P2,beds,2,2,true,50,-50,0"]
    _write(settings, path, ",".join(ORDER_LINES.column_names) + "\n" + "\n".join(rows) + "\n")
    result = ingest_entity(settings, ORDER_LINES, DAY, "fail")
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    (bad,) = _quarantine(settings, "order_lines", "sales")
    assert (bad["source_row"], bad["reason"]) == (3, "unit_price: below 0")


def test_drift_columns_are_recorded_in_the_load_audit(settings: Settings) -> None:
    _responses(settings, GOOD + ",store-42,x", header=HEADER + ",kiosk_id,zz_note")
    ingest_source(settings, "surveys", DAY)
    (audit,) = pq.read_table(settings.lake_dir / "_load_audit" / "surveys" / f"load_date={DAY}").to_pylist()
    assert audit["drift_columns"] == "kiosk_id,zz_note"
    assert audit["rows_in"] == audit["rows_loaded"] == 1


# --------------------------------------------------------------------------- duplicates, late rows, empty files


def test_duplicate_keys_across_files_of_a_day_keep_the_later_file(settings: Settings) -> None:
    _responses(settings, GOOD, GOOD.replace("R1", "R2"))
    extra = landing_file(settings, RESPONSES, DAY).with_name("responses.part2.csv")
    _write(settings, extra, HEADER + "\n" + GOOD.replace("great", "second file") + "\n")
    (result,) = ingest_source(settings, "surveys", DAY)
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined, result.rows_duplicate) == (3, 2, 1, 1)
    lake = {r["response_id"]: r for r in _lake(settings, "surveys", "responses")}
    assert lake["R1"]["comment"] == "second file" and lake["R1"]["_source_file"] == "responses.part2.csv"
    (bad,) = _quarantine(settings)
    assert bad["reason"] == "response_id: duplicate key; superseded by responses.part2.csv line 2"
    assert str(bad["source_file"]).endswith("responses.csv")


def test_an_invalid_later_row_does_not_evict_a_valid_earlier_one(settings: Settings) -> None:
    _responses(settings, GOOD, GOOD.replace(",5,10,7,", ",5,99,7,"))
    (result,) = ingest_source(settings, "surveys", DAY)
    assert (result.rows_loaded, result.rows_quarantined, result.rows_duplicate) == (1, 1, 0)
    assert _lake(settings, "surveys", "responses")[0]["nps"] == 10


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


# --------------------------------------------------------------------------- atomicity and idempotency


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


# --------------------------------------------------------------------------- PII


def test_mask_contact_details_masks_emails_and_phones_but_not_dates_or_ids() -> None:
    import pandas as pd

    text = pd.Series(
        ["mail me at anna.berg+x@example.co.uk or call +46 70-123 45 67", "order O2026110100012 on 2026-11-01", None]
    )
    masked = mask_contact_details(text)
    assert masked[0] == "mail me at <email> or call <phone>"
    assert masked[1] == "order O2026110100012 on 2026-11-01"
    assert pd.isna(masked[2])


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
    assert "T-PII" in lake_text and "<email>" in lake_text and "<phone>" in lake_text
    leaked = sorted(value for value in pii if value in lake_text)
    assert leaked == [], f"raw PII in the lake: {leaked[:5]}"


def test_wait_policy_fails_once_the_ingest_task_runs(settings: Settings) -> None:
    with pytest.raises(ContractError, match="CX_MISSING_FILE_POLICY_SURVEYS=skip"):
        ingest_source(settings, "surveys", DAY, policy="wait")


def test_json_lines_that_are_not_objects_or_have_bad_values_are_quarantined(settings: Settings) -> None:
    good = {"post_id": "P1", "platform": "vk", "kind": "review", "posted_at": "2026-10-30T10:00:00Z", "text": "ок"}
    lines = [
        json.dumps(good, ensure_ascii=False),
        "[1, 2]",
        json.dumps({**good, "post_id": "P2", "rating": "five"}),
        json.dumps({**good, "post_id": "P3", "platform": "myspace", "tags": ["a", "b"]}),
    ]
    _write(settings, landing_file(settings, POSTS, DAY), "\r\n".join(lines) + "\r\n")
    (result,) = ingest_source(settings, "social", DAY)
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (4, 1, 3)
    assert result.drift_columns == ["tags"]
    reasons = {row["source_row"]: row["reason"] for row in _quarantine(settings, "posts", "social")}
    assert reasons[2] == "line 2: malformed JSON (expected a JSON object, found list)"
    assert reasons[3] == "rating: cannot read 'five' as integer"
    assert reasons[4] == "platform: 'myspace' not in twitter, facebook, instagram, trustpilot, weibo, vk"
    assert _lake(settings, "social", "posts")[0]["text"] == "ок"


def test_parsing_in_chunks_gives_the_same_rows_as_in_one_piece(monkeypatch: pytest.MonkeyPatch) -> None:
    from cxpipe import ingest

    rows = [GOOD.replace("R1", f"R{n}") for n in range(1, 8)]
    rows[2] = rows[2].replace("great", '"multi\nline, quoted"')
    rows[4] = rows[4] + ",extra"
    rows.insert(6, 'R99,C1,O1,delivery,web,2026-10-30T10:00:00Z,5,10,7,"opens here')
    text = "\n".join([HEADER, *rows]) + "\n"
    whole = ingest.parse_csv(text, "x.csv")
    monkeypatch.setattr(ingest, "_CHUNK_ROWS", 2)
    chunked = ingest.parse_csv(text, "x.csv")
    assert chunked.fillna("").to_dict("records") == whole.fillna("").to_dict("records")
    assert list(whole["_source_row"]) == [2, 3, 4, 6, 7, 8, 9]
    assert whole.loc[whole["_source_row"] == 9, "_raw"].item().startswith("R99,")
