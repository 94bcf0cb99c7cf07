"""The simulator process's main loop (started by `manage.py run_simulator`).

Every tick it writes its heartbeat for /healthz. Computing live values for the sandboxes that have
viewers and sending them to the channel layer joins this loop with the plant-data engine.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket

from django.conf import settings

from demoportal.health import heartbeat_clear, heartbeat_write

logger = logging.getLogger(__name__)


def simulator_instance_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


async def simulator_run(*, ticks: int | None = None) -> None:
    """Tick every HEARTBEAT_INTERVAL seconds, forever or ``ticks`` times.

    A failing Redis is logged by ``heartbeat_write`` and retried on the next tick; the loop never exits on it.
    """
    instance = simulator_instance_name()
    logger.info("simulator %s started", instance)
    count = 0
    try:
        while ticks is None or count < ticks:
            await asyncio.to_thread(heartbeat_write, "simulator", instance)
            count += 1
            await asyncio.sleep(settings.HEARTBEAT_INTERVAL)
    finally:
        heartbeat_clear("simulator", instance)  # stopped means not alive, now rather than at expiry
        logger.info("simulator %s stopped", instance)
