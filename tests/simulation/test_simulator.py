"""The simulator process: it ticks and reports its heartbeat."""

from __future__ import annotations

import socket
import subprocess
import sys

import redis

from demoportal.health import heartbeat_instances
from tests.conftest import BASE_DIR, subprocess_environment


def test_run_simulator_command_writes_a_heartbeat_each_tick(test_redis: redis.Redis) -> None:
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
    instances = heartbeat_instances("simulator", test_redis)
    assert len(instances) == 1
    assert instances[0].startswith(f"{socket.gethostname()}-")
