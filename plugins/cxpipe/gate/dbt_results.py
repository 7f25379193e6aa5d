"""dbt test results: kept per DAG run by a Cosmos callback, read back as gate checks."""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

from cxpipe.contracts import dbt_model_id
from cxpipe.gate.results import CheckRecord
from cxpipe.settings import Settings

#: Folder holding dbt's ``run_results.json`` and ``manifest.json`` of the build.
DBT_ARTIFACTS_ENV = "CX_DBT_ARTIFACTS_DIR"


def dbt_results_dir(settings: Settings) -> Path:
    """Where :func:`collect_dbt_results` keeps the dbt artifacts of each DAG run."""
    return settings.warehouse_dir / "dbt_results"


def collect_dbt_results(project_dir: str, **kwargs: Any) -> None:
    """Cosmos callback (``operator_args={"callback": "cxpipe.gate.collect_dbt_results"}``).

    Cosmos runs each dbt command in a temporary copy of the project; this keeps
    the command's ``run_results.json`` (and the manifest) under
    ``warehouse/dbt_results/<run id>/`` so the gate can read every test result of
    the run. One file per command, so parallel tasks never write the same file.
    """
    from cxpipe.settings import load_settings

    context = kwargs.get("context") or {}
    run_id = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(context.get("run_id") or "manual"))
    folder = dbt_results_dir(load_settings()) / run_id
    folder.mkdir(parents=True, exist_ok=True)
    target = Path(project_dir) / "target"
    for name, kept in (
        ("run_results.json", f"run_results.{uuid.uuid4().hex}.json"),
        ("manifest.json", "manifest.json"),
    ):
        if (target / name).exists():
            tmp = folder / f".{kept}.tmp"
            shutil.copyfile(target / name, tmp)
            os.replace(tmp, folder / kept)


def dbt_artifacts_dir(settings: Settings) -> Path | None:
    """The folder with the build's dbt results: the setting, the newest DAG run's, the data folder, dbt's target."""
    if settings.gate.dbt_artifacts_dir is not None:
        return settings.gate.dbt_artifacts_dir
    runs = dbt_results_dir(settings)
    collected = [d for d in runs.iterdir() if d.is_dir() and any(d.glob("run_results*.json"))] if runs.exists() else []
    candidates = [max(collected, key=lambda d: d.stat().st_mtime)] if collected else []
    for candidate in (*candidates, settings.data_dir / "dbt_target", settings.dbt_target_dir):
        if any(candidate.glob("run_results*.json")) and (candidate / "manifest.json").exists():
            return candidate
    return None


def _merged_results(folder: Path) -> dict[str, dict[str, Any]]:
    """Results by unique id over every run_results file of ``folder``; the newest command wins."""
    files = []
    for path in folder.glob("run_results*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        files.append((str(data.get("metadata", {}).get("generated_at", "")), data.get("results", [])))
    merged: dict[str, dict[str, Any]] = {}
    for _, results in sorted(files, key=lambda f: f[0]):
        merged.update({r["unique_id"]: r for r in results})
    return merged


def _ancestors(manifest: dict[str, Any], roots: set[str]) -> set[str]:
    parents: dict[str, list[str]] = manifest.get("parent_map") or {}
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        todo.extend(parents.get(node, []))
    return seen


def dbt_checks(settings: Settings, tables: tuple[str, ...]) -> list[CheckRecord]:
    """dbt test results on the reporting models and everything upstream of them."""
    folder = dbt_artifacts_dir(settings)
    if folder is None or not any(folder.glob("run_results*.json")):
        return [
            CheckRecord(
                "dbt",
                "dbt",
                "dbt_run_results_present",
                None,
                "warning",
                False,
                f"no run_results.json found (set {DBT_ARTIFACTS_ENV}); dbt tests were enforced by the dbt build only",
            )
        ]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    status = _merged_results(folder)
    if not any(unique_id.startswith("test.") for unique_id in status):
        message = f"{folder} has no dbt test results (the last dbt command ran no tests)"
        return [CheckRecord("dbt", "dbt", "dbt_test_results_present", None, "warning", False, message)]
    upstream = _ancestors(manifest, {dbt_model_id(manifest, t) for t in tables})
    records = []
    for unique_id, node in sorted(manifest.get("nodes", {}).items()):
        if node.get("resource_type") != "test":
            continue
        if not set(node.get("depends_on", {}).get("nodes", [])) & upstream:
            continue
        severity = str(node.get("config", {}).get("severity", "error")).lower()
        table = (node.get("attached_node") or node["depends_on"]["nodes"][0]).split(".")[-1]
        result = status.get(unique_id)
        if result is None:
            records.append(
                CheckRecord("dbt", table, node["name"], node.get("column_name"), "warning", False, "not run")
            )
            continue
        passed = result["status"] in ("pass", "success")
        observed = None if passed else {"status": result["status"], "failures": result.get("failures")}
        if result["status"] == "warn":
            severity = "warning"
        records.append(
            CheckRecord(
                "dbt",
                table,
                node["name"],
                node.get("column_name"),
                "error" if severity == "error" else "warning",
                passed,
                observed,
            )
        )
    return records
