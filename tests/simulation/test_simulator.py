"""The simulator process: it reports its heartbeat while it runs and withdraws it when stopped."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import pytest
import redis

from demoportal.health import heartbeat_instances
from tests.conftest import BASE_DIR, subprocess_environment, wait_for


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
