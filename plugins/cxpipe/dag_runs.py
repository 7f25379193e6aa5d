"""Run several DAG runs through Airflow in one process: ``python -m cxpipe.dag_runs RESULT DAG_ID=DATE ...``.

What ``airflow dags test`` does for one run, done for a list of runs with one start-up:
the DAGs folder is parsed and written to Airflow's metadata database once, then each
run is ``DAG.test()`` in order (its tasks executed by Airflow's task runner, in this
process, recorded in the metadata database) and its task instances are read back. The
first run that does not succeed stops the list. ``RESULT`` (a JSON file) holds the task
states, wall time and CPU time (this process and its children) of each run done and the
error, if any; the caller checks them
(:func:`cxpipe.runner.check_dag_run`).

Started by :func:`cxpipe.runner.run_dags` with the Airflow environment of the run
(``AIRFLOW_HOME``, the DAGs and plugins folders, the cxpipe settings).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from cxpipe.runner import DONE_STATES, RunError


def parse_runs(args: Sequence[str]) -> list[tuple[str, date]]:
    """``["cx_ingest_sales=2026-11-01", ...]`` -> ``[("cx_ingest_sales", date(2026, 11, 1)), ...]``."""
    runs = []
    for arg in args:
        dag_id, sep, day = arg.partition("=")
        try:
            if not sep or not dag_id:
                raise ValueError(arg)
            runs.append((dag_id, date.fromisoformat(day)))
        except ValueError:
            raise RunError(f"{arg!r}: give each DAG run as DAG_ID=YYYY-MM-DD") from None
    return runs


def _parsed_dags() -> dict[str, Any]:
    """Every DAG of the configured bundles, parsed once and written to the metadata database."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db

    manager = DagBundlesManager()  # type: ignore[no-untyped-call]
    manager.sync_bundles_to_db()
    dags: dict[str, Any] = {}
    for bundle in manager.get_all_dag_bundles():
        bundle.initialize()
        bag = BundleDagBag(dag_folder=bundle.path, bundle_path=bundle.path, bundle_name=bundle.name)
        if bag.import_errors:
            errors = "; ".join(f"{path}: {error.strip().splitlines()[-1]}" for path, error in bag.import_errors.items())
            raise RunError(f"the DAG files do not import: {errors} (see `airflow dags list-import-errors`)")
        sync_bag_to_db(bag, bundle.name, bundle.version)
        dags.update(bag.dags)
    return dags


def _task_states(dag_id: str, run_id: str) -> list[dict[str, Any]]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(TaskInstance.task_id, TaskInstance.state).where(
                TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id
            )
        ).all()
    return [{"task_id": task_id, "state": None if state is None else str(state)} for task_id, state in rows]


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run(runs: Sequence[tuple[str, date]], result: Path) -> None:
    """Run ``runs`` in order, writing each one's task states to ``result`` as it ends; stop after the
    first run that scheduled no task or whose tasks did not all succeed (the caller says why:
    :func:`cxpipe.runner.run_dags`). Raise :class:`RunError` for a DAG the DAG files do not define."""
    from airflow.configuration import conf

    done: list[dict[str, Any]] = []
    report: dict[str, Any] = {"done": done, "error": None}
    try:
        conf.load_providers_configuration()
        dags = _parsed_dags()
        for dag_id, day in runs:
            if dag_id not in dags:
                raise RunError(f"{dag_id}: no such DAG in {conf.get('core', 'dags_folder')} (known: {sorted(dags)})")
            started, cpu_started = time.monotonic(), _cpu_seconds()
            print(f"$ DAG.test {dag_id} {day.isoformat()}", flush=True)
            dag_run = dags[dag_id].test(logical_date=datetime(day.year, day.month, day.day, tzinfo=UTC))
            states = _task_states(dag_id, dag_run.run_id)
            wall_s, cpu_s = time.monotonic() - started, _cpu_seconds() - cpu_started
            done.append(
                {
                    "dag_id": dag_id,
                    "date": day.isoformat(),
                    "states": states,
                    "wall_s": round(wall_s, 3),
                    "cpu_s": round(cpu_s, 3),
                }
            )
            result.write_text(json.dumps(report))
            print(f"  done in {wall_s:.1f} s ({cpu_s:.1f} CPU-s): {len(states)} task(s)", flush=True)
            if not states or any(t["state"] not in DONE_STATES for t in states):
                break
    except RunError as exc:
        report["error"] = str(exc)
        raise
    finally:
        result.write_text(json.dumps(report))


def main(argv: Sequence[str]) -> int:
    if len(argv) < 2:
        print("usage: python -m cxpipe.dag_runs RESULT.json DAG_ID=YYYY-MM-DD ...", file=sys.stderr)
        return 2
    try:
        run(parse_runs(argv[1:]), Path(argv[0]))
    except RunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
