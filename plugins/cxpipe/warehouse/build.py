"""Getting the build warehouse (``cx.duckdb``) ready for a dbt build."""

from __future__ import annotations

import logging

from cxpipe.settings import Settings

log = logging.getLogger(__name__)


def prepare_build(settings: Settings, full_refresh: bool) -> bool:
    """Make sure dbt can create the build warehouse; for a full refresh, remove it first. True if removed.

    DuckDB creates a database file but not its folder, so the warehouse folder is created here
    (a fresh deployment or a wiped data folder has none).
    """
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    if not full_refresh:
        return False
    removed = False
    for path in (settings.build_db, settings.build_db.with_name(settings.build_db.name + ".wal")):
        if path.exists():
            path.unlink()
            removed = True
    log.info("full refresh: build warehouse %s %s", settings.build_db, "removed" if removed else "was absent")
    return removed
