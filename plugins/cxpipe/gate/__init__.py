"""Quality gate: every blocking check must pass before the reporting tables are published.

Three kinds of checks run against the audited build (``warehouse/cx.duckdb``):

* **dbt tests** — every dbt data test on the reporting models and everything
  they depend on (from ``manifest.json``; sources included, unit tests not), read
  from the ``run_results.json`` files the DAG run kept. A test of severity ``error``
  blocks unless its result is ``pass``: a failure, and a test that did not run
  (no result, or skipped), both block; ``warn`` results are warnings.
* **Great Expectations suites** — ``expectations/gx/expectations/<table>.json``,
  one per reporting table, computed as aggregates in DuckDB over every row
  (:mod:`~cxpipe.gate.sql_expectations`; GX's own SQL route on DuckDB is broken); what
  that module does not know runs in GX on the whole table as a pandas frame. GX renders
  the Data Docs from a seeded sample of each big table (``CX_GATE_GX_SAMPLE_ROWS``).
  Expectations of severity ``critical`` block; ``warning``/``info`` ones do not.
* **Generic checks**, generated from the suite's ``meta.cxpipe`` block so that a
  new reporting table only needs its suite: freshness of the newest data, shares
  summing to 100 per group, and drift against the last publication (row count and
  a key metric may not move more than ``CX_GATE_DRIFT_PCT`` percent).

Every run is recorded in the ``gate_runs`` table of the operations log
(``warehouse/ops.duckdb``) with each check, its status and its failing values; a
blocked run also adds a ``blocked`` row to the operations ``publication_log``.

Modules: :mod:`~cxpipe.gate.results` (what a run reports), :mod:`~cxpipe.gate.suites`
(configuration), :mod:`~cxpipe.gate.dbt_results` (dbt test results),
:mod:`~cxpipe.gate.checks` (generic checks), :mod:`~cxpipe.gate.sql_expectations` (the suites in
DuckDB), :mod:`~cxpipe.gate.gx` (Great Expectations)
and :mod:`~cxpipe.gate.run` (running and recording). The DAG names the Cosmos callback
``cxpipe.gate.collect_dbt_results``, so it is re-exported here with the rest of the API.
"""

from __future__ import annotations

from cxpipe.gate.checks import check_drift, check_freshness, check_shares, generic_checks
from cxpipe.gate.dbt_results import (
    DBT_ARTIFACTS_ENV,
    collect_dbt_results,
    dbt_artifacts_dir,
    dbt_checks,
    dbt_results_dir,
)
from cxpipe.gate.gx import BATCH_DEFINITION, DATASOURCE, gx_checks
from cxpipe.gate.results import BLOCKING_SEVERITIES, CheckFailure, CheckRecord, GateBlockedError, GateResult
from cxpipe.gate.run import check_gate, last_gate_run, record_blocked, record_gate_run, run_gate
from cxpipe.gate.suites import (
    DRIFT_AGGREGATES,
    as_of_date,
    suite_path,
    table_config,
)

__all__ = [
    "BATCH_DEFINITION",
    "BLOCKING_SEVERITIES",
    "DATASOURCE",
    "DBT_ARTIFACTS_ENV",
    "DRIFT_AGGREGATES",
    "CheckFailure",
    "CheckRecord",
    "GateBlockedError",
    "GateResult",
    "as_of_date",
    "check_drift",
    "check_freshness",
    "check_gate",
    "check_shares",
    "collect_dbt_results",
    "dbt_artifacts_dir",
    "dbt_checks",
    "dbt_results_dir",
    "generic_checks",
    "gx_checks",
    "last_gate_run",
    "record_blocked",
    "record_gate_run",
    "run_gate",
    "suite_path",
    "table_config",
]
