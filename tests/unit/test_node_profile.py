"""The per-node query profile of a dbt build (benchmarks/cxbench/node_profile.py) on a small real warehouse."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb

from cxpipe.settings import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
from cxbench.node_profile import main, nodes, replay


def _result(unique_id: str, sql: str | None, seconds: float = 0.5) -> dict[str, object]:
    return {"unique_id": unique_id, "compiled_code": sql, "execution_time": seconds, "status": "success"}


def _build(tmp_path: Path) -> tuple[Path, Path]:
    """A warehouse ``cx.duckdb`` with one table and the run_results.json of a build over it."""
    warehouse = tmp_path / "cx.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.events as select range as id, range % 7 as kind from range(200000)")
    target = tmp_path / "target"
    target.mkdir()
    results = [
        _result("seed.cxpipe.country_regions", None, 0.1),
        _result("model.cxpipe.events_by_kind", 'select kind, count(*) as n from "cx"."marts"."events" group by kind'),
        _result("model.cxpipe.int_complaint_texts_nlp", "def model(dbt, session):\n    return None"),
        _result("test.cxpipe.unique_events_id", 'select id from "cx"."marts"."events" group by id having count(*) > 1'),
        _result("test.cxpipe.broken", "select missing_column from marts.events"),
        _result("snapshot.cxpipe.crm_customers_snapshot", "select 1"),
    ]
    (target / "run_results.json").write_text(json.dumps({"results": results}), encoding="utf-8")
    return warehouse, target


def test_nodes_keeps_models_and_tests_in_run_order(tmp_path: Path) -> None:
    _, target = _build(tmp_path)
    listed = nodes(target / "run_results.json")
    assert [n["node"] for n in listed] == [
        "model.cxpipe.events_by_kind",
        "model.cxpipe.int_complaint_texts_nlp",
        "test.cxpipe.unique_events_id",
        "test.cxpipe.broken",
    ]
    assert listed[0]["dbt_execution_s"] == 0.5


def test_replay_times_each_query_and_names_what_it_skipped(tmp_path: Path) -> None:
    warehouse, target = _build(tmp_path)
    profile = replay(warehouse, target / "run_results.json", threads=1)
    by_node = {n["node"]: n for n in profile["nodes"]}
    timed = [n for n in profile["nodes"] if "cpu_s" in n]
    assert [n["node"] for n in timed] == sorted(
        ["model.cxpipe.events_by_kind", "test.cxpipe.unique_events_id"], key=lambda node: -by_node[node]["cpu_s"]
    )
    assert all(n["cpu_s"] >= 0 and n["wall_s"] > 0 for n in timed)
    assert "Python model" in by_node["model.cxpipe.int_complaint_texts_nlp"]["skipped"]
    assert "missing_column" in by_node["test.cxpipe.broken"]["skipped"]
    assert profile["cpu_s"] == round(sum(profile["cpu_s_by_kind"].values()), 3)
    # the replay leaves the warehouse as it was: no table of its own left behind
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute("select table_schema || '.' || table_name from information_schema.tables").fetchall()
    assert tables == [("marts.events",)]


def test_main_writes_the_profile(tmp_path: Path) -> None:
    warehouse, target = _build(tmp_path)
    out = tmp_path / "profile.json"
    assert main([str(target), str(warehouse), str(out), "--threads", "1"]) == 0
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written["threads"] == 1
    assert {n["node"] for n in written["nodes"]} >= {"model.cxpipe.events_by_kind", "test.cxpipe.broken"}
