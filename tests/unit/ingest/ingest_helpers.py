"""Shared by the ingest tests: a landing date, valid survey and order rows, readers of the lake and quarantine."""

from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

from cxpipe.contracts import ORDERS, RESPONSES
from cxpipe.ingest import landing_file
from cxpipe.settings import Settings

DAY = date(2026, 11, 1)
HEADER = ",".join(RESPONSES.column_names)
ORDERS_HEADER = ",".join(ORDERS.column_names)


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


def _order(order_id: str, delimiter: str = ",", **values: str) -> str:
    """One orders.csv row: a valid order with ``values`` replaced, its fields separated by ``delimiter``."""
    row = {
        "order_id": order_id,
        "customer_id": "C1",
        "channel": "web",
        "store_id": "",
        "country": "SE",
        "city": "Malmo",
        "ordered_at": "2026-10-30T10:00:00Z",
        "promised_date": "",
        "delivered_at": "",
        "status": "placed",
        "order_total": "10",
        "currency": "SEK",
        **values,
    }
    return delimiter.join(row[c] for c in ORDERS.column_names)
