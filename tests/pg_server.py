"""A throw-away PostgreSQL server for tests: initdb in a temporary folder, started on a free port.

PostgreSQL refuses to run as root, and CI runs the tests as root: then the server
runs as the unprivileged ``postgres`` system user (or ``nobody``) that owns the
temporary folder. Binaries come from PATH or ``/usr/lib/postgresql/<version>/bin``
(`.ci/run` installs them where they are missing).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "cx_admin"


def pg_bin(name: str) -> str:
    installed = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    found = shutil.which(name) or (str(installed[0]) if installed else None)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed: apt-get install postgresql (or run .ci/run)")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class PgServer:
    port: int
    password: str
    datadir: Path

    def url(self, user: str = SUPERUSER, password: str | None = None, dbname: str = "cx") -> str:
        return f"postgresql://{user}:{password or self.password}@127.0.0.1:{self.port}/{dbname}"


@contextmanager
def running_postgres() -> Iterator[PgServer]:
    """Start a PostgreSQL server (database ``cx``, password auth over TCP) and stop it afterwards."""
    root = Path(tempfile.mkdtemp(prefix="cxpipe-pg-"))
    as_user: str | None = None
    if os.geteuid() == 0:
        as_user = "postgres" if _user_exists("postgres") else "nobody"
        entry = pwd.getpwnam(as_user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    password = os.urandom(12).hex()
    (root / "pw").write_text(password)
    if as_user:
        entry = pwd.getpwnam(as_user)
        os.chown(root / "pw", entry.pw_uid, entry.pw_gid)
    datadir, port = root / "data", _free_port()
    run = {"user": as_user, "check": True, "capture_output": True, "text": True, "cwd": root}
    subprocess.run(
        [
            pg_bin("initdb"),
            "-D",
            str(datadir),
            "-U",
            SUPERUSER,
            f"--pwfile={root / 'pw'}",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--no-instructions",
        ],
        **run,  # type: ignore[call-overload]
    )
    options = f"-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={root} -c fsync=off"
    subprocess.run([pg_bin("pg_ctl"), "-D", str(datadir), "-o", options, "-l", str(root / "log"), "-w", "start"], **run)  # type: ignore[call-overload]
    try:
        server = PgServer(port, password, datadir)
        import psycopg

        with psycopg.connect(server.url(dbname="postgres"), autocommit=True) as con:
            con.execute("create database cx")
        yield server
    finally:
        subprocess.run([pg_bin("pg_ctl"), "-D", str(datadir), "-m", "immediate", "stop"], **{**run, "check": False})  # type: ignore[call-overload]
        shutil.rmtree(root, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
