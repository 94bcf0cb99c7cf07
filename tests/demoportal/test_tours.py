"""Guided tours: the 16 definitions, their checks, and the prospect's progress through one."""

from __future__ import annotations

import json
import logging
import math
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from analytics.models import Event
from analytics.services.events import event_record
from demoportal.core import catalogue
from demoportal.core.models import User
from demoportal.tours.definitions import TOURS_DIR, tour_get, tour_resolve
from demoportal.tours.models import TourProgress
from sandboxes.models import Sandbox
from simulation.engine.plant import plant_build
from simulation.engine.tours import TourError, asset_for, tour_parse
from simulation.models import RaisedAlarm

PRODUCTS = [product["key"] for product in catalogue.products()]
ROLES = [role["key"] for role in catalogue.roles()]


def plant_assets(scenario: str) -> list[dict[str, Any]]:
    """A scenario's assets as tour_resolve takes them (tag, kind → a stand-in sensor id)."""
    plant = plant_build(catalogue.scenarios()[scenario], 1)
    return [
        {"tag": asset.tag, "sensors": {s.kind: s.index for s in plant.sensors_of(asset.index)}}
        for asset in plant.assets
    ]


def test_there_is_a_tour_for_every_product_and_role_and_every_one_loads() -> None:
    files = sorted(path.name for path in TOURS_DIR.glob("*.json"))

    assert files == sorted(f"{product}.{role}.json" for product in PRODUCTS for role in ROLES)
    for product in PRODUCTS:
        for role in ROLES:
            assert len(tour_get(product=product, role=role).steps) >= 5


@pytest.mark.parametrize("scenario", sorted(catalogue.scenarios()))
def test_every_tour_keeps_a_real_tour_on_every_scenarios_plant(scenario: str) -> None:
    assets = plant_assets(scenario)
    for product in PRODUCTS:
        for role in ROLES:
            steps = tour_resolve(tour_get(product=product, role=role), assets=assets)
            assert len(steps) >= 4, (product, role, scenario)
            assert steps[0]["url"] == "/"
            for step in steps:
                if step["live_sensor_id"] is not None or "sensor" in step["until"]:
                    assert step["asset_tag"], step


@pytest.mark.parametrize("scenario", sorted(catalogue.scenarios()))
def test_the_estimate_shown_is_the_tour_a_sandbox_of_that_plant_gets_at_the_stated_pace(scenario: str) -> None:
    """What the portal shows for a product × role × industry is the steps a sandbox of that industry is toured
    through (``tour_resolve`` on its built plant), each card at the stated reading time and each step that waits
    for the prospect or the plant at the stated hands-on time."""
    pace = catalogue.catalogue()[1]["products"]["tour_pace"]
    assets = plant_assets(scenario)
    for product in PRODUCTS:
        for role in ROLES:
            steps = tour_resolve(tour_get(product=product, role=role), assets=assets)
            seconds = sum(pace["hands_on_seconds"] if step["until"] else pace["card_seconds"] for step in steps)

            shown = catalogue.tour_minutes(product=product, role=role, industry=scenario)

            assert shown == math.ceil(seconds / 60), (product, role, scenario, len(steps))


def test_a_tour_of_four_cards_is_not_said_to_take_eight_minutes() -> None:
    """The defect that started it: EmissionsGuardian's executive tour on a cement works is four cards."""
    steps = tour_resolve(tour_get(product="emissionsguardian", role="executive"), assets=plant_assets("cement"))

    assert len(steps) == 4
    assert not any(step["until"] for step in steps)
    assert catalogue.tour_minutes(product="emissionsguardian", role="executive", industry="cement") < 4


def test_no_tour_states_its_own_length() -> None:
    """A length written into a tour's title or text ("in six minutes") would drift from the derived estimate."""
    stated = re.compile(r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|fifteen|twenty)\s+minutes\b", re.I)
    for key, tour in catalogue.tours().items():
        for text in (tour.title, *(f"{step.title} {step.text}" for step in tour.steps)):
            assert not stated.search(text), (key, text)


def test_executive_tours_are_shorter_than_engineer_tours() -> None:
    for product in PRODUCTS:
        assert len(tour_get(product=product, role="executive").steps) < len(
            tour_get(product=product, role="engineer").steps
        )


def test_a_step_whose_asset_the_plant_lacks_is_left_out_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    tour = tour_get(product="thermalcommand", role="engineer")
    with caplog.at_level(logging.INFO, logger="demoportal.tours.definitions"):
        cement = [step["id"] for step in tour_resolve(tour, assets=plant_assets("cement"))]
    refinery = [step["id"] for step in tour_resolve(tour, assets=plant_assets("oil_gas"))]

    assert "o2-trim" in refinery
    assert "o2-trim" not in cement
    assert "kiln" in cement
    assert "kiln" not in refinery
    assert "step o2-trim left out" in caplog.text


def test_the_asset_of_a_step_is_the_first_with_every_kind_it_needs() -> None:
    assets = [
        {"tag": "E-1", "sensors": {"hot_in": 1}},
        {"tag": "B-1", "sensors": {"o2": 2}},
        {"tag": "H-1", "sensors": {"o2": 3, "efficiency": 4}},
        {"tag": "H-2", "sensors": {"o2": 5, "efficiency": 6}},
    ]
    assert asset_for(("o2", "efficiency"), assets) == assets[2]
    assert asset_for(("nox",), assets) is None


def step(**fields: Any) -> dict[str, Any]:
    return {"id": "a", "page": "home", "title": "T", "text": "Text", **fields}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"page": "elsewhere"}, "'page' must be one of home, asset"),
        ({"title": ""}, "'title' is required text"),
        ({"colour": "red"}, "unknown field(s) colour"),
        ({"page": "asset"}, "a step on the asset page needs 'asset'"),
        ({"asset": ["o2"], "live": "nox", "text": "{value}"}, "'live' must be one of the step's 'asset' kinds"),
        ({"asset": ["o2"], "live": "o2"}, "'text' has {value} exactly when 'live' is set"),
        ({"until": {"event": "lunch"}}, "'until.event' must be one of"),
        ({"asset": ["o2"], "until": {"sensor": "o2", "above": 1, "below": 2}}, "'until' is {sensor, one test}"),
        ({"asset": ["o2"], "until": {"sensor": "o2", "above": "high"}}, "the test is a number"),
        ({"asset": ["o2"], "until": {"sensor": "nox", "above": 1}}, "'until.sensor' must be one of"),
        ({"until": {"event": "savings_calculated"}, "time_scale": 7200}, "'time_scale' is a whole number from 1"),
        ({"time_scale": 60}, "'time_scale' only on a step that waits"),
        ({"records": "demo_completed"}, "'records' must be one of"),
        ({"raises": {"kind": "alarm", "message": "Hot"}}, "a step that 'raises' an event needs 'asset'"),
        ({"asset": ["o2"], "raises": {"kind": "fire", "message": "Hot"}}, "'raises.kind' must be one of"),
        ({"asset": ["o2"], "raises": {"kind": "alarm", "message": " "}}, "'raises.message' is text"),
    ],
)
def test_a_broken_definition_names_the_file_the_step_and_the_field(bad: dict[str, Any], message: str) -> None:
    raw = {"version": 1, "title": "Tour", "steps": [step(id="first"), step(**bad)]}

    with pytest.raises(TourError) as error:
        tour_parse(raw, key="p.r", source="p.r.json")

    assert str(error.value).startswith("p.r.json, step 2: ")
    assert message in str(error.value)


def test_a_tour_needs_unique_step_ids_and_two_steps() -> None:
    with pytest.raises(TourError, match="step ids must be unique"):
        tour_parse({"version": 1, "title": "T", "steps": [step(), step()]}, key="p.r", source="p.r.json")
    with pytest.raises(TourError, match="at least two steps"):
        tour_parse({"version": 1, "title": "T", "steps": [step()]}, key="p.r", source="p.r.json")


def test_a_missing_tour_file_is_named() -> None:
    with pytest.raises(TourError, match=r"No tour nosuch\.engineer\.json"):
        tour_get(product="nosuch", role="engineer")


# --- progress, through the API on the sandbox's host ---------------------------------------------------


@pytest.fixture
def prospect(client: Client, sandbox: Sandbox) -> User:
    user = User.objects.create_user(email="ana@refinery.example", password="pw")
    Sandbox.objects.filter(pk=sandbox.pk).update(owner=user, product="thermalcommand", role="engineer")
    sandbox.refresh_from_db()
    client.force_login(user)
    return user


def tour(client: Client, sandbox: Sandbox, **action: str) -> Any:
    host = f"{sandbox.slug}.localhost"
    if not action:
        return client.get("/api/v1/tour", HTTP_HOST=host)
    return client.post("/api/v1/tour", json.dumps(action), content_type="application/json", HTTP_HOST=host)


def walk_to(client: Client, sandbox: Sandbox, step_id: str) -> dict[str, Any]:
    """Complete steps (the ones without a condition) until ``step_id`` is the current one."""
    body: dict[str, Any] = tour(client, sandbox).json()
    while body["step"] != step_id:
        body = tour(client, sandbox, action="complete", step=body["step"]).json()
    return body


def test_the_first_visit_starts_the_tour_at_its_first_step(client: Client, sandbox: Sandbox, prospect: User) -> None:
    response = tour(client, sandbox)

    assert response.status_code == 200
    body = response.json()
    assert (body["tour"], body["status"], body["step"], body["position"]) == (
        "thermalcommand.engineer",
        "active",
        "welcome",
        1,
    )
    o2_trim = next(step for step in body["steps"] if step["id"] == "o2-trim")
    assert o2_trim["url"] == "/assets/H-101/"
    assert o2_trim["until"] == {"event": "optimization_applied"}
    rises = next(step for step in body["steps"] if step["id"] == "efficiency-rises")
    assert rises["until"]["sensor_id"] == rises["live_sensor_id"]  # the heater's efficiency sensor
    assert TourProgress.objects.filter(user=prospect, sandbox=sandbox).count() == 1


def test_showing_a_step_records_its_event_once(client: Client, sandbox: Sandbox, prospect: User) -> None:
    tour(client, sandbox, action="shown", step="welcome")
    tour(client, sandbox, action="shown", step="welcome")  # a reload shows it again: still one event

    viewed = Event.objects.filter(sandbox=sandbox, user=prospect, name="feature_viewed")
    assert [e.properties["feature"] for e in viewed] == ["tour.welcome"]


def test_a_step_that_waits_for_an_event_completes_only_once_it_happened(
    client: Client, sandbox: Sandbox, prospect: User
) -> None:
    walk_to(client, sandbox, "o2-trim")

    early = tour(client, sandbox, action="complete", step="o2-trim")
    assert early.status_code == 409
    assert early.json()["detail"] == "Not yet: this step waits for something to happen in the plant."
    assert tour(client, sandbox).json()["step"] == "o2-trim"
    event_record(name="optimization_applied", user=prospect, sandbox=sandbox, properties={"kind": "o2_setpoint"})

    after = tour(client, sandbox).json()  # the page reloads after the trim: the tour has moved on by itself
    assert after["step"] == "efficiency-rises"
    assert after["completed"][-1] == "o2-trim"


def test_an_event_from_before_the_step_began_does_not_complete_it(
    client: Client, sandbox: Sandbox, prospect: User
) -> None:
    event_record(
        name="optimization_applied",
        user=prospect,
        sandbox=sandbox,
        occurred_at=timezone.now() - timedelta(minutes=5),
    )
    assert walk_to(client, sandbox, "o2-trim")["step"] == "o2-trim"


def test_a_step_that_waits_for_an_acknowledgement_raises_the_alarm_to_acknowledge_once(
    client: Client, sandbox: Sandbox, prospect: User
) -> None:
    tour(client, sandbox, action="shown", step="alarms")
    tour(client, sandbox, action="shown", step="alarms")  # shown again after a reload: no second alarm

    with schema_context(sandbox.schema_name):
        raised = list(RaisedAlarm.objects.values_list("asset__tag", "kind", "message"))
    assert raised == [("H-101", "alarm", "High flue-gas CO: check the burner's air register")]


def test_complete_for_a_step_that_is_not_the_current_one_is_refused(
    client: Client, sandbox: Sandbox, prospect: User
) -> None:
    response = tour(client, sandbox, action="complete", step="savings")

    assert response.status_code == 409
    assert response.json()["detail"] == "Step 'savings' is not the current step."
    assert tour(client, sandbox).json()["step"] == "welcome"


def test_bad_input_is_a_400_naming_the_field(client: Client, sandbox: Sandbox, prospect: User) -> None:
    unknown_action = tour(client, sandbox, action="fly")
    unknown_step = tour(client, sandbox, action="shown", step="nope")

    assert unknown_action.status_code == 400
    assert "action" in unknown_action.json()["errors"]
    assert unknown_step.status_code == 400
    assert unknown_step.json()["errors"] == {"step": ["Not a step of this tour."]}


def test_a_step_whose_element_is_missing_is_skipped_and_logged(
    client: Client, sandbox: Sandbox, prospect: User, caplog: pytest.LogCaptureFixture
) -> None:
    walk_to(client, sandbox, "history")
    with caplog.at_level(logging.WARNING, logger="demoportal.tours.services"):
        body = tour(client, sandbox, action="missing", step="history").json()

    assert body["step"] == "o2-now"
    assert body["missing"] == ["history"]
    assert "step history skipped, #history not on /" in caplog.text


def test_skipping_the_tour_keeps_the_place_and_resume_returns_to_it(
    client: Client, sandbox: Sandbox, prospect: User
) -> None:
    walk_to(client, sandbox, "o2-now")

    dismissed = tour(client, sandbox, action="dismiss").json()
    assert (dismissed["status"], dismissed["step"], dismissed["position"]) == ("dismissed", "o2-now", 3)
    assert tour(client, sandbox).json()["status"] == "dismissed"  # a reload does not bring it back
    resumed = tour(client, sandbox, action="resume").json()
    assert (resumed["status"], resumed["step"]) == ("active", "o2-now")


def test_finishing_records_demo_completed_once(client: Client, sandbox: Sandbox, prospect: User) -> None:
    body = tour(client, sandbox).json()
    for name in ("optimization_applied", "alert_acknowledged", "savings_calculated"):
        event_record(name=name, user=prospect, sandbox=sandbox, occurred_at=timezone.now() + timedelta(minutes=5))
    while body["status"] == "active":
        current = next(s for s in body["steps"] if s["id"] == body["step"])
        action = "missing" if "sensor" in current["until"] else "complete"  # value steps are judged by the page
        tour(client, sandbox, action=action, step=body["step"])
        body = tour(client, sandbox).json()

    assert body["status"] == "finished"
    assert body["step"] == ""
    completed = Event.objects.filter(sandbox=sandbox, user=prospect, name="demo_completed")
    assert completed.count() == 1
    assert completed.get().properties["tour"] == "thermalcommand.engineer"
    again = tour(client, sandbox, action="restart").json()
    assert (again["status"], again["step"], again["completed"]) == ("active", "welcome", [])


def test_staff_watching_a_prospects_sandbox_have_no_tour_there(client: Client, sandbox: Sandbox) -> None:
    owner = User.objects.create_user(email="ana@refinery.example", password="pw")
    Sandbox.objects.filter(pk=sandbox.pk).update(owner=owner, product="thermalcommand")
    client.force_login(User.objects.create_user(email="sales@vendor.example", password="pw", is_staff=True))

    assert tour(client, sandbox).status_code == 404
    assert not TourProgress.objects.exists()


def test_someone_not_signed_in_gets_no_tour(client: Client, sandbox: Sandbox) -> None:
    assert tour(client, sandbox).status_code == 401
