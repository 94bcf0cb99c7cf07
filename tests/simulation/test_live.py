"""The live plant: the simulator's tick, the /ws/live/ websocket (real Redis channel layer), and the
live values continuing the history the API serves."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
import pytest
import redis
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django_tenants.utils import schema_context

from demoportal.asgi import application
from sandboxes.consumers import CLOSE_FORBIDDEN
from sandboxes.models import Sandbox
from sandboxes.tokens import access_token_issue
from simulation.broadcast import ticks_send
from simulation.consumers import LiveConsumer
from simulation.engine.signals import sensor_values
from simulation.live import live_group, live_sandbox_load, sandboxes_viewed, viewer_register
from simulation.models import Sensor
from simulation.selectors.plant import plant_get, plant_layout
from simulation.simulator import LiveTicker, live_tick
from tests.conftest import TEST_SANDBOX_SLUG

HOST = f"{TEST_SANDBOX_SLUG}.localhost"


@pytest.fixture
def live(committed_db: None, test_redis: redis.Redis) -> dict[str, Any]:
    """The session's sandbox with a fresh access token and the ids of two of its sensors."""
    sandbox = Sandbox.objects.get(slug=TEST_SANDBOX_SLUG)
    token = access_token_issue(sandbox=sandbox)
    with schema_context(sandbox.schema_name):
        sensors = list(Sensor.objects.order_by("index").values_list("pk", flat=True)[:2])
    return {"sandbox": sandbox, "token": token, "sensors": sensors}


def communicator(query: str = "") -> WebsocketCommunicator:
    headers = [(b"host", HOST.encode()), (b"origin", f"http://{HOST}".encode())]
    return WebsocketCommunicator(application, f"/ws/live/{query}", headers=headers)


async def connected(token: str) -> WebsocketCommunicator:
    client = communicator(f"?token={token}")
    accepted, _ = await client.connect(timeout=10)
    assert accepted
    return client


@pytest.mark.asyncio
async def test_a_viewer_gets_one_tick_per_simulator_tick_with_the_sensors_it_subscribed_to(
    live: dict[str, Any],
) -> None:
    client = await connected(live["token"])
    await client.send_json_to({"type": "subscribe", "sensors": live["sensors"]})
    assert (await client.receive_json_from(timeout=5)) == {"type": "subscribed", "sensors": sorted(live["sensors"])}

    sent = await live_tick(LiveTicker(), get_channel_layer())
    tick = await client.receive_json_from(timeout=5)

    assert sent == 1  # one message for the one watched sandbox
    assert tick["type"] == "tick"
    assert set(tick["values"]) == {str(sensor) for sensor in live["sensors"]}
    assert all(isinstance(value, float) for value in tick["values"].values())
    assert tick["ts"] == tick["sim_ts"]  # at 1× the plant runs on wall time
    assert tick["time_scale"] == 1  # what the sandbox bar shows the clock's speed from
    assert tick["events"] == []
    await client.disconnect()


@pytest.fixture(params=["channels_redis.core.RedisChannelLayer", "channels_redis.pubsub.RedisPubSubChannelLayer"])
def redis_layer(request: pytest.FixtureRequest, settings: Any) -> str:
    """Each of the two Redis channel layers the deployment can choose (CHANNEL_LAYER_BACKEND)."""
    settings.CHANNEL_LAYERS = {"default": {**settings.CHANNEL_LAYERS["default"], "BACKEND": request.param}}
    return str(request.param)  # channels drops its layers when the setting changes, here and on the way back


@pytest.mark.asyncio
async def test_two_viewers_of_one_sandbox_see_identical_values(live: dict[str, Any], redis_layer: str) -> None:
    first, second = await connected(live["token"]), await connected(live["token"])
    await second.send_json_to({"type": "subscribe", "sensors": live["sensors"]})
    await second.receive_json_from(timeout=5)

    ticker = LiveTicker()
    await live_tick(ticker, get_channel_layer())
    await live_tick(ticker, get_channel_layer())
    ticks = [[await client.receive_json_from(timeout=5) for _ in range(2)] for client in (first, second)]

    assert len(ticks[0][0]["values"]) > 100  # no subscription: every sensor
    for whole, subscribed in zip(ticks[0], ticks[1], strict=True):
        assert (subscribed["seq"], subscribed["sim_ts"]) == (whole["seq"], whole["sim_ts"])
        assert subscribed["values"] == {sensor: whole["values"][sensor] for sensor in subscribed["values"]}
        assert set(subscribed["values"]) == {str(sensor) for sensor in live["sensors"]}
    assert ticks[0][1]["seq"] == ticks[0][0]["seq"] + 1  # consecutive ticks: a browser knows none was missed
    await first.disconnect()
    await second.disconnect()


@pytest.mark.asyncio
async def test_a_new_viewer_registers_its_sandbox_as_watched_at_once(live: dict[str, Any]) -> None:
    client = await connected(live["token"])

    deadline = time.monotonic() + 5  # the registration follows the accept
    while not sandboxes_viewed() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert sandboxes_viewed() == [live["sandbox"].pk]  # ticked from the next tick on, not after a renewal
    await client.disconnect()


@pytest.mark.asyncio
async def test_ticks_are_sent_to_every_watched_sandboxes_group_numbered_per_sandbox(
    test_redis: redis.Redis, redis_layer: str
) -> None:
    layer = get_channel_layer()
    channels = {sandbox_id: await layer.new_channel() for sandbox_id in (900_001, 900_002)}
    for sandbox_id, channel in channels.items():
        await layer.group_add(live_group(sandbox_id), channel)

    await ticks_send(layer, {})  # nothing watched: every sequence starts again
    for _ in range(2):
        await ticks_send(layer, {sandbox_id: {"type": "live.tick", "of": sandbox_id} for sandbox_id in channels})
    await ticks_send(layer, {900_002: {"type": "live.tick", "of": 900_002}})
    received = {sandbox: [await layer.receive(channel) for _ in range(2)] for sandbox, channel in channels.items()}

    assert [(tick["of"], tick["seq"]) for tick in received[900_001]] == [(900_001, 1), (900_001, 2)]
    assert [(tick["of"], tick["seq"]) for tick in received[900_002]] == [(900_002, 1), (900_002, 2)]
    assert (await layer.receive(channels[900_002]))["seq"] == 3
    await ticks_send(layer, {900_001: {"type": "live.tick", "of": 900_001}})
    assert (await layer.receive(channels[900_001]))["seq"] == 1  # unwatched for a tick: a new sequence
    for sandbox_id, channel in channels.items():
        await layer.group_discard(live_group(sandbox_id), channel)


@pytest.mark.asyncio
@pytest.mark.parametrize("query", ["", "?token=not-this-sandboxes-token"])
async def test_without_the_session_or_the_sandboxes_token_the_socket_is_closed_with_4403(
    live: dict[str, Any], query: str
) -> None:
    client = communicator(query)
    accepted, _ = await client.connect(timeout=10)
    assert accepted  # so that the close code reaches the browser

    assert await client.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}


@pytest.mark.asyncio
async def test_a_malformed_message_gets_an_error_and_the_connection_stays(live: dict[str, Any]) -> None:
    client = await connected(live["token"])

    await client.send_to(text_data="{not json")
    assert (await client.receive_json_from(timeout=5))["type"] == "error"
    await client.send_json_to({"type": "subscribe", "sensors": ["a", True]})
    assert (await client.receive_json_from(timeout=5))["type"] == "error"

    await client.send_json_to({"type": "subscribe", "sensors": [live["sensors"][0]]})
    assert (await client.receive_json_from(timeout=5))["type"] == "subscribed"
    await client.disconnect()


@pytest.mark.asyncio
async def test_another_sandboxes_sensors_are_ignored_with_an_error(live: dict[str, Any]) -> None:
    client = await connected(live["token"])

    await client.send_json_to({"type": "subscribe", "sensors": [live["sensors"][0], 99_999_999]})

    assert "99999999" in (await client.receive_json_from(timeout=5))["detail"]
    assert (await client.receive_json_from(timeout=5))["sensors"] == [live["sensors"][0]]
    await client.disconnect()


def test_live_values_continue_the_history_at_each_minute(live: dict[str, Any]) -> None:
    """On a whole minute the live value is the history's value for that minute: no gap, no jump."""
    sandbox = live["sandbox"]
    viewer_register(sandbox.pk)
    ticker = LiveTicker()
    minute = int(time.time() // 60)
    ticker.refresh(sandboxes_viewed())

    at_minute = ticker.values(minute * 60.0)[sandbox.pk]
    halfway = ticker.values(minute * 60.0 + 30)[sandbox.pk]
    with schema_context(sandbox.schema_name):
        plant = plant_get()
        assert plant is not None
        layout = plant_layout(plant)
        history = sensor_values(
            layout, range(len(layout.sensors)), np.array([minute, minute + 1]), base_minute=plant.base_minute
        )
        ids = dict(Sensor.objects.values_list("index", "pk"))
    for index in range(0, len(layout.sensors), 50):
        now, then = history[index]
        assert at_minute[str(ids[index])] == pytest.approx(now, abs=1e-3)
        assert halfway[str(ids[index])] == pytest.approx((now + then) / 2, abs=1e-3)


def test_a_sandbox_that_is_not_ready_is_not_ticked(live: dict[str, Any]) -> None:
    sandbox = live["sandbox"]
    Sandbox.objects.filter(pk=sandbox.pk).update(status=Sandbox.Status.RESETTING)
    try:
        assert live_sandbox_load(sandbox.pk) is None
        viewer_register(sandbox.pk)
        ticker = LiveTicker()
        ticker.refresh(sandboxes_viewed())
        assert ticker.values(time.time()) == {}
    finally:
        Sandbox.objects.filter(pk=sandbox.pk).update(status=Sandbox.Status.READY)


def test_a_registration_lapses_without_renewal(test_redis: redis.Redis) -> None:
    viewer_register(7, now=1000.0)

    assert sandboxes_viewed(now=1001.0) == [7]
    assert sandboxes_viewed(now=1000.0 + 31) == []


def test_the_next_minute_reuses_the_computed_one_and_matches_a_fresh_computation(live: dict[str, Any]) -> None:
    sandbox = live["sandbox"]
    viewer_register(sandbox.pk)
    minute = int(time.time() // 60)
    running, fresh = LiveTicker(), LiveTicker()
    running.refresh(sandboxes_viewed())
    running.values(minute * 60.0)
    running.refresh(sandboxes_viewed())  # same plant: only the minute after is computed
    fresh.refresh(sandboxes_viewed())

    assert running.values((minute + 1) * 60.0 + 20) == fresh.values((minute + 1) * 60.0 + 20)


@pytest.mark.asyncio
async def test_a_message_nested_deeper_than_the_decoders_stack_is_a_malformed_one() -> None:
    """Answered with the malformed-message error (``receive_json`` gets None), not a RecursionError that
    closes the socket."""
    assert await LiveConsumer.decode_json("[" * 100_000 + "]" * 100_000) is None
