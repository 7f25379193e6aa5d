from pathlib import Path

import pytest

from cxpipe.config import DEMO_PII_KEY, REPO_ROOT, load_settings


def test_defaults_point_inside_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CX_PROJECT_DIR", "CX_DATA_DIR", "CX_DBT_PROJECT_DIR", "CX_GX_DIR", "CX_PII_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.project_dir == REPO_ROOT
    assert settings.reporting_db == REPO_ROOT / "data" / "warehouse" / "reporting.duckdb"
    assert settings.dbt_project_dir == REPO_ROOT / "dbt_project"
    assert (settings.dbt_project_dir / "dbt_project.yml").exists()
    assert settings.pii_key == DEMO_PII_KEY


def test_environment_overrides_paths_and_resolves_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CX_DATA_DIR", "relative/data")
    monkeypatch.setenv("CX_PII_KEY", "k")
    settings = load_settings()
    assert settings.data_dir == tmp_path / "relative" / "data"
    assert settings.lake_dir.is_absolute()
    assert settings.pii_key == "k"
    assert settings.dbt_env()["CX_LAKE_DIR"] == str(tmp_path / "relative" / "data" / "lake")
