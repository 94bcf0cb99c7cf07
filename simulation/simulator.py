"""The simulator process's main loop (started by `manage.py run_simulator`).

Every tick (LIVE_TICK_SECONDS) it computes the live values of every sandbox that has a viewer, in one
vectorised engine call across sandboxes and sensors, sends one message per sandbox to its channel
group, and writes its heartbeat for /healthz (every HEARTBEAT_INTERVAL) with how its ticks go.

One sandbox whose plant cannot be read or whose values fail never stops the others' ticks: it is
quarantined (not ticked for QUARANTINE_SECONDS, or until it changes), logged, and listed in the heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import math
import os
import signal
import socket
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import redis
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import DatabaseError
from numpy.typing import NDArray

from demoportal.core.health import TICK_FAILURES_UNHEALTHY, heartbeat_clear, heartbeat_write
from simulation.broadcast import ticks_send
from simulation.engine.alarms import Limits, limit_crossings, nox_rates, permit_crossings
from simulation.engine.live import LiveBatch, LiveMember
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
from simulation.selectors.plant import from_minute

logger = logging.getLogger(__name__)
PREFETCH_TICKS = 40  # ticks over which a minute's values are computed ahead (of 60 at 1 s a tick)
PREFETCH_MAX_SCALE = 10  # faster clocks pass a minute in a few ticks: computed when they get there
QUARANTINE_SECONDS = 300  # a sandbox whose live values failed is tried again after this, or when it changes


def plant_key(live: LiveSandbox) -> tuple[object, ...]:
    """What makes a sandbox's live values: a reset changes the seed and start, a change adds overlays."""
    return (live.member.plant.seed, live.member.base_minute, tuple(live.member.overlays))


@dataclass(frozen=True)
class Quarantine:
    """A sandbox set aside because its plant could not be read or its values failed: it is not ticked
    until ``until`` (wall seconds) or until it changes (a reset, or a change that asks for a reload)."""

    generation: tuple[object, ...]
    until: float
    error: str


@dataclass
class LiveFrame:
    """One sandbox's tick: its simulated time (Unix seconds), its sensor values, the events since its last tick
    and how fast its clock runs (simulated seconds per wall second)."""

    sim_ts: float
    values: dict[str, float]
    events: list[dict[str, Any]] = field(default_factory=list)
    time_scale: int = 1


class LiveTicker:
    """Live values of the watched sandboxes, second by second, each on its own clock (1× to 3600×).

    The engine gives each minute's values (exactly what the history API shows for it); between two
    minutes they move linearly, so a chart's live tail meets its history without a gap or a jump. Each
    sandbox keeps the minute of its simulated now and the one after; only sandboxes whose clock entered
    a new minute are computed, in one engine call for all of them. The plants are read again only for
    a new viewer, a change (``live_reload_request``) or a reset; an end or a reset is seen in one query
    on the public schema."""

    def __init__(self, quarantined: dict[int, Quarantine] | None = None) -> None:
        self.sandboxes: dict[int, LiveSandbox] = {}
        self.quarantined: dict[int, Quarantine] = {} if quarantined is None else quarantined
        self.order: list[int] = []
        self.batch: LiveBatch | None = None
        # Every watched sensor's values at each sandbox's minute and the next, and its alarm state, in
        # batch order (each LiveSandbox holds views of its part).
        self.now_all, self.next_all, self.after_all = np.empty(0), np.empty(0), np.empty(0)
        self.outside_all = np.empty(0, dtype=bool)
        self.low, self.high, self.band = np.empty(0), np.empty(0), np.empty(0)

    def refresh(self, viewed: list[int], *, now: float | None = None) -> None:
        """(Database) Load the newly watched, reset or changed sandboxes; drop the unwatched and the ended.
        A quarantined sandbox is loaded again once it changed or its time (at wall time ``now``) is up."""
        now = time.time() if now is None else now
        reloads = live_reloads_take()  # an anomaly, an optimisation or a clock change was just applied
        ready = live_sandboxes_ready(viewed)
        for sandbox_id in viewed:
            known = self.sandboxes.get(sandbox_id)
            if sandbox_id not in ready:  # ended, being reset, or never a demo
                self.sandboxes.pop(sandbox_id, None)
                self.quarantined.pop(sandbox_id, None)
                continue
            held = self.quarantined.get(sandbox_id)
            if held is not None:
                if held.generation == ready[sandbox_id] and sandbox_id not in reloads and now < held.until:
                    continue
                del self.quarantined[sandbox_id]  # changed, or served its time: try it again
            if known is not None and known.generation == ready[sandbox_id] and sandbox_id not in reloads:
                continue
            same_schema = known is not None and known.generation == ready[sandbox_id]
            try:
                loaded = live_sandbox_load(
                    sandbox_id, triggered_seen=known.triggered_seen if known is not None and same_schema else None
                )
            except DatabaseError as exc:  # its schema dropped or replaced between the query above and now
                logger.info("sandbox %s not loaded this tick (%s)", sandbox_id, exc)
                self.sandboxes.pop(sandbox_id, None)
                continue
            except Exception as exc:  # noqa: BLE001 - its plant cannot be read: that sandbox alone stops
                self.quarantine(sandbox_id, ready[sandbox_id], exc, now)
                continue
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
        for sandbox_id in [i for i, held in self.quarantined.items() if i not in viewed and now >= held.until]:
            del self.quarantined[sandbox_id]

    def quarantine(self, sandbox_id: int, generation: tuple[object, ...], exc: Exception, now: float) -> None:
        """Stop ticking this sandbox for QUARANTINE_SECONDS or until it changes, and say why."""
        self.sandboxes.pop(sandbox_id, None)
        error = f"{type(exc).__name__}: {exc}"
        self.quarantined[sandbox_id] = Quarantine(generation, now + QUARANTINE_SECONDS, error)
        logger.error(
            "sandbox %s quarantined for %d s or until it changes: its live values failed (%s)",
            sandbox_id,
            QUARANTINE_SECONDS,
            error,
            exc_info=exc,
        )

    def frames(self, now: float) -> dict[int, LiveFrame]:
        """Each watched sandbox's tick at wall time ``now`` (Unix seconds). When the tick fails, the
        sandboxes whose values fail are found and quarantined, and the others get their tick."""
        try:
            return self._frames(now)
        except Exception:
            if not self.isolate(now):  # no sandbox fails alone: the tick itself is at fault
                raise
            return self._frames(now)

    def isolate(self, now: float) -> bool:
        """After a failed tick: compute each sandbox alone (its values and events at its minute) and
        quarantine those that fail. The others' computed minutes are dropped, since the failed tick may
        have left them half updated, and computed afresh in a new batch. True when any sandbox failed."""
        lives = list(self.sandboxes.values())
        minutes = (sim_seconds(lives, now) // 60).astype(np.int64).tolist() if lives else []
        failed = False
        for live, minute in zip(lives, minutes, strict=True):
            try:
                member_probe(live.member, minute)
            except Exception as exc:  # noqa: BLE001 - whatever fails, it is this sandbox's alone
                self.quarantine(live.sandbox_id, live.generation, exc, now)
                failed = True
        for live in self.sandboxes.values():
            live.minute = live.after_minute = NO_MINUTE
        self.batch = None
        return failed

    def _frames(self, now: float) -> dict[int, LiveFrame]:
        lives = list(self.sandboxes.values())
        if not lives:
            return {}
        if (
            self.batch is None
            or self.order != list(self.sandboxes)
            or any(member is not live.member for member, live in zip(self.batch.members, lives, strict=True))
        ):
            self.rebuild(lives)
        batch = self.batch
        assert batch is not None
        sim = sim_seconds(lives, now)
        minute = (sim // 60).astype(np.int64)
        cached = np.fromiter((live.minute for live in lives), dtype=np.int64, count=len(lives))
        prepared = np.fromiter((live.after_minute for live in lives), dtype=np.int64, count=len(lives))
        moved = minute != cached
        shifted = moved & (minute == cached + 1)  # the usual new minute: the last "next" is this "now"...
        ready = shifted & (prepared == minute + 1)  # ...and the one after it was computed ahead
        self._copy(self.now_all, self.next_all, shifted)
        self._copy(self.next_all, self.after_all, ready)
        fresh = moved & ~shifted  # a new viewer, a changed plant, or a clock faster than a minute a tick
        if fresh.any():
            self._compute(self.now_all, np.nonzero(fresh)[0], minute)
        if (moved & ~ready).any():
            self._compute(self.next_all, np.nonzero(moved & ~ready)[0], minute + 1)
        for i, at in zip(np.nonzero(moved)[0].tolist(), minute[moved].tolist(), strict=True):
            lives[i].minute = at
        self.prefetch(lives, sim, minute)
        events = self.events(lives, np.nonzero(moved)[0], minute)
        fraction = np.repeat((sim - minute * 60) / 60, batch.sizes)
        values = np.round(self.now_all + (self.next_all - self.now_all) * fraction, 4).tolist()
        result = {}
        for i, (live, seconds, start, size) in enumerate(
            zip(lives, sim.tolist(), batch.out_offsets.tolist(), batch.sizes.tolist(), strict=True)
        ):
            frame_values = dict(zip(live.sensor_keys, values[start : start + size], strict=True))
            result[live.sandbox_id] = LiveFrame(seconds, frame_values, events.get(i, []), live.time_scale)
        return result

    def _copy(self, target: NDArray[np.float64], source: NDArray[np.float64], members: NDArray[np.bool_]) -> None:
        assert self.batch is not None
        if members.all():
            np.copyto(target, source)
        elif members.any():
            positions = self.batch.member_positions(np.nonzero(members)[0].tolist())
            target[positions] = source[positions]

    def _compute(self, target: NDArray[np.float64], which: NDArray[np.intp], minutes: NDArray[np.int64]) -> None:
        """The values of the ``which`` sandboxes at their ``minutes`` into ``target``: one engine call."""
        assert self.batch is not None
        if len(which) == len(self.batch.members):
            np.copyto(target, self.batch.tick_into(minutes))
        else:
            positions = self.batch.member_positions(which.tolist())
            target[positions] = self.batch.tick_into(minutes[which], which.tolist())[positions]

    def prefetch(self, lives: list[LiveSandbox], sim: NDArray[np.float64], minute: NDArray[np.int64]) -> None:
        """Compute, a few sandboxes a tick, the minute after each sandbox's next one, so that a new
        minute costs no engine work: at 1× all sandboxes enter a new minute in the same tick, and this
        spreads the engine's work over the minute before it. The soonest due go first; sandboxes whose
        clock passes a minute in a few ticks are computed when they get there instead."""
        assert self.batch is not None
        prepared = np.fromiter((live.after_minute for live in lives), dtype=np.int64, count=len(lives))
        scale = np.fromiter((live.time_scale for live in lives), dtype=np.float64, count=len(lives))
        wanted = np.nonzero((prepared != minute + 2) & (scale <= PREFETCH_MAX_SCALE))[0]
        if not len(wanted):
            return
        due_in = ((minute[wanted] + 1) * 60 - sim[wanted]) / scale[wanted]  # wall seconds
        which = np.sort(wanted[np.argsort(due_in, kind="stable")[: math.ceil(len(lives) / PREFETCH_TICKS)]])
        self._compute(self.after_all, which, minute + 2)
        for i, at in zip(which.tolist(), (minute[which] + 2).tolist(), strict=True):
            lives[i].after_minute = at

    def rebuild(self, lives: list[LiveSandbox]) -> None:
        """A new batch for a new set of sandboxes: their computed minutes and alarm state carry over."""
        if self.batch is not None:
            self.batch.keep_state()
        self.batch = batch = LiveBatch([live.member for live in lives])
        # The plants are long-lived and number a million objects at 1,000 sandboxes: left to the cyclic
        # garbage collector, its full pass over them stalls one tick now and then by about a second.
        gc.freeze()
        self.order = list(self.sandboxes)
        sizes = batch.sizes.tolist()
        computed = [
            live.minute != NO_MINUTE and len(live.now_values) == n for live, n in zip(lives, sizes, strict=True)
        ]
        self.now_all = np.concatenate(
            [live.now_values if done else np.zeros(n) for live, n, done in zip(lives, sizes, computed, strict=True)]
        )
        self.next_all = np.concatenate(
            [live.next_values if done else np.zeros(n) for live, n, done in zip(lives, sizes, computed, strict=True)]
        )
        ahead = [done and live.after_minute == live.minute + 2 for live, done in zip(lives, computed, strict=True)]
        self.after_all = np.concatenate(
            [live.after_values if done else np.zeros(n) for live, n, done in zip(lives, sizes, ahead, strict=True)]
        )
        self.outside_all = np.concatenate(
            [
                live.outside if live.outside is not None else np.zeros(n, dtype=bool)
                for live, n in zip(lives, sizes, strict=True)
            ]
        )
        self.low, self.high, self.band = (
            np.concatenate([getattr(live.limits, name) for live in lives]) for name in ("low", "high", "band")
        )
        for live, start, n, done in zip(lives, batch.out_offsets.tolist(), sizes, computed, strict=True):
            live.minute = live.minute if done else NO_MINUTE
            live.after_minute = live.after_minute if done and live.after_minute == live.minute + 2 else NO_MINUTE
            live.now_values, live.next_values = self.now_all[start : start + n], self.next_all[start : start + n]
            live.after_values = self.after_all[start : start + n]
            if live.outside is not None:
                live.outside = self.outside_all[start : start + n]

    def values(self, now: float) -> dict[int, dict[str, float]]:
        """Each watched sandbox's sensor values at wall time ``now``, keyed by sensor id."""
        return {sandbox_id: frame.values for sandbox_id, frame in self.frames(now).items()}

    def events(
        self, lives: list[LiveSandbox], moved: NDArray[np.intp], minute: NDArray[np.int64]
    ) -> dict[int, list[Any]]:
        """The events of this tick, by position in ``lives``: those triggered by hand since the last tick;
        and for each sandbox that entered a new minute, the engine's events that began since its last
        tick, its readings that left (or came back into) their normal range, and its NOx permit
        crossings. The range rule judges every such sandbox's new minute in one numpy operation."""
        found: dict[int, list[Any]] = {}
        for i, live in enumerate(lives):
            if live.pending:
                found[i], live.pending = live.pending, []
        if not len(moved):
            return found
        assert self.batch is not None
        seen = np.fromiter((live.seen_minute for live in lives), dtype=np.int64, count=len(lives))
        starting = self.batch.starting(seen, minute)  # from the cached days, for every sandbox at once
        for i in moved.tolist():
            live, now = lives[i], int(minute[i])
            member = live.member
            cached = member.cached_from <= live.seen_minute and now < member.cached_to
            if live.seen_minute != NO_MINUTE and (starting[i] or not cached):
                # from the last minute seen on: an anomaly injected within it starts in it (keys sent are skipped)
                for event in member.events_between(live.seen_minute, now + 1):
                    if event.key not in live.sent:
                        live.sent[event.key] = event.minute
                        found.setdefault(i, []).append(engine_event(event))
            if live.sent:
                live.sent = {key: at for key, at in live.sent.items() if at >= now - 1}
            live.seen_minute = now
        judged = [i for i in moved.tolist() if lives[i].outside is not None]
        first = [i for i in moved.tolist() if lives[i].outside is None]
        if first:  # what is already outside its range when the first viewer arrives raises nothing
            positions = self.batch.member_positions(first)
            values = self.now_all[positions]
            self.outside_all[positions] = (values < self.low[positions]) | (values > self.high[positions])
            for i in first:
                start, n = int(self.batch.out_offsets[i]), int(self.batch.sizes[i])
                lives[i].outside = self.outside_all[start : start + n]
                permit = lives[i].permit
                if permit is not None:
                    lives[i].permit_over = np.zeros(len(permit.assets), dtype=bool)
        if judged:
            self.limit_events(lives, judged, minute, found)
            permit_events(lives, [i for i in judged if lives[i].permit is not None], minute, found)
        for events in found.values():
            events.sort(key=lambda event: event["sim_ts"])
        return found

    def limit_events(
        self, lives: list[LiveSandbox], which: list[int], minute: NDArray[np.int64], found: dict[int, list[Any]]
    ) -> None:
        """Readings of the ``which`` sandboxes' new minute that left their normal range or came back into it."""
        assert self.batch is not None
        every = len(which) == len(lives)
        positions: slice | NDArray[np.int64] = slice(None) if every else self.batch.member_positions(which)
        values = self.now_all[positions]
        limits = Limits(self.low[positions], self.high[positions], self.band[positions])
        left, returned, after = limit_crossings(values, limits, self.outside_all[positions])
        self.outside_all[positions] = after
        changed = np.nonzero(left | returned)[0]
        if not len(changed):
            return
        starts = np.cumsum([0, *(int(self.batch.sizes[i]) for i in which)])
        for position in changed.tolist():
            k = int(np.searchsorted(starts, position, side="right")) - 1
            live, index = lives[which[k]], position - int(starts[k])
            sensor = live.member.plant.sensors[index]
            tag = live.member.plant.assets[sensor.asset_index].tag
            value, at = float(values[position]), int(minute[which[k]])
            if left[position]:
                side = (
                    f"above its normal range (up to {sensor.high:g})"
                    if value > sensor.high
                    else f"below its normal range (from {sensor.low:g})"
                )
                kind, message = "out_of_range", f"{tag} {sensor.name}: {value:.4g} {sensor.unit}, {side}"
            else:
                kind = "back_in_range"
                message = f"{tag} {sensor.name}: {value:.4g} {sensor.unit}, back in its normal range"
            found.setdefault(which[k], []).append(
                live_event(
                    key=f"{kind}:{sensor.key}:{at}",
                    kind=kind,
                    asset_tag=tag,
                    message=message,
                    sim_ts=from_minute(at),
                    sensor_id=int(live.sensor_ids[index]),
                )
            )


def member_probe(member: LiveMember, minute: int) -> None:
    """The engine's work for one sandbox's tick, alone: its values at ``minute`` and its events up to it."""
    LiveBatch([member]).tick(minute)
    member.events_between(minute - 1, minute + 1)


def engine_event(event: Event) -> dict[str, Any]:
    return live_event(
        key=event.key, kind=event.kind, asset_tag=event.asset, message=event.message, sim_ts=from_minute(event.minute)
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
    """Each sandbox's simulated now (Unix seconds) at wall time ``now``: ``plant_sim_now``, vectorised."""
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
        "time_scale": frame.time_scale,
        "values": frame.values,
        "events": frame.events,
    }


async def live_tick(ticker: LiveTicker, channel_layer: Any, *, now: float | None = None) -> int:
    """One tick: who is watching, their values, one message per sandbox. Returns how many were sent."""
    now = now or time.time()
    viewed = await asyncio.to_thread(sandboxes_viewed, now=now)
    await asyncio.to_thread(ticker.refresh, viewed, now=now)
    frames = ticker.frames(now)
    await ticks_send(
        channel_layer, {sandbox_id: tick_message(ts=now, frame=frame) for sandbox_id, frame in frames.items()}
    )
    return len(frames)


@dataclass
class TickRecord:
    """How the simulator's ticks go, sent with its heartbeat for /healthz: when one last succeeded (wall
    seconds), how many failed in a row since, and the last error."""

    last_tick_ok_at: float
    failed_ticks: int = 0
    error: str = ""

    def succeeded(self, now: float) -> None:
        self.last_tick_ok_at, self.failed_ticks, self.error = now, 0, ""

    def failed(self, exc: Exception) -> None:
        self.failed_ticks += 1
        self.error = f"{type(exc).__name__}: {exc}"

    def status(self, ticker: LiveTicker) -> dict[str, Any]:
        quarantined = {str(sandbox_id): held.error for sandbox_id, held in ticker.quarantined.items()}
        return {**asdict(self), "quarantined": quarantined}

    def state(self, ticker: LiveTicker) -> tuple[object, ...]:
        """What /healthz should learn at once when it changes, not at the next heartbeat."""
        return min(self.failed_ticks, TICK_FAILURES_UNHEALTHY), frozenset(ticker.quarantined)


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
    record = TickRecord(last_tick_ok_at=time.time())
    try:
        while not stopping.is_set() and (ticks is None or count < ticks):
            started = time.monotonic()
            if started - last_heartbeat >= settings.HEARTBEAT_INTERVAL or last_heartbeat == 0.0:
                await asyncio.to_thread(heartbeat_write, "simulator", instance, status=record.status(ticker))
                last_heartbeat = started
            before = record.state(ticker)
            try:
                await live_tick(ticker, channel_layer)
                record.succeeded(time.time())
            except (redis.RedisError, OSError, DatabaseError) as exc:  # Redis or PostgreSQL away: tick again
                logger.warning("live tick failed (%s: %s); trying again next tick", type(exc).__name__, exc)
                record.failed(exc)
                last_heartbeat = 0.0  # a restarted Redis has lost the heartbeat: write it as soon as it is back
            except Exception as exc:  # anything else: a clean ticker reads every plant again (not the quarantined)
                logger.exception("live tick failed; trying again next tick")
                record.failed(exc)
                ticker = LiveTicker(ticker.quarantined)
            if record.state(ticker) != before:
                last_heartbeat = 0.0
            count += 1
            pause = max(0.0, settings.LIVE_TICK_SECONDS - (time.monotonic() - started))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=pause)
    finally:
        heartbeat_clear("simulator", instance)  # stopped means not alive, now rather than at expiry
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        logger.info("simulator %s stopped", instance)
