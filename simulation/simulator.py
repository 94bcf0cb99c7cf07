"""The simulator process's main loop (started by `manage.py run_simulator`).

Every tick (LIVE_TICK_SECONDS) it computes the live values of every sandbox that has a viewer, in one
vectorised engine call across sandboxes and sensors, sends one message per sandbox to its channel
group, and writes its heartbeat for /healthz (every HEARTBEAT_INTERVAL).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np
from channels.layers import get_channel_layer
from django.conf import settings
from numpy.typing import NDArray

from demoportal.health import heartbeat_clear, heartbeat_write
from simulation.broadcast import ticks_send
from simulation.engine.live import LiveBatch
from simulation.live import LiveSandbox, live_reloads_take, live_sandbox_load, sandboxes_viewed

logger = logging.getLogger(__name__)


def plant_key(live: LiveSandbox) -> tuple[object, ...]:
    """What makes a sandbox's live values: a reset changes the seed and start, a change adds overlays."""
    return (live.member.plant.seed, live.member.base_minute, tuple(live.member.overlays))


class LiveTicker:
    """Live values of the watched sandboxes, second by second. The engine gives each minute's values
    (exactly what the history API shows for it); between two minutes they move linearly, so a chart's
    live tail meets its history without a gap or a jump. Each new minute the watched sandboxes are read
    again, so a reset, an end or a change to the plant shows within a minute."""

    def __init__(self) -> None:
        self.sandboxes: dict[int, LiveSandbox] = {}
        self.minute: int | None = None
        self.now_values: list[NDArray[np.float64]] = []
        self.next_values: list[NDArray[np.float64]] = []
        self.order: list[int] = []
        self.batch: LiveBatch | None = None

    def refresh(self, viewed: list[int], *, minute: int) -> None:
        """(Database) Load the newly watched sandboxes, drop the unwatched; every one again each minute."""
        stale = set(self.sandboxes) if minute != self.minute else set()
        stale |= live_reloads_take()  # an anomaly or optimisation was just applied
        for sandbox_id in viewed:
            if sandbox_id in self.sandboxes and sandbox_id not in stale:
                continue
            loaded = live_sandbox_load(sandbox_id)
            known = self.sandboxes.get(sandbox_id)
            if loaded is None:
                self.sandboxes.pop(sandbox_id, None)
            elif known is None or plant_key(known) != plant_key(loaded):
                self.sandboxes[sandbox_id] = loaded
                self.order = []  # a new or changed plant: compute this minute again
        for sandbox_id in set(self.sandboxes) - set(viewed):
            del self.sandboxes[sandbox_id]

    def values(self, now: float) -> dict[int, dict[str, float]]:
        """Each watched sandbox's sensor values at ``now`` (Unix seconds), keyed by sensor id."""
        minute = int(now // 60)
        if minute != self.minute or self.order != list(self.sandboxes):
            same_plants = self.order == list(self.sandboxes) and self.minute == minute - 1
            if not self.sandboxes:  # the engine stacks at least one plant
                self.now_values, self.next_values = [], []
            elif same_plants and self.batch is not None:  # the usual new minute: last "next" is this "now"
                self.now_values, self.next_values = self.next_values, self.batch.tick(minute + 1)
            else:
                self.batch = LiveBatch([live.member for live in self.sandboxes.values()])
                self.now_values, self.next_values = self.batch.tick(minute), self.batch.tick(minute + 1)
            self.minute, self.order = minute, list(self.sandboxes)
        fraction = (now - minute * 60) / 60
        result = {}
        for live, at, then in zip(self.sandboxes.values(), self.now_values, self.next_values, strict=True):
            values = np.round(at + (then - at) * fraction, 4)
            result[live.sandbox_id] = dict(zip(map(str, live.sensor_ids.tolist()), values.tolist(), strict=True))
        return result


async def live_tick(ticker: LiveTicker, channel_layer: Any, *, now: float | None = None) -> int:
    """One tick: who is watching, their values, one message per sandbox. Returns how many were sent."""
    now = now or time.time()
    viewed = await asyncio.to_thread(sandboxes_viewed, now=now)
    await asyncio.to_thread(ticker.refresh, viewed, minute=int(now // 60))
    values = ticker.values(now)
    moment = datetime.fromtimestamp(now, tz=UTC).isoformat()
    messages = {}
    for sandbox_id, sensor_values in values.items():
        message = {"type": "live.tick", "ts": moment, "sim_ts": moment, "values": sensor_values, "events": []}
        messages[sandbox_id] = message
    await ticks_send(channel_layer, messages)
    return len(values)


def simulator_instance_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


async def simulator_run(*, ticks: int | None = None) -> None:
    """Tick every LIVE_TICK_SECONDS until SIGINT or SIGTERM, or ``ticks`` times.

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
    ticker, channel_layer, last_heartbeat = LiveTicker(), get_channel_layer(), 0.0
    try:
        while not stopping.is_set() and (ticks is None or count < ticks):
            started = time.monotonic()
            if started - last_heartbeat >= settings.HEARTBEAT_INTERVAL or count == 0:
                await asyncio.to_thread(heartbeat_write, "simulator", instance)
                last_heartbeat = started
            try:
                await live_tick(ticker, channel_layer)
            except Exception:  # Redis or the database away, a sandbox ended mid-tick: log, and tick again
                logger.exception("live tick failed; trying again next tick")
                ticker = LiveTicker()
            count += 1
            pause = max(0.0, settings.LIVE_TICK_SECONDS - (time.monotonic() - started))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=pause)
    finally:
        heartbeat_clear("simulator", instance)  # stopped means not alive, now rather than at expiry
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        logger.info("simulator %s stopped", instance)
