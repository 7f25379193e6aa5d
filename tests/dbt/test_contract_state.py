"""A breaking change to a reporting model's contract fails the check; a new version of the model passes it.

Each test edits a private copy of the dbt project and compares it with the committed reference
state (``dbt_project/contracts_state/manifest.json``) through dbt's own state comparison.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from cxpipe.settings import REPO_ROOT
from cxpipe.warehouse.contract_state import STATE_DIR, check_contracts, describe

# Builds its own warehouse (or parses the project) several times: `make test` runs it, `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

MODEL_DIR = Path("models") / "marts" / "customer_experience"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the dbt project with the committed reference state."""
    target = tmp_path / "dbt_project"
    shutil.copytree(REPO_ROOT / "dbt_project", target, ignore=shutil.ignore_patterns("target", "logs"))
    assert (target / STATE_DIR / "manifest.json").exists()
    return target


def _edit_model_yaml(project: Path, name: str, change: Any) -> None:
    path = project / MODEL_DIR / f"{name}.yml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    (model,) = [m for m in document["models"] if m["name"] == name]
    change(model)
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _drop_sentiment(model: dict[str, Any]) -> None:
    model["columns"] = [c for c in model["columns"] if c["name"] != "sentiment"]


def _drop_sentiment_from_sql(sql: Path) -> None:
    text = sql.read_text(encoding="utf-8")
    line = "        round(monthly.sentiment, 2) as sentiment,\n"
    assert line in text
    sql.write_text(text.replace(line, ""), encoding="utf-8")


def test_the_committed_project_matches_its_reference_state(project: Path) -> None:
    check = check_contracts(project)
    assert check.ok, check.output[-3000:]
    assert not check.modified, f"contracts changed since `make contracts-state`: {check.modified}"


def test_removing_a_column_of_a_reporting_model_is_a_breaking_change(project: Path) -> None:
    _drop_sentiment_from_sql(project / MODEL_DIR / "satisfaction_index.sql")
    _edit_model_yaml(project, "satisfaction_index", _drop_sentiment)

    check = check_contracts(project)

    assert not check.ok
    message = describe(check)
    assert "satisfaction_index" in message and "sentiment" in message, message
    assert "removed" in message.lower()


def test_retyping_a_column_of_a_reporting_model_is_a_breaking_change(project: Path) -> None:
    def retype(model: dict[str, Any]) -> None:
        (column,) = [c for c in model["columns"] if c["name"] == "segment_customers"]
        column["data_type"] = "varchar"

    _edit_model_yaml(project, "segment_summary", retype)

    check = check_contracts(project)

    assert not check.ok
    message = describe(check)
    assert "segment_summary" in message and "segment_customers (bigint -> varchar)" in message, message


def test_the_breaking_change_as_a_new_version_passes(project: Path) -> None:
    """v2 drops the column and takes over the table name; v1 keeps its contract as ``satisfaction_index_v1``."""
    folder = project / MODEL_DIR
    shutil.copyfile(folder / "satisfaction_index.sql", folder / "satisfaction_index_v2.sql")
    _drop_sentiment_from_sql(folder / "satisfaction_index_v2.sql")

    def add_version(model: dict[str, Any]) -> None:
        model["latest_version"] = 2
        model["versions"] = [
            {
                "v": 1,
                "defined_in": "satisfaction_index",
                "deprecation_date": "2099-01-01",
                "config": {"alias": "satisfaction_index_v1"},
            },
            {
                "v": 2,
                "config": {"alias": "satisfaction_index"},
                "columns": [{"include": "all", "exclude": ["sentiment"]}],
            },
        ]

    _edit_model_yaml(project, "satisfaction_index", add_version)

    check = check_contracts(project)

    assert check.ok, check.output[-3000:]


def test_removing_a_version_before_its_deprecation_date_is_a_breaking_change(project: Path) -> None:
    def rename_version(model: dict[str, Any]) -> None:
        # v1 disappears (replaced by v2 with the same columns): BI tools reading v1 would break
        model["latest_version"] = 2
        model["versions"] = [{"v": 2, "defined_in": "complaints", "config": {"alias": "complaints"}}]

    path = project / "models" / "marts" / "complaints" / "complaints.yml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    rename_version(document["models"][0])
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")

    check = check_contracts(project)

    assert not check.ok
    assert "complaints" in describe(check) and "deleted or renamed" in check.output
