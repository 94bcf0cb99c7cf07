"""The sandbox bar on every page of a sandbox's host: time left, the plant's clock, and the owner's actions,
which fold into a disclosure on a phone (the browser's side: tests/sandboxes/test_sandbox_browser.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from demoportal.core.models import User
from sandboxes.models import Sandbox
from simulation.models import Plant
from simulation.selectors.plant import PlantClock, plant_clock

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def back_to_public() -> Iterator[None]:
    """A request to a sandbox's host leaves the test's connection on its schema; the next test expects public."""
    yield
    connection.set_schema_to_public()  # type: ignore[attr-defined]  # django-tenants' connection


def host(sandbox: Sandbox) -> str:
    return f"{sandbox.slug}.localhost"


@pytest.fixture
def owner(client: Client, sandbox: Sandbox) -> User:
    user = User.objects.create_user(email="owner@refinery.example", password="pw")
    Sandbox.objects.filter(pk=sandbox.pk).update(owner=user, product="thermalcommand")
    client.force_login(user)
    return user


def clock_run(sandbox: Sandbox, *, time_scale: int, ahead: timedelta) -> None:
    """The plant's clock at ``time_scale``, ``ahead`` of the wall clock now."""
    wall = timezone.now()
    with schema_context(sandbox.schema_name):
        Plant.objects.update(time_scale=time_scale, clock_wall_at=wall, clock_sim_at=wall + ahead)


def bar(client: Client, sandbox: Sandbox, path: str = "/") -> str:
    response = client.get(path, HTTP_HOST=host(sandbox))
    assert response.status_code == 200
    page = response.content.decode()
    return page.split('<div class="sandbox-bar"', 1)[1].split("</aside>", 1)[0]


# --- the plant's clock ---------------------------------------------------------------------------------


def test_at_real_time_the_bar_says_nothing_of_the_clock(client: Client, sandbox: Sandbox, owner: User) -> None:
    html = bar(client, sandbox)

    assert re.search(r'<p class="plant-clock" data-plant-clock data-time-scale="1" hidden>', html)
    assert re.search(r"data-plant-speed hidden>", html)


@pytest.mark.parametrize("path", ["/", "/assets/H-101/", "/contact/pricing/"])
def test_a_fast_clock_is_shown_with_its_speed_on_every_page(
    client: Client, sandbox: Sandbox, owner: User, path: str
) -> None:
    clock_run(sandbox, time_scale=60, ahead=timedelta(hours=2))

    html = bar(client, sandbox, path)

    assert '<p class="plant-clock" data-plant-clock data-time-scale="60">' in html  # not hidden
    plant_now = re.search(r'<time datetime="([^"]+)">(\d\d:\d\d)</time>', html)
    assert plant_now is not None
    at = datetime.fromisoformat(plant_now.group(1))
    assert abs(at - (timezone.now() + timedelta(hours=2))) < timedelta(seconds=60)  # 60× since a moment ago
    assert plant_now.group(2) == at.strftime("%H:%M")
    assert re.search(r"data-plant-speed>· <strong>60×</strong> speed</span>", html)


def test_back_at_real_time_but_ahead_the_plant_time_is_shown_without_a_speed(
    client: Client, sandbox: Sandbox, owner: User
) -> None:
    clock_run(sandbox, time_scale=1, ahead=timedelta(days=2))

    html = bar(client, sandbox)

    assert '<p class="plant-clock" data-plant-clock data-time-scale="1">' in html
    assert re.search(r"data-plant-speed hidden>", html)
    day = (timezone.now() + timedelta(days=2)).strftime("%-d %b")
    assert re.search(rf'<time datetime="[^"]+">{day} \d\d:\d\d</time>', html)  # another day: its date too


def test_the_clock_as_the_bar_reads_it() -> None:
    wall = timezone.now()
    plant = Plant(time_scale=60, clock_wall_at=wall - timedelta(minutes=1), clock_sim_at=wall)

    clock = plant_clock(plant, wall)

    assert clock == PlantClock(time_scale=60, plant_now=wall + timedelta(hours=1), wall_now=wall)
    assert clock.shown
    assert clock.ahead == timedelta(hours=1)
    never_run = plant_clock(Plant(time_scale=1), wall)
    assert not never_run.shown
    assert never_run.plant_now == wall
    just_ahead = PlantClock(time_scale=1, plant_now=wall + timedelta(seconds=59), wall_now=wall)
    assert not just_ahead.shown  # less than a minute ahead is real time
    late = wall.replace(hour=23, minute=50)
    assert PlantClock(time_scale=10, plant_now=late + timedelta(minutes=20), wall_now=late).shows_date
    assert not PlantClock(time_scale=10, plant_now=late + timedelta(minutes=5), wall_now=late).shows_date


def test_the_clock_is_read_only_on_a_sandboxs_host(client: Client, sandbox: Sandbox, owner: User) -> None:
    """The portal's pages never ask for a plant (there is none in the public schema)."""
    portal = client.get("/sandboxes/", HTTP_HOST="localhost")

    assert portal.status_code == 200
    assert "plant_clock" not in portal.context


def test_a_sandbox_whose_plant_is_gone_shows_no_clock(client: Client, sandbox: Sandbox, owner: User) -> None:
    assert "data-plant-clock" in client.get("/contact/pricing/", HTTP_HOST=host(sandbox)).content.decode()
    with schema_context(sandbox.schema_name):
        Plant.objects.all().delete()  # as mid-reset: the calls to action still answer
        response = client.get("/contact/pricing/", HTTP_HOST=host(sandbox))

    assert response.status_code == 200
    assert "data-plant-clock" not in response.content.decode()


# --- time left and the actions --------------------------------------------------------------------------


def test_time_left_reads_as_the_countdown_will(client: Client, sandbox: Sandbox, owner: User) -> None:
    Sandbox.objects.filter(pk=sandbox.pk).update(expires_at=timezone.now() + timedelta(hours=23, minutes=5, seconds=30))

    assert "<strong data-countdown>23 h 05 min</strong> left" in bar(client, sandbox)
    soon = Sandbox(expires_at=timezone.now() + timedelta(minutes=42, seconds=7.5))
    assert soon.time_left_text in ("42 min 07 s", "42 min 06 s")
    assert Sandbox(expires_at=timezone.now() - timedelta(minutes=1)).time_left_text == "No time"
    assert Sandbox(expires_at=None).time_left_text == ""


def test_the_actions_are_a_disclosure_the_phone_can_fold(client: Client, sandbox: Sandbox, owner: User) -> None:
    html = bar(client, sandbox)

    toggle = re.search(r'<button type="button" class="sandbox-menu-toggle" ([^>]*)>', html)
    assert toggle is not None
    assert 'aria-expanded="false"' in toggle.group(1)
    assert 'aria-controls="sandbox-actions"' in toggle.group(1)
    assert " hidden" in toggle.group(1)  # shown by the script, which makes it work: without it, no dead button
    actions = html.split('id="sandbox-actions"', 1)[1]
    for label in ("Extend 24 h", "Reset", "End"):
        assert f">{label}</button>" in actions


def test_staff_watching_get_no_actions_and_no_disclosure(client: Client, sandbox: Sandbox) -> None:
    owner = User.objects.create_user(email="owner@refinery.example", password="pw")
    Sandbox.objects.filter(pk=sandbox.pk).update(owner=owner)
    client.force_login(User.objects.create_user(email="sales@vendor.example", password="pw", is_staff=True))
    clock_run(sandbox, time_scale=600, ahead=timedelta(hours=1))

    html = bar(client, sandbox)

    assert "data-sandbox-menu" not in html
    assert "Extend 24 h" not in html
    assert "<strong>600×</strong> speed" in html  # staff see the prospect's clock too
