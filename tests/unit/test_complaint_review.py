"""Active learning: the least certain complaints as override rows to fill in."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from cxpipe.complaints.review import OVERRIDE_COLUMNS, least_certain, review_rows, write_review
from cxpipe.settings import REPO_ROOT


def _complaints() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "complaint_id": ["ticket:1", "ticket:2", "ticket:3", "social:4"],
            "redacted_text": ["late again", "broken\nleg", "call [PHONE]", "meh"],
            "root_cause": ["late_delivery", "damaged", "communication", "other"],
            "confidence": [0.9, 0.2, 0.4, 0.1],
            "classified_by": ["model", "model", "model", "override"],
        }
    )


def test_least_certain_takes_the_lowest_model_confidences_and_skips_overrides() -> None:
    picked = least_certain(_complaints(), 2)
    assert list(picked["complaint_id"]) == ["ticket:2", "ticket:3"]
    with pytest.raises(ValueError, match="at least 1"):
        least_certain(_complaints(), 0)
    with pytest.raises(KeyError, match="confidence"):
        least_certain(_complaints().drop(columns="confidence"), 1)


def test_review_file_has_the_override_seeds_header_and_empty_causes(tmp_path: Path) -> None:
    rows = review_rows(least_certain(_complaints(), 3))
    assert write_review(tmp_path / "review.csv", rows) == 3
    with (tmp_path / "review.csv").open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        written = list(reader)
    seed = (REPO_ROOT / "dbt_project" / "seeds" / "complaint_overrides.csv").read_text(encoding="utf-8")
    assert tuple(reader.fieldnames or ()) == OVERRIDE_COLUMNS == tuple(seed.splitlines()[0].split(","))
    assert [r["root_cause"] for r in written] == ["", "", ""]
    assert written[0]["reason"] == "model guessed damaged (0.20): broken leg"
