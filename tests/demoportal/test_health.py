"""GET /healthz reports each part of the system, and answers even when the database or Redis is down."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.test import Client

from demoportal.core.health import HEARTBEAT_KEY, HEARTBEAT_MISSED_INTERVALS, heartbeat_write
from tests.conftest import BASE_DIR, subprocess_environment, wait_for

pytestmark = pytest.mark.django_db


def test_all_ok_when_database_redis_worker_and_simulator_are_alive(client: Client, test_redis: redis.Redis) -> None:
    heartbeat_write("worker", "worker@a")
    heartbeat_write("simulator", "sim-1")

    response = client.get("/healthz", HTTP_HOST="localhost")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["redis"] == {"ok": True}
    assert body["checks"]["worker"] == {"ok": True, "instances": ["worker@a"]}
    assert body["checks"]["simulator"] == {"ok": True, "instances": ["sim-1"]}


def test_503_naming_the_simulator_when_its_heartbeat_is_missing(client: Client, test_redis: redis.Redis) -> None:
    heartbeat_write("worker", "worker@a")

    response = client.get("/healthz", HTTP_HOST="localhost")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["simulator"]["ok"] is False
    assert "no simulator heartbeat" in checks["simulator"]["error"]
    assert checks["worker"]["ok"] is True


def test_heartbeats_expire(client: Client, test_redis: redis.Redis) -> None:
    heartbeat_write("worker", "worker@a")
    heartbeat_write("simulator", "sim-1")
    # 3 intervals of 0.5 s (test settings) round to a 2 s TTL.
    wait_for(lambda: client.get("/healthz", HTTP_HOST="localhost").status_code == 503, "heartbeats to expire", 10)


def heartbeat_age(client: redis.Redis, component: str, instance: str, seconds: float) -> None:
    """Make the heartbeat ``instance`` wrote as if written ``seconds`` earlier: its expiry moves back as much."""
    client.zincrby(HEARTBEAT_KEY.format(component=component), -seconds, instance)


def test_healthy_while_a_heartbeat_is_younger_than_three_intervals_503_once_older(
    client: Client, test_redis: redis.Redis, settings: Any
) -> None:
    settings.HEARTBEAT_INTERVAL = 10
    lifetime = HEARTBEAT_MISSED_INTERVALS * settings.HEARTBEAT_INTERVAL  # 30 s
    heartbeat_write("worker", "worker@a")
    heartbeat_write("simulator", "sim-1")
    heartbeat_age(test_redis, "worker", "worker@a", lifetime - 5)
    heartbeat_age(test_redis, "simulator", "sim-1", lifetime - 5)

    before = client.get("/healthz", HTTP_HOST="localhost")

    assert before.status_code == 200
    assert before.json()["checks"]["worker"] == {"ok": True, "instances": ["worker@a"]}

    heartbeat_age(test_redis, "worker", "worker@a", 6)  # now written a second more than 3 intervals ago

    after = client.get("/healthz", HTTP_HOST="localhost")

    assert after.status_code == 503
    checks = after.json()["checks"]
    assert checks["worker"] == {"ok": False, "error": "no worker heartbeat in the last 3 intervals"}
    assert checks["simulator"] == {"ok": True, "instances": ["sim-1"]}  # 25 s old: still alive


def test_answers_on_any_host_even_one_that_is_no_sandbox(client: Client, test_redis: redis.Redis) -> None:
    assert client.get("/healthz", HTTP_HOST="10.0.0.7:8000").status_code == 503  # no heartbeats, but an answer


def test_heartbeat_write_survives_a_redis_that_is_down(settings: Any) -> None:
    settings.REDIS_CACHE_URL = "redis://127.0.0.1:1/0"

    heartbeat_write("simulator", "sim-1")  # logs a warning, does not raise


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server_without_database_or_redis() -> Iterator[str]:
    """uvicorn serving the real ASGI app with PostgreSQL and Redis pointing at closed ports."""
    port = free_port()
    env = subprocess_environment(
        DATABASE_URL="postgres://postgres@127.0.0.1:1/nowhere", REDIS_URL="redis://127.0.0.1:1"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "demoportal.asgi:application", "--port", str(port), "--log-level", "warning"],
        cwd=BASE_DIR,
        env=env,
    )
    url = f"http://127.0.0.1:{port}/healthz"

    def answers() -> bool:
        try:
            urllib.request.urlopen(url, timeout=10)
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False
        return True

    try:
        wait_for(answers, "uvicorn to start")
        yield url
        assert process.poll() is None, "the server crashed instead of reporting"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_reports_which_dependency_is_down_and_keeps_serving(server_without_database_or_redis: str) -> None:
    for _ in range(2):  # a second request still answers: nothing crashed
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(server_without_database_or_redis, timeout=10)  # noqa: S310

        assert error.value.code == 503
        checks = json.loads(error.value.read())["checks"]
        assert checks["database"]["ok"] is False
        assert checks["redis"]["ok"] is False
        assert "OperationalError" in checks["database"]["error"]
        assert "ConnectionError" in checks["redis"]["error"]


@pytest.mark.usefixtures("celery_worker_process")
def test_a_running_worker_process_writes_its_heartbeat(client: Client) -> None:
    def worker_reported() -> Any:
        return client.get("/healthz", HTTP_HOST="localhost").json()["checks"]["worker"]["ok"]

    wait_for(worker_reported, "the worker's heartbeat in /healthz", 10)
