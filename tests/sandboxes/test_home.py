"""The sandbox home on its own host: who may see it, what it shows, and the owner's self-service."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from django.test import Client
from django_tenants.utils import schema_context

from analytics.models import Event
from demoportal.core.models import User
from sandboxes.models import Sandbox
from sandboxes.services import sandbox_provision
from simulation.models import Acknowledgement
from simulation.selectors.plant import (
    plant_get,
    plant_kpis,
    plant_sim_now,
    sensor_rows,
    sensor_values_window,
    to_minute,
)

pytestmark = pytest.mark.django_db


def host(sandbox: Sandbox) -> str:
    return f"{sandbox.slug}.localhost"


@pytest.fixture
def owner(client: Client, sandbox: Sandbox) -> User:
    """The session sandbox, owned (for this test's transaction) by a prospect signed in on its host."""
    user = User.objects.create_user(email="owner@refinery.example", password="pw")
    Sandbox.objects.filter(pk=sandbox.pk).update(owner=user, product="thermalcommand")
    client.force_login(user)
    return user


def test_a_visitor_not_signed_in_is_sent_to_the_portal_sign_in(client: Client, sandbox: Sandbox) -> None:
    response = client.get("/", HTTP_HOST=f"{host(sandbox)}:8000")

    assert response.status_code == 302
    assert response["Location"] == "http://localhost:8000/accounts/login/?next=%2Fsandboxes%2F"


def test_another_prospect_gets_404_as_if_there_were_no_such_sandbox(client: Client, sandbox: Sandbox) -> None:
    owner = User.objects.create_user(email="owner@refinery.example", password="pw")
    Sandbox.objects.filter(pk=sandbox.pk).update(owner=owner)
    client.force_login(User.objects.create_user(email="nosy@competitor.example", password="pw"))

    assert client.get("/", HTTP_HOST=host(sandbox)).status_code == 404
    assert client.get(f"/api/v1/sandboxes/{sandbox.pk}/kpis", HTTP_HOST=host(sandbox)).status_code == 404
    assert client.post("/sandbox/extend", HTTP_HOST=host(sandbox)).status_code == 404


def test_the_home_shows_the_plants_fuel_input_cost_and_co2_right_now(
    client: Client, sandbox: Sandbox, owner: User, test_redis: redis.Redis
) -> None:
    response = client.get("/", HTTP_HOST=host(sandbox))

    now = response.context["now"]
    with schema_context(sandbox.schema_name):
        plant = plant_get()
        assert plant is not None
        meters = [s for s in sensor_rows() if s["kind"] == "firing_rate"]  # the refinery burns gas in MMBtu/h
        minute = to_minute(plant_sim_now(plant))
        expected = float(sensor_values_window(plant, meters, start=minute, end=minute + 1)[:, 0].clip(0).sum())
    assert sorted(m["id"] for m in now["meters"]) == sorted(m["id"] for m in meters)
    assert now["firing"] == pytest.approx(expected)
    assert now["cost"] == pytest.approx(expected * 5.5)  # the scenario's gas price, USD/MMBtu
    assert now["co2"] == pytest.approx(expected * 53.06e-3)  # 40 CFR 98 Table C-1, natural gas
    page = response.content.decode()
    assert "Fuel input now" in page
    assert "data-plant-now=" in page


def test_the_home_shows_the_plant_its_figures_events_and_stories(
    client: Client, sandbox: Sandbox, owner: User, test_redis: redis.Redis
) -> None:
    with schema_context(sandbox.schema_name):
        plant_kpis(plant_get())  # type: ignore[arg-type]  # as kpis_warm does when a sandbox is made

    response = client.get("/", HTTP_HOST=host(sandbox))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Test Refinery" in page
    assert "ThermalCommand · Oil &amp; gas" in page
    kpi_names = [kpi["name"] for kpi in response.context["kpis"]]
    assert "Fuel burnt, last 12 months" in kpi_names
    assert all(kpi["display"] in page for kpi in response.context["kpis"])
    groups = {group["name"]: group for group in response.context["asset_types"]}
    assert groups["Process heater"]["assets"][0]["tag"] == "H-101"
    assert len(groups["Process heater"]["assets"]) == 12
    assert "$1.2M annual savings" in page  # the scenario's stories are the entry points
    assert f'data-series-url="/api/v1/sandboxes/{sandbox.pk}/sensors/SENSOR/series"' in page
    assert response.context["selected_sensor"]["kind"] == "efficiency"
    assert 0 < len(response.context["events"]) <= 8
    assert "Extend 24 h" in page
    assert "vendor/uplot/uPlot.iife.min.js" in page


def test_figures_not_computed_yet_are_fetched_by_the_page_instead_of_waited_for(
    client: Client, sandbox: Sandbox, owner: User, test_redis: redis.Redis
) -> None:
    response = client.get("/", HTTP_HOST=host(sandbox))

    assert response.context["kpis"] is None
    assert f'data-kpis-url="/api/v1/sandboxes/{sandbox.pk}/kpis"' in response.content.decode()
    assert "Computing this plant" in response.content.decode()
    assert client.get(f"/api/v1/sandboxes/{sandbox.pk}/kpis", HTTP_HOST=host(sandbox)).status_code == 200


def test_a_story_link_opens_the_chart_on_its_sensor(client: Client, sandbox: Sandbox, owner: User) -> None:
    home = client.get("/", HTTP_HOST=host(sandbox))
    story_sensor = home.context["stories"][1]["sensor"]  # NOx approaching permit limits: the boilers

    response = client.get(f"/?sensor={story_sensor['id']}", HTTP_HOST=host(sandbox))

    assert response.context["selected_sensor"] == story_sensor
    assert story_sensor["asset_tag"].startswith("B-")
    assert f'<option value="{story_sensor["id"]}" data-unit="{story_sensor["unit"]}" selected>' in (
        response.content.decode()
    )


def test_an_unknown_sensor_in_the_link_falls_back_to_the_default(client: Client, sandbox: Sandbox, owner: User) -> None:
    response = client.get("/?sensor=not-a-sensor", HTTP_HOST=host(sandbox))

    assert response.status_code == 200
    assert response.context["selected_sensor"]["kind"] == "efficiency"


def test_staff_see_any_sandbox(client: Client, sandbox: Sandbox) -> None:
    client.force_login(User.objects.create_user(email="sales@vendor.example", password="pw", is_staff=True))

    assert client.get("/", HTTP_HOST=host(sandbox)).status_code == 200


def test_the_chart_and_events_call_the_api_on_the_sandbox_host_with_the_session(
    client: Client, sandbox: Sandbox, owner: User
) -> None:
    sensor = client.get("/", HTTP_HOST=host(sandbox)).context["selected_sensor"]

    series = client.get(f"/api/v1/sandboxes/{sandbox.pk}/sensors/{sensor['id']}/series", HTTP_HOST=host(sandbox))
    event = client.post(
        "/api/v1/events",
        {"event": "feature_viewed", "sandbox_id": sandbox.pk, "properties": {"feature": "kpis"}},
        content_type="application/json",
        HTTP_HOST=host(sandbox),
    )

    assert series.status_code == 200
    assert len(series.json()["points"]) > 100
    assert event.status_code == 202
    assert Event.objects.get(pk=event.json()["id"]).user == owner


@pytest.fixture
def own_sandbox(client: Client) -> Sandbox:
    user = User.objects.create_user(email="self@service.example", password="pw")
    sandbox = sandbox_provision(email=user.email, product="boileroptimizer", industry="food_beverage").sandbox
    client.force_login(user)
    return sandbox


def test_the_owner_extends_the_sandbox_by_a_day(client: Client, own_sandbox: Sandbox) -> None:
    before = own_sandbox.expires_at
    assert before is not None

    response = client.post("/sandbox/extend", HTTP_HOST=host(own_sandbox), follow=True)

    own_sandbox.refresh_from_db()
    assert own_sandbox.expires_at == before + timedelta(hours=24)
    assert response.redirect_chain[-1][0] == "/"
    assert "now runs until" in response.content.decode()
    assert Event.objects.filter(name="demo_extended", sandbox=own_sandbox).exists()


def test_the_owner_resets_the_sandbox(client: Client, own_sandbox: Sandbox) -> None:
    response = client.post("/sandbox/reset", HTTP_HOST=host(own_sandbox), follow=True)

    own_sandbox.refresh_from_db()
    assert own_sandbox.status == "ready"
    assert own_sandbox.reset_at is not None
    assert "back at the start of its scenario" in response.content.decode()


def test_the_owner_ends_the_sandbox_and_lands_on_my_sandboxes(client: Client, own_sandbox: Sandbox) -> None:
    response = client.post("/sandbox/end", HTTP_HOST=host(own_sandbox))

    own_sandbox.refresh_from_db()
    assert own_sandbox.status == "destroyed"
    assert response["Location"] == "http://localhost/sandboxes/"


def test_an_extension_past_the_limit_is_explained_not_applied(
    client: Client, own_sandbox: Sandbox, settings: object
) -> None:
    assert own_sandbox.expires_at is not None
    Sandbox.objects.filter(pk=own_sandbox.pk).update(expires_at=own_sandbox.created_at + timedelta(days=7))

    response = client.post("/sandbox/extend", HTTP_HOST=host(own_sandbox), follow=True)

    own_sandbox.refresh_from_db()
    assert own_sandbox.expires_at == own_sandbox.created_at + timedelta(days=7)
    assert response.context["messages"]
    assert "alert-error" in response.content.decode()


def test_unknown_actions_and_gets_are_refused(client: Client, own_sandbox: Sandbox) -> None:
    assert client.post("/sandbox/explode", HTTP_HOST=host(own_sandbox)).status_code == 404
    assert client.get("/sandbox/extend", HTTP_HOST=host(own_sandbox)).status_code == 405


def test_signing_out_of_the_sandbox_leads_to_the_portal_sign_out(client: Client, sandbox: Sandbox, owner: User) -> None:
    response = client.post("/sign-out", HTTP_HOST=host(sandbox))

    assert response["Location"] == "http://localhost/accounts/logout/"
    assert client.get("/", HTTP_HOST=host(sandbox)).status_code == 302  # signed out here


def test_the_owner_acknowledges_an_alarm_once_and_the_home_shows_it(
    client: Client, sandbox: Sandbox, owner: User
) -> None:
    alarm = next(e for e in client.get("/", HTTP_HOST=host(sandbox)).context["events"] if e["kind"] == "alarm")
    path = f"/alarms/{alarm['key']}/acknowledge"

    response = client.post(path, HTTP_HOST=host(sandbox))
    again = client.post(path, HTTP_HOST=host(sandbox))

    assert response.status_code == again.status_code == 302
    assert response["Location"] == "/#events-title"
    with schema_context(sandbox.schema_name):
        assert Acknowledgement.objects.filter(alarm_key=alarm["key"], acknowledged_by=owner.email).count() == 1
    assert Event.objects.filter(name="alert_acknowledged", sandbox=sandbox, user=owner).count() == 1
    shown = next(e for e in client.get("/", HTTP_HOST=host(sandbox)).context["events"] if e["key"] == alarm["key"])
    assert shown["acknowledged"]


def test_acknowledging_an_unknown_event_is_404_and_stores_nothing(
    client: Client, sandbox: Sandbox, owner: User
) -> None:
    assert client.post("/alarms/generated:H-101:no_such:1/acknowledge", HTTP_HOST=host(sandbox)).status_code == 404
    assert client.get("/alarms/generated:H-101:no_such:1/acknowledge", HTTP_HOST=host(sandbox)).status_code == 405
    with schema_context(sandbox.schema_name):
        assert not Acknowledgement.objects.exists()
    assert not Event.objects.filter(name="alert_acknowledged").exists()


@pytest.mark.parametrize("given", ["sandbox", "//evil.example/", "https://evil.example/x"])
def test_acknowledging_with_a_next_off_this_host_goes_home_once_acknowledged(
    client: Client, sandbox: Sandbox, owner: User, given: str
) -> None:
    alarm = next(e for e in client.get("/", HTTP_HOST=host(sandbox)).context["events"] if e["kind"] == "alarm")

    response = client.post(f"/alarms/{alarm['key']}/acknowledge", {"next": given}, HTTP_HOST=host(sandbox))

    assert response.status_code == 302  # "sandbox": was NoReverseMatch (500) after the acknowledgement was stored
    assert response["Location"] == "/#events-title"
    with schema_context(sandbox.schema_name):
        assert Acknowledgement.objects.filter(alarm_key=alarm["key"]).count() == 1
