"""The live plant: who is watching which sandbox (Redis), and each watched sandbox's engine inputs.

A viewer's websocket registers its sandbox in one sorted set, scored by when the registration lapses;
the simulator ticks only the sandboxes whose score is in the future. Values for a sandbox go to the
channel-layer group ``live.<sandbox id>``, one message per tick.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, cast

import numpy as np
from django_tenants.utils import schema_context
from numpy.typing import NDArray

from demoportal.core.health import redis_client
from sandboxes.models import Sandbox
from simulation.engine.alarms import Limits, Permit, plant_limits, plant_permit
from simulation.engine.live import LiveMember
from simulation.models import RaisedAlarm, Sensor
from simulation.selectors.plant import plant_get, plant_layout, plant_overlays

VIEWERS_KEY = "live:viewers"
RELOAD_KEY = "live:reload"  # sandboxes whose plant changed: the simulator reads them again
VIEWER_TTL_SECONDS = 30  # a consumer renews its registration well within this
NO_MINUTE = -(2**40)  # a sandbox's values not computed yet


def live_group(sandbox_id: int) -> str:
    return f"live.{sandbox_id}"


def viewer_register(sandbox_id: int, *, now: float | None = None) -> None:
    """This sandbox has a viewer for the next VIEWER_TTL_SECONDS (renewed while the socket is open)."""
    redis_client().zadd(VIEWERS_KEY, {str(sandbox_id): (now or time.time()) + VIEWER_TTL_SECONDS})


def sandboxes_viewed(*, now: float | None = None) -> list[int]:
    """Sandboxes with at least one viewer; lapsed registrations are dropped on the way."""
    client, now = redis_client(), now or time.time()
    client.zremrangebyscore(VIEWERS_KEY, "-inf", now)
    members = cast(list[bytes], client.zrangebyscore(VIEWERS_KEY, now, "+inf"))
    return sorted(int(member) for member in members)


def live_reload_request(sandbox_id: int) -> None:
    redis_client().sadd(RELOAD_KEY, str(sandbox_id))


def live_reloads_take() -> set[int]:
    """The sandboxes whose plant changed since the last call (each is taken once)."""
    client = redis_client()
    pipe = client.pipeline()
    pipe.smembers(RELOAD_KEY)
    pipe.delete(RELOAD_KEY)
    members = cast(set[bytes], pipe.execute()[0])
    return {int(member) for member in members}


@dataclass
class LiveSandbox:
    """What the simulator needs of one watched sandbox: the engine's member, the sensors' ids, the
    plant's clock, and the two minutes of values the ticker interpolates between."""

    sandbox_id: int
    member: LiveMember
    sensor_ids: NDArray[np.int64]  # the database id of the sensor with each engine index
    started_minute: int
    generation: tuple[object, ...] = ()  # what ``live_sandboxes_ready`` reports; changes with a reset
    time_scale: int = 1
    clock_wall: float = 0.0  # the clock's anchor, Unix seconds: simulated = sim + (wall now - wall) × scale
    clock_sim: float = 0.0
    sensor_keys: list[str] = field(default_factory=list)  # str(sensor id), as the tick message keys values
    minute: int = NO_MINUTE  # the minute ``now_values`` hold; ``next_values`` hold the one after
    now_values: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    next_values: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    after_minute: int = NO_MINUTE  # ``after_values`` hold this minute (computed ahead: ``minute + 2`` when ready)
    after_values: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    # The alarm rules' state: which readings are outside their range, which permitted assets are over
    # their NOx limit (None until the first minute is seen), and events waiting for the next tick.
    outside: NDArray[np.bool_] | None = None
    permit_over: NDArray[np.bool_] | None = None
    pending: list[dict[str, Any]] = field(default_factory=list)
    seen_minute: int = NO_MINUTE  # the engine's events up to this minute were sent
    sent: dict[str, int] = field(default_factory=dict)  # keys of the engine's events sent lately, by minute
    triggered_seen: int = 0  # the newest RaisedAlarm already sent (or there before the first viewer)

    @cached_property
    def limits(self) -> Limits:
        return plant_limits(self.member.plant)

    @cached_property
    def permit(self) -> Permit | None:
        return plant_permit(self.member.plant)


def live_sandboxes_ready(sandbox_ids: list[int]) -> dict[int, tuple[object, ...]]:
    """Of these sandboxes, the ready demo ones, each with what changes when it is reset (one query on the
    public schema, no sandbox schema read): the simulator reloads a plant only when this changes."""
    rows = Sandbox.objects.filter(pk__in=sandbox_ids, kind=Sandbox.Kind.DEMO, status=Sandbox.Status.READY)
    return {pk: (schema, reset_at) for pk, schema, reset_at in rows.values_list("pk", "schema_name", "reset_at")}


SEVERITY = {"alarm": "alarm", "permit_exceedance": "alarm", "maintenance_due": "warning", "out_of_range": "warning"}


def live_event(
    *, key: str, kind: str, asset_tag: str, message: str, sim_ts: datetime, sensor_id: int | None = None
) -> dict[str, Any]:
    """An event as a live tick carries it."""
    return {
        "key": key,
        "kind": kind,
        "severity": SEVERITY.get(kind, "info"),
        "asset_tag": asset_tag,
        "sensor_id": sensor_id,
        "message": message,
        "sim_ts": sim_ts.isoformat(),
    }


def live_sandbox_load(sandbox_id: int, *, triggered_seen: int | None = None) -> LiveSandbox | None:
    """The sandbox's plant as it is now, or None when it is not ready (made, reset or ended mid-way).
    With ``triggered_seen`` (a reload), the events triggered since that one wait in ``pending``."""
    sandbox = Sandbox.objects.filter(pk=sandbox_id, kind=Sandbox.Kind.DEMO, status=Sandbox.Status.READY).first()
    if sandbox is None:
        return None
    with schema_context(sandbox.schema_name):
        plant = plant_get()
        if plant is None:
            return None
        layout = plant_layout(plant)
        ids = np.zeros(len(layout.sensors), dtype=np.int64)
        for index, pk in Sensor.objects.values_list("index", "pk"):
            ids[index] = pk
        member = LiveMember(plant=layout, base_minute=plant.base_minute, overlays=plant_overlays(plant))
        anchored = plant.clock_wall_at is not None and plant.clock_sim_at is not None
        newest = RaisedAlarm.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        triggered = (
            RaisedAlarm.objects.select_related("asset").filter(pk__gt=triggered_seen).order_by("pk")
            if triggered_seen is not None
            else []
        )
        pending = [
            live_event(
                key=f"triggered:{t.pk}", kind=t.kind, asset_tag=t.asset.tag, message=t.message, sim_ts=t.occurred_at
            )
            for t in triggered
        ]
        return LiveSandbox(
            sandbox_id=sandbox_id,
            member=member,
            sensor_ids=ids,
            started_minute=plant.base_minute,
            generation=(sandbox.schema_name, sandbox.reset_at),
            time_scale=plant.time_scale if anchored else 1,
            clock_wall=plant.clock_wall_at.timestamp() if plant.clock_wall_at is not None else 0.0,
            clock_sim=plant.clock_sim_at.timestamp() if plant.clock_sim_at is not None else 0.0,
            sensor_keys=[str(pk) for pk in ids.tolist()],
            pending=pending,
            triggered_seen=max(newest, triggered_seen or 0),
        )
