"""Airflow glue shared by cxpipe's DAGs: default args, Assets, Params, run rules.

The DAG files in ``dags/`` only wire tasks; what a task does lives in the
modules of this package, so it can be tested without a scheduler: the lake check
in :mod:`cxpipe.lake`, the build preparation in :mod:`cxpipe.warehouse.build`, the
failure callbacks in :mod:`cxpipe.alerts` and the parsing of a run's date range in
:mod:`cxpipe.run_range`.

Retry only what can succeed on retry (docs/decisions/0014-retry-only-what-can-succeed.md):
a data problem — a broken contract, a lake that lacks dates, bad Params, a blocked gate,
a failed dbt test or model — fails the task at once with ``AirflowFailException``
(:func:`fail_at_once_on_data_errors`, :func:`fail_dbt_data_errors`); anything else keeps
the retries of :func:`default_args` (a DuckDB lock, a refused connection, a timeout).
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import Asset, Param
from airflow.sdk.exceptions import AirflowFailException

from cxpipe.run_range import param_range
from cxpipe.settings import Settings

OWNER = "cx-data-engineering"


def default_args(settings: Settings) -> dict[str, Any]:
    """Task defaults of every cxpipe DAG: retries with exponential backoff and a timeout (``settings.schedule``)."""
    schedule = settings.schedule
    return {
        "owner": OWNER,
        "retries": schedule.task_retries,
        "retry_delay": schedule.retry_delay,
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=30),
        "execution_timeout": schedule.task_timeout,
    }


def lake_asset(settings: Settings, source: str) -> Asset:
    """The Asset an ingest DAG updates when it has written a partition of ``source``."""
    return Asset(name=f"cx_lake_{source}", uri=f"file://{settings.lake_dir}/{source}", group="cxpipe_lake")


def lake_complete_asset(settings: Settings) -> Asset:
    """The Asset updated when a landing date has been loaded by every source: the transform's trigger."""
    return Asset(name="cx_lake_complete", uri=f"file://{settings.lake_dir}/_load_audit", group="cxpipe_lake")


def reporting_asset(settings: Settings) -> Asset:
    """The Asset the transform DAG updates when it has published the reporting warehouse."""
    return Asset(name="cx_reporting", uri=f"file://{settings.reporting_db}", group="cxpipe_reporting")


def range_params() -> dict[str, Param]:
    """Params of a manual run: an inclusive range of landing dates (both empty = the run's own date)."""
    return {
        "from_date": Param(
            None, type=["null", "string"], format="date", description="first landing date (YYYY-MM-DD), inclusive"
        ),
        "to_date": Param(
            None, type=["null", "string"], format="date", description="last landing date (YYYY-MM-DD), inclusive"
        ),
    }


def transform_params() -> dict[str, Param]:
    """Params of a manual transform run: the range the publication must cover, and a full refresh."""
    return {
        **range_params(),
        "full_refresh": Param(
            False,
            type="boolean",
            description="drop the build warehouse and run dbt with --full-refresh (rebuild everything from the lake)",
        ),
    }


class BadParamsError(ValueError):
    """A manual run's Params are not a usable date range: retrying the same Params cannot help."""


def checked_range(params: dict[str, Any]) -> tuple[date, date] | None:
    """:func:`cxpipe.run_range.param_range`, raising :class:`BadParamsError` (a data error) for bad Params."""
    try:
        return param_range(params)
    except ValueError as exc:
        raise BadParamsError(str(exc)) from exc


def dates_to_load(params: dict[str, Any], logical_date: date) -> list[date]:
    """Landing dates an ingest run loads: the Param range of a manual run, else the run's logical date."""
    bounds = checked_range(params)
    if bounds is None:
        return [logical_date]
    first, last = bounds
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def interval_bounds(covered: dict[str, Any]) -> tuple[datetime, datetime]:
    """The publication's data interval for a :func:`cxpipe.lake.check_lake` result: [from_date, to_date + 1 day)."""
    first = datetime.fromisoformat(str(covered["from_date"])).replace(tzinfo=UTC)
    last = datetime.fromisoformat(str(covered["to_date"])).replace(tzinfo=UTC)
    return first, last + timedelta(days=1)


# ------------------------------------------------------------------ retry only what can succeed on retry


def data_errors() -> tuple[type[BaseException], ...]:
    """Errors that are data problems: the same data fails the same way on every retry.

    Imported here, not at module level, so parsing a DAG file does not load the gate and the lake.
    """
    from cxpipe.contracts import ContractError
    from cxpipe.gate import GateBlockedError
    from cxpipe.ingest import RowBalanceError
    from cxpipe.lake import LakeIncompleteError
    from cxpipe.settings import PiiKeyError

    # RowBalanceError: rows in != loaded + quarantined is deterministic for the same files;
    # PiiKeyError: the deployment's configuration, which a retry does not change
    return (ContractError, RowBalanceError, LakeIncompleteError, GateBlockedError, BadParamsError, PiiKeyError)


#: dbt messages of failures that may pass on retry: a DuckDB file locked by another process,
#: a database that refused or dropped the connection, a time-out.
TRANSIENT_DBT_MESSAGE = re.compile(
    r"could not set lock|conflicting lock|database is locked|connection refused|could not connect"
    r"|connection (?:reset|closed|timed out)|timed out|timeout|temporarily unavailable",
    re.IGNORECASE,
)
#: dbt result statuses of a node that did not succeed (``warn`` does not fail a task).
FAILED_DBT_STATUSES = frozenset({"error", "fail", "runtime error"})


def is_data_error(exc: BaseException) -> bool:
    """True for errors that retrying cannot fix (:func:`data_errors`)."""
    return isinstance(exc, data_errors())


@contextmanager
def fail_at_once_on_data_errors() -> Iterator[None]:
    """Around a task body: a data error fails the task without retry (``AirflowFailException``).

    Any other exception propagates unchanged and keeps the task's retries. The failure
    callbacks still run and see the original message.
    """
    try:
        yield
    except AirflowFailException:
        raise
    except Exception as exc:
        if is_data_error(exc):
            raise AirflowFailException(f"{exc} [{type(exc).__name__}: a data problem, not retried]") from exc
        raise


def dbt_data_failures(run_results: dict[str, Any]) -> list[str]:
    """The failed nodes of a dbt ``run_results.json`` that a retry cannot fix, one line each.

    Empty when nothing failed or when any failure looks transient (:data:`TRANSIENT_DBT_MESSAGE`):
    then the task keeps its retries. Each line names the node, its status and the first line
    of dbt's message (``Runtime Error in model …``, ``Got 3 results, configured to fail if != 0``);
    dbt's detail, which may quote values, stays in the task log.
    """
    failed = [r for r in run_results.get("results", []) if str(r.get("status")) in FAILED_DBT_STATUSES]
    if any(TRANSIENT_DBT_MESSAGE.search(str(r.get("message") or "")) for r in failed):
        return []
    lines = []
    for result in failed:
        node = str(result.get("unique_id", "?")).split(".")
        name = f"{node[0]} {node[2]}" if len(node) > 2 else ".".join(node)
        first = (str(result.get("message") or "").strip().splitlines() or [""])[0]
        lines.append(f"{name}: {result['status']}" + (f" ({first})" if first else ""))
    return lines


def fail_dbt_data_errors(project_dir: str, **_: Any) -> None:
    """Cosmos callback: a failed dbt test or model fails its task at once, without retry.

    Cosmos calls its callbacks with the temporary project folder after dbt ran and before it
    raises for a failed command; this reads that command's ``target/run_results.json``. No
    results (dbt could not even start, e.g. the warehouse file was locked) or a transient
    message leaves Cosmos' own error, which is retried.
    """
    path = Path(project_dir) / "target" / "run_results.json"
    if not path.exists():
        return
    if failures := dbt_data_failures(json.loads(path.read_text(encoding="utf-8"))):
        raise AirflowFailException(
            "dbt " + "; ".join(failures) + " [a data or model problem, not retried: fix it and clear this task]"
        )


def freeze_loaded_objects(context: Any = None) -> None:
    """``on_execute_callback`` of the dbt tasks: what the process holds when the task starts is left out
    of every later pass of the cyclic garbage collector (``gc.freeze``).

    Cosmos runs a full garbage collection after each dbt command (it releases the dbt adapters'
    semaphores). That pass walks every object the process holds: Airflow, dbt, the parsed DAGs, and,
    where one process runs many tasks (``cxpipe run`` runs a DAG run's tasks in its own process), what
    earlier tasks loaded. Frozen first, the pass walks only what the task's own dbt command made: with
    one task per dbt node, the transform DAG's run took about a quarter less CPU (benchmarks/notes.md).
    Objects frozen stay freed by reference counting; only reference cycles among them are kept until
    the process ends, which for a task process (or ``cxpipe run``) is soon.
    """
    gc.freeze()


def dbt_cache_dir(dag_id: str, group_id: str) -> Path | None:
    """Cosmos' cache folder of the dbt tasks of ``group_id`` in ``dag_id``, for a dbt operator of its own.

    Cosmos gives one to the tasks a ``DbtTaskGroup`` renders, not to an operator created directly (the
    one ``dbt build`` task): without it, that task starts every run from a full parse of the project.
    With it, the task starts from the newest partial parse, the cache's or the one ``cxpipe run``'s
    ``dbt parse`` left in the project's target folder, and keeps its own there for the next run. It is
    the folder Cosmos would give a ``DbtTaskGroup`` of that id; None when Cosmos' cache is turned off.
    """
    from cosmos import settings as cosmos_settings

    if not (cosmos_settings.enable_cache and cosmos_settings.enable_cache_partial_parse):
        return None
    return Path(cosmos_settings.cache_dir) / f"{dag_id.replace('.', '___')}__{group_id.replace('.', '__')}"


# ------------------------------------------------------------------ dbt source tests under Cosmos


def source_tests_task(
    dag: Any,
    task_group: Any,
    node: Any,
    task_args: dict[str, Any],
    execution_mode: Any,
    test_indirect_selection: Any,
    on_warning_callback: Any = None,
    **_: Any,
) -> Any:
    """Cosmos node converter for a dbt source: a task ``<source>_<table>_source_test`` running
    ``dbt test --select source:<source>.<table>`` (the tests declared on that source table).

    Cosmos renders a source (``SourceRenderingBehavior.WITH_TESTS_OR_FRESHNESS``: only sources
    with tests) as ``dbt source freshness``, which runs none of its tests; with this converter the
    source's tests run as their own task, upstream of the staging models that read the source, with
    the same operator arguments as every dbt task (so their results are kept for the gate).
    """
    from cosmos.airflow.graph import create_test_task_metadata
    from cosmos.core.airflow import get_airflow_task

    metadata = create_test_task_metadata(
        f"{node.name}_source_test",
        execution_mode,
        test_indirect_selection,
        task_args=task_args,
        node=node,
        on_warning_callback=on_warning_callback,
    )
    return get_airflow_task(metadata, dag, task_group=task_group)


def build_on_spark(settings: Settings, context: dict[str, Any]) -> dict[str, object]:
    """The ``dbt.build`` task with ``CX_ENGINE=spark``: the whole ``dbt build`` on Spark in this process
    (:func:`cxpipe.warehouse.spark.build`), its reporting tables exported into ``cx.duckdb``, its
    ``run_results.json`` and manifest kept for the gate as Cosmos' callback keeps them. A failed model
    or test fails the task without retry, as on DuckDB."""
    from cxpipe.gate.dbt_results import run_results_folder
    from cxpipe.warehouse import spark

    params = context.get("params") or {}
    full_refresh = bool(params.get("full_refresh")) if isinstance(params, dict) else False
    built = spark.build(settings, ("--full-refresh",) if full_refresh else ())
    folder = run_results_folder(settings, context.get("run_id"))
    folder.mkdir(parents=True, exist_ok=True)
    results = built.target_dir / "run_results.json"
    if results.exists():
        import shutil
        import uuid

        shutil.copyfile(results, folder / f"run_results.{uuid.uuid4().hex}.json")
        shutil.copyfile(built.target_dir / "manifest.json", folder / "manifest.json")
        if failures := dbt_data_failures(json.loads(results.read_text(encoding="utf-8"))):
            raise AirflowFailException(
                "dbt on Spark " + "; ".join(failures) + " [a data or model problem, not retried]"
            )
    if not built.success:
        raise RuntimeError("dbt on Spark failed: " + "; ".join(built.failures))
    return {"engine": "spark", "exported": True}
