"""Data-folder locks: a second holder is refused with who holds it; a killed holder frees it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cxpipe.locks import LockHeldError, hold, lock_path

HOLDER = """
import sys, time
from pathlib import Path
from cxpipe.locks import hold
with hold(Path(sys.argv[1]), "publish", "publish run_id=manual__1"):
    print("held", flush=True)
    time.sleep(120)
"""


def _holding(folder: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder)], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "held"
    return child


def test_a_second_holder_is_refused_naming_the_holder_and_what_to_do(tmp_path: Path) -> None:
    child = _holding(tmp_path)
    try:
        with pytest.raises(LockHeldError) as refused, hold(tmp_path, "publish", "second"):
            pytest.fail("the lock was granted twice")
        message = str(refused.value)
        assert f"pid {child.pid}" in message and "publish run_id=manual__1" in message
        assert "another publish holds the lock on" in message and "since 20" in message and "Wait for it" in message
        with hold(tmp_path, "run", "a run"):  # another lock of the same folder is independent
            pass
    finally:
        child.kill()
        child.wait()


def test_a_killed_holder_releases_the_lock(tmp_path: Path) -> None:
    child = _holding(tmp_path)
    child.send_signal(signal.SIGKILL)
    child.wait()
    deadline = time.monotonic() + 10
    while True:
        try:
            with hold(tmp_path, "publish", "after the kill") as path:
                assert path == lock_path(tmp_path, "publish")
            break
        except LockHeldError:
            assert time.monotonic() < deadline, "the lock of a killed process was not released"
            time.sleep(0.1)


def test_the_same_process_cannot_hold_a_lock_twice_and_it_is_free_after_the_block(tmp_path: Path) -> None:
    with hold(tmp_path, "run", "outer"), pytest.raises(LockHeldError, match="outer"), hold(tmp_path, "run", "inner"):
        pass
    with hold(tmp_path, "run", "again"):
        pass
    assert lock_path(tmp_path, "run").read_text() == ""  # the note is cleared on release
