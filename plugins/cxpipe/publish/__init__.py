"""Publish the audited reporting tables to BI: write → audit → swap, all or nothing, with rollback.

- :mod:`~cxpipe.publish.pipeline`: :func:`publish` and :func:`rollback` over both targets,
  in an order that leaves every target with its previous publication on any failure;
- :mod:`~cxpipe.publish.duckdb_file`: the DuckDB reporting file (build, verify, atomic
  file swap, kept publications);
- :mod:`~cxpipe.publish.postgres`: the PostgreSQL reporting schema (COPY, verify,
  schema swap in one transaction, read-only BI role);
- :mod:`~cxpipe.publish.attempts`: every attempt in the operations ``publication_log``.

The targets never import the pipeline. Their settings (publications kept, code version,
PostgreSQL URL, BI password) come from ``settings.publish``.
"""

from cxpipe.publish.attempts import list_attempts, record_attempt
from cxpipe.publish.duckdb_file import (
    KEEP_ENV,
    PublishError,
    archive_dir,
    archived,
    code_version,
    current_publication_id,
    list_publications,
    published_tables,
)
from cxpipe.publish.pipeline import Publication, publish, rollback
from cxpipe.publish.postgres import PostgresPublishError

__all__ = [
    "KEEP_ENV",
    "PostgresPublishError",
    "Publication",
    "PublishError",
    "archive_dir",
    "archived",
    "code_version",
    "current_publication_id",
    "list_attempts",
    "list_publications",
    "publish",
    "published_tables",
    "record_attempt",
    "rollback",
]
