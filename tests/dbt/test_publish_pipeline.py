"""The orchestration of a publication: its steps, reported in order to a step callback."""

from pathlib import Path

import pytest

from cxpipe.publish import publish
from cxpipe.settings import Settings


def test_the_step_callback_sees_every_step_in_order_before_anything_is_swapped_in(
    warehouse_copy: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CX_REPORTING_POSTGRES_URL", raising=False)
    seen: list[tuple[str, bool, int]] = []

    def on_step(step: str) -> None:
        new_files = list(warehouse_copy.warehouse_dir.glob(".reporting.duckdb.*.tmp"))
        seen.append((step, warehouse_copy.reporting_db.exists(), len(new_files)))

    first = publish(warehouse_copy, gate_status="passed", on_step=on_step)
    assert seen == [("loaded", False, 1), ("verified", False, 1)]  # the new file is written, not yet swapped in

    steps: list[str] = []
    second = publish(warehouse_copy, gate_status="passed", on_step=steps.append)
    assert steps == ["loaded", "verified"]
    assert (first.publication_id, second.publication_id) == (1, 2)


PUBLISHER = """
import sys, time
from pathlib import Path
from cxpipe.publish import publish
from cxpipe.locks import LockHeldError
from cxpipe.settings import load_settings

release = Path(sys.argv[1])

def on_step(step):
    if step == "loaded":
        print("loaded", flush=True)
        while not release.exists():  # held mid-way until the test lets it go
            time.sleep(0.05)

try:
    done = publish(load_settings(), gate_status="passed", run_id=sys.argv[2], on_step=on_step)
except LockHeldError as exc:
    print("refused:", exc, flush=True)
    sys.exit(3)
print("published", done.publication_id, flush=True)
"""


def test_three_publishes_at_once_one_publishes_the_others_are_refused_and_recorded(
    warehouse_copy: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import subprocess
    import sys

    from cxpipe.publish import list_attempts

    env = {**os.environ, "CX_DATA_DIR": str(warehouse_copy.data_dir)}
    env.pop("CX_REPORTING_POSTGRES_URL", None)

    release = warehouse_copy.data_dir / "release-first-publish"
    released = warehouse_copy.data_dir / "no-wait"
    released.touch()

    def start(signal: Path, run_id: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", PUBLISHER, str(signal), run_id], env=env, stdout=subprocess.PIPE, text=True
        )

    first = start(release, "first")
    assert first.stdout is not None and first.stdout.readline().strip() == "loaded"
    in_progress = list(warehouse_copy.warehouse_dir.glob(".reporting.duckdb.*.tmp"))
    assert len(in_progress) == 1
    others = [start(released, "second"), start(released, "third")]
    try:
        outputs = [p.communicate(timeout=300)[0] for p in others]
    finally:
        release.touch()
    assert [p.returncode for p in others] == [3, 3], outputs
    for output in outputs:
        assert f"another publish holds the lock on {warehouse_copy.warehouse_dir}: pid {first.pid}" in output
        assert "publish run_id=first" in output
    assert in_progress[0].exists()  # the refused publishes left the one in progress alone
    out, _ = first.communicate(timeout=300)
    assert first.returncode == 0 and "published 1" in out, out
    attempts = list_attempts(warehouse_copy)
    by_run = {(a["run_id"], a["status"]) for a in attempts}
    assert by_run == {("first", "published"), ("second", "failed"), ("third", "failed")}
    assert all("another publish holds the lock" in a["reason"] for a in attempts if a["status"] == "failed")
