"""A run over PII-seeded input: no seeded name, address or contact detail is anywhere but in landing.

Demo landing files for one date get free texts (tickets, survey comments, social posts) that
hold names (after a title, an introduction, or a given name with surname), street addresses
in several languages, plain and disguised e-mail addresses and phone numbers. Then ingest, the
dbt build, the gate and the publication run, and every place a run writes is scanned: every
cell of the published reporting file and of the build warehouse, every lake and quarantine
file, the load audit, the alert log, the operations log, and everything logged meanwhile.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import run_dbt, settings_for

from cxpipe.contracts import SOURCES
from cxpipe.demo import DemoSpec, generate
from cxpipe.gate import check_gate
from cxpipe.ingest import ingest_source
from cxpipe.publish import publish
from cxpipe.warehouse import ops_db

DAY = pd.Timestamp("2026-11-01").date()

#: Seeded texts and the personal data in each (checked for absence everywhere the run writes).
SEEDED = [
    ("my name is Zyanya Otieno, the sofa never came. Call 0 7 0 1 2 3 4 5 6 7", ["Zyanya Otieno", "0 7 0 1"]),
    ("Mr Okonkwo at the store refused my return, write to zyanya(at)gmail(dot)com", ["Okonkwo", "zyanya(at)"]),
    ("delivered to 221B Baker Street, apt 4 instead of my flat!", ["Baker Street"]),
    ("Меня зовут Айгерим Нурланова, доставка на ул. Ленина, д. 5, кв. 12 не пришла", ["Нурланова", "Ленина"]),
    ("Lieferung an Hauptstraße 5 kam nie an, Frau Müller-Lüdenscheidt wartet", ["Hauptstraße", "Lüdenscheidt"]),
    ("我叫张伟，送到南京西路1266号的包裹丢了，电话13812345678", ["张伟", "南京西路", "13812345678"]),
    (
        "Anna Svensson here: billed twice, mail anna.svensson@example.se or +46 70 123 45 67",
        ["Anna Svensson", "anna.svensson@", "70 123 45 67"],
    ),
    ("Entrega na Rua das Flores, 123 atrasou. Meu nome é João Silva", ["Rua das Flores", "João Silva"]),
]
SECRETS = sorted({secret for _, secrets in SEEDED for secret in secrets})


def _seed(landing: Path) -> None:
    """Put the seeded texts into the first rows of the day's tickets, survey comments and posts."""
    texts = [text for text, _ in SEEDED]
    for path, column in (
        (landing / "crm" / "2026-11-01" / "tickets.jsonl", "text"),
        (landing / "social" / "2026-11-01" / "posts.jsonl", "text"),
    ):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        for row, text in zip(rows, texts, strict=False):
            row[column] = text
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    responses = landing / "surveys" / "2026-11-01" / "responses.csv"
    frame = pd.read_csv(responses, dtype=str, keep_default_na=False)
    frame.loc[: len(texts) - 1, "comment"] = texts[: len(frame)]
    frame.loc[: len(texts) - 1, "csat"] = "1"  # low scores with a comment are complaints
    frame.to_csv(responses, index=False)


def _cells(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> list[str]:
    """Every cell of every table of ``schemas``, as text."""
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables where table_schema in "
        f"({', '.join('?' for _ in schemas)})",
        list(schemas),
    ).fetchall()
    cells: list[str] = []
    for schema, table in tables:
        for row in con.execute(f'select * from "{schema}"."{table}"').fetchall():
            cells += [str(value) for value in row if value is not None]
    return cells


def _files(folder: Path) -> list[str]:
    """The text of every file under ``folder``; Parquet files cell by cell."""
    texts: list[str] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            with duckdb.connect() as con:
                texts += [str(v) for row in con.execute(f"select * from '{path}'").fetchall() for v in row]
        elif path.suffix not in (".duckdb", ".wal"):
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
    return texts


@pytest.mark.slow
def test_no_seeded_personal_data_leaves_landing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(tmp_path)
    generate(settings.landing_dir, DemoSpec(start=DAY, history_days=30, customers=60))
    _seed(settings.landing_dir)
    caplog.set_level(logging.DEBUG)
    for source in SOURCES:
        ingest_source(settings, source, DAY)
    build = run_dbt(settings, "build")
    assert build.returncode == 0, build.stdout[-3000:]
    # no DAG run: the gate reads the results of the dbt build above (its target folder)
    result = check_gate(settings, settings.warehouse_dir / "gate" / "last_gate.json")
    publish(settings, gate_status="passed" if result.passed else "failed", run_id="pii")

    with duckdb.connect(str(settings.reporting_db), read_only=True) as con:
        published = _cells(con, ("main",))
        complaints = con.execute("select redacted_text from complaints").fetchall()
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        built = _cells(con, ("main", "marts", "staging", "intermediate", "main_staging", "main_intermediate"))
    with duckdb.connect(str(ops_db(settings.warehouse_dir)), read_only=True) as con:
        operations = _cells(con, ("main",))
    places = {
        "published reporting tables": published,
        "build warehouse": built,
        "operations log": operations,
        "lake and load audit": _files(settings.lake_dir),
        "quarantine": _files(settings.quarantine_dir) if settings.quarantine_dir.exists() else [],
        "alert log": _files(settings.data_dir / "alerts") if (settings.data_dir / "alerts").exists() else [],
        "logs": [caplog.text, build.stdout, build.stderr, *capfd.readouterr()],
    }
    # the seeded texts did reach the complaints table, redacted
    redacted = [text for (text,) in complaints if text and "[NAME]" in text]
    assert len(redacted) >= 3, complaints[:10]
    assert any("[ADDRESS]" in text for (text,) in complaints if text)
    leaks = {
        place: sorted({secret for secret in SECRETS for text in texts if secret in text})
        for place, texts in places.items()
    }
    assert leaks == {place: [] for place in places}
