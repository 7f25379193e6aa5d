"""Ingest in batches: a date read in pieces of a few hundred bytes gives the lake, quarantine and audit
that reading it in one batch gives (duplicates across batches and files, line numbers, drift, files read whole)."""

import dataclasses
import gzip
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import settings_for
from ingest_helpers import DAY, GOOD, HEADER, ORDERS_HEADER, _order, _quarantine, _responses, _write

from cxpipe.contracts import ORDERS, POSTS, RESPONSES, SOURCES
from cxpipe.demo import DemoSpec, generate
from cxpipe.ingest import ingest_source, landing_file
from cxpipe.ingest.landing import RESTART, Batch, read_batches
from cxpipe.settings import Settings

#: Large enough to read every test file in one batch.
ONE_BATCH = 1 << 30


def _tables(settings: Settings) -> dict[str, pa.Table]:
    """Every Parquet file of the lake and quarantine, landing paths without the data folder, no run time."""
    out = {}
    for top in (settings.lake_dir, settings.quarantine_dir):
        for path in sorted(top.rglob("*.parquet")):
            table = pq.read_table(path)
            if "ingested_at" in table.column_names:
                table = table.drop_columns(["ingested_at"])
            if "source_file" in table.column_names:
                field = table.schema.field("source_file")
                shown = [str(v).replace(str(settings.data_dir), "<data>") for v in table["source_file"].to_pylist()]
                table = table.set_column(table.column_names.index("source_file"), field, pa.array(shown, field.type))
            out[str(path.relative_to(settings.data_dir))] = table
    return out


def _twice(settings: Settings, tmp_path: Path, sources: tuple[str, ...], batch_bytes: int) -> tuple[dict, dict]:
    """Ingest the landing folder of ``settings`` in one batch, and a copy of it in batches of ``batch_bytes``."""
    small = settings_for(tmp_path / "small")
    shutil.copytree(settings.landing_dir, small.landing_dir)
    for source in sources:
        ingest_source(settings, source, DAY, policy="skip", batch_bytes=ONE_BATCH)
        ingest_source(small, source, DAY, policy="skip", batch_bytes=batch_bytes)
    return _tables(settings), _tables(small)


def _assert_same(one: dict[str, pa.Table], many: dict[str, pa.Table]) -> None:
    assert sorted(one) == sorted(many)
    for name, table in one.items():
        assert many[name].schema.equals(table.schema, check_metadata=False), name
        assert many[name].to_pylist() == table.to_pylist(), name


@pytest.mark.parametrize("batch_bytes", [1000, 8192])
def test_a_demo_day_in_small_batches_equals_one_batch(settings: Settings, tmp_path: Path, batch_bytes: int) -> None:
    generate(settings.landing_dir, DemoSpec(start=DAY, history_days=10, customers=40))
    one, many = _twice(settings, tmp_path, tuple(SOURCES), batch_bytes)
    _assert_same(one, many)
    quarantined = sum(t.num_rows for name, t in one.items() if name.startswith("quarantine"))
    assert quarantined > 0  # the demo's bad rows and duplicates are there to be compared


def test_a_duplicate_in_a_later_batch_supersedes_with_its_line(settings: Settings, tmp_path: Path) -> None:
    rows = [GOOD.replace("R1,", f"R{n},", 1) for n in range(1, 41)]
    rows[5] = rows[5].replace(",5,10,7,", ",x,10,7,")  # line 7: not a number
    rows.append(GOOD.replace("great", "superseding"))  # line 42: R1 again
    rows.append(rows[3])  # line 43: R4 again
    _responses(settings, *rows)
    one, many = _twice(settings, tmp_path, ("surveys",), 200)
    _assert_same(one, many)
    quarantined = {row["source_row"]: row["reason"] for row in _quarantine(settings)}
    assert sorted(quarantined) == [2, 5, 7]
    assert quarantined[2] == "response_id: duplicate key; superseded by responses.csv line 42"
    assert quarantined[5] == "response_id: duplicate key; superseded by responses.csv line 43"
    assert "line" not in quarantined[7] and "cannot read" in quarantined[7]


def test_duplicates_across_files_and_quoted_records_in_batches(settings: Settings, tmp_path: Path) -> None:
    main = landing_file(settings, ORDERS, DAY)
    rows = [_order(f"O{n}", city=f'"Malmo, {n}"' if n % 3 else "Lund") for n in range(1, 30)]
    rows.insert(10, _order("O50", city='"two\nlines"'))
    _write(settings, main, "\n".join([ORDERS_HEADER, *rows]) + "\n")
    _write(settings, main.with_name("orders.pos-se.csv"), "\n".join([ORDERS_HEADER, _order("O2"), _order("O7")]) + "\n")
    one, many = _twice(settings, tmp_path, ("sales",), 250)
    _assert_same(one, many)
    reasons = [r["reason"] for r in _quarantine(settings, "orders", "sales")]
    assert reasons == [
        "order_id: duplicate key; superseded by orders.pos-se.csv line 2",
        "order_id: duplicate key; superseded by orders.pos-se.csv line 3",
        "line 12, city: control character U+000A (not allowed in this column)",  # the record of lines 12-13
    ]


def test_a_file_that_must_be_read_whole_gives_the_same_result(settings: Settings, tmp_path: Path) -> None:
    rows = [GOOD.replace("R1,", f"R{n},", 1) for n in range(1, 40)]
    rows[30] = rows[30].replace("great", '"never closed')  # a quote that never closes, far down the file
    rows.append(GOOD.replace("great", "again"))
    path = _responses(settings, *rows)
    given = list(read_batches(RESPONSES, [path], None, size=300))
    assert RESTART in given  # pieces were given before the bad quote showed the file must be read whole
    after = given[given.index(RESTART) + 1 :]
    assert all(isinstance(b, Batch) for b in after)
    assert [int(r) for b in after for r in b.frame["_source_row"]] == list(range(2, 42))
    one, many = _twice(settings, tmp_path, ("surveys",), 300)
    _assert_same(one, many)
    quarantined = _quarantine(settings)
    assert [row["source_row"] for row in quarantined] == [2, 32]  # R1 superseded by line 41; the broken quote


def test_jsonl_keys_that_appear_in_a_later_batch_shape_the_quarantine_as_in_one_batch(
    settings: Settings, tmp_path: Path
) -> None:
    def post(n: int, **extra: object) -> str:
        record = {
            "post_id": f"P{n}",
            "platform": "twitter",
            "kind": "post",
            "posted_at": "2026-10-30T10:00:00Z",
            "text": f"post {n}",
            **extra,
        }
        return json.dumps(record)

    lines = [post(n) for n in range(1, 30)]
    lines[2] = post(3, kind="story")  # not an allowed kind: quarantined before any batch has the late keys
    lines.append(post(40, mood="happy", handle="@someone"))  # a drift key and an optional one, last batch only
    lines.append("{not json")
    lines.append(post(3, text="edited"))  # supersedes line 3's key? line 3 is quarantined already
    lines.append(post(5, text="edited"))  # supersedes line 5
    path = landing_file(settings, POSTS, DAY)
    _write(settings, path, "\n".join(lines) + "\n")
    one, many = _twice(settings, tmp_path, ("social",), 256)
    _assert_same(one, many)
    quarantined = _quarantine(settings, "posts", "social")
    assert [row["source_row"] for row in quarantined] == [3, 5, 31]
    raw = json.loads(str(quarantined[1]["raw"]))
    assert list(raw) == ["post_id", "platform", "kind", "posted_at", "text", "mood", "handle", "customer_id", "rating"]
    assert raw["mood"] == "" and raw["handle"] == ""
    assert quarantined[2]["raw"] == "{not json"


def test_batches_of_a_file_continue_its_line_numbers(settings: Settings) -> None:
    rows = [GOOD.replace("R1,", f"R{n},", 1) for n in range(1, 60)]
    rows.insert(20, "")  # a blank line (line 22)
    path = _responses(settings, *rows)
    given = list(read_batches(RESPONSES, [path], None, size=200))
    assert RESTART not in given and len(given) > 5
    batches = [b for b in given if isinstance(b, Batch)]
    numbers = [int(r) for b in batches for r in b.frame["_source_row"]]
    assert numbers == [n for n in range(2, 62) if n != 22]
    assert sum(b.lines for b in batches) == 60 and sum(b.blank for b in batches) == 1
    assert {tuple(c for c in b.frame.columns if not c.startswith("_")) for b in batches} == {tuple(HEADER.split(","))}


@pytest.mark.parametrize("batch_bytes", [120, 400])
def test_superseded_rows_of_a_written_out_batch_keep_their_own_text_beside_bad_rows(
    settings: Settings, tmp_path: Path, batch_bytes: int
) -> None:
    """A batch's text goes to the scratch folder whole once another batch follows; the rows read back for
    the quarantine are the superseded ones, found among the batch's bad rows by their place in it."""
    first = []
    for n in range(1, 21):
        row = GOOD.replace("R1,", f"R{n},", 1).replace("great", f"first {n}")
        first.append(row.replace(",5,10,7,", ",x,10,7,") if n % 3 == 0 else row)  # every third: not a number
    again = [GOOD.replace("R1,", f"R{n},", 1).replace("great", f"again {n}") for n in range(1, 21) if n % 3]
    _responses(settings, *first, *again)
    one, many = _twice(settings, tmp_path, ("surveys",), batch_bytes)
    _assert_same(one, many)
    rows = _quarantine(settings)
    superseded = [r for r in rows if "duplicate key" in str(r["reason"])]
    assert len(superseded) == len(again)
    for row in superseded:
        n = int(row["source_row"]) - 1  # line 2 holds R1
        assert json.loads(str(row["raw"]))["comment"] == f"first {n}"
        assert json.loads(str(row["raw"]))["response_id"] == f"R{n}"
    assert sorted(int(r["source_row"]) - 1 for r in rows if "cannot read" in str(r["reason"])) == [3, 6, 9, 12, 15, 18]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_a_header_in_other_case_and_a_utf16_file_read_in_batches_equal_one_batch(
    settings: Settings, tmp_path: Path, encoding: str
) -> None:
    header = ",".join(c.upper().replace("_", " ") for c in RESPONSES.column_names)
    rows = [GOOD.replace("R1,", f"R{n},", 1).replace("great", f"Łódź {n}") for n in range(1, 40)]
    rows[20] = rows[20].replace(",5,10,7,", ",x,10,7,")  # line 22: not a number
    path = landing_file(settings, RESPONSES, DAY)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode(encoding))
    one, many = _twice(settings, tmp_path, ("surveys",), 300)
    _assert_same(one, many)
    lake = next(t for name, t in one.items() if name.startswith("lake/surveys/responses"))
    assert lake.num_rows == 38 and "Łódź 1" in lake["comment"].to_pylist()
    assert [row["source_row"] for row in _quarantine(settings)] == [22]


def test_a_semicolon_file_with_decimal_commas_read_in_batches_equals_one_batch(
    settings: Settings, tmp_path: Path
) -> None:
    overrides = tmp_path / "overrides.yml"
    overrides.write_text("sources:\n  sales:\n    delimiter: ';'\n    decimal_mark: ','\n", encoding="utf-8")
    settings = dataclasses.replace(settings, ingest=dataclasses.replace(settings.ingest, contract_overrides=overrides))
    rows = [_order(f"O{n}", ";", order_total=f"{n},{n % 10}5") for n in range(1, 40)]
    rows[10] = _order("O11", ";", city='"Malmo; centrum"')  # line 12: read by Arrow with quotes
    rows[20] = _order("O21", ";", order_total="1.000,5")  # line 22: a point in a number
    path = landing_file(settings, ORDERS, DAY)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([ORDERS_HEADER.replace(",", ";"), *rows]) + "\n", encoding="utf-8")
    small = dataclasses.replace(settings_for(tmp_path / "small"), ingest=settings.ingest)
    shutil.copytree(settings.landing_dir, small.landing_dir)
    ingest_source(settings, "sales", DAY, policy="skip", batch_bytes=ONE_BATCH)
    ingest_source(small, "sales", DAY, policy="skip", batch_bytes=300)
    one, many = _tables(settings), _tables(small)
    _assert_same(one, many)
    lake = next(t for name, t in one.items() if name.startswith("lake/sales/orders"))
    assert lake.num_rows == 38
    assert lake["order_total"].to_pylist()[:3] == [1.15, 2.25, 3.35]
    assert "Malmo; centrum" in lake["city"].to_pylist()
    assert [row["source_row"] for row in _quarantine(settings, "orders", "sales")] == [22]


def test_a_gzip_compressed_file_read_in_batches_equals_one_batch(settings: Settings, tmp_path: Path) -> None:
    rows = [_order(f"O{n}", city=f"Łódź {n}") for n in range(1, 40)]
    rows[20] = _order("O21", order_total="x")  # line 22: not a number
    path = landing_file(settings, ORDERS, DAY)
    path.parent.mkdir(parents=True, exist_ok=True)
    packed = path.with_name(path.name + ".gz")
    packed.write_bytes(gzip.compress(("\n".join([ORDERS_HEADER, *rows]) + "\n").encode("utf-8")))
    one, many = _twice(settings, tmp_path, ("sales",), 300)
    _assert_same(one, many)
    lake = next(t for name, t in one.items() if name.startswith("lake/sales/orders"))
    assert lake.num_rows == 38 and "Łódź 1" in lake["city"].to_pylist()
    assert [row["source_row"] for row in _quarantine(settings, "orders", "sales")] == [22]
