"""Equality checks: the transform floor against dbt's warehouse, the pandas script against the marts.

Floor vs dbt, per relation (seeds, models, snapshot): the row count and an order-independent
hash of every row (``sum(hash(row))``), each computed in its own database file (the views of
each file read that file's tables): ``equal``. Where the hashes differ, both relations are
read, sorted by every column, and compared row by row: every column exactly, except
``DOUBLE`` columns, which may differ by :data:`FLOAT_RTOL` (relative), or by one unit of the last
decimal where both sides are rounded (a rounding tie): ``equal_within_tolerance``. A sum over
many doubles depends on the order DuckDB's threads add them in, which changes its last bits from
one run to the next, and, rarely, the side of a tie ``round()`` falls on. Otherwise ``different``.

pandas vs marts (:func:`compare_frames`): the same key set, integers, text, dates and
booleans exactly, floats within an absolute tolerance named per column.

Ingest vs ingest (:func:`compare_ingest_outputs`, ``python -m cxbench.compare ingest A B``): two
data folders that ingested the same landing files (old and new code) hold the same Parquet files
under ``lake/`` and ``quarantine/``, table for table, exactly; paths of landing files are compared
with each folder's own path taken out, and the audit's ``ingested_at`` (when it ran) is left out.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

#: Relative difference allowed between two doubles when two builds' row hashes differ.
FLOAT_RTOL = 1e-9
FLOAT_TYPES = {"DOUBLE", "FLOAT", "REAL"}


def _connect(database: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection (in memory without ``database``) that prints no progress bar."""
    con = duckdb.connect(str(database), read_only=True) if database else duckdb.connect()
    con.execute("set enable_progress_bar = false")
    return con


def _fingerprints(database: Path, relations: list[str]) -> dict[str, tuple[int, int]]:
    with _connect(database) as con:
        out = {}
        for relation in relations:
            row = con.execute(f"select count(*), coalesce(sum(hash(t)), 0) from {relation} as t").fetchone()
            assert row is not None
            out[relation] = (int(row[0]), int(row[1]))
    return out


def _read(database: Path, relation: str) -> tuple[pd.DataFrame, list[str]]:
    with _connect(database) as con:
        frame = con.execute(f"select * from {relation}").df()
        floats = [r[0] for r in con.execute(f"describe select * from {relation}").fetchall() if r[1] in FLOAT_TYPES]
    return frame, floats


def _rounding_unit(*columns: np.ndarray) -> float:
    """10^-d when every value of the columns is rounded to d decimals, 1 ≤ d ≤ 4 (the fewest such d);
    0 when they are not rounded (or are whole numbers, where no tie is allowed)."""
    values = np.concatenate(columns)
    values = values[~np.isnan(values)]
    if not len(values):
        return 0.0
    scale = 1e-9 * np.maximum(1.0, np.abs(values))
    for decimals in range(0, 5):
        if (np.abs(np.round(values, decimals) - values) <= scale).all():
            return 10.0**-decimals if decimals >= 1 else 0.0
    return 0.0


def _rows_apart(expected: pd.DataFrame, actual: pd.DataFrame, floats: list[str]) -> tuple[int, dict[str, int]]:
    """Rows that differ once both frames are sorted by every column, and the rounding ties per column.

    Doubles may differ by FLOAT_RTOL; in a column rounded to d decimals (every value on both sides
    a multiple of 10^-d, 1 ≤ d ≤ 4), a value may also differ by one unit of that decimal: a
    rounding tie, where the unrounded sums differed in their last bits."""
    others = [c for c in expected.columns if c not in floats]
    order = others + floats
    a = expected.sort_values(order, na_position="last", kind="stable").reset_index(drop=True)
    b = actual[list(expected.columns)].sort_values(order, na_position="last", kind="stable").reset_index(drop=True)
    apart = np.zeros(len(a), dtype=bool)
    ties: dict[str, int] = {}
    for column in expected.columns:
        x, y = a[column], b[column]
        if column in floats:
            xs, ys = x.to_numpy(float), y.to_numpy(float)
            same = np.isclose(xs, ys, rtol=FLOAT_RTOL, atol=FLOAT_RTOL, equal_nan=True)
            unit = _rounding_unit(xs, ys)
            tie = ~same & (unit > 0) & (np.abs(xs - ys) <= unit * (1 + 1e-9))
            if tie.any():
                ties[column] = int(tie.sum())
            same |= tie
        else:
            equal = (x == y).astype("boolean").fillna(False).to_numpy(dtype=bool, na_value=False)
            same = equal | (x.isna() & y.isna()).to_numpy(dtype=bool)
        apart |= ~same
    return int(apart.sum()), ties


def compare_databases(expected: Path, actual: Path, relations: list[str]) -> dict[str, Any]:
    """Each relation of ``actual`` (the floor) against the same relation of ``expected`` (dbt)."""
    want, got = _fingerprints(expected, relations), _fingerprints(actual, relations)
    tables: dict[str, dict[str, Any]] = {}
    for relation in relations:
        (rows_expected, hash_expected), (rows_actual, hash_actual) = want[relation], got[relation]
        entry: dict[str, Any] = {"rows_dbt": rows_expected, "rows_floor": rows_actual}
        if rows_expected == rows_actual and hash_expected == hash_actual:
            entry["status"] = "equal"
        elif rows_expected != rows_actual:
            entry["status"] = "different"
        else:
            a, floats = _read(expected, relation)
            b, _ = _read(actual, relation)
            if list(a.columns) != list(b.columns):
                entry.update(status="different", reason="columns differ")
            else:
                apart, ties = _rows_apart(a, b, floats)
                entry.update(rows_apart=apart, status="different" if apart else "equal_within_tolerance")
                if ties:
                    entry["rounding_ties"] = ties
        tables[relation] = entry
    return {
        "passed": all(t["status"] != "different" for t in tables.values()),
        "float_rtol_on_hash_mismatch": FLOAT_RTOL,
        "relations": tables,
    }


def _comparable(values: pd.Series) -> pd.Series:
    """Values of one column in a form two frames can be compared exactly in (numbers as floats)."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype(bool)
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    return values.astype(str)


def compare_frames(
    expected: pd.DataFrame,
    actual: pd.DataFrame,
    keys: list[str],
    tolerances: dict[str, float],
    boundaries: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``actual`` (pandas) against ``expected`` (a mart): same keys; float columns within ``tolerances``
    (absolute), every other column exactly; nulls must match. ``boundaries`` maps a column to a
    boolean column of ``actual`` marking rows where the exact value sits on a threshold and float
    rounding decides it: a difference there is counted (``differs_at_boundary``), not failed."""
    boundaries = boundaries or {}
    report: dict[str, Any] = {"rows_mart": len(expected), "rows_pandas": len(actual), "columns": {}}
    missing = sorted(set(expected.columns) - set(actual.columns))
    if missing:
        report.update(passed=False, reason=f"pandas lacks columns {missing}")
        return report
    left = expected.set_index(keys).sort_index()
    right = actual.set_index(keys)[list(left.columns)].sort_index()
    if left.index.duplicated().any() or right.index.duplicated().any() or not left.index.equals(right.index):
        only_mart = left.index.difference(right.index)
        only_pandas = right.index.difference(left.index)
        report.update(
            passed=False,
            reason="key sets differ",
            keys_only_in_mart=[list(map(str, k)) for k in only_mart[:5]],
            keys_only_in_pandas=[list(map(str, k)) for k in only_pandas[:5]],
            n_only_in_mart=len(only_mart),
            n_only_in_pandas=len(only_pandas),
        )
        return report
    passed = True
    for column in left.columns:
        a, b = left[column], right[column]
        null_mismatch = int((a.isna() != b.isna()).sum())
        both = a.notna() & b.notna()
        if column in tolerances:
            diff = (a[both].astype(float) - b[both].astype(float)).abs()
            worst = float(diff.max()) if len(diff) else 0.0
            bad = int((diff > tolerances[column] + 1e-9).sum())
            differing = int((diff > 0).sum())
            entry = {
                "tolerance": tolerances[column],
                "max_abs_diff": 0.0 if math.isnan(worst) else worst,
                "cells_differing": differing,
                "cells_outside_tolerance": bad,
                "null_mismatches": null_mismatch,
            }
        else:
            differs = _comparable(a[both]) != _comparable(b[both])
            entry = {"exact": True, "cells_differing": int(differs.sum()), "null_mismatches": null_mismatch}
            if column in boundaries:
                at_boundary = actual.set_index(keys)[boundaries[column]].reindex(differs.index).fillna(False)
                entry["differs_at_boundary"] = int((differs & at_boundary.astype(bool)).sum())
                entry["rows_at_boundary"] = int(actual[boundaries[column]].sum())
                differs = differs & ~at_boundary.astype(bool)
            bad = int(differs.sum())
        entry["passed"] = bad == 0 and null_mismatch == 0
        passed = passed and entry["passed"]
        report["columns"][column] = entry
    report["passed"] = passed
    return report


#: Columns of the lake, quarantine and audit tables that name a landing file by its path.
_PATH_COLUMNS = ("source_file",)


def _ingest_table(folder: Path, relative: Path) -> pa.Table:
    table = pq.read_table(folder / relative)
    for name in _PATH_COLUMNS:
        if name in table.column_names:
            where = table.schema.get_field_index(name)
            table = table.set_column(where, name, pc.replace_substring(table[name], str(folder), "<data>"))
    if "ingested_at" in table.column_names:
        table = table.drop_columns(["ingested_at"])
    return table


def compare_ingest_outputs(expected: Path, actual: Path) -> dict[str, Any]:
    """Every Parquet file under ``lake/`` and ``quarantine/`` of two data folders, table for table:
    ``{"files": n, "different": [paths], "passed": bool}`` (a file only one side has is different)."""

    def files(folder: Path) -> set[Path]:
        return {p.relative_to(folder) for top in ("lake", "quarantine") for p in (folder / top).rglob("*.parquet")}

    left, right = files(expected), files(actual)
    different = sorted(str(p) for p in left ^ right)
    for relative in sorted(left & right):
        a, b = _ingest_table(expected, relative), _ingest_table(actual, relative)
        if not (a.schema.equals(b.schema, check_metadata=False) and a.equals(b)):
            different.append(str(relative))
    return {"files": len(left | right), "different": different, "passed": not different}


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "ingest":
        print("usage: python -m cxbench.compare ingest <data folder A> <data folder B>", file=sys.stderr)
        return 2
    result = compare_ingest_outputs(Path(argv[1]), Path(argv[2]))
    print(f"{result['files']} files compared, {len(result['different'])} different")
    for relative in result["different"]:
        print(f"  different: {relative}")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
