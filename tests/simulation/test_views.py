"""An asset's page on the sandbox host: live values, trends, alarms, the O2 trim and the savings calculator."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from analytics.models import Event
from demoportal.core.models import User
from sandboxes.models import Sandbox
from simulation.engine.calculations import annual_fuel_cost_saving, co2_tonnes, fuel_saving_fraction
from simulation.models import Acknowledgement, AppliedOptimization, Asset, InjectedAnomaly, RaisedAlarm
from simulation.selectors.plant import asset_firing_rate_mmbtu_per_h, plant_get, plant_sim_now

pytestmark = pytest.mark.django_db
HEATER = "/assets/H-101/"


def host(sandbox: Sandbox) -> str:
    return f"{sandbox.slug}.localhost"


@pytest.fixture
def owner(client: Client, sandbox: Sandbox) -> User:
    """The session sandbox, owned (for this test's transaction) by a prospect signed in on its host."""
    user = User.objects.create_user(email="owner@refinery.example", password="pw")
    Sandbox.objects.filter(pk=sandbox.pk).update(owner=user)
    client.force_login(user)
    return user


def page(client: Client, sandbox: Sandbox, path: str = HEATER) -> Any:
    response = client.get(path, HTTP_HOST=host(sandbox))
    assert response.status_code == 200
    return response


def savings_input(**overrides: object) -> dict[str, object]:
    return {
        "fuel_price_usd_per_mmbtu": "5.5",
        "operating_hours_per_year": "8000",
        "efficiency_current_pct": "80",
        "efficiency_target_pct": "84",
        **overrides,
    }


# --- the page ----------------------------------------------------------------------------------------


def test_the_home_links_every_asset_to_its_page(client: Client, sandbox: Sandbox, owner: User) -> None:
    home = page(client, sandbox, "/").content.decode()

    links = re.findall(r'<a class="tag" data-asset-link href="(/assets/[^"]+/)"', home)
    with schema_context(sandbox.schema_name):
        assert sorted(links) == sorted(f"/assets/{tag}/" for tag in Asset.objects.values_list("tag", flat=True))


def test_the_asset_page_shows_the_asset_its_live_values_and_default_trends(
    client: Client, sandbox: Sandbox, owner: User
) -> None:
    response = page(client, sandbox)

    html = response.content.decode()
    assert "H-101" in html
    assert "Process heater" in html
    assert 'id="asset-values"' in html
    assert 'id="asset-trend"' in html
    assert 'id="asset-alarms"' in html
    sensors = response.context["sensors"]
    for sensor in sensors:
        assert f'data-live-sensor="{sensor["id"]}" data-sensor-key="H-101.{sensor["kind"]}"' in html
    assert [sensor["kind"] for sensor in response.context["trend"]] == ["efficiency", "o2", "stack_temp"]
    charts = html.split("data-trend-charts>", 1)[1].split("<template", 1)[0]  # the cards shown, not templates
    assert re.findall(r'data-chart data-sensor-id="(\d+)"', charts) == [str(s["id"]) for s in response.context["trend"]]
    assert 'id="o2-trim"' in html
    assert 'name="o2_setpoint_pct"' in html
    assert 'id="savings-calculator"' in html


def test_a_value_outside_its_normal_range_is_flagged(client: Client, sandbox: Sandbox, owner: User) -> None:
    response = page(client, sandbox)

    html = response.content.decode()
    for sensor in response.context["sensors"]:
        low, high = sensor["normal_range"]["low"], sensor["normal_range"]["high"]
        assert sensor["out_of_range"] == (not low <= sensor["value"] <= high)
    flagged = sum(sensor["out_of_range"] for sensor in response.context["sensors"])
    assert html.count('data-range="out"') == flagged
    assert html.count('data-range="in"') == len(response.context["sensors"]) - flagged


def test_the_trend_picker_chooses_the_plotted_sensors(client: Client, sandbox: Sandbox, owner: User) -> None:
    sensors = page(client, sandbox).context["sensors"]
    nox = next(sensor for sensor in sensors if sensor["kind"] == "nox")

    response = page(client, sandbox, f"{HEATER}?trend={nox['id']}&trend=999999&trend=x")

    assert [sensor["id"] for sensor in response.context["trend"]] == [nox["id"]]


def test_an_asset_without_a_burner_has_no_o2_trim_or_calculator(client: Client, sandbox: Sandbox, owner: User) -> None:
    response = page(client, sandbox, "/assets/E-301/")

    html = response.content.decode()
    assert 'id="o2-trim"' not in html
    assert 'id="savings-calculator"' not in html
    assert len(response.context["trend"]) == 1  # no efficiency, O2 or stack: its first sensor
    trim = client.post("/assets/E-301/o2-trim", {"o2_setpoint_pct": 3}, HTTP_HOST=host(sandbox))
    assert trim.status_code == 400  # the engine's rule, as the API says it: this asset type takes no trim
    assert "takes no O2 trim" in trim.content.decode()
    assert client.post("/assets/E-301/savings", savings_input(), HTTP_HOST=host(sandbox)).status_code == 404


def test_an_unknown_asset_is_404(client: Client, sandbox: Sandbox, owner: User) -> None:
    assert client.get("/assets/NOPE-1/", HTTP_HOST=host(sandbox)).status_code == 404
    assert client.post("/assets/NOPE-1/o2-trim", {"o2_setpoint_pct": 3}, HTTP_HOST=host(sandbox)).status_code == 404


def test_the_asset_page_has_the_homes_access(client: Client, sandbox: Sandbox) -> None:
    owner = User.objects.create_user(email="owner@refinery.example", password="pw")
    Sandbox.objects.filter(pk=sandbox.pk).update(owner=owner)

    assert client.get(HEATER, HTTP_HOST=host(sandbox)).status_code == 302  # to the portal's sign-in
    client.force_login(User.objects.create_user(email="nosy@competitor.example", password="pw"))
    assert client.get(HEATER, HTTP_HOST=host(sandbox)).status_code == 404
    assert client.post(f"{HEATER}o2-trim", {"o2_setpoint_pct": 3}, HTTP_HOST=host(sandbox)).status_code == 404


def test_the_asset_page_takes_a_bounded_number_of_queries(
    client: Client, sandbox: Sandbox, owner: User, django_assert_max_num_queries: Any
) -> None:
    page(client, sandbox)  # sessions, caches and the plant warmed up

    with django_assert_max_num_queries(16):
        page(client, sandbox)
    with django_assert_max_num_queries(16):
        page(client, sandbox, "/assets/B-201/")


# --- alarms ------------------------------------------------------------------------------------------


def test_the_asset_lists_only_its_own_events_of_the_last_week(client: Client, sandbox: Sandbox, owner: User) -> None:
    with schema_context(sandbox.schema_name):
        boiler = Asset.objects.get(tag="B-201")
        RaisedAlarm.objects.create(
            asset=boiler, kind="alarm", message="Flame scanner fault", occurred_at=boiler.plant.started_at
        )

    events = page(client, sandbox, "/assets/B-201/").context["events"]

    assert events
    assert {event["asset"] for event in events} == {"B-201"}
    assert any(event["message"] == "Flame scanner fault" for event in events)
    assert "Flame scanner fault" not in page(client, sandbox).content.decode()


def test_an_alarm_acknowledged_on_the_asset_page_is_stored_once_and_leads_back(
    client: Client, sandbox: Sandbox, owner: User
) -> None:
    with schema_context(sandbox.schema_name):
        heater = Asset.objects.get(tag="H-101")
        alarm = RaisedAlarm.objects.create(
            asset=heater, kind="alarm", message="High TMT pass A", occurred_at=heater.plant.started_at
        )
    key = f"triggered:{alarm.pk}"
    assert f'data-ack="{key}"' in page(client, sandbox).content.decode()

    first = client.post(f"/alarms/{key}/acknowledge", {"next": f"{HEATER}#asset-alarms"}, HTTP_HOST=host(sandbox))
    again = client.post(f"/alarms/{key}/acknowledge", {"next": f"{HEATER}#asset-alarms"}, HTTP_HOST=host(sandbox))

    assert first["Location"] == again["Location"] == f"{HEATER}#asset-alarms"
    with schema_context(sandbox.schema_name):
        assert Acknowledgement.objects.filter(alarm_key=key).count() == 1
    assert Event.objects.filter(name="alert_acknowledged", sandbox=sandbox, user=owner).count() == 1
    shown = next(event for event in page(client, sandbox).context["events"] if event["key"] == key)
    assert shown["acknowledged"]


def test_acknowledging_never_leads_off_the_sandbox_host(client: Client, sandbox: Sandbox, owner: User) -> None:
    with schema_context(sandbox.schema_name):
        heater = Asset.objects.get(tag="H-101")
        alarm = RaisedAlarm.objects.create(asset=heater, kind="alarm", message="x", occurred_at=heater.plant.started_at)

    response = client.post(
        f"/alarms/triggered:{alarm.pk}/acknowledge", {"next": "https://evil.example/"}, HTTP_HOST=host(sandbox)
    )

    assert response["Location"] == "/#events-title"


# --- O2 trim -----------------------------------------------------------------------------------------


def test_an_o2_setpoint_is_applied_recorded_and_shown(client: Client, sandbox: Sandbox, owner: User) -> None:
    response = client.post(f"{HEATER}o2-trim", {"o2_setpoint_pct": "2.5"}, HTTP_HOST=host(sandbox))

    assert response.status_code == 302
    assert response["Location"] == f"{HEATER}#o2-trim"
    with schema_context(sandbox.schema_name):
        applied = AppliedOptimization.objects.get()
    assert (applied.asset.tag, applied.kind, applied.parameters, applied.created_by) == (
        "H-101",
        "o2_setpoint",
        {"o2_pct": 2.5},
        owner.email,
    )
    event = Event.objects.get(name="optimization_applied", sandbox=sandbox)
    assert event.user == owner
    assert event.properties["o2_pct"] == 2.5
    after = client.get(HEATER, HTTP_HOST=host(sandbox))
    assert after.context["o2"]["setpoint"]["value"] == 2.5
    assert "now trims to 2.5 % O2" in after.content.decode()


@pytest.mark.parametrize("value", ["0.5", "8.5", "-1", "three", "", "nan"])
def test_a_bad_o2_setpoint_shows_the_form_again_and_applies_nothing(
    client: Client, sandbox: Sandbox, owner: User, value: str
) -> None:
    response = client.post(f"{HEATER}o2-trim", {"o2_setpoint_pct": value}, HTTP_HOST=host(sandbox))

    assert response.status_code == 400
    form = response.context["o2"]["form"]
    assert list(form.errors) == ["o2_setpoint_pct"]
    assert 'aria-invalid="true"' in response.content.decode()
    with schema_context(sandbox.schema_name):
        assert not AppliedOptimization.objects.exists()
    assert not Event.objects.filter(name="optimization_applied").exists()


def test_the_o2_trim_only_takes_posts(client: Client, sandbox: Sandbox, owner: User) -> None:
    assert client.get(f"{HEATER}o2-trim", HTTP_HOST=host(sandbox)).status_code == 405
    assert client.get(f"{HEATER}savings", HTTP_HOST=host(sandbox)).status_code == 405


# --- savings calculator -------------------------------------------------------------------------------


def test_the_calculator_starts_from_the_scenario_price_and_the_live_efficiency(
    client: Client, sandbox: Sandbox, owner: User
) -> None:
    response = page(client, sandbox)

    calculator = response.context["calculator"]
    efficiency = next(sensor for sensor in response.context["sensors"] if sensor["kind"] == "efficiency")
    assert calculator["form"].initial["fuel_price_usd_per_mmbtu"] == 5.5  # the oil & gas scenario's gas price
    assert calculator["form"].initial["operating_hours_per_year"] == 8000
    assert calculator["form"].initial["efficiency_current_pct"] == round(efficiency["value"], 1)
    assert 'id="savings-result"' not in response.content.decode()


def test_savings_are_computed_with_the_engine_shown_and_recorded(client: Client, sandbox: Sandbox, owner: User) -> None:
    response = client.post(f"{HEATER}savings", savings_input(), HTTP_HOST=host(sandbox))

    assert response.status_code == 200
    with schema_context(sandbox.schema_name):
        firing = asset_firing_rate_mmbtu_per_h(plant_get(), asset=Asset.objects.get(tag="H-101"))  # type: ignore[arg-type]
    assert firing is not None
    assert firing > 0
    fuel = firing * 8000
    usd = annual_fuel_cost_saving(annual_fuel_cost=fuel * 5.5, efficiency_old_pct=80.0, efficiency_new_pct=84.0)
    fraction = fuel_saving_fraction(efficiency_old_pct=80.0, efficiency_new_pct=84.0)
    co2 = co2_tonnes(fuel_mmbtu=fuel * fraction, fuel="natural_gas")
    html = response.content.decode()
    assert 'id="savings-result"' in html
    assert f"${usd:,.0f}" in html
    assert f"{fraction * 100:.1f} %" in html
    assert f"{co2:,.0f} t" in html
    assert "US DOE Steam Tip Sheet #4" in html
    assert "40 CFR 98" in html
    event = Event.objects.get(name="savings_calculated", sandbox=sandbox)
    assert event.user == owner
    assert event.properties["asset_tag"] == "H-101"
    assert event.properties["efficiency_target_pct"] == 84.0
    assert event.properties["saving_usd_per_year"] == pytest.approx(usd)
    assert event.properties["co2_avoided_t_per_year"] == pytest.approx(co2)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"fuel_price_usd_per_mmbtu": "0"}, "fuel_price_usd_per_mmbtu"),
        ({"fuel_price_usd_per_mmbtu": "cheap"}, "fuel_price_usd_per_mmbtu"),
        ({"operating_hours_per_year": "9000"}, "operating_hours_per_year"),
        ({"operating_hours_per_year": "80.5"}, "operating_hours_per_year"),
        ({"efficiency_current_pct": ""}, "efficiency_current_pct"),
        ({"efficiency_current_pct": "120"}, "efficiency_current_pct"),
        ({"efficiency_target_pct": "49"}, "efficiency_target_pct"),
        ({"efficiency_target_pct": "80"}, "efficiency_target_pct"),  # no gain over the current 80 %
        ({"efficiency_target_pct": "75"}, "efficiency_target_pct"),
    ],
)
def test_bad_savings_input_is_a_field_error_and_records_nothing(
    client: Client, sandbox: Sandbox, owner: User, overrides: dict[str, str], field: str
) -> None:
    response = client.post(f"{HEATER}savings", savings_input(**overrides), HTTP_HOST=host(sandbox))

    assert response.status_code == 400
    assert list(response.context["calculator"]["form"].errors) == [field]
    assert 'id="savings-result"' not in response.content.decode()
    assert not Event.objects.filter(name="savings_calculated").exists()


def test_the_trend_picker_leads_back_to_the_asset_page_after_a_form_was_posted(
    client: Client, sandbox: Sandbox, owner: User
) -> None:
    response = client.post(f"{HEATER}savings", savings_input(), HTTP_HOST=host(sandbox))

    assert f'action="{HEATER}#asset-trend" class="trend-picker"' in response.content.decode()


# --- how an event came about: the prospect sees the plant, staff the truth ---------------------------------


def visible_text(html: str) -> str:
    """What a reader of the page sees: no tags, no attributes (event keys name their origin), no scripts."""
    html = re.sub(r"<(script|template)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def raised_and_injected(sandbox: Sandbox) -> None:
    """On H-101, an alarm sales raised by hand and an anomaly they injected, both a few minutes old."""
    with schema_context(sandbox.schema_name):
        heater = Asset.objects.get(tag="H-101")
        now = plant_sim_now(heater.plant)
        RaisedAlarm.objects.create(
            asset=heater, kind="alarm", message="High flue-gas CO", occurred_at=now - timedelta(minutes=5)
        )
        InjectedAnomaly.objects.create(
            asset=heater, type="excess_air", starts_at=now - timedelta(minutes=10), ends_at=now + timedelta(hours=1)
        )


@pytest.mark.parametrize("path", [HEATER, "/"])
def test_a_prospect_sees_raised_and_injected_events_as_the_plants_own(
    client: Client, sandbox: Sandbox, owner: User, path: str
) -> None:
    raised_and_injected(sandbox)

    response = page(client, sandbox, path)

    origins = {event["origin"] for event in response.context["events"]}
    assert {"triggered", "injected"} <= origins  # both are listed...
    text = visible_text(response.content.decode())
    assert "High flue-gas CO" in text
    assert "excess air" in text
    assert "by hand" not in text  # ...as the plant would raise them
    assert "injected" not in text.lower()


def test_staff_watching_are_told_which_events_were_raised_or_injected(client: Client, sandbox: Sandbox) -> None:
    owner = User.objects.create_user(email="owner@refinery.example", password="pw")
    Sandbox.objects.filter(pk=sandbox.pk).update(owner=owner)
    client.force_login(User.objects.create_user(email="sales@vendor.example", password="pw", is_staff=True))
    raised_and_injected(sandbox)

    text = visible_text(page(client, sandbox).content.decode())

    assert "High flue-gas CO" in text
    assert "raised by hand" in text
    assert "injected anomaly" in text


# --- charts have a text alternative ------------------------------------------------------------------------


@pytest.mark.parametrize("path", [HEATER, "/"])
def test_every_chart_is_named_and_has_a_table_for_its_figures(
    client: Client, sandbox: Sandbox, owner: User, path: str
) -> None:
    html = page(client, sandbox, path).content.decode()
    shown = html.split("<template", 1)[0]  # the charts on the page, not the picker's templates

    plots = re.findall(r'<div class="chart-plot" data-chart-plot role="img" aria-label="Chart of ([^"]+)"', shown)
    tables = re.findall(r'<details class="chart-table" data-chart-table hidden>\s*<summary>Table', shown)
    assert plots
    assert len(tables) == len(plots) == len(re.findall(r"data-chart[\s>]", shown))
    assert '<th scope="col">Time (UTC)</th>' in shown
