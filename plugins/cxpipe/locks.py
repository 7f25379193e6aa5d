"""One writer at a time per data folder: advisory file locks with a holder note.

``cxpipe run`` holds the ``run`` lock of its data folder for the whole run; every
publication and rollback holds the ``publish`` lock while it writes. A second holder is
refused at once with :class:`LockHeldError`, whose message says who holds the lock, since
when and what to do.

The locks are ``flock`` locks on ``<data folder>/.cxpipe-<name>.lock``: the operating
system releases them when their process ends, however it ends (``kill -9`` included), so
a lock is never left behind by a crash. The file also holds a note (process id, host,
start time, purpose) written by the holder, read only to explain a refusal.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path


class LockHeldError(RuntimeError):
    """Another process holds the lock; the message names it and what to do."""


def lock_path(folder: Path, name: str) -> Path:
    return folder / f".cxpipe-{name}.lock"


def _holder(fd: int) -> str:
    """The holder's note, as one phrase ('pid 12 on host since 2026-…: purpose'), or a fallback."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        note = json.loads(os.read(fd, 4096).decode("utf-8") or "{}")
    except (OSError, ValueError):
        note = {}
    if not note:
        return "a process that has not written its note yet"
    return f"pid {note.get('pid')} on {note.get('host')} since {note.get('since')} ({note.get('purpose')})"


@contextmanager
def hold(folder: Path, name: str, purpose: str) -> Iterator[Path]:
    """Hold the ``name`` lock of ``folder`` for the ``with`` block; :class:`LockHeldError` if another process has it.

    ``purpose`` is written into the note (e.g. ``publish run_id=…``), shown to whoever is refused.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = lock_path(folder, name)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeldError(
                f"another {name} holds the lock on {folder}: {_holder(fd)}. Wait for it to finish "
                f"(the lock is released when its process ends, even if killed), then run this again"
            ) from None
        note = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
            "purpose": purpose,
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(note).encode("utf-8"), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
