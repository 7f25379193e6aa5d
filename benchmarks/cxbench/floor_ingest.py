"""Baseline 1, the ingest floor: DuckDB reads one landing date's files into Parquet, no checks.

``python -m cxbench.floor_ingest <landing dir> <date> <out dir> <result.json>``

One Parquet file per entity (``<out>/<source>/<entity>.parquet``) from the same files cxpipe's
ingest reads: ``read_csv`` / ``read_json`` with DuckDB's own type detection, the main file and
its extra parts (``orders.pos-cn.csv``) together. No contract, no validation, no
deduplication, no pseudonymisation, no quarantine, no audit.

The point-of-sale parts are in GBK and CP1251, which DuckDB's CSV reader cannot decode without
its ``encodings`` extension (not installed here, and this machine is offline): they are
transcoded to UTF-8 in Python first, inside the timed run. The floor is *told* their
encodings (:data:`cxpipe.demo.generator.POS_EXPORTS`); cxpipe detects them.

When DuckDB's detected types do not hold for a whole file (a junk date after the sampled
rows), that entity is read again with every column as text; the result names those entities
(``all_varchar``), and the failed first attempt stays in the timing.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import duckdb

POS_ENCODINGS = {"pos-cn": "gbk", "pos-ru": "cp1251"}


def _utf8(path: Path, scratch: Path) -> Path:
    """``path`` itself when it is UTF-8, else a UTF-8 copy in ``scratch``."""
    part = path.name.split(".")[1] if path.name.count(".") >= 2 else ""
    encoding = POS_ENCODINGS.get(part)
    if encoding is None:
        return path
    copy = scratch / path.name
    copy.write_text(path.read_bytes().decode(encoding), encoding="utf-8")
    return copy


def _reader(files: list[Path], all_varchar: bool) -> str:
    names = "[" + ", ".join(f"'{f}'" for f in files) + "]"
    if files[0].suffix == ".jsonl":
        return f"select * from read_ndjson({names}, union_by_name = true)"
    extra = ", all_varchar = true" if all_varchar else ""
    return f"select * from read_csv({names}, union_by_name = true{extra})"


def _jsonl_all_varchar(con: duckdb.DuckDBPyConnection, files: list[Path]) -> str:
    """A read of JSON lines with every top-level key as a text column."""
    names = "[" + ", ".join(f"'{f}'" for f in files) + "]"
    keys = [
        row[0]
        for row in con.execute(
            f"select distinct unnest(json_keys(json)) from read_ndjson_objects({names}) order by 1"
        ).fetchall()
    ]
    columns = "{" + ", ".join(f"'{k}': 'VARCHAR'" for k in keys) + "}"
    return f"select * from read_ndjson({names}, union_by_name = true, columns = {columns})"


def floor_ingest(landing: Path, day: str, out: Path) -> dict[str, object]:
    entities: dict[tuple[str, str], list[Path]] = defaultdict(list)
    for path in sorted(landing.glob(f"*/{day}/*.*")):
        source = path.parent.parent.name
        entities[(source, path.name.split(".")[0])].append(path)
    rows: dict[str, int] = {}
    all_varchar: list[str] = []
    con = duckdb.connect()
    with tempfile.TemporaryDirectory(prefix="cxbench-floor-") as tmp:
        scratch = Path(tmp)
        for (source, entity), files in sorted(entities.items()):
            # the main file first, then its parts, as cxpipe reads them
            files = sorted(files, key=lambda p: (p.name.count("."), p.name))
            readable = [_utf8(f, scratch) for f in files]
            target = out / source / f"{entity}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                query = _reader(readable, all_varchar=False)
                con.execute(f"copy ({query}) to '{target}' (format parquet)")
            except duckdb.Error:
                all_varchar.append(f"{source}.{entity}")
                if readable[0].suffix == ".jsonl":
                    query = _jsonl_all_varchar(con, readable)
                else:
                    query = _reader(readable, all_varchar=True)
                con.execute(f"copy ({query}) to '{target}' (format parquet)")
            count = con.execute(f"select count(*) from read_parquet('{target}')").fetchone()
            rows[f"{source}.{entity}"] = int(count[0]) if count else 0
    con.close()
    return {"rows": rows, "rows_total": sum(rows.values()), "all_varchar": all_varchar}


def main(argv: list[str]) -> int:
    landing, day, out, result = Path(argv[0]), argv[1], Path(argv[2]), Path(argv[3])
    result.write_text(json.dumps(floor_ingest(landing, day, out)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
