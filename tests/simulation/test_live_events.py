"""Events in the live tick: the engine's, limit crossings, NOx permit, and those triggered by hand."""

from __future__ import annotations

import time
from typing import Any

import pytest
import redis
from django.utils import timezone
from django_tenants.utils import schema_context

from demoportal.core.models import User
from sandboxes.models import Sandbox
from simulation.live import sandboxes_viewed, viewer_register
from simulation.models import Asset, Sensor
from simulation.selectors.alarms import alarm_rows
from simulation.selectors.plant import plant_get, to_minute
from simulation.services import alarm_raise, anomaly_inject
from simulation.simulator import LiveFrame, LiveTicker

pytestmark = pytest.mark.django_db

EVENT_FIELDS = {"key", "kind", "severity", "asset_tag", "sensor_id", "message", "sim_ts"}


@pytest.fixture
def ticker(sandbox: Sandbox, test_redis: redis.Redis) -> LiveTicker:
    """A ticker watching the session's sandbox, past its first tick (which raises nothing)."""
    viewer_register(sandbox.pk)
    running = LiveTicker()
    running.refresh(sandboxes_viewed())
    assert running.frames(time.time())[sandbox.pk].events == []
    return running


def inject(sandbox: Sandbox, tag: str, kind: str, capture: Any, magnitude: float = 1.0) -> None:
    with schema_context(sandbox.schema_name), capture(execute=True):
        asset = Asset.objects.get(tag=tag)
        anomaly_inject(
            sandbox=sandbox, asset_id=asset.pk, type=kind, duration_minutes=120, magnitude=magnitude, actor=None
        )


def run(ticker: LiveTicker, sandbox: Sandbox, minutes: int) -> list[dict[str, Any]]:
    """Tick a minute at a time over the next ``minutes`` (the wall clock passed in): every event sent."""
    ticker.refresh(sandboxes_viewed())
    sent: list[dict[str, Any]] = []
    start = time.time()
    for step in range(minutes + 1):
        frame: LiveFrame = ticker.frames(start + step * 60)[sandbox.pk]
        sent += frame.events
    return sent


def test_an_injected_anomaly_is_in_the_next_tick_with_the_event_lists_key(
    ticker: LiveTicker, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    inject(sandbox, "H-101", "excess_air", django_capture_on_commit_callbacks)
    ticker.refresh(sandboxes_viewed())

    first = ticker.frames(time.time())[sandbox.pk].events
    again = ticker.frames(time.time() + 1)[sandbox.pk].events

    assert [(e["kind"], e["severity"], e["asset_tag"]) for e in first] == [("alarm", "alarm", "H-101")]
    assert set(first[0]) == EVENT_FIELDS
    with schema_context(sandbox.schema_name):
        plant = plant_get()
        assert plant is not None
        now = to_minute(timezone.now())
        listed = {row["key"] for row in alarm_rows(plant, since_minute=now - 5, end_minute=now + 1)}
    assert first[0]["key"] in listed  # the same key the events list and acknowledgements use
    assert again == []  # sent once


def test_a_heater_trip_raises_one_out_of_range_warning_for_its_firing_rate(
    ticker: LiveTicker, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    inject(sandbox, "H-102", "equipment_failure", django_capture_on_commit_callbacks)

    sent = run(ticker, sandbox, 30)

    with schema_context(sandbox.schema_name):
        firing = Sensor.objects.get(key="H-102.firing_rate").pk
    crossings = [e for e in sent if e["sensor_id"] == firing]
    assert [(e["kind"], e["severity"]) for e in crossings] == [("out_of_range", "warning")]
    assert "below its normal range" in crossings[0]["message"]
    assert any(e["kind"] == "alarm" and e["asset_tag"] == "H-102" for e in sent)  # the trip itself


def test_nox_above_the_boilers_permit_raises_a_permit_exceedance_once(
    ticker: LiveTicker, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    inject(sandbox, "B-202", "permit_exceedance", django_capture_on_commit_callbacks, magnitude=3.0)

    sent = run(ticker, sandbox, 40)

    computed = [e for e in sent if e["key"].startswith("permit:B-202:")]
    assert len(computed) == 1
    assert (computed[0]["kind"], computed[0]["severity"]) == ("permit_exceedance", "alarm")
    assert "above its permit limit of 0.1 lb/MMBtu" in computed[0]["message"]
    assert any(e["key"].startswith("injected:B-202:permit_exceedance:") for e in sent)  # the episode's own event


def test_an_event_triggered_by_sales_is_in_the_sandboxes_next_tick_once(
    ticker: LiveTicker, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    sales = User.objects.create_user(email="sales@vendor.example", password="pw", is_staff=True)
    with schema_context(sandbox.schema_name), django_capture_on_commit_callbacks(execute=True):
        boiler = Asset.objects.get(tag="B-201")
        triggered = alarm_raise(
            sandbox=sandbox, asset_id=boiler.pk, kind="maintenance_due", message="Burner inspection due", actor=sales
        )
    ticker.refresh(sandboxes_viewed())

    first = ticker.frames(time.time())[sandbox.pk].events
    again = ticker.frames(time.time() + 1)[sandbox.pk].events

    assert [(e["key"], e["severity"], e["message"]) for e in first] == [
        (f"triggered:{triggered.pk}", "warning", "Burner inspection due")
    ]
    assert again == []
