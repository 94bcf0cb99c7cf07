"""The simulator process: it reports its heartbeat while it runs and withdraws it when stopped; it carries on
through a Redis restart and through sandboxes reset or ended under it."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import redis
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.utils.module_loading import import_string

from demoportal.core.health import heartbeat_instances
from sandboxes.models import Sandbox
from sandboxes.services import sandbox_create, sandbox_reset
from simulation.live import VIEWER_TTL_SECONDS, VIEWERS_KEY, live_group, live_reload_request, viewer_register
from simulation.simulator import LiveTicker, live_tick, simulator_run
from tests import conftest  # its test_database_url, not imported by name: pytest would collect it
from tests.conftest import BASE_DIR, TEST_SANDBOX_SLUG, subprocess_environment, wait_for


def ignore_sigint() -> None:
    """What a shell does to a command it starts in the background: SIGINT arrives ignored."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_run_simulator_reports_a_heartbeat_and_clears_it_when_stopped(test_redis: redis.Redis, signum: int) -> None:
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_simulator"],
        cwd=BASE_DIR,
        env=subprocess_environment(),
        preexec_fn=ignore_sigint,  # the point of the test
    )
    try:
        instances = wait_for(lambda: heartbeat_instances("simulator", test_redis), "the simulator's heartbeat")
        assert instances == [f"{socket.gethostname()}-{process.pid}"]

        process.send_signal(signum)

        assert process.wait(timeout=30) == 0
        assert heartbeat_instances("simulator", test_redis) == []
    finally:
        if process.poll() is None:
            process.kill()


def test_run_simulator_with_ticks_stops_by_itself(test_redis: redis.Redis) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "run_simulator", "--ticks", "2"],
        cwd=BASE_DIR,
        env=subprocess_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "simulator stopped" in result.stdout
    assert heartbeat_instances("simulator", test_redis) == []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def redis_start(port: int) -> subprocess.Popen[bytes]:
    """A private redis-server on ``port`` that keeps nothing on disk (a restart loses every key, as a
    restarted cache or channel-layer Redis without persistence does)."""
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port, socket_connect_timeout=0.2)
    wait_for(lambda: _answers(client), f"redis-server on port {port}")
    return server


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def a_tick_arrives(url: str, sandbox_id: int, timeout: float = 60.0) -> dict[str, Any]:
    """Watch the sandbox as a websocket viewer does and wait for one tick, trying again (a fresh
    connection each time) until ``timeout``: a just restarted Redis may refuse or stall the first tries."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return asyncio.run(asyncio.wait_for(_one_tick(url, sandbox_id), timeout=10))
        except (TimeoutError, redis.RedisError, OSError):
            if time.monotonic() > deadline:
                raise


async def _one_tick(url: str, sandbox_id: int) -> dict[str, Any]:
    """Watch the sandbox as a websocket viewer does (its registration, its group) and await one tick."""
    layer = import_string(settings.CHANNEL_LAYERS["default"]["BACKEND"])(hosts=[f"{url}/{settings.REDIS_CHANNELS_DB}"])
    cache = redis.Redis.from_url(f"{url}/{settings.REDIS_CACHE_DB}")
    channel = await layer.new_channel()
    await layer.group_add(live_group(sandbox_id), channel)
    cache.zadd(VIEWERS_KEY, {str(sandbox_id): time.time() + VIEWER_TTL_SECONDS})
    try:
        return dict(await layer.receive(channel))
    finally:  # this event loop ends with the try: let go of its connections
        await (layer.close_pools() if hasattr(layer, "close_pools") else layer.flush())


def simulator_start(url: str, log: Path) -> subprocess.Popen[bytes]:
    """``manage.py run_simulator`` on the test database and the Redis at ``url``, its output in ``log``."""
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "manage.py", "run_simulator"],
            cwd=BASE_DIR,
            env=subprocess_environment(REDIS_URL=url, DATABASE_URL=conftest.test_database_url()),
            stdout=output,
            stderr=subprocess.STDOUT,
        )


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs a redis-server binary")
def test_the_simulator_ticks_again_after_its_redis_restarts(committed_db: None, tmp_path: Path) -> None:
    port = free_port()
    url = f"redis://127.0.0.1:{port}"
    server = redis_start(port)
    sandbox_id = Sandbox.objects.get(slug=TEST_SANDBOX_SLUG).pk
    cache = redis.Redis.from_url(f"{url}/{settings.REDIS_CACHE_DB}")
    log = tmp_path / "simulator.log"
    simulator = simulator_start(url, log)
    try:
        before = a_tick_arrives(url, sandbox_id)
        assert before["type"] == "live.tick"
        assert before["values"]
        assert heartbeat_instances("simulator", cache) == [f"{socket.gethostname()}-{simulator.pid}"]

        server.kill()
        server.wait()
        wait_for(lambda: b"live tick failed" in log.read_bytes(), "the simulator to notice that Redis is gone")
        assert simulator.poll() is None
        server = redis_start(port)  # empty: registrations, groups and heartbeats are gone

        wait_for(lambda: heartbeat_instances("simulator", cache), "the simulator's heartbeat after the restart")
        after = a_tick_arrives(url, sandbox_id)
        assert after["type"] == "live.tick"
        assert after["values"]
        assert after["ts"] > before["ts"]
        assert simulator.poll() is None, log.read_text()
    finally:
        simulator.terminate()
        simulator.wait(timeout=30)
        server.kill()
        server.wait()


def test_a_sandbox_reset_or_ended_mid_tick_does_not_stop_the_others(
    committed_db: None, test_redis: redis.Redis
) -> None:
    watched = Sandbox.objects.get(slug=TEST_SANDBOX_SLUG)
    other = sandbox_create(slug="reset-mid-tick", name="Short-lived", scenario="cement")
    try:
        viewer_register(watched.pk)
        viewer_register(other.pk)
        ticker, layer = LiveTicker(), get_channel_layer()
        assert asyncio.run(live_tick(ticker, layer)) == 2
        before = ticker.sandboxes[other.pk].generation

        sandbox_reset(sandbox=other)  # a new schema under a loaded plant
        assert asyncio.run(live_tick(ticker, layer)) == 2
        assert ticker.sandboxes[other.pk].generation != before  # read again, from its new schema

        with connection.cursor() as cursor:  # ended while still marked ready: its schema gone mid-way
            cursor.execute(f'DROP SCHEMA "{other.schema_name}" CASCADE')
        live_reload_request(other.pk)
        assert asyncio.run(live_tick(ticker, layer)) == 1  # the other sandbox's viewers still get their tick
        assert set(ticker.sandboxes) == {watched.pk}

        asyncio.run(simulator_run(ticks=3))  # and the loop itself carries on
    finally:
        Sandbox.objects.filter(pk=other.pk).update(status=Sandbox.Status.DESTROYED)
        other.delete(force_drop=True)


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs a redis-server binary")
def test_a_viewer_connected_through_a_redis_restart_gets_ticks_again(committed_db: None, tmp_path: Path) -> None:
    """The open socket's side: the channel layer's subscription of a viewer that stays connected comes
    back by itself when Redis does, and the consumer's renewal timer registers the sandbox again."""
    port = free_port()
    url = f"redis://127.0.0.1:{port}"
    server = redis_start(port)
    sandbox_id = Sandbox.objects.get(slug=TEST_SANDBOX_SLUG).pk
    log = tmp_path / "simulator.log"
    simulator = simulator_start(url, log)

    async def watch_through_a_restart() -> tuple[dict[str, Any], dict[str, Any]]:
        nonlocal server
        layer = import_string(settings.CHANNEL_LAYERS["default"]["BACKEND"])(
            hosts=[f"{url}/{settings.REDIS_CHANNELS_DB}"]
        )
        cache = redis.Redis.from_url(f"{url}/{settings.REDIS_CACHE_DB}")
        channel = await layer.new_channel()
        await layer.group_add(live_group(sandbox_id), channel)
        cache.zadd(VIEWERS_KEY, {str(sandbox_id): time.time() + VIEWER_TTL_SECONDS})
        before = dict(await asyncio.wait_for(layer.receive(channel), timeout=60))
        server.kill()
        server.wait()
        await asyncio.to_thread(wait_for, lambda: b"live tick failed" in log.read_bytes(), "the simulator to notice")
        server = redis_start(port)  # empty: the registration is gone, the layer's subscription is not re-made yet
        deadline = time.monotonic() + 60
        receiving = asyncio.ensure_future(layer.receive(channel))  # never cancelled: that would leave the group
        while True:  # what the consumer's renewal timer does every 10 s, here every second
            with contextlib.suppress(redis.RedisError):
                cache.zadd(VIEWERS_KEY, {str(sandbox_id): time.time() + VIEWER_TTL_SECONDS})
            done, _ = await asyncio.wait({receiving}, timeout=1)
            if not done:
                assert time.monotonic() < deadline, "no tick reached the viewer after the restart"
                continue
            after = dict(receiving.result())
            if after["ts"] > before["ts"]:
                await (layer.close_pools() if hasattr(layer, "close_pools") else layer.flush())
                return before, after
            receiving = asyncio.ensure_future(layer.receive(channel))

    try:
        before, after = asyncio.run(watch_through_a_restart())
        assert after["values"]
        assert after["ts"] > before["ts"]
        assert simulator.poll() is None, log.read_text()
    finally:
        simulator.terminate()
        simulator.wait(timeout=30)
        server.kill()
        server.wait()
