"""Active learning: the complaints the model is least sure about, for analysts to label.

``cxpipe complaints review --n 50`` reads the built warehouse's ``marts.complaints``,
takes the complaints the model classified with the lowest confidence (its probability of
the cause it chose; overridden complaints are left out) and writes them to a CSV in the
format of the seed ``complaint_overrides`` with ``root_cause`` empty and ``reason`` holding
the model's guess and the redacted text. Analysts fill in ``root_cause`` (and
``overridden_by``/``overridden_on``), then copy the filled rows into
``dbt_project/seeds/complaint_overrides.csv``; the next build retrains the model on them
(:func:`cxpipe.complaints.pipeline.override_rows`). :func:`override_effect` measures the
change they make to the held-out macro-F1.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd

OVERRIDE_COLUMNS = ("complaint_id", "root_cause", "secondary_cause", "reason", "overridden_by", "overridden_on")
#: Characters of the redacted text shown in ``reason``.
REASON_TEXT_CHARS = 300


def least_certain(complaints: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` model-classified complaints with the lowest confidence (ties: by complaint_id)."""
    if n < 1:
        raise ValueError(f"review: --n must be at least 1, got {n}")
    missing = {"complaint_id", "redacted_text", "root_cause", "confidence", "classified_by"} - set(complaints.columns)
    if missing:
        raise KeyError(f"review: the complaints have no column(s) {', '.join(sorted(missing))}")
    candidates = complaints[complaints["classified_by"] == "model"]
    return candidates.sort_values(["confidence", "complaint_id"], kind="stable").head(n)


def review_rows(selected: pd.DataFrame) -> list[dict[str, str]]:
    """Rows in the override seed's format, ``root_cause`` left for the analyst."""
    rows = []
    for record in selected.to_dict("records"):
        text = " ".join(str(record["redacted_text"] or "").split())[:REASON_TEXT_CHARS]
        guess = f"model guessed {record['root_cause']} ({float(record['confidence']):.2f})"
        rows.append(
            {
                "complaint_id": str(record["complaint_id"]),
                "root_cause": "",
                "secondary_cause": "",
                "reason": f"{guess}: {text}",
                "overridden_by": "",
                "overridden_on": "",
            }
        )
    return rows


def write_review(path: Path, rows: Iterable[Mapping[str, str]]) -> int:
    """Write ``rows`` as CSV with the override seed's header; returns how many."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(OVERRIDE_COLUMNS))
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in OVERRIDE_COLUMNS})
            count += 1
    return count


def override_effect(
    taxonomy: Sequence[Mapping[str, object]],
    override_training_rows: Sequence[Mapping[str, str]],
    corpora_dir: Path | None = None,
) -> dict[str, tuple[float, float]]:
    """Held-out macro-F1 per language without and with the analysts' override rows as training data."""
    from cxpipe.complaints.evaluate import held_out_figures

    before = held_out_figures(taxonomy, corpora_dir=corpora_dir).cause_macro_f1
    after = held_out_figures(taxonomy, corpora_dir=corpora_dir, extra_cause_rows=override_training_rows)
    return {language: (before[language], after.cause_macro_f1[language]) for language in before}
