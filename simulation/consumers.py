"""``ws(s)://<sandbox host>/ws/live/``: the sandbox's live plant values, one message per simulator tick.

Authenticated by the session on the sandbox's host (its owner, a partner colleague or staff) or by
``?token=<the sandbox's access token>``; anyone else is closed with 4403 (a host that is no sandbox:
4404, by ``SandboxFromHostMiddleware``). ``{"type": "subscribe", "sensors": [ids]}`` narrows the ticks
to those sensors; until then every sensor is sent.

A tick costs the consumer little, since a web process forwards every tick of every sandbox it has
viewers of: the viewer's registration is renewed by a timer, not on a tick; a subscribed viewer's
values are picked by its own few sensors; and the text of a whole tick is made once per process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from channels.db import database_sync_to_async
from django_tenants.utils import schema_context

from sandboxes.consumers import SandboxMemberConsumer
from sandboxes.models import Sandbox
from simulation.live import VIEWER_TTL_SECONDS, live_group, viewer_register
from simulation.models import Sensor

RENEW_EVERY_SECONDS = VIEWER_TTL_SECONDS / 3
SUBSCRIBE_HELP = 'Send {"type": "subscribe", "sensors": [<sensor id>, ...]}.'


def sensor_ids(sandbox: Sandbox) -> set[int]:
    with schema_context(sandbox.schema_name):
        return set(Sensor.objects.values_list("pk", flat=True))


class LiveConsumer(SandboxMemberConsumer):
    async def member_connect(self, sandbox: Sandbox) -> None:
        self.sandbox_id: int = sandbox.pk
        self.sensors: set[int] = await database_sync_to_async(sensor_ids)(sandbox)
        self.subscribed: list[str] | None = None  # None: every sensor
        await self.channel_layer.group_add(live_group(self.sandbox_id), self.channel_name)
        await asyncio.to_thread(viewer_register, self.sandbox_id)
        self.renewal = asyncio.create_task(self.registration_renew())

    async def registration_renew(self) -> None:
        """Keep the sandbox registered as watched while the socket is open (once per process and sandbox
        per period: the other viewers of the sandbox in this process find it renewed)."""
        while True:
            await asyncio.sleep(RENEW_EVERY_SECONDS)
            if time.monotonic() - _renewed.get(self.sandbox_id, 0.0) < RENEW_EVERY_SECONDS / 2:
                continue
            with contextlib.suppress(Exception):  # Redis away for a moment: the next renewal is in time
                await asyncio.to_thread(viewer_register, self.sandbox_id)
                _renewed[self.sandbox_id] = time.monotonic()

    async def dispatch(self, message: dict[str, Any]) -> None:
        """A tick goes straight to its handler. Channels closes stale database connections (a thread hop)
        before every handler, which a tick, touching no database, does not need: at 250 ticks a second
        per process that hop was the largest cost of delivering them (py-spy, docs/benchmarks.md)."""
        if message["type"] == "live.tick":
            await self.live_tick(message)
            return
        await super().dispatch(message)

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "renewal"):
            self.renewal.cancel()
        if hasattr(self, "sandbox_id"):
            _whole_ticks.pop(self.sandbox_id, None)  # made again by another viewer's next tick, if any
            await self.channel_layer.group_discard(live_group(self.sandbox_id), self.channel_name)

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        try:
            return json.loads(text_data)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the decoder's stack
            return None  # answered as a malformed message; the connection stays open

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        sensors = content.get("sensors") if isinstance(content, dict) else None
        if (
            not isinstance(content, dict)
            or content.get("type") != "subscribe"
            or not isinstance(sensors, list)
            or not all(isinstance(sensor, int) and not isinstance(sensor, bool) for sensor in sensors)
        ):
            await self.send_json({"type": "error", "detail": SUBSCRIBE_HELP})
            return
        foreign = sorted(set(sensors) - self.sensors)
        if foreign:
            await self.send_json({"type": "error", "detail": f"Not sensors of this sandbox, ignored: {foreign}."})
        chosen = sorted({sensor for sensor in sensors if sensor in self.sensors})
        self.subscribed = [str(sensor) for sensor in chosen]
        await self.send_json({"type": "subscribed", "sensors": chosen})

    async def live_tick(self, event: dict[str, Any]) -> None:
        if self.subscribed is None:
            await self.send(text_data=tick_text(self.sandbox_id, event))
            return
        values = event["values"]
        picked = {sensor: values[sensor] for sensor in self.subscribed if sensor in values}
        await self.send(text_data=json.dumps(tick_body(event, picked)))


def tick_body(event: dict[str, Any], values: dict[str, float]) -> dict[str, Any]:
    """What a viewer receives of a tick (docs/api.md)."""
    return {
        "type": "tick",
        "seq": event.get("seq"),
        "ts": event["ts"],
        "sim_ts": event["sim_ts"],
        "time_scale": event.get("time_scale", 1),
        "values": values,
        "events": event["events"],
    }


_renewed: dict[int, float] = {}  # sandbox id → when this process last renewed its registration (monotonic)
_whole_ticks: dict[int, tuple[str, str]] = {}  # sandbox id → (its last tick's ts, that tick's text)


def tick_text(sandbox_id: int, event: dict[str, Any]) -> str:
    """The text of a whole tick, made by the first of this process's viewers of the sandbox to send it."""
    made = _whole_ticks.get(sandbox_id)
    if made is None or made[0] != event["ts"]:
        made = (event["ts"], json.dumps(tick_body(event, event["values"])))
        _whole_ticks[sandbox_id] = made
    return made[1]
