"""Every publication attempt, in the operations ``publication_log`` (``warehouse/ops.duckdb``).

One row per attempt and target: published, failed, rolled back (and blocked, written
by the gate), with the publication id, the run, the row counts and the reason. BI
never reads it; ``cxpipe publications --attempts`` prints it. (The ``publication_log``
*inside* a reporting file, one row per publication, is written by
:mod:`cxpipe.publish.duckdb_file`.)
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from cxpipe.settings import Settings
from cxpipe.warehouse import connect_ops


def record_attempt(
    settings: Settings,
    status: str,
    *,
    target: str,
    publication_id: int | None = None,
    run_id: str | None = None,
    row_counts: dict[str, int] | None = None,
    reason: str | None = None,
    skipped_tables: dict[str, str] | None = None,
) -> None:
    """Append a row to the operations ``publication_log`` (published, failed, rolled back, blocked).

    ``skipped_tables``: tables published empty because the deployment's sources cannot feed them, with the reason.
    """
    with connect_ops(settings.warehouse_dir) as con:
        con.execute(
            "insert into publication_log (attempt_at, status, publication_id, target, run_id, row_counts, reason, "
            "skipped_tables) values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                datetime.now(UTC),
                status,
                publication_id,
                target,
                run_id,
                json.dumps(row_counts, sort_keys=True) if row_counts is not None else None,
                reason,
                json.dumps(skipped_tables, sort_keys=True) if skipped_tables is not None else None,
            ],
        )


def list_attempts(settings: Settings, limit: int = 20) -> list[dict[str, Any]]:
    """The newest rows of the operations ``publication_log``: what was published, or why not."""
    with connect_ops(settings.warehouse_dir) as con:
        cursor = con.execute(
            "select attempt_at, status, target, publication_id, run_id, reason from publication_log "
            "order by attempt_at desc limit ?",
            [limit],
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
