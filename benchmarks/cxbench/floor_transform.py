"""Baseline 2, the transform floor: the project's own compiled SQL run directly in DuckDB, in DAG order.

``python -m cxbench.floor_transform <plan.json> <cx.duckdb> <result.json>``

No dbt and no Airflow: no parsing, no Jinja, no tests, no documentation comments, no
adapter round trips. :func:`make_plan` takes, from the artifacts of a full ``dbt build``
(``run_results.json`` in execution order, ``manifest.json``, ``target/run``), what that
build executed, and writes it as a plan of steps:

* a **seed**: ``read_csv`` of the seed file, each column cast to the type dbt gave it;
* a **view**, **table** or **incremental** model (a full build: the incremental filter is
  ``true``): ``create view|table <relation> as <compiled SQL>``;
* the **snapshot** (its first run): the ``create table`` statement dbt ran (``target/run``);
* the **Python model** (the complaint text analysis): its ``model(dbt, session)`` called
  with ``ref()`` answered from the same database, the frame written with
  ``create table … as select * from frame``, as dbt-duckdb does.

Hooks are not run (the post-hooks, ``drop_withdrawn_promises`` and the complaint analysis' removal
of complaints that are no longer candidates, delete nothing on a full build; the equality check of
:mod:`cxbench.compare` would show it if they did). The database
file is named ``cx.duckdb`` like dbt's, because the compiled SQL names the database ``cx``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

MATERIALIZED = {"view", "table", "incremental"}


def make_plan(target: Path, built_db: Path, project_dir: Path) -> dict[str, Any]:
    """The steps of the full build of ``project_dir`` whose artifacts are in ``target`` (``--target-path``)
    and whose warehouse is ``built_db`` (read for the seeds' column types)."""
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    nodes = manifest["nodes"]
    steps: list[dict[str, Any]] = []
    with duckdb.connect(str(built_db), read_only=True) as con:
        for result in results:
            unique_id = result["unique_id"]
            kind = unique_id.split(".")[0]
            node = nodes.get(unique_id)
            if node is None or kind not in {"seed", "model", "snapshot"}:
                continue  # tests, unit tests, exposures
            relation = node["relation_name"]
            step: dict[str, Any] = {"id": unique_id, "relation": relation, "schema": node["schema"]}
            if kind == "seed":
                columns = con.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = ? and table_name = ? order by ordinal_position",
                    [node["schema"], node["alias"]],
                ).fetchall()
                step.update(kind="seed", csv=str(project_dir / node["original_file_path"]), columns=columns)
            elif kind == "snapshot":
                run_sql = target / "run" / node["package_name"] / node["original_file_path"] / node["path"]
                step.update(kind="sql", sql=run_sql.read_text(encoding="utf-8"))
            elif node.get("language") == "python":
                refs = {}
                for dep in node["depends_on"]["nodes"]:
                    refs[nodes[dep]["name"]] = nodes[dep]["relation_name"]
                step.update(kind="python", path=str(project_dir / node["original_file_path"]), refs=refs)
            else:
                materialized = node["config"]["materialized"]
                if materialized not in MATERIALIZED:
                    raise ValueError(f"{unique_id}: materialization {materialized!r} is not in the floor")
                what = "view" if materialized == "view" else "table"
                step.update(kind="sql", sql=f"create {what} {relation} as (\n{result['compiled_code']}\n)")
            steps.append(step)
    return {"steps": steps}


class _Dbt:
    """What a dbt Python model sees as ``dbt`` in a full build: ``ref`` and ``config``, answered from
    ``con``; ``is_incremental`` false (an incremental Python model builds from scratch, as dbt's first run)."""

    is_incremental = False

    def __init__(self, con: duckdb.DuckDBPyConnection, refs: dict[str, str], relation: str) -> None:
        self._con = con
        self._refs = refs
        self.this = relation

    def ref(self, name: str) -> duckdb.DuckDBPyRelation:
        return self._con.sql(f"select * from {self._refs[name]}")

    def config(self, **_: Any) -> None:
        return None


def _python_model(con: duckdb.DuckDBPyConnection, step: dict[str, Any]) -> None:
    spec = importlib.util.spec_from_file_location("floor_python_model", step["path"])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    frame = module.model(_Dbt(con, step["refs"], step["relation"]), con)
    con.register("floor_python_model_frame", frame)
    con.execute(f"create table {step['relation']} as select * from floor_python_model_frame")
    con.unregister("floor_python_model_frame")


def _seed(con: duckdb.DuckDBPyConnection, step: dict[str, Any]) -> None:
    casts = ", ".join(f'cast("{name}" as {kind}) as "{name}"' for name, kind in step["columns"])
    con.execute(
        f"create table {step['relation']} as select {casts} "
        f"from read_csv('{step['csv']}', header = true, all_varchar = true)"
    )


def run_plan(plan: dict[str, Any], database: Path) -> dict[str, Any]:
    seconds: dict[str, float] = {}
    with duckdb.connect(str(database)) as con:
        for schema in sorted({s["schema"] for s in plan["steps"]}):
            con.execute(f'create schema if not exists "{schema}"')
        for step in plan["steps"]:
            started = time.process_time()
            if step["kind"] == "seed":
                _seed(con, step)
            elif step["kind"] == "python":
                _python_model(con, step)
            else:
                con.execute(step["sql"])
            seconds[step["id"]] = round(time.process_time() - started, 3)
    python_cpu = sum(seconds[s["id"]] for s in plan["steps"] if s["kind"] == "python")
    return {"steps": len(plan["steps"]), "process_cpu_s_by_step": seconds, "python_model_cpu_s": python_cpu}


def main(argv: list[str]) -> int:
    plan = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    result = run_plan(plan, Path(argv[1]))
    Path(argv[2]).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
