"""The paths renamed from "events" to "alarms" (docs/api.md, "Renamed"): the old ones answer as the new ones do
until 2027-06, so a client written against them keeps working for a release."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from demoportal.core.models import User
from sandboxes.models import Sandbox
from simulation.models import Acknowledgement, Asset, RaisedAlarm

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db: None) -> APIClient:
    client = APIClient(HTTP_HOST="localhost")
    client.force_authenticate(User.objects.create_user(email="ae@vendor.example", password="pw", is_staff=True))
    return client


def alarm_raised(sandbox: Sandbox) -> str:
    with schema_context(sandbox.schema_name):
        alarm = RaisedAlarm.objects.create(
            asset=Asset.objects.get(tag="H-101"), kind="alarm", message="Flame failure", occurred_at=timezone.now()
        )
    return f"triggered:{alarm.pk}"


def test_the_alarm_list_answers_the_same_under_its_old_path(staff: APIClient, sandbox: Sandbox) -> None:
    key = alarm_raised(sandbox)

    new = staff.get(f"/api/v1/sandboxes/{sandbox.pk}/alarms")
    old = staff.get(f"/api/v1/sandboxes/{sandbox.pk}/events")

    assert new.status_code == old.status_code == 200
    assert old.json().keys() == new.json().keys()
    # The same row under both paths (the engine's own alarms move with the plant's clock between two requests).
    raised = [[row for row in response.json()["results"] if row["key"] == key] for response in (new, old)]
    assert raised[0] == raised[1]
    assert len(raised[0]) == 1
    assert staff.get(f"/api/v1/sandboxes/{sandbox.pk}/events?since=1999-01-01T00:00:00Z").status_code == 400


@pytest.mark.parametrize("path", ["alarms", "events"])
def test_an_alarm_is_acknowledged_through_either_api_path(staff: APIClient, sandbox: Sandbox, path: str) -> None:
    key = alarm_raised(sandbox)

    response = staff.post(f"/api/v1/sandboxes/{sandbox.pk}/{path}/{key}/acknowledge")

    assert response.status_code in (200, 201)
    with schema_context(sandbox.schema_name):
        assert Acknowledgement.objects.filter(alarm_key=key).count() == 1


@pytest.mark.parametrize("path", ["alarms", "events"])
def test_the_sandbox_page_acknowledges_through_either_path(client: Client, sandbox: Sandbox, path: str) -> None:
    owner = User.objects.create_user(email="owner@refinery.example", password="pw")
    Sandbox.objects.filter(pk=sandbox.pk).update(owner=owner, product="thermalcommand")
    client.force_login(owner)
    key = alarm_raised(sandbox)

    response = client.post(f"/{path}/{key}/acknowledge", HTTP_HOST=f"{sandbox.slug}.localhost")

    assert response.status_code == 302
    with schema_context(sandbox.schema_name):
        assert Acknowledgement.objects.filter(alarm_key=key, acknowledged_by=owner.email).count() == 1


def test_the_old_api_paths_are_documented_as_deprecated(staff: APIClient) -> None:
    paths = staff.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]

    assert paths["/api/v1/sandboxes/{sandbox_id}/events"]["get"]["deprecated"] is True
    assert paths["/api/v1/sandboxes/{sandbox_id}/events/{key}/acknowledge"]["post"]["deprecated"] is True
    assert "deprecated" not in paths["/api/v1/sandboxes/{sandbox_id}/alarms"]["get"]
