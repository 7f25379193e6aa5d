"""Breaking changes to the reporting contracts: compare the dbt project with its reference state.

Every reporting model has an enforced dbt contract (column names, data types, constraints)
and is versioned (``versions:``, ``latest_version``). The contracts BI tools rely on are kept
in a reference manifest, ``dbt_project/contracts_state/manifest.json``: the contracted models
of the project as last published, nothing else. :func:`check_contracts` runs dbt's own state
comparison (``dbt ls --select state:modified.contract --state contracts_state``) and fails when
a contracted model lost a column or a constraint, changed a data type or was removed:

- an *unversioned* contracted model: dbt warns (``UnversionedBreakingChange``); the check
  makes the warning an error;
- a *version* of a versioned model: dbt raises ``ContractBreakingChangeError`` itself; a
  version may go once its ``deprecation_date`` has passed.

A breaking change therefore goes into a new version (``v: 2``, see docs/semantic-layer.md and
docs/marts.md), and the old version keeps its contract until its deprecation date.
:func:`save_reference` refreshes the reference after such a change has been published
(``make contracts-state``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The reference state, relative to the dbt project folder.
STATE_DIR = "contracts_state"
#: dbt's warning for a breaking change to an unversioned contracted model, made an error.
WARN_ERROR_OPTIONS = json.dumps({"error": ["UnversionedBreakingChange"]})


class ContractStateError(RuntimeError):
    """dbt could not compare the project with the reference state (not a breaking change)."""


@dataclass(frozen=True)
class ContractCheck:
    """The outcome of :func:`check_contracts`: ``ok``, and dbt's output (its reasons when not ok)."""

    ok: bool
    output: str
    #: contracted models whose contract differs from the reference (non-breaking changes included)
    modified: tuple[str, ...] = ()


def _dbt(project_dir: Path, args: list[str], target_path: Path) -> subprocess.CompletedProcess[str]:
    """Run the dbt CLI of this environment on ``project_dir``; parsing needs no warehouse (``:memory:``)."""
    env = {**os.environ, "CX_BUILD_DB": ":memory:", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    env.pop("CX_DBT_TARGET", None)
    dbt = str(Path(sys.executable).parent / "dbt")
    return subprocess.run(
        [
            dbt,
            *args,
            "--project-dir",
            str(project_dir),
            "--profiles-dir",
            str(project_dir),
            "--target-path",
            str(target_path),
            "--log-path",
            str(target_path / "logs"),
            "--no-partial-parse",
        ],
        env=env,
        cwd=project_dir,
        capture_output=True,
        text=True,
        check=False,
    )


def _contracted(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest reduced to the models with an enforced contract, stable between parses."""
    nodes = {
        uid: {**node, "created_at": 0.0}
        for uid, node in manifest["nodes"].items()
        if node.get("resource_type") == "model" and node.get("contract", {}).get("enforced")
    }
    empty_maps = ("sources", "macros", "docs", "exposures", "metrics", "groups", "selectors", "disabled")
    metadata = {
        k: v for k, v in manifest["metadata"].items() if k in ("dbt_schema_version", "dbt_version", "adapter_type")
    }
    return {
        **{key: {} for key in empty_maps},
        "metadata": {**metadata, "project_name": manifest["metadata"].get("project_name")},
        "nodes": nodes,
        "parent_map": {uid: [] for uid in nodes},
        "child_map": {uid: [] for uid in nodes},
        "group_map": {},
        "saved_queries": {},
        "semantic_models": {},
        "unit_tests": {},
        "functions": {},
    }


def save_reference(project_dir: Path, state_dir: Path | None = None) -> Path:
    """Parse the project and write its contracted models as the new reference state; return its path."""
    project_dir = project_dir.resolve()
    state_dir = (state_dir or project_dir / STATE_DIR).resolve()
    with tempfile.TemporaryDirectory(prefix="cxpipe-contracts-") as tmp:
        done = _dbt(project_dir, ["parse", "--quiet"], Path(tmp))
        if done.returncode != 0:
            raise ContractStateError(f"dbt parse failed:\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
        manifest = json.loads((Path(tmp) / "manifest.json").read_text(encoding="utf-8"))
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / "manifest.json"
    path.write_text(json.dumps(_contracted(manifest), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def check_contracts(project_dir: Path, state_dir: Path | None = None) -> ContractCheck:
    """Compare the contracted models of ``project_dir`` with the reference state (dbt state:modified.contract).

    Not ok on a breaking change (the output names the model and what broke). Raises
    :class:`ContractStateError` when there is no reference state or dbt fails for another reason.
    """
    project_dir = project_dir.resolve()
    state_dir = (state_dir or project_dir / STATE_DIR).resolve()
    if not (state_dir / "manifest.json").exists():
        raise ContractStateError(f"{state_dir / 'manifest.json'} is missing: write it with `make contracts-state`")
    with tempfile.TemporaryDirectory(prefix="cxpipe-contracts-") as tmp:
        done = _dbt(
            project_dir,
            [
                "--warn-error-options",
                WARN_ERROR_OPTIONS,
                "ls",
                "--resource-type",
                "model",
                "--select",
                "state:modified.contract",
                "--state",
                str(state_dir),
                "--output",
                "name",
            ],
            Path(tmp),
        )
    output = done.stdout + done.stderr
    if done.returncode == 0:
        reference = json.loads((state_dir / "manifest.json").read_text(encoding="utf-8"))["nodes"]
        known = {node["name"] for node in reference.values()}
        modified = tuple(name for line in done.stdout.splitlines() if (name := line.strip()) in known)
        return ContractCheck(True, output, modified)
    if "breaking change" in output.lower() or "ContractBreakingChange" in output:
        return ContractCheck(False, output)
    raise ContractStateError(f"dbt ls failed:\n{output[-4000:]}")


def describe(check: ContractCheck) -> str:
    """The lines of dbt's output that say what broke (or that nothing did)."""
    if check.ok:
        changed = f"; changed without breaking: {', '.join(check.modified)}" if check.modified else ""
        return f"reporting contracts: no breaking change against {STATE_DIR}/manifest.json{changed}"
    keep = [
        line
        for line in check.output.splitlines()
        if any(w in line for w in ("reaking", "model", "removed", "changes", "  - ", "version", "Contract"))
    ]
    return "\n".join(keep) or check.output
