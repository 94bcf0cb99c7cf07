"""The whole system as `make run` starts it (web, workers, beat, simulator), on a database and Redis
databases of its own, for benchmarks and the browser test. The database is made fresh and dropped after."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
ADMIN_DATABASE = "postgres://postgres@127.0.0.1:5432/postgres"


def database_drop(name: str) -> None:
    with psycopg.connect(ADMIN_DATABASE, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def running_system(
    *,
    database: str,
    redis_dbs: tuple[int, int, int],
    port: int,
    env: dict[str, str] | None = None,
    log: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Starts the system with local settings and waits for /healthz; stops it like Ctrl-C on exit."""
    database_drop(database)
    broker, cache, channels = redis_dbs
    environment = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},  # local settings, as `make run`
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"),  # another server keeps runs apart
        "REDIS_BROKER_DB": str(broker),
        "REDIS_CACHE_DB": str(cache),
        "REDIS_CHANNELS_DB": str(channels),
        **(env or {}),
    }
    output = log.open("wb") if log is not None else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-m", "demoportal.devstack", "run", "--port", str(port)],
        cwd=REPO,
        env=environment,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, stopped as a whole
    )
    try:
        deadline = time.monotonic() + 300
        while not healthy(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the system did not become healthy (exit {process.returncode}); see {log}")
            time.sleep(0.3)
        yield process
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if log is not None:
            output.close()  # type: ignore[union-attr]
        database_drop(database)
