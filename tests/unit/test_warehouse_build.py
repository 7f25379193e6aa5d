"""prepare_build: the build warehouse's folder exists before dbt runs; a full refresh removes the file."""

from cxpipe.settings import Settings
from cxpipe.warehouse.build import prepare_build


def test_full_refresh_removes_the_build_warehouse_and_only_then(settings: Settings) -> None:
    assert not settings.warehouse_dir.exists()
    assert prepare_build(settings, full_refresh=False) is False
    assert settings.warehouse_dir.is_dir()  # DuckDB needs the folder to create cx.duckdb
    settings.build_db.write_bytes(b"old build")
    assert prepare_build(settings, full_refresh=False) is False
    assert settings.build_db.exists()
    assert prepare_build(settings, full_refresh=True) is True
    assert not settings.build_db.exists()
    assert prepare_build(settings, full_refresh=True) is False
