"""The reference state of the reporting contracts keeps only the contracted models, stable between parses."""

from cxpipe.warehouse.contract_state import ContractCheck, _contracted, describe


def _model(name: str, enforced: bool) -> dict[str, object]:
    return {"resource_type": "model", "name": name, "contract": {"enforced": enforced}, "created_at": 1796189230.7}


def test_the_reference_keeps_only_the_contracted_models_and_no_timestamps() -> None:
    manifest = {
        "metadata": {"dbt_schema_version": "v12", "dbt_version": "1.11.16", "invocation_id": "x", "generated_at": "t"},
        "nodes": {
            "model.cxpipe.satisfaction_index.v1": _model("satisfaction_index", True),
            "model.cxpipe.int_cx_events": _model("int_cx_events", False),
            "test.cxpipe.not_null_x": {"resource_type": "test", "name": "not_null_x"},
        },
        "macros": {"macro.cxpipe.nps": {}},
    }
    reduced = _contracted(manifest)
    assert list(reduced["nodes"]) == ["model.cxpipe.satisfaction_index.v1"]
    assert reduced["nodes"]["model.cxpipe.satisfaction_index.v1"]["created_at"] == 0.0
    assert reduced["macros"] == {} and reduced["parent_map"] == {"model.cxpipe.satisfaction_index.v1": []}
    assert "invocation_id" not in reduced["metadata"] and "generated_at" not in reduced["metadata"]


def test_a_failed_check_shows_the_lines_that_say_what_broke() -> None:
    output = (
        "05:28:36  Running with dbt=1.11.16\n"
        "05:28:57  Found 25 models\n"
        "Breaking change to contracted, unversioned model satisfaction_index\n"
        "  - Columns were removed: \n    - sentiment\n"
    )
    text = describe(ContractCheck(False, output))
    assert "satisfaction_index" in text and "sentiment" in text and "Running with" not in text
    assert "no breaking change" in describe(ContractCheck(True, "", ("complaints",)))
