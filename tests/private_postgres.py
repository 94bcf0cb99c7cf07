"""A PostgreSQL 15 of a test's own, for tests that stop the server or need a small ``max_connections``.

initdb and pg_ctl in a temporary directory, on a free port, never the shared server. PostgreSQL refuses to
run as root, so as root its programs run as the ``postgres`` system user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.demoportal.test_health import free_port

POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")


def run_as_postgres(command: list[str], *, check: bool = True) -> None:
    root = os.geteuid() == 0
    done = subprocess.run(command, capture_output=True, user="postgres" if root else None, check=False)
    if check:
        assert done.returncode == 0, done.stderr.decode()


@dataclass
class PrivatePostgres:
    data: Path
    port: int
    max_connections: int = 100  # PostgreSQL's default

    def pg_ctl(self, *args: str, check: bool = True) -> None:
        run_as_postgres([str(POSTGRES_BIN / "pg_ctl"), "--pgdata", str(self.data), "--wait", *args], check=check)

    def start(self) -> None:
        options = (
            f"-p {self.port} -h 127.0.0.1 -c unix_socket_directories='' -c fsync=off"
            f" -c max_connections={self.max_connections}"
        )
        self.pg_ctl("--log", str(self.data / "server.log"), "--options", options, "start")

    def stop(self) -> None:
        self.pg_ctl("--mode", "fast", "stop")  # what a failover or a restart does to open connections

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"


@contextmanager
def private_postgres(*, max_connections: int = 100) -> Iterator[PrivatePostgres]:
    """A started server with only the ``postgres`` database; stopped and removed afterwards."""
    if not (POSTGRES_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL 15's server programs are not installed at {POSTGRES_BIN}")
    # Not under pytest's own temporary directory: root's is closed to the postgres user.
    root = Path(tempfile.mkdtemp(prefix="dp-postgres-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    server = PrivatePostgres(data=root / "data", port=free_port(), max_connections=max_connections)
    try:
        run_as_postgres(
            [str(POSTGRES_BIN / "initdb"), "-D", str(server.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        )
        server.start()
        yield server
    finally:
        server.pg_ctl("--mode", "immediate", "stop", check=False)  # already stopped by the test is fine
        shutil.rmtree(root, ignore_errors=True)
