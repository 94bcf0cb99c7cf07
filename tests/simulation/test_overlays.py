"""Anomalies and optimisations change the live plant from now on, stored in the sandbox's schema."""

from __future__ import annotations

import time
from typing import Any

import pytest
import redis
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from analytics.models import Event
from demoportal.core.models import User
from sandboxes.models import Sandbox
from simulation.live import RELOAD_KEY, sandboxes_viewed, viewer_register
from simulation.models import AppliedOptimization, Asset, InjectedAnomaly, Sensor
from simulation.simulator import LiveTicker

pytestmark = pytest.mark.django_db


def url(sandbox: Sandbox, what: str) -> str:
    return f"/api/v1/sandboxes/{sandbox.pk}/{what}"


@pytest.fixture
def staff() -> APIClient:
    client = APIClient(HTTP_HOST="localhost")
    client.force_authenticate(User.objects.create_user(email="sales@vendor.example", password="pw", is_staff=True))
    return client


def asset_id(sandbox: Sandbox, tag: str) -> int:
    with schema_context(sandbox.schema_name):
        return int(Asset.objects.get(tag=tag).pk)


def stored(sandbox: Sandbox) -> tuple[int, int]:
    with schema_context(sandbox.schema_name):
        return InjectedAnomaly.objects.count(), AppliedOptimization.objects.count()


def test_sales_inject_an_anomaly_that_the_plant_and_its_events_show(
    staff: APIClient, sandbox: Sandbox, test_redis: redis.Redis, django_capture_on_commit_callbacks: Any
) -> None:
    heater = asset_id(sandbox, "H-101")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            url(sandbox, "anomalies"), {"type": "excess_air", "asset_id": heater, "duration_minutes": 90}, format="json"
        )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["type"], body["asset_id"], body["magnitude"]) == ("excess_air", heater, 1.0)
    assert stored(sandbox) == (1, 0)
    assert test_redis.smembers(RELOAD_KEY) == {str(sandbox.pk).encode()}  # the simulator reads the plant again
    events = staff.get(url(sandbox, "events")).json()["results"]
    assert any(e["origin"] == "injected" and e["asset"] == "H-101" for e in events)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "trap_failure"}, "type"),  # not something a fired heater has
        ({"asset_id": 999_999}, "asset_id"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 10_081}, "duration_minutes"),
        ({"magnitude": 3.5}, "magnitude"),
        ({"magnitude": 0}, "magnitude"),
    ],
)
def test_a_bad_anomaly_is_400_naming_the_field_and_nothing_is_stored(
    staff: APIClient, sandbox: Sandbox, change: dict[str, Any], field: str
) -> None:
    payload = {"type": "excess_air", "asset_id": asset_id(sandbox, "H-101"), "duration_minutes": 60, **change}

    response = staff.post(url(sandbox, "anomalies"), payload, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert stored(sandbox) == (0, 0)


def test_another_prospect_cannot_touch_a_sandboxes_plant(sandbox: Sandbox) -> None:
    client = APIClient(HTTP_HOST="localhost")
    client.force_authenticate(User.objects.create_user(email="nosy@rival.example", password="pw"))

    response = client.post(
        url(sandbox, "anomalies"),
        {"type": "excess_air", "asset_id": asset_id(sandbox, "H-101"), "duration_minutes": 60},
        format="json",
    )

    assert response.status_code == 404
    assert stored(sandbox) == (0, 0)


def test_the_owner_applies_the_o2_trim_and_the_live_plant_moves_to_it(
    sandbox: Sandbox, test_redis: redis.Redis
) -> None:
    owner = User.objects.create_user(email="owner@refinery.example", password="pw")
    Sandbox.objects.filter(pk=sandbox.pk).update(owner=owner)
    client = APIClient(HTTP_HOST="localhost")
    client.force_authenticate(owner)  # the tour acts for the prospect, with their session
    heater = asset_id(sandbox, "H-101")

    response = client.post(
        url(sandbox, "optimizations"),
        {"kind": "o2_setpoint", "asset_id": heater, "parameters": {"o2_pct": 3.0}},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert Event.objects.filter(name="optimization_applied", sandbox=sandbox, user=owner).exists()
    with schema_context(sandbox.schema_name):
        o2 = str(Sensor.objects.get(asset_id=heater, kind="o2").pk)
    viewer_register(sandbox.pk)
    ticker = LiveTicker()
    in_an_hour = time.time() + 3600
    ticker.refresh(sandboxes_viewed())
    assert ticker.values(in_an_hour)[sandbox.pk][o2] == pytest.approx(3.0, abs=0.6)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "fuel_switch"}, "kind"),
        ({"parameters": {"o2_pct": 12}}, "parameters"),
        ({"parameters": {"o2": 3}}, "parameters"),
        ({"asset_tag": "E-301"}, "asset_id"),  # a heat exchanger has no flue gas
    ],
)
def test_a_bad_optimisation_is_400_naming_the_field_and_nothing_is_stored(
    staff: APIClient, sandbox: Sandbox, change: dict[str, Any], field: str
) -> None:
    tag = change.pop("asset_tag", "H-101")
    payload = {"kind": "o2_setpoint", "asset_id": asset_id(sandbox, tag), "parameters": {"o2_pct": 3.0}, **change}

    response = staff.post(url(sandbox, "optimizations"), payload, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert stored(sandbox) == (0, 0)


def test_an_alarm_is_acknowledged_through_the_api_once_and_an_unknown_one_is_404(
    staff: APIClient, sandbox: Sandbox
) -> None:
    alarm = next(e for e in staff.get(url(sandbox, "events")).json()["results"] if e["kind"] == "alarm")

    first = staff.post(url(sandbox, f"events/{alarm['key']}/acknowledge"))
    again = staff.post(url(sandbox, f"events/{alarm['key']}/acknowledge"))
    unknown = staff.post(url(sandbox, "events/generated:H-101:nothing:1/acknowledge"))

    assert first.status_code == again.status_code == 200
    assert first.json()["key"] == alarm["key"]
    assert first.json()["acknowledged_by"] == "sales@vendor.example"
    assert unknown.status_code == 404
    assert Event.objects.filter(name="alert_acknowledged", sandbox=sandbox).count() == 1
    listed = next(e for e in staff.get(url(sandbox, "events")).json()["results"] if e["key"] == alarm["key"])
    assert listed["acknowledged"]
