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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from channels.layers import get_channel_layer
from django.conf import settings
from numpy.typing import NDArray

from demoportal.health import heartbeat_clear, heartbeat_write
from simulation.broadcast import ticks_send
from simulation.engine.alarms import Limits, limit_crossings, nox_rates, permit_crossings
from simulation.engine.live import LiveBatch
from simulation.engine.signals import Event
from simulation.live import (
    NO_MINUTE,
    LiveSandbox,
    live_event,
    live_reloads_take,
    live_sandbox_load,
    live_sandboxes_ready,
    sandboxes_viewed,
)
from simulation.selectors import from_minute

logger = logging.getLogger(__name__)


def plant_key(live: LiveSandbox) -> tuple[object, ...]:
    """What makes a sandbox's live values: a reset changes the seed and start, a change adds overlays."""
    return (live.member.plant.seed, live.member.base_minute, tuple(live.member.overlays))


@dataclass
class LiveFrame:
    """One sandbox's tick: its simulated time (Unix seconds), its sensor values and the events since its last tick."""

    sim_ts: float
    values: dict[str, float]
    events: list[dict[str, Any]] = field(default_factory=list)


class LiveTicker:
    """Live values of the watched sandboxes, second by second, each on its own clock (1× to 3600×).

    The engine gives each minute's values (exactly what the history API shows for it); between two
    minutes they move linearly, so a chart's live tail meets its history without a gap or a jump. Each
    sandbox keeps the minute of its simulated now and the one after; only sandboxes whose clock entered
    a new minute are computed, in one engine call for all of them. The plants are read again only for
    a new viewer, a change (``live_reload_request``) or a reset; an end or a reset is seen in one query
    on the public schema."""

    def __init__(self) -> None:
        self.sandboxes: dict[int, LiveSandbox] = {}
        self.order: list[int] = []
        self.batch: LiveBatch | None = None

    def refresh(self, viewed: list[int]) -> None:
        """(Database) Load the newly watched, reset or changed sandboxes; drop the unwatched and the ended."""
        reloads = live_reloads_take()  # an anomaly, an optimisation or a clock change was just applied
        ready = live_sandboxes_ready(viewed)
        for sandbox_id in viewed:
            known = self.sandboxes.get(sandbox_id)
            if sandbox_id not in ready:  # ended, being reset, or never a demo
                self.sandboxes.pop(sandbox_id, None)
                continue
            if known is not None and known.generation == ready[sandbox_id] and sandbox_id not in reloads:
                continue
            same_schema = known is not None and known.generation == ready[sandbox_id]
            loaded = live_sandbox_load(
                sandbox_id, triggered_seen=known.triggered_seen if known is not None and same_schema else None
            )
            if loaded is None:
                self.sandboxes.pop(sandbox_id, None)
            elif known is not None and same_schema and plant_key(known) == plant_key(loaded):
                known.time_scale, known.clock_wall, known.clock_sim = (
                    loaded.time_scale,
                    loaded.clock_wall,
                    loaded.clock_sim,
                )
                known.pending += loaded.pending
                known.triggered_seen = loaded.triggered_seen
            else:
                if known is not None and same_schema:  # an anomaly or optimisation: same plant, new values
                    loaded.outside, loaded.permit_over = known.outside, known.permit_over
                    loaded.seen_minute, loaded.sent = known.seen_minute, known.sent
                    loaded.pending = known.pending + loaded.pending
                self.sandboxes[sandbox_id] = loaded  # a new or changed plant: its minutes are computed afresh
        for sandbox_id in set(self.sandboxes) - set(viewed):
            del self.sandboxes[sandbox_id]

    def frames(self, now: float) -> dict[int, LiveFrame]:
        """Each watched sandbox's tick at wall time ``now`` (Unix seconds)."""
        lives = list(self.sandboxes.values())
        if not lives:
            return {}
        if (
            self.batch is None
            or self.order != list(self.sandboxes)
            or any(member is not live.member for member, live in zip(self.batch.members, lives, strict=True))
        ):
            self.batch = LiveBatch([live.member for live in lives])
            self.order = list(self.sandboxes)
        sim = sim_seconds(lives, now)
        minute = (sim // 60).astype(np.int64)
        cached = np.fromiter((live.minute for live in lives), dtype=np.int64, count=len(lives))
        moved = np.nonzero(minute != cached)[0]
        fresh = np.nonzero((minute != cached) & (minute != cached + 1))[0]
        for i in np.setdiff1d(moved, fresh).tolist():  # the usual new minute: the last "next" is this "now"
            lives[i].now_values = lives[i].next_values
        if len(fresh):
            for i, values in zip(fresh.tolist(), self.batch.tick(minute[fresh], members=fresh.tolist()), strict=True):
                lives[i].now_values = values
        if len(moved):
            upcoming = self.batch.tick(minute[moved] + 1, members=moved.tolist())
            for i, values in zip(moved.tolist(), upcoming, strict=True):
                lives[i].next_values = values
                lives[i].minute = int(minute[i])
        events = live_events(lives, moved, minute)
        fraction = (sim - minute * 60) / 60
        result = {}
        for i, (live, part, seconds) in enumerate(zip(lives, fraction.tolist(), sim.tolist(), strict=True)):
            at, then = live.now_values, live.next_values
            values = np.round(at + (then - at) * part, 4)
            frame = LiveFrame(seconds, dict(zip(live.sensor_keys, values.tolist(), strict=True)), events.get(i, []))
            result[live.sandbox_id] = frame
        return result

    def values(self, now: float) -> dict[int, dict[str, float]]:
        """Each watched sandbox's sensor values at wall time ``now``, keyed by sensor id."""
        return {sandbox_id: frame.values for sandbox_id, frame in self.frames(now).items()}


def live_events(lives: list[LiveSandbox], moved: NDArray[np.intp], minute: NDArray[np.int64]) -> dict[int, list[Any]]:
    """The events of this tick, by position in ``lives``: those triggered by hand since the last tick;
    and for each sandbox that entered a new minute, the engine's events that began since its last
    tick, its readings that left (or came back into) their normal range, and its NOx permit crossings.
    The limit and permit rules compare every such sandbox's new minute in one numpy operation each."""
    found: dict[int, list[Any]] = {}
    for i, live in enumerate(lives):
        if live.pending:
            found[i], live.pending = live.pending, []
    if not len(moved):
        return found
    seen = [i for i in moved.tolist() if lives[i].outside is not None]
    for i in moved.tolist():
        live, now = lives[i], int(minute[i])
        if live.seen_minute != NO_MINUTE:
            # from the last minute seen on: an anomaly injected within it starts in it (keys sent are skipped)
            for event in live.member.events_between(live.seen_minute, now + 1):
                if event.key not in live.sent:
                    live.sent[event.key] = event.minute
                    found.setdefault(i, []).append(engine_event(event))
            live.sent = {key: at for key, at in live.sent.items() if at >= now - 1}
        live.seen_minute = now
    first = [i for i in moved.tolist() if lives[i].outside is None]
    for i in first:  # what is already outside its range when the first viewer arrives raises nothing
        limits = lives[i].limits
        lives[i].outside = (lives[i].now_values < limits.low) | (lives[i].now_values > limits.high)
        if lives[i].permit is not None:
            lives[i].permit_over = np.zeros(len(lives[i].permit.assets), dtype=bool)
    if seen:
        limit_events(lives, seen, minute, found)
        permit_events(lives, [i for i in seen if lives[i].permit is not None], minute, found)
    for events in found.values():
        events.sort(key=lambda event: event["sim_ts"])
    return found


def engine_event(event: Event) -> dict[str, Any]:
    return live_event(
        key=event.key, kind=event.kind, asset_tag=event.asset, message=event.message, sim_ts=from_minute(event.minute)
    )


def limit_events(
    lives: list[LiveSandbox], which: list[int], minute: NDArray[np.int64], found: dict[int, list[Any]]
) -> None:
    """Readings of the ``which`` sandboxes' new minute that left their normal range or came back into it."""
    sizes = [len(lives[i].now_values) for i in which]
    values = np.concatenate([lives[i].now_values for i in which])
    limits = Limits(*(np.concatenate([getattr(lives[i].limits, f) for i in which]) for f in ("low", "high", "band")))
    outside = np.concatenate([lives[i].outside for i in which])
    left, returned, after = limit_crossings(values, limits, outside)
    starts = np.cumsum([0, *sizes])
    for k, i in enumerate(which):
        lives[i].outside = after[starts[k] : starts[k + 1]]
    for position in np.nonzero(left | returned)[0].tolist():
        k = int(np.searchsorted(starts, position, side="right")) - 1
        live, index = lives[which[k]], position - int(starts[k])
        sensor = live.member.plant.sensors[index]
        tag = live.member.plant.assets[sensor.asset_index].tag
        value, at = float(values[position]), from_minute(int(minute[which[k]]))
        if left[position]:
            side = (
                f"above its normal range (up to {sensor.high:g})"
                if value > sensor.high
                else (f"below its normal range (from {sensor.low:g})")
            )
            kind, message = "out_of_range", f"{tag} {sensor.name}: {value:.4g} {sensor.unit}, {side}"
        else:
            kind, message = "back_in_range", f"{tag} {sensor.name}: {value:.4g} {sensor.unit}, back in its normal range"
        found.setdefault(which[k], []).append(
            live_event(
                key=f"{kind}:{sensor.key}:{int(minute[which[k]])}",
                kind=kind,
                asset_tag=tag,
                message=message,
                sim_ts=at,
                sensor_id=int(live.sensor_ids[index]),
            )
        )


def permit_events(
    lives: list[LiveSandbox], which: list[int], minute: NDArray[np.int64], found: dict[int, list[Any]]
) -> None:
    """Permitted assets of the ``which`` sandboxes whose NOx rate in their new minute went over the limit."""
    if not which:
        return
    permits = [lives[i].permit for i in which]
    nox = np.concatenate([lives[i].now_values[p.nox] for i, p in zip(which, permits, strict=True) if p])
    o2 = np.concatenate([lives[i].now_values[p.o2] for i, p in zip(which, permits, strict=True) if p])
    limit = np.concatenate([np.full(len(p.assets), p.limit_lb_per_mmbtu) for p in permits if p])
    fuels = [p.fuel for p in permits if p for _ in p.assets]
    over = np.concatenate([lives[i].permit_over for i in which])
    rates = nox_rates(nox, o2, fuels)
    went_over, after = permit_crossings(rates, limit, over)
    starts = np.cumsum([0, *(len(p.assets) for p in permits if p)])
    for k, i in enumerate(which):
        lives[i].permit_over = after[starts[k] : starts[k + 1]]
    for position in np.nonzero(went_over)[0].tolist():
        k = int(np.searchsorted(starts, position, side="right")) - 1
        live, permit = lives[which[k]], permits[k]
        assert permit is not None
        j = position - int(starts[k])
        asset = live.member.plant.assets[int(permit.assets[j])]
        found.setdefault(which[k], []).append(
            live_event(
                key=f"permit:{asset.tag}:{int(minute[which[k]])}",
                kind="permit_exceedance",
                asset_tag=asset.tag,
                message=(
                    f"{asset.name}: NOx {rates[position]:.3f} lb/MMBtu, above its permit limit of "
                    f"{permit.limit_lb_per_mmbtu:g} lb/MMBtu (EPA Method 19, this minute)"
                ),
                sim_ts=from_minute(int(minute[which[k]])),
                sensor_id=int(live.sensor_ids[int(permit.nox[j])]),
            )
        )


def sim_seconds(lives: list[LiveSandbox], now: float) -> NDArray[np.float64]:
    """Each sandbox's simulated now (Unix seconds) at wall time ``now``: ``facility_sim_now``, vectorised."""
    scale = np.fromiter((live.time_scale for live in lives), dtype=np.float64, count=len(lives))
    wall = np.fromiter((live.clock_wall for live in lives), dtype=np.float64, count=len(lives))
    anchor = np.fromiter((live.clock_sim for live in lives), dtype=np.float64, count=len(lives))
    result: NDArray[np.float64] = anchor + (now - wall) * scale
    return result


def tick_message(*, ts: float, frame: LiveFrame) -> dict[str, Any]:
    """The channel-layer message of one sandbox's tick (``LiveConsumer.live_tick`` receives it)."""
    return {
        "type": "live.tick",
        "ts": datetime.fromtimestamp(ts, tz=UTC).isoformat(),
        "sim_ts": datetime.fromtimestamp(frame.sim_ts, tz=UTC).isoformat(),
        "values": frame.values,
        "events": frame.events,
    }


async def live_tick(ticker: LiveTicker, channel_layer: Any, *, now: float | None = None) -> int:
    """One tick: who is watching, their values, one message per sandbox. Returns how many were sent."""
    now = now or time.time()
    viewed = await asyncio.to_thread(sandboxes_viewed, now=now)
    await asyncio.to_thread(ticker.refresh, viewed)
    frames = ticker.frames(now)
    await ticks_send(
        channel_layer, {sandbox_id: tick_message(ts=now, frame=frame) for sandbox_id, frame in frames.items()}
    )
    return len(frames)


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
