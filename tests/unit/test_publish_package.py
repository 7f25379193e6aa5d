"""The cxpipe.publish package: the API callers import, settings from the environment, no import cycle."""

import ast
from pathlib import Path
from types import ModuleType

import pytest
from configured import configured

import cxpipe.publish
from cxpipe.publish import attempts, duckdb_file, pipeline, postgres
from cxpipe.settings import Settings


def _imported(module: ModuleType) -> set[str]:
    assert module.__file__ is not None
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return names


@pytest.mark.parametrize("target", [duckdb_file, postgres, attempts], ids=lambda m: m.__name__)
def test_the_targets_never_import_the_pipeline(target: ModuleType) -> None:
    imported = _imported(target)
    assert "cxpipe.publish" not in imported  # not the package API, which imports the pipeline
    assert not {name for name in imported if name.startswith(pipeline.__name__)}


def test_the_package_exposes_what_callers_use() -> None:
    assert cxpipe.publish.publish is pipeline.publish
    assert cxpipe.publish.rollback is pipeline.rollback
    assert cxpipe.publish.PublishError is duckdb_file.PublishError
    assert all(hasattr(cxpipe.publish, name) for name in cxpipe.publish.__all__)
    assert not hasattr(duckdb_file, "pause_point")


def test_code_version_is_pinned_by_the_deployment_or_taken_from_git(settings: Settings) -> None:
    assert duckdb_file.code_version(settings).startswith(f"{cxpipe.__version__}+")
    assert duckdb_file.code_version(configured(settings, CX_CODE_VERSION="v9")) == "v9"
