"""cxpipe's stages, each as a command the harness runs (and measures) in a child process.

``python -m cxbench.stages <stage> <result.json> [arguments]``; the settings come from the
environment (``CX_DATA_DIR`` …), as in a deployment. Each stage writes what it did to
``result.json`` (rows, checks, the gate's verdict) for the report.

* ``ingest <date>``: :func:`cxpipe.ingest.ingest_source` for every configured source;
* ``prepare <full|incremental>``: :func:`cxpipe.warehouse.build.prepare_build` (not timed: the
  ``prepare_build`` task of the transform DAG, run before each timed ``dbt build``);
* ``warm``: fit the complaint models into ``CX_MODEL_CACHE_DIR`` once (a one-off: every build
  after it loads them);
* ``nlp``: the complaint text analysis alone, on the built warehouse's complaint candidates,
  as the dbt Python model ``int_complaint_texts_nlp`` calls it;
* ``spark``: the same ``dbt build`` on Apache Spark (:func:`cxpipe.warehouse.spark.build`, local mode,
  ``CX_SPARK_MASTER``), its reporting tables exported into ``cx.duckdb``; the JVM's CPU time counts
  (the session is stopped and its JVM reaped before the stage ends);
* ``gate``: :func:`cxpipe.gate.check_gate` on the build's dbt results (``CX_DBT_ARTIFACTS_DIR``);
* ``publish <passed|failed> <checks>``: :func:`cxpipe.publish.publish`;
* ``airflow <date> <days>``: ``cxpipe run`` (every ingest DAG, then the transform DAG, all in one
  Airflow process by ``DAG.test()``), with the CPU and wall time of each command it runs and of
  each DAG run (``dag <dag_id> <date>``, as :mod:`cxpipe.dag_runs` measured it).
"""

from __future__ import annotations

import json
import logging
import resource
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any


def _settings() -> Any:
    from cxpipe.settings import load_settings

    return load_settings()


def ingest(day: str) -> dict[str, Any]:
    from cxpipe.ingest import ingest_source

    settings = _settings()
    totals = {"rows_in": 0, "rows_loaded": 0, "rows_quarantined": 0}
    for source in settings.ingest.sources:
        for result in ingest_source(settings, source, date.fromisoformat(day)):
            totals["rows_in"] += result.rows_in
            totals["rows_loaded"] += result.rows_loaded
            totals["rows_quarantined"] += result.rows_quarantined
    return totals


def prepare(mode: str) -> dict[str, Any]:
    from cxpipe.warehouse.build import prepare_build

    return {"removed": prepare_build(_settings(), full_refresh=mode == "full")}


def _seeds(settings: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    import pandas as pd

    seeds = settings.dbt_project_dir / "seeds"
    taxonomy = pd.read_csv(seeds / "complaint_taxonomy.csv", dtype={"weight": float}, keep_default_na=False)
    overrides = pd.read_csv(seeds / "complaint_overrides.csv", dtype=str, keep_default_na=False, na_values=[""])
    return taxonomy.to_dict("records"), overrides.to_dict("records")


def warm() -> dict[str, Any]:
    import pandas as pd

    from cxpipe.complaints import analyse_texts

    settings = _settings()
    taxonomy, overrides = _seeds(settings)
    frame = pd.DataFrame({"complaint_id": ["ticket:warm"], "complaint_text": ["The sofa arrived late"]})
    analyse_texts(frame, taxonomy, overrides=overrides, cache_dir=settings.models_dir)
    return {"models_dir": str(settings.models_dir)}


def nlp() -> dict[str, Any]:
    from cxpipe.complaints import analyse_texts
    from cxpipe.warehouse import connect_read_only

    settings = _settings()
    with connect_read_only(settings.build_db) as con:
        candidates = con.execute("select complaint_id, complaint_text from intermediate.int_complaint_candidates").df()
        taxonomy = con.execute("select * from reference.complaint_taxonomy").df().to_dict("records")
        overrides = con.execute("select * from reference.complaint_overrides").df().to_dict("records")
    started = time.process_time()
    out = analyse_texts(candidates, taxonomy, overrides=overrides, cache_dir=settings.models_dir)
    return {
        "rows": len(out),
        "distinct_texts": int(candidates["complaint_text"].nunique()),
        "analyse_cpu_s": round(time.process_time() - started, 3),
    }


def spark() -> dict[str, Any]:
    from cxpipe.warehouse import spark as on_spark

    settings = _settings()
    started = time.perf_counter()
    try:
        built = on_spark.build(settings)
        tables = on_spark.marts_tables(on_spark.spark_session(settings)) if built.success else []
    finally:
        on_spark.stop_session()
    return {
        "success": built.success,
        "failures": list(built.failures[:20]),
        "tables": tables,
        "wall_s": round(time.perf_counter() - started, 3),
    }


def gate(report: str) -> dict[str, Any]:
    from cxpipe.gate import GateBlockedError, check_gate

    try:
        result = check_gate(_settings(), Path(report))
    except GateBlockedError as exc:
        blocked = exc.result
        failures = [f.describe() for f in blocked.failures][:20]
        return {"passed": False, "checks_run": blocked.checks_run, "failures": failures}
    return {"passed": result.passed, "checks_run": result.checks_run, "warnings": len(result.warnings)}


def publish(status: str, checks: str) -> dict[str, Any]:
    from cxpipe.publish import publish as publish_reporting

    publication = publish_reporting(_settings(), gate_status=status, gate_checks=int(checks))
    return {"publication_id": publication.publication_id, "row_counts": publication.row_counts}


def airflow(day: str, days: str) -> dict[str, Any]:
    """``cxpipe run --start <day> --days <days>``, timing each command and each DAG run."""
    from cxpipe import cli, runner

    commands: list[dict[str, Any]] = []
    run = runner._run

    def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> None:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        try:
            run(cmd, env, cwd)
        finally:
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            words = [Path(cmd[0]).name]
            for word in cmd[1:]:
                if word.startswith(("-", "/")):
                    break
                words.append(word)
            step = " ".join(words)
            commands.append(
                {
                    "command": step,
                    "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 3),
                    "wall_s": round(time.perf_counter() - started, 3),
                }
            )

    run_dags = runner.run_dags

    def dag_runs(runs: Any, env: dict[str, str], cwd: Path) -> list[dict[str, Any]]:
        done = run_dags(runs, env, cwd)
        commands.extend(
            {"command": f"dag {r['dag_id']} {r['date']}", "cpu_s": r["cpu_s"], "wall_s": r["wall_s"]} for r in done
        )
        return done

    runner._run = timed
    runner.run_dags = dag_runs  # type: ignore[assignment]
    code = cli.main(["run", "--start", day, "--days", days])
    return {"returncode": code, "commands": commands}


STAGES = {
    "ingest": ingest,
    "prepare": prepare,
    "warm": warm,
    "nlp": nlp,
    "spark": spark,
    "gate": gate,
    "publish": publish,
    "airflow": airflow,
}


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    stage, result_path, *args = argv
    result = STAGES[stage](*args)
    Path(result_path).write_text(json.dumps(result, default=str), encoding="utf-8")
    if stage == "airflow" and result["returncode"] != 0:
        return int(result["returncode"])
    if stage == "spark" and not result["success"]:
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
