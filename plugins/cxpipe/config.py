"""Settings read from environment variables, each with a working default.

Every path is absolute once resolved, because dbt and Airflow tasks may run from
another working directory (Cosmos runs dbt from a temporary copy of the project).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: The repository root when cxpipe runs from a checkout (the usual case).
REPO_ROOT = Path(__file__).resolve().parents[2]

#: Demo key for pseudonymising PII; production sets CX_PII_KEY from a secret store.
DEMO_PII_KEY = "cxpipe-demo-key-not-secret"


def _path(env: str, default: Path) -> Path:
    value = os.environ.get(env)
    return Path(value).expanduser().resolve() if value else default.resolve()


@dataclass(frozen=True)
class Settings:
    """Where cxpipe reads and writes. Build it with :func:`load_settings`."""

    project_dir: Path
    data_dir: Path
    dbt_project_dir: Path
    gx_dir: Path
    pii_key: str

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"

    @property
    def warehouse_dir(self) -> Path:
        return self.data_dir / "warehouse"

    @property
    def build_db(self) -> Path:
        """The DuckDB file dbt builds into (the audited, unpublished build)."""
        return self.warehouse_dir / "cx.duckdb"

    @property
    def reporting_db(self) -> Path:
        """The DuckDB file BI tools read; replaced atomically on publish."""
        return self.warehouse_dir / "reporting.duckdb"

    @property
    def dbt_target_dir(self) -> Path:
        return self.dbt_project_dir / "target"

    @property
    def manifest_path(self) -> Path:
        return self.dbt_target_dir / "manifest.json"

    @property
    def data_docs_index(self) -> Path:
        """Entry page of the Great Expectations Data Docs the quality gate builds."""
        return self.gx_dir / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"

    def dbt_env(self) -> dict[str, str]:
        """Environment variables that dbt's profile and sources read."""
        return {
            "CX_DATA_DIR": str(self.data_dir),
            "CX_LAKE_DIR": str(self.lake_dir),
            "CX_BUILD_DB": str(self.build_db),
        }


def load_settings() -> Settings:
    """Read settings from the environment (see README, "Configuration")."""
    project_dir = _path("CX_PROJECT_DIR", REPO_ROOT)
    return Settings(
        project_dir=project_dir,
        data_dir=_path("CX_DATA_DIR", project_dir / "data"),
        dbt_project_dir=_path("CX_DBT_PROJECT_DIR", project_dir / "dbt_project"),
        gx_dir=_path("CX_GX_DIR", project_dir / "expectations"),
        pii_key=os.environ.get("CX_PII_KEY") or DEMO_PII_KEY,
    )
