"""The analysis' column names and model version, importable without the analysis' libraries."""

from __future__ import annotations

import json
import subprocess
import sys

from cxpipe.complaints import pipeline, schema
from cxpipe.complaints.model import training_key

HEAVY = ("sklearn", "scipy", "lingua", "jieba", "vaderSentiment", "cxpipe.complaints.pipeline")


def test_the_pipeline_returns_the_schemas_columns_and_the_numbers_are_among_them() -> None:
    assert pipeline.OUTPUT_COLUMNS is schema.OUTPUT_COLUMNS
    assert schema.OUTPUT_COLUMNS[0] == "complaint_id" and len(set(schema.OUTPUT_COLUMNS)) == len(schema.OUTPUT_COLUMNS)
    assert set(schema.OUTPUT_COLUMNS) > schema.NUMERIC_COLUMNS


def test_the_model_version_is_part_of_every_training_key() -> None:
    rows = ({"language": "en", "text": "late", "root_cause": "late_delivery"},)
    before = training_key(rows)
    original = schema.MODEL_VERSION
    import cxpipe.complaints.model as model

    try:
        model.MODEL_VERSION = original + "-next"  # what a bump in schema.py gives the model module
        assert training_key(rows) != before
    finally:
        model.MODEL_VERSION = original


def test_the_incremental_build_imports_none_of_the_analysis_libraries_until_a_text_is_analysed() -> None:
    code = (
        "import json, sys\n"
        "import cxpipe.complaints.incremental\n"
        "from cxpipe.complaints import load_taxonomy\n"  # a public name loads its own module only
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []
    # and the package's names still resolve, to the same objects as their modules'
    from cxpipe.complaints import analyse_texts

    assert analyse_texts is pipeline.analyse_texts
