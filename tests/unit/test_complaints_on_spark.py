"""The complaint analysis as Spark's Python workers run it: batch by batch, the same rows as in one piece."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
from conftest import write_small_corpus

from cxpipe.complaints import analyse_texts, load_taxonomy
from cxpipe.complaints.incremental import KEY_COLUMNS, analysis_key, training_inputs_key
from cxpipe.complaints.on_spark import RESULT_SCHEMA, analyse_batches
from cxpipe.complaints.pipeline import NUMERIC_COLUMNS, OUTPUT_COLUMNS, complaint_models
from cxpipe.settings import REPO_ROOT

TAXONOMY = load_taxonomy(REPO_ROOT / "dbt_project" / "seeds" / "complaint_taxonomy.csv")

ROWS = [
    ("ticket:1", "The sofa arrived three weeks late and nobody called me."),
    ("survey:3", "Стол привезли с царапинами, очень недоволен"),
    ("social:4", "快递太慢了，说好的送货时间又延迟了"),
    ("ticket:5", None),
    ("ticket:6", "Call me at +44 20 7946 0958, the refund never came."),
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small training corpus (the first 80 train rows per language), so the models fit in seconds."""
    return write_small_corpus(tmp_path_factory.mktemp("corpus"))


def _hashed(rows: list[tuple[str, str | None]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["complaint_id", "complaint_text"])
    frame["text_hash"] = [
        hashlib.sha256((t if isinstance(t, str) else "").encode()).hexdigest() for t in frame["complaint_text"]
    ]
    return frame


def test_batches_give_the_rows_one_piece_gives_with_hash_and_key(corpus: Path, tmp_path: Path) -> None:
    models = complaint_models(TAXONOMY, corpus_dir=corpus, corpora_dir=None, cache_dir=tmp_path)
    key = analysis_key(training_inputs_key(TAXONOMY, corpus_dir=corpus, corpora_dir=None))
    frame = _hashed(ROWS)
    batches = [frame.iloc[:2], frame.iloc[2:2], frame.iloc[2:]]  # an empty batch too, as Spark may send

    out = pd.concat(list(analyse_batches(batches, TAXONOMY, models, key)), ignore_index=True)

    assert list(out.columns) == [*OUTPUT_COLUMNS, *KEY_COLUMNS]
    assert list(out["complaint_id"]) == [r[0] for r in ROWS]
    assert set(out["analysis_key"]) == {key}
    assert list(out["text_hash"]) == list(frame["text_hash"])
    whole = analyse_texts(frame[["complaint_id", "complaint_text"]], TAXONOMY, models=models)
    for column in OUTPUT_COLUMNS:
        if column in NUMERIC_COLUMNS:
            pd.testing.assert_series_equal(
                out[column].astype("float64"), whole[column].astype("float64"), check_names=False
            )
        else:
            assert (
                out[column].astype("string").fillna("<NA>").tolist()
                == whole[column].astype("string").fillna("<NA>").tolist()
            ), column
    assert "+44 20 7946 0958" not in " ".join(out["redacted_text"].dropna())


def test_the_spark_schema_names_every_column_with_its_type() -> None:
    fields = dict(part.split() for part in RESULT_SCHEMA.split(", "))
    assert list(fields) == [*OUTPUT_COLUMNS, *KEY_COLUMNS]
    assert {c for c, t in fields.items() if t == "double"} == set(NUMERIC_COLUMNS)
    assert {t for c, t in fields.items() if c not in NUMERIC_COLUMNS} == {"string"}
