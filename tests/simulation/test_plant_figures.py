"""The plant's figures on its pages as an engineer checks them: a cement works' CO2 from fuel and from
calcination, the same fuel reading the same on the home and the kiln's page, normal ranges written with
sensible precision, a steam trap's orifice with its unit, and one date-time format on every page."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from demoportal.core.formats import moment_text
from demoportal.core.models import User
from sandboxes.models import Sandbox
from sandboxes.services import sandbox_create
from simulation.engine.calculations import CLINKER_CO2_T_PER_T, co2_tonnes
from simulation.models import Asset, Plant, RaisedAlarm
from simulation.selectors.display import figure
from simulation.selectors.plant import plant_get, plant_kpis, plant_sim_now

pytestmark = pytest.mark.django_db
MOMENT = re.compile(r"\b\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2} UTC\b")  # "3 Dec 2026 16:13 UTC"


def cement_works(client: Client) -> Sandbox:
    """A new cement sandbox whose owner is signed in with ``client``, its clock anchored a second into a
    minute, so that every page of the test reads the plant at the same minute."""
    sandbox = sandbox_create(slug="cement-figures", name="Cement", scenario="cement")
    owner = User.objects.create_user(email="owner@cement.example", password="pw")
    Sandbox.objects.filter(pk=sandbox.pk).update(owner=owner)
    client.force_login(owner)
    now = timezone.now()
    with schema_context(sandbox.schema_name):
        Plant.objects.update(clock_wall_at=now, clock_sim_at=now.replace(second=1, microsecond=0), time_scale=1)
    return sandbox


def get(client: Client, sandbox: Sandbox, path: str) -> Any:
    response = client.get(path, HTTP_HOST=f"{sandbox.slug}.localhost")
    assert response.status_code == 200
    return response


def reading(response: Any, key: str) -> Any:
    return next(sensor for sensor in response.context["sensors"] if sensor.key == key)


def test_the_cement_homes_co2_now_is_fuel_plus_calcination_shown_split(client: Client, test_redis: redis.Redis) -> None:
    sandbox = cement_works(client)

    home = get(client, sandbox, "/")
    kiln = get(client, sandbox, "/assets/K-101/")

    now = home.context["now"]
    cards = {card.key: card for card in now.cards}
    assert [card.name for card in now.cards] == [
        "Fuel input now",
        "Fuel cost now",
        "CO₂ from fuel now",
        "CO₂ from calcination now",
        "CO₂ in total now",
    ]
    clinker = reading(kiln, "K-101.clinker_rate").value
    assert cards["co2_process"].value == pytest.approx(CLINKER_CO2_T_PER_T * clinker)
    fuel_mmbtu_per_h = reading(kiln, "K-101.fuel_rate").value / 1.055056
    assert cards["co2"].value == pytest.approx(co2_tonnes(fuel_mmbtu=fuel_mmbtu_per_h, fuel="petroleum_coke"))
    assert cards["co2_total"].value == pytest.approx(cards["co2"].value + cards["co2_process"].value)
    assert cards["co2_process"].value > cards["co2"].value  # calcination is most of a kiln's CO2
    html = home.content.decode()
    for key in ("co2", "co2_process", "co2_total"):
        assert f'data-now="{key}">{cards[key].display}<' in html


def test_the_cement_kpis_split_co2_into_fuel_and_calcination(client: Client, test_redis: redis.Redis) -> None:
    sandbox = cement_works(client)
    with schema_context(sandbox.schema_name):
        plant = plant_get()
        assert plant is not None
        plant_kpis(plant)  # computed, as kpis_warm does when a sandbox is made

    kpis = {kpi.key: kpi for kpi in get(client, sandbox, "/").context["kpis"]}

    assert kpis["annual_co2"].name == "CO2 from metered fuel, last 12 months"
    assert kpis["annual_process_co2"].name == "CO2 from calcination, last 12 months"
    assert kpis["annual_co2_total"].value == pytest.approx(
        kpis["annual_co2"].value + kpis["annual_process_co2"].value, abs=1
    )
    assert kpis["annual_fuel"].unit == "GJ"


def test_the_kiln_fuel_reads_the_same_on_the_home_and_on_the_kiln_page(client: Client) -> None:
    sandbox = cement_works(client)

    home = get(client, sandbox, "/")
    kiln = get(client, sandbox, "/assets/K-101/")

    firing = next(card for card in home.context["now"].cards if card.key == "firing")
    meter = reading(kiln, "K-101.fuel_rate")
    assert (firing.display, firing.unit) == (meter.display, meter.unit) == (figure(meter.value), "GJ/h")
    assert re.search(
        rf'data-now="firing">{re.escape(meter.display)}</span>\s*<span class="kpi-unit">GJ/h</span>',
        home.content.decode(),
    )


def test_normal_ranges_read_as_an_engineer_writes_them(client: Client) -> None:
    sandbox = cement_works(client)

    html = get(client, sandbox, "/assets/K-101/").content.decode()
    mill = get(client, sandbox, "/assets/CM-401/").content.decode()

    assert "Normal 125 to 219 t/h" in html  # 0.6 and 1.05 × 208.33 t/h
    assert "Normal 413 to 758 GJ/h" in html
    assert "Normal 1,030 to 1,120 °C" in html
    assert "218.8" not in html
    assert "413.4" not in html
    assert re.search(r"Normal 6\.04 to 14\.7 t/h", mill)  # coal feed: 0.6 × 10.07 t/h to 1.05 × its 14 t/h
    for low, high in re.findall(r"Normal ([\d,.]+) to ([\d,.]+)", html + mill):
        for limit in (low, high):
            digits = limit.replace(",", "").replace(".", "").lstrip("0")
            assert len(digits) <= max(3, len(limit.split(".")[0].replace(",", ""))), limit


def test_a_steam_traps_orifice_is_shown_with_its_unit(client: Client, sandbox: Sandbox) -> None:
    owner = User.objects.create_user(email="owner@refinery.example", password="pw")
    Sandbox.objects.filter(pk=sandbox.pk).update(owner=owner)
    client.force_login(owner)
    with schema_context(sandbox.schema_name):
        trap = Asset.objects.filter(type="steam_trap").order_by("index").first()
    assert trap is not None

    home = get(client, sandbox, "/").content.decode()
    page = get(client, sandbox, f"/assets/{trap.tag}/").content.decode()

    assert re.search(r"<strong>\d+</strong> · orifice 0\.125 in \(3\.2 mm\) each</p>", home)
    assert "<dt>Orifice</dt><dd>0.125 in (3.2 mm)</dd>" in page
    assert "orifice in" not in home + page


def test_every_sandbox_page_writes_moments_one_way(client: Client) -> None:
    sandbox = cement_works(client)
    with schema_context(sandbox.schema_name):
        plant = plant_get()
        assert plant is not None
        raised = RaisedAlarm.objects.create(
            asset=Asset.objects.get(tag="K-101"),
            kind="alarm",
            message="Kiln shell hot spot",
            occurred_at=plant_sim_now(plant) - timedelta(hours=2),
        )
    sandbox.refresh_from_db()
    assert sandbox.expires_at is not None

    for path in ("/", "/assets/K-101/"):
        html = get(client, sandbox, path).content.decode()
        assert f"until {moment_text(sandbox.expires_at)}" in html, path  # the bar
        assert f">{moment_text(raised.occurred_at)}</time>" in html, path  # the event lists
        # No other way of writing a moment: "3 Dec 09:05", "2026-12-03 09:05" (ISO stays in attributes only).
        visible = re.sub(r'(datetime|data-[a-z-]+)="[^"]*"', "", html)
        assert not re.search(r"\b\d{1,2} [A-Z][a-z]{2} \d{2}:\d{2}\b", visible), path
        assert not re.search(r"\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}\b", visible), path
        assert MOMENT.search(visible), path
