"""The simulator process's main loop (started by `manage.py run_simulator`).

Every tick it writes its heartbeat for /healthz. Computing live values for the sandboxes that have
viewers and sending them to the channel layer joins this loop with the plant-data engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket

from django.conf import settings

from demoportal.health import heartbeat_clear, heartbeat_write

logger = logging.getLogger(__name__)


def simulator_instance_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


async def simulator_run(*, ticks: int | None = None) -> None:
    """Tick every HEARTBEAT_INTERVAL seconds until SIGINT or SIGTERM, or ``ticks`` times.

    The handlers are installed explicitly: a process started in the background by a shell inherits
    SIGINT as ignored, and a supervisor stops it with SIGTERM; either way it should stop cleanly.
    A failing Redis is logged by ``heartbeat_write`` and retried on the next tick; the loop never exits on it.
    """
    instance = simulator_instance_name()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    logger.info("simulator %s started", instance)
    count = 0
    try:
        while not stopping.is_set() and (ticks is None or count < ticks):
            await asyncio.to_thread(heartbeat_write, "simulator", instance)
            count += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=settings.HEARTBEAT_INTERVAL)
    finally:
        heartbeat_clear("simulator", instance)  # stopped means not alive, now rather than at expiry
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        logger.info("simulator %s stopped", instance)
