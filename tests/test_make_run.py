"""`make run`'s launcher end to end: the whole system comes up healthy, serves, and Ctrl-C stops all of it.

It runs against its own database and Redis databases, so a developer's running `make run` is untouched.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import websockets

from demoportal.devstack import database_ensure
from tests.conftest import BASE_DIR, wait_for
from tests.demoportal.test_health import free_port

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/demoportal_make_run_test"
ADMIN_PASSWORD = "make-run-test-password"


def drop_database() -> None:
    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS demoportal_make_run_test WITH (FORCE)")


def process_group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def system_environment() -> dict[str, str]:
    """What `make run` sees here: local settings, the test's own database and Redis databases."""
    return {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},  # local settings, as `make run`
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": "redis://127.0.0.1:6379",
        "REDIS_BROKER_DB": "13",
        "REDIS_CACHE_DB": "14",
        "REDIS_CHANNELS_DB": "15",
        "DEMO_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "HEARTBEAT_INTERVAL": "1",
    }


@pytest.fixture
def running_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, subprocess.Popen[bytes], Path]]:
    drop_database()
    database_ensure(DATABASE_URL)
    port = free_port()
    log_path = tmp_path_factory.mktemp("make-run") / "run.log"
    env = system_environment()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "demoportal.devstack", "run", "--port", str(port)],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, like a terminal's foreground job
        )
    try:
        yield port, process, log_path
    finally:
        if process.poll() is None:  # a failed test: stop it the graceful way, or honcho's children outlive it
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        drop_database()


def manage_shell(code: str) -> str:
    """What ``code`` prints, run by `manage.py shell` against the system's database."""
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
        cwd=BASE_DIR,
        env=system_environment(),
        capture_output=True,
        check=True,
        text=True,
    ).stdout.strip()


def health(port: int) -> dict[str, object] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return dict(json.loads(response.read()))
    except OSError:
        return None


def stop_like_ctrl_c(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGINT)  # the terminal signals its whole foreground process group


def stop_the_launcher_alone(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)  # `kill -INT <pid>`: honcho and its processes are not told directly


@pytest.mark.parametrize("stop", [stop_like_ctrl_c, stop_the_launcher_alone])
def test_make_run_brings_up_web_worker_beat_and_simulator_then_stopping_it_stops_everything(
    running_system: tuple[int, subprocess.Popen[bytes], Path], stop: Callable[[subprocess.Popen[bytes]], None]
) -> None:
    port, process, log_path = running_system

    report = wait_for(lambda: health(port), "/healthz to report ok", timeout=90)
    assert report["status"] == "ok"

    log = log_path.read_text()
    assert "migrations: applying to public" in log  # a new database is migrated before anything starts
    assert f"admin      http://localhost:{port}/admin/" in log
    assert f"password   {ADMIN_PASSWORD}" in log
    assert re.search(
        rf"sandbox    http://localhost:{port}/admin/sandboxes/sandbox/\d+/open/  \(opens demo.localhost", log
    )
    assert f"mailbox    http://localhost:{port}/dev/mailbox/" in log  # verify a sign-up without SMTP
    # Labelled sample activity fills the dashboards, which the Marketing login reads.
    assert re.search(r"sample activity: 1,000 sample prospects \(at \*\.sample\.example\)", log)
    token = manage_shell(
        "from rest_framework.authtoken.models import Token; from demoportal.core.models import User;"
        " print(Token.objects.get_or_create(user=User.objects.get(email='marketing@example.com'))[0].key)"
    )
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/dashboards/demo-performance", headers={"Authorization": f"Token {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  (an http URL made here)
        assert json.loads(response.read())["demos_started"] > 0

    # /ws/ping/ answers the sandbox's members only: here, with a token of the demo sandbox.
    issue = "from sandboxes.tokens import access_token_issue as i; from sandboxes.models import Sandbox as S;"
    issue += " print(i(sandbox=S.objects.get(slug='demo')))"
    token = manage_shell(issue)

    async def ping() -> dict[str, str]:
        origin = websockets.Origin(f"http://demo.localhost:{port}")
        uri = f"ws://demo.localhost:{port}/ws/ping/?token={token}"
        async with websockets.connect(uri, host="127.0.0.1", port=port, origin=origin) as ws:
            await ws.send(json.dumps({"type": "ping"}))
            return dict(json.loads(await asyncio.wait_for(ws.recv(), 10)))

    assert asyncio.run(ping())["schema"] == "demo"

    stop(process)

    assert process.wait(timeout=60) is not None
    wait_for(lambda: not process_group_alive(process.pid), "every process of `make run` to exit", timeout=30)
