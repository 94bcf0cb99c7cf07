"""Product data API of a sandbox: assets, sensors, series, events, KPIs — and every bad input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pytest
import redis
from django.utils import timezone
from django_tenants.utils import schema_context
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from demoportal.core.models import User
from sandboxes.models import Sandbox
from sandboxes.services import sandbox_create, sandbox_end
from simulation.apis import AssetOutput, SensorOutput
from simulation.engine.signals import sensor_values
from simulation.models import Acknowledgement, Asset, InjectedAnomaly, RaisedAlarm, Sensor
from simulation.selectors.plant import asset_list, asset_rows, plant_get, plant_layout, sensor_list, sensor_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(db: None) -> APIClient:
    user = User.objects.create_user(email="sales@vendor.example", password="pw", is_staff=True)
    client = APIClient(HTTP_HOST="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def url(sandbox: Sandbox, path: str) -> str:
    return f"/api/v1/sandboxes/{sandbox.pk}/{path}"


def sensor_id(sandbox: Sandbox, key: str) -> int:
    with schema_context(sandbox.schema_name):
        return Sensor.objects.get(key=key).pk


def errors(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 400, response.content
    return dict(response.json()["errors"])


def test_requires_staff_or_the_owner(sandbox: Sandbox) -> None:
    anonymous = APIClient(HTTP_HOST="localhost")
    prospect = APIClient(HTTP_HOST="localhost")
    prospect.force_authenticate(User.objects.create_user(email="prospect@plant.example", password="pw"))

    assert anonymous.get(url(sandbox, "assets")).status_code == 401
    assert prospect.get(url(sandbox, "assets")).status_code == 404  # not theirs: never revealed


def test_assets_list_the_plant(api: APIClient, sandbox: Sandbox, django_assert_max_num_queries: Any) -> None:
    with django_assert_max_num_queries(9):  # token, sandbox, last access, search_path, plant, assets: not per asset
        response = api.get(url(sandbox, "assets"))

    assets = response.json()
    assert response.status_code == 200
    assert len(assets) == 219  # 12 heaters, 5 boilers, 45 exchangers, 3 headers, 150 traps, 4 turbines
    assert assets[0] == {
        "id": assets[0]["id"],
        "tag": "H-101",
        "type": "fired_heater",
        "name": "Process heater H-101",
        "capacity": 23.3,
        "capacity_unit": "MMBtu/h",
    }


def test_sensors_of_one_asset(api: APIClient, sandbox: Sandbox, django_assert_max_num_queries: Any) -> None:
    with schema_context(sandbox.schema_name):
        heater = Asset.objects.get(tag="H-101")

    with django_assert_max_num_queries(10):  # not per sensor
        response = api.get(url(sandbox, "sensors"), {"asset": heater.pk})

    sensors = response.json()
    assert [s["kind"] for s in sensors][:3] == ["firing_rate", "o2", "stack_temp"]
    o2 = sensors[1]
    assert (o2["tag"], o2["unit"], o2["asset_tag"], o2["normal_range"]) == (
        "AI-10102",
        "%",
        "H-101",
        {"low": 1.5, "high": 9.0},
    )


def test_all_sensors_and_bad_asset_filters(api: APIClient, sandbox: Sandbox) -> None:
    assert len(api.get(url(sandbox, "sensors")).json()) == 537
    assert "asset" in errors(api.get(url(sandbox, "sensors"), {"asset": "heater"}))
    assert errors(api.get(url(sandbox, "sensors"), {"asset": 999_999})) == {
        "asset": ["No asset with id 999999 in this sandbox."]
    }


def test_series_of_the_last_day_by_default(api: APIClient, sandbox: Sandbox) -> None:
    response = api.get(url(sandbox, f"sensors/{sensor_id(sandbox, 'H-101.o2')}/series"))

    body = response.json()
    assert response.status_code == 200
    assert body["unit"] == "%"
    assert body["resolution"] == "min/max buckets"  # 1,440 minutes > 1,000 points
    assert 900 <= len(body["points"]) <= 1000
    assert all(1.0 < value < 12.0 for _, value in body["points"])


def test_a_short_window_has_every_minute_and_matches_the_engine(api: APIClient, sandbox: Sandbox) -> None:
    end = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=2)
    start = end - timedelta(minutes=30)

    body = api.get(
        url(sandbox, f"sensors/{sensor_id(sandbox, 'B-202.nox')}/series"),
        {"start": start.isoformat(), "end": end.isoformat()},
    ).json()

    assert body["resolution"] == "minute"
    assert len(body["points"]) == 30
    assert body["points"][0][0] == start.strftime("%Y-%m-%dT%H:%M:%SZ")
    with schema_context(sandbox.schema_name):
        plant = plant_get()
        assert plant is not None
        layout = plant_layout(plant)
        minute = int(start.timestamp() // 60)
        expected = sensor_values(
            layout, [layout.sensor_by_key("B-202.nox").index], np.array([minute]), base_minute=plant.base_minute
        )
    assert body["points"][0][1] == pytest.approx(float(expected[0, 0]), abs=1e-4)


def test_twelve_months_at_a_thousand_points_keeps_the_peaks(api: APIClient, sandbox: Sandbox) -> None:
    end = timezone.now()
    start = end - timedelta(days=364)

    body = api.get(
        url(sandbox, f"sensors/{sensor_id(sandbox, 'B-203.nox')}/series"),
        {"start": start.isoformat(), "end": end.isoformat(), "max_points": "1000"},
    ).json()

    values = [value for _, value in body["points"]]
    assert len(values) <= 1000
    assert max(values) > 60  # the scripted NOx excursion of BASE_TS - 3d is there, not averaged away


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"start": "yesterday"}, "start", "Datetime has wrong format"),
        ({"end": "2026-13-45T99:00"}, "end", "Datetime has wrong format"),
        ({"max_points": 1}, "max_points", "greater than or equal to 2"),
        ({"max_points": 20_000}, "max_points", "less than or equal to 10000"),
        ({"max_points": "many"}, "max_points", "A valid integer is required"),
    ],
)
def test_series_rejects_malformed_parameters(
    api: APIClient, sandbox: Sandbox, params: dict[str, Any], field: str, message: str
) -> None:
    found = errors(api.get(url(sandbox, f"sensors/{sensor_id(sandbox, 'H-101.o2')}/series"), params))

    assert message in found[field][0]


def test_series_rejects_windows_outside_the_history(api: APIClient, sandbox: Sandbox) -> None:
    series = url(sandbox, f"sensors/{sensor_id(sandbox, 'H-101.o2')}/series")
    now = timezone.now()

    assert errors(api.get(series, {"start": now.isoformat(), "end": (now - timedelta(hours=1)).isoformat()})) == {
        "start": ["start must be before end."]
    }
    assert "history begins" in errors(api.get(series, {"start": (now - timedelta(days=400)).isoformat()}))["start"][0]
    assert "end is in the future" in errors(api.get(series, {"end": (now + timedelta(days=1)).isoformat()}))["end"][0]


def test_unknown_sensor_or_sandbox_is_404(api: APIClient, sandbox: Sandbox) -> None:
    assert api.get(url(sandbox, "sensors/999999/series")).status_code == 404
    assert api.get("/api/v1/sandboxes/999999/assets").status_code == 404
    portal = Sandbox.objects.get(schema_name="public")
    assert api.get(f"/api/v1/sandboxes/{portal.pk}/assets").status_code == 404


def test_an_injected_anomaly_changes_the_series_from_its_start(api: APIClient, sandbox: Sandbox) -> None:
    series = url(sandbox, f"sensors/{sensor_id(sandbox, 'H-106.o2')}/series")
    window = {"start": (timezone.now() - timedelta(hours=2)).isoformat(), "end": timezone.now().isoformat()}
    before = [v for _, v in api.get(series, window).json()["points"]]
    with schema_context(sandbox.schema_name):
        heater = Asset.objects.get(tag="H-106")
        InjectedAnomaly.objects.create(asset=heater, type="excess_air", starts_at=timezone.now() - timedelta(hours=1))

    after = [v for _, v in api.get(series, window).json()["points"]]

    assert after[:50] == before[:50]  # the first hour is untouched
    assert np.mean(after[-30:]) > np.mean(before[-30:]) + 2.0  # O2 about 3 points up


def test_events_newest_first_with_the_scripted_incident(api: APIClient, sandbox: Sandbox) -> None:
    body = api.get(url(sandbox, "events")).json()

    assert set(body) == {"count", "next", "previous", "results"}
    times = [event["occurred_at"] for event in body["results"]]
    assert times == sorted(times, reverse=True)
    permit = [e for e in body["results"] if e["kind"] == "permit_exceedance" and e["origin"] == "scripted"]
    assert [e["asset"] for e in permit] == ["B-203"]


def test_events_filter_acknowledgement_and_triggered(api: APIClient, sandbox: Sandbox) -> None:
    first = api.get(url(sandbox, "events"), {"kind": "permit_exceedance"}).json()["results"][0]
    with schema_context(sandbox.schema_name):
        Acknowledgement.objects.create(alarm_key=first["key"], acknowledged_by="operator@plant.example")
        RaisedAlarm.objects.create(
            asset=Asset.objects.get(tag="B-201"),
            kind="alarm",
            message="Sales: burner flame-out on B-201",
            occurred_at=timezone.now() - timedelta(minutes=5),
        )

    permits = api.get(url(sandbox, "events"), {"kind": "permit_exceedance"}).json()["results"]
    alarms = api.get(url(sandbox, "events"), {"kind": "alarm"}).json()["results"]

    assert all(e["kind"] == "permit_exceedance" for e in permits)
    assert next(e for e in permits if e["key"] == first["key"])["acknowledged"] is True
    assert alarms[0]["origin"] == "triggered"
    assert alarms[0]["message"] == "Sales: burner flame-out on B-201"


def test_events_reject_bad_parameters(api: APIClient, sandbox: Sandbox) -> None:
    assert '"fire" is not a valid choice.' in errors(api.get(url(sandbox, "events"), {"kind": "fire"}))["kind"][0]
    assert "Datetime has wrong format" in errors(api.get(url(sandbox, "events"), {"since": "last week"}))["since"][0]
    old = (timezone.now() - timedelta(days=500)).isoformat()
    assert "history begins" in errors(api.get(url(sandbox, "events"), {"since": old}))["since"][0]


def test_kpis_come_from_the_data_and_are_cached(api: APIClient, sandbox: Sandbox, test_redis: redis.Redis) -> None:
    first = api.get(url(sandbox, "kpis")).json()
    second = api.get(url(sandbox, "kpis")).json()

    by_key = {kpi["key"]: kpi for kpi in first}
    assert set(by_key) >= {
        "annual_fuel",
        "annual_fuel_cost",
        "annual_co2",
        "o2_trim_annual_saving_usd",
        "nox_permit_use_pct",
    }
    assert by_key["o2_trim_annual_saving_usd"]["value"] == pytest.approx(1_200_000, rel=0.1)
    assert by_key["annual_co2"]["unit"] == "t CO2"
    assert second == first
    assert list(test_redis.scan_iter(match="*test_sandbox*kpis*"))  # cached under the sandbox's schema


def test_an_ended_sandbox_has_no_plant_data_410(api: APIClient) -> None:
    ended = sandbox_create(slug="ended-plant", name="Ended", scenario="cement")
    sandbox_end(sandbox=ended)

    response = api.get(url(ended, "assets"))

    assert response.status_code == 410
    assert response.json()["detail"] == "This sandbox has ended (destroyed); its plant data is gone."


def test_a_scenario_template_is_not_reachable_by_id(api: APIClient) -> None:
    template = Sandbox.objects.get(kind="template", industry="cement")

    assert api.get(url(template, "assets")).status_code == 404


def test_the_fast_rows_match_the_documented_shape_exactly(sandbox: Sandbox) -> None:
    # The lists are built from values() for speed; the serializers document them in the OpenAPI schema.
    with schema_context(sandbox.schema_name):
        assert asset_rows() == [dict(row) for row in AssetOutput(asset_list(), many=True).data]
        documented = SensorOutput(sensor_list(), many=True).data
        assert sensor_rows() == [{**row, "normal_range": dict(row["normal_range"])} for row in documented]
