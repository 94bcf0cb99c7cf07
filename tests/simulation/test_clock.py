"""Time compression: each sandbox's plant runs on its own clock, 1× to 3600×, set through the API."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest
import redis
from django.utils import timezone
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from demoportal.core.models import User
from sandboxes.models import Sandbox
from sandboxes.services import sandbox_create, sandbox_reset
from sandboxes.tokens import access_token_issue
from simulation.consumers import tick_body
from simulation.engine.signals import sensor_values
from simulation.live import RELOAD_KEY, live_sandbox_load
from simulation.models import Plant, Sensor
from simulation.selectors.plant import plant_get, plant_sim_now
from simulation.services import clock_set
from simulation.simulator import LiveTicker, tick_message

pytestmark = pytest.mark.django_db


def url(sandbox: Sandbox, what: str) -> str:
    return f"/api/v1/sandboxes/{sandbox.pk}/{what}"


def plant_of(sandbox: Sandbox) -> Plant:
    with schema_context(sandbox.schema_name):
        plant = plant_get()
        assert plant is not None
        return plant


@pytest.fixture
def owner_client(sandbox: Sandbox) -> APIClient:
    owner = User.objects.create_user(email="owner@refinery.example", password="pw")
    Sandbox.objects.filter(pk=sandbox.pk).update(owner=owner)
    client = APIClient(HTTP_HOST="localhost")
    client.force_authenticate(owner)  # the tour acts for the prospect, with their session
    return client


def test_the_owner_speeds_the_clock_up_and_the_simulator_is_told(
    owner_client: APIClient, sandbox: Sandbox, test_redis: redis.Redis, django_capture_on_commit_callbacks: Any
) -> None:
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(url(sandbox, "clock"), {"time_scale": 60}, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["time_scale"] == 60
    assert datetime.fromisoformat(body["sim_ts"]) >= before
    assert plant_of(sandbox).time_scale == 60
    assert test_redis.smembers(RELOAD_KEY) == {str(sandbox.pk).encode()}  # picked up at the next tick


def test_a_sandbox_token_sets_its_own_clock_but_not_anothers(sandbox: Sandbox) -> None:
    other = sandbox_create(slug="other-plant", name="Other", scenario="cement")
    owner = User.objects.create_user(email="owner@refinery.example", password="pw")
    Sandbox.objects.filter(pk=sandbox.pk).update(owner=owner)  # a sandbox token acts for its owner
    client = APIClient(HTTP_HOST="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_issue(sandbox=sandbox)}")

    mine = client.post(url(sandbox, "clock"), {"time_scale": 10}, format="json")
    theirs = client.post(url(other, "clock"), {"time_scale": 10}, format="json")

    assert mine.status_code == 200, mine.json()
    assert theirs.status_code == 404  # as for the other plant changes: another sandbox is never revealed
    assert plant_of(other).time_scale == 1


def test_a_prospect_cannot_set_someone_elses_clock(sandbox: Sandbox) -> None:
    client = APIClient(HTTP_HOST="localhost")
    client.force_authenticate(User.objects.create_user(email="nosy@rival.example", password="pw"))

    assert client.post(url(sandbox, "clock"), {"time_scale": 10}, format="json").status_code == 404
    assert plant_of(sandbox).time_scale == 1


@pytest.mark.parametrize("value", [0, 3601, -5, 1.5, "fast", None, True])
def test_a_bad_time_scale_is_400_naming_the_field(owner_client: APIClient, sandbox: Sandbox, value: Any) -> None:
    response = owner_client.post(url(sandbox, "clock"), {"time_scale": value}, format="json")

    assert response.status_code == 400
    assert "time_scale" in response.json()["errors"]
    assert plant_of(sandbox).time_scale == 1


def test_changing_the_speed_never_makes_the_clock_jump(sandbox: Sandbox) -> None:
    plant = plant_of(sandbox)
    wall = timezone.now()
    with schema_context(sandbox.schema_name):
        Plant.objects.filter(pk=plant.pk).update(
            time_scale=3600, clock_wall_at=wall - timedelta(seconds=10), clock_sim_at=wall - timedelta(seconds=10)
        )
        plant.refresh_from_db()
        ten_hours_on = plant_sim_now(plant, wall)
        assert ten_hours_on == wall + timedelta(hours=10) - timedelta(seconds=10)

        plant = clock_set(sandbox=sandbox, plant=plant, time_scale=1, actor=None)
        assert plant.clock_wall_at is not None
        at_change = plant.clock_wall_at

    assert plant_sim_now(plant, at_change) >= ten_hours_on  # where it was, not back to wall time
    assert plant_sim_now(plant, at_change + timedelta(minutes=1)) == plant_sim_now(plant, at_change) + timedelta(
        minutes=1
    )  # and from there at 1×


def test_a_reset_starts_the_new_plant_at_one_times() -> None:
    sandbox = sandbox_create(slug="fast-plant", name="Fast", scenario="cement")
    plant = plant_of(sandbox)
    with schema_context(sandbox.schema_name):
        Plant.objects.filter(pk=plant.pk).update(
            time_scale=600, clock_wall_at=timezone.now(), clock_sim_at=timezone.now() + timedelta(days=2)
        )

    sandbox_reset(sandbox=sandbox)

    fresh = plant_of(sandbox)
    assert (fresh.time_scale, fresh.clock_wall_at, fresh.clock_sim_at) == (1, None, None)
    assert abs(plant_sim_now(fresh) - timezone.now()) < timedelta(seconds=5)


def test_the_history_api_ends_at_the_plants_now(owner_client: APIClient, sandbox: Sandbox) -> None:
    plant = plant_of(sandbox)
    wall = timezone.now()
    with schema_context(sandbox.schema_name):
        Plant.objects.filter(pk=plant.pk).update(
            time_scale=1, clock_wall_at=wall, clock_sim_at=wall + timedelta(hours=5)
        )
        sensor = Sensor.objects.get(key="H-101.o2").pk
    series = f"sensors/{sensor}/series"

    default = owner_client.get(url(sandbox, series)).json()
    ahead = owner_client.get(url(sandbox, series), {"end": (wall + timedelta(hours=4)).isoformat()})
    beyond = owner_client.get(url(sandbox, series), {"end": (wall + timedelta(hours=6)).isoformat()})

    assert datetime.fromisoformat(default["end"]) >= wall + timedelta(hours=5) - timedelta(minutes=1)
    assert ahead.status_code == 200  # four hours past the wall clock is the plant's past
    assert beyond.status_code == 400
    assert "end" in beyond.json()["errors"]


def test_a_60x_sandbox_runs_60_times_faster_than_a_1x_one_in_the_same_tick(sandbox: Sandbox) -> None:
    """Two sandboxes in one ticker, one at 1× and one at 60×: each sim_ts and each value follows its own clock."""
    loaded = live_sandbox_load(sandbox.pk)
    assert loaded is not None
    wall = float(int(timezone.now().timestamp() // 60) * 60)
    slow = replace(loaded, sandbox_id=1)
    fast = replace(loaded, sandbox_id=2, time_scale=60, clock_wall=wall, clock_sim=wall)
    ticker = LiveTicker()
    ticker.sandboxes = {1: slow, 2: fast}

    first = ticker.frames(wall + 5)
    later = ticker.frames(wall + 65)

    assert later[1].sim_ts - first[1].sim_ts == pytest.approx(60)
    assert later[2].sim_ts - first[2].sim_ts == pytest.approx(3600)
    # Each tick says how fast its plant runs: the sandbox bar shows "60× speed" from it.
    assert (later[1].time_scale, later[2].time_scale) == (1, 60)
    assert tick_message(ts=wall + 65, frame=later[2])["time_scale"] == 60
    assert tick_body(tick_message(ts=wall + 65, frame=later[2]), {})["time_scale"] == 60
    minute = int(later[2].sim_ts // 60)
    assert later[2].sim_ts == minute * 60  # 65 s at 60× from a whole minute: on a whole minute again
    plant = loaded.member.plant
    history = sensor_values(plant, range(len(plant.sensors)), np.array([minute]), base_minute=loaded.started_minute)
    expected = dict(zip(loaded.sensor_keys, np.round(history[:, 0], 4).tolist(), strict=True))
    assert later[2].values == expected
