"""One sandbox whose live values fail never stops the others' ticks: it is quarantined, logged and reported
(the simulator's heartbeat, /healthz) until it changes; and /healthz notices ticks that keep failing."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import redis
from django.test import Client
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from demoportal.core.health import TICK_STALL_SECONDS, health_report, heartbeat_write
from demoportal.core.models import User
from sandboxes.models import Sandbox
from sandboxes.services import sandbox_create
from simulation import simulator
from simulation.engine.live import LiveMember
from simulation.live import live_reload_request
from simulation.models import Plant
from simulation.simulator import QUARANTINE_SECONDS, LiveTicker, simulator_run


@pytest.fixture
def cement(db: None) -> Sandbox:
    return sandbox_create(slug="isolated-cement", name="Cement", scenario="cement")


def ticked(ticker: LiveTicker, viewed: list[int], now: float) -> set[int]:
    ticker.refresh(viewed, now=now)
    return set(ticker.frames(now))


def test_a_sandbox_whose_plant_cannot_be_read_is_quarantined_and_the_others_keep_ticking(
    sandbox: Sandbox, cement: Sandbox, test_redis: redis.Redis
) -> None:
    with schema_context(cement.schema_name):  # a scenario this version of the code no longer knows
        Plant.objects.update(scenario="retired_scenario")
    ticker, now = LiveTicker(), time.time()

    assert ticked(ticker, [sandbox.pk, cement.pk], now) == {sandbox.pk}
    assert "retired_scenario" in ticker.quarantined[cement.pk].error
    assert ticked(ticker, [sandbox.pk, cement.pk], now + 1) == {sandbox.pk}  # not retried every tick

    with schema_context(cement.schema_name):  # fixed, and the plant says it changed
        Plant.objects.update(scenario="cement")
    live_reload_request(cement.pk)
    assert ticked(ticker, [sandbox.pk, cement.pk], now + 2) == {sandbox.pk, cement.pk}
    assert ticker.quarantined == {}


def test_a_sandbox_whose_values_fail_is_quarantined_and_retried_later(
    sandbox: Sandbox, cement: Sandbox, test_redis: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any fault in one sandbox's computation (here made to happen for cement plants) costs that sandbox alone."""
    original = LiveMember.cache_day

    def failing_for_cement(member: LiveMember, minute: int) -> bool:
        if member.plant.scenario.key == "cement":
            raise FloatingPointError("a fault in this plant's values")
        return original(member, minute)

    monkeypatch.setattr(LiveMember, "cache_day", failing_for_cement)
    ticker, now = LiveTicker(), time.time()

    ticker.refresh([sandbox.pk, cement.pk], now=now)
    frames = ticker.frames(now)

    assert set(frames) == {sandbox.pk}
    assert frames[sandbox.pk].values  # the refinery's values, computed as ever
    assert "FloatingPointError" in ticker.quarantined[cement.pk].error

    monkeypatch.setattr(LiveMember, "cache_day", original)
    assert ticked(ticker, [sandbox.pk, cement.pk], now + 1) == {sandbox.pk}  # still quarantined
    assert ticked(ticker, [sandbox.pk, cement.pk], now + QUARANTINE_SECONDS + 1) == {sandbox.pk, cement.pk}


@pytest.mark.usefixtures("committed_db")
def test_healthz_says_the_simulator_fails_when_its_ticks_keep_failing(
    test_redis: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken_send(layer: Any, messages: dict[int, Any]) -> None:
        raise RuntimeError("a bug in sending ticks")

    monkeypatch.setattr(simulator, "ticks_send", broken_send)
    heartbeat_write("worker", "worker@a")

    async def run_until_reported() -> dict[str, Any]:
        running = asyncio.ensure_future(simulator_run(ticks=40))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            check = (await asyncio.to_thread(health_report))[1]["simulator"]
            if "ticks failed" in check.get("error", ""):  # not "no heartbeat" before its first one
                running.cancel()
                return dict(check)
            await asyncio.sleep(0.1)
        running.cancel()
        pytest.fail("the simulator's failing ticks never showed in /healthz")

    report = asyncio.run(run_until_reported())

    assert report["ok"] is False
    assert "RuntimeError: a bug in sending ticks" in report["error"]


def test_healthz_reports_quarantined_sandboxes_and_a_simulator_whose_ticks_stalled(
    client: Client, test_redis: redis.Redis
) -> None:
    heartbeat_write("worker", "worker@a")
    quarantined = {"17": "KeyError: 'retired_scenario'"}
    heartbeat_write(
        "simulator",
        "sim-1",
        status={"last_tick_ok_at": time.time(), "failed_ticks": 0, "error": "", "quarantined": quarantined},
    )

    fine = client.get("/healthz", HTTP_HOST="localhost").json()["checks"]["simulator"]

    assert fine["ok"] is True  # the other sandboxes tick: alive, with one sandbox set aside
    assert fine["quarantined"] == quarantined

    stalled_at = time.time() - 2 * TICK_STALL_SECONDS
    heartbeat_write(
        "simulator", "sim-1", status={"last_tick_ok_at": stalled_at, "failed_ticks": 0, "error": "", "quarantined": {}}
    )
    response = client.get("/healthz", HTTP_HOST="localhost")

    assert response.status_code == 503
    assert "no successful tick" in response.json()["checks"]["simulator"]["error"]


def test_a_quarantined_sandbox_says_so_in_its_own_health(
    sandbox: Sandbox, cement: Sandbox, test_redis: redis.Redis
) -> None:
    staff = APIClient(HTTP_HOST="localhost")
    staff.force_authenticate(User.objects.create_user(email="sales@vendor.example", password="pw", is_staff=True))
    quarantined = {str(cement.pk): "KeyError: 'retired_scenario'"}
    heartbeat_write(
        "simulator",
        "sim-1",
        status={"last_tick_ok_at": time.time(), "failed_ticks": 0, "error": "", "quarantined": quarantined},
    )

    cement_health = staff.get(f"/api/v1/sandboxes/{cement.pk}").json()["health"]
    other_health = staff.get(f"/api/v1/sandboxes/{sandbox.pk}").json()["health"]

    assert "KeyError: 'retired_scenario'" in cement_health["simulator"]
    assert other_health["simulator"] == "ok"


def test_a_tick_that_fails_for_every_sandbox_alike_quarantines_none_and_fails(
    sandbox: Sandbox, cement: Sandbox, test_redis: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When each sandbox computes fine alone, the fault is the tick's own: it fails (the loop logs and
    counts it, /healthz shows it) rather than setting innocent sandboxes aside."""

    def broken_rule(*args: Any) -> Any:
        raise ZeroDivisionError("a fault in the alarm rules")

    ticker, now = LiveTicker(), time.time()
    assert ticked(ticker, [sandbox.pk, cement.pk], now) == {sandbox.pk, cement.pk}  # their first minute judged
    monkeypatch.setattr(simulator, "limit_crossings", broken_rule)

    with pytest.raises(ZeroDivisionError):
        ticked(ticker, [sandbox.pk, cement.pk], now + 60)
    assert ticker.quarantined == {}
