"""Sales' changes to a live plant are audited by the services that make them (simulation/services.py): the same
change through the API, the admin or a tour step leaves the same audit entry, written in the change's transaction."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import DatabaseError, connection
from django.test import Client
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from demoportal.core.models import User
from sandboxes.models import Sandbox, SandboxAuditEntry
from simulation.models import Asset, InjectedAnomaly, RaisedAlarm
from simulation.selectors.plant import plant_get
from simulation.services import alarm_raise, anomaly_inject, clock_set

pytestmark = pytest.mark.django_db
ADMIN = "/admin/sandboxes/sandbox"
ALARM = "High flue-gas CO: check the burner's air register"  # what thermalcommand.engineer's "alarms" step raises


@pytest.fixture
def salesperson() -> User:
    """Staff in Sales: they may use both the admin's plant controls and the API."""
    user = User.objects.create_user(email="sales@vendor.example", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Sales"))
    return user


def asset_pk(sandbox: Sandbox, tag: str) -> int:
    with schema_context(sandbox.schema_name):
        return int(Asset.objects.get(tag=tag).pk)


def entries(sandbox: Sandbox, action: str) -> list[dict[str, Any]]:
    rows = SandboxAuditEntry.objects.filter(sandbox=sandbox, action=action).order_by("pk")
    return [dict(row) for row in rows.values("action", "from_status", "to_status", "actor_id", "actor_label", "detail")]


def through_the_api(user: User, sandbox: Sandbox, what: str, body: dict[str, Any], status: int) -> None:
    client = APIClient(HTTP_HOST="localhost")
    client.force_authenticate(user)
    response = client.post(f"/api/v1/sandboxes/{sandbox.pk}/{what}", body, format="json")
    assert response.status_code == status, response.content


def through_the_admin(user: User, sandbox: Sandbox, what: str, form: dict[str, Any]) -> None:
    client = Client()
    client.force_login(user)
    response = client.post(f"{ADMIN}/{sandbox.pk}/{what}/", form, HTTP_HOST="localhost")
    assert response.status_code == 302, response.content  # back to the sandbox's page: done


def test_an_anomaly_injected_through_the_api_or_the_admin_is_audited_alike(salesperson: User, sandbox: Sandbox) -> None:
    heater = asset_pk(sandbox, "H-101")

    through_the_api(
        salesperson,
        sandbox,
        "anomalies",
        {"type": "excess_air", "asset_id": heater, "duration_minutes": 45, "magnitude": 1.5},
        201,
    )
    through_the_admin(
        salesperson,
        sandbox,
        "anomaly",
        {"anomaly": f"{heater}:excess_air", "duration_minutes": 45, "magnitude": 1.5},
    )

    api, admin = entries(sandbox, "anomaly_injected")
    assert api == admin
    assert api["detail"] == {"type": "excess_air", "asset_id": heater, "minutes": 45, "magnitude": 1.5}
    assert (api["actor_id"], api["actor_label"]) == (salesperson.pk, "sales@vendor.example")
    assert (api["from_status"], api["to_status"]) == ("ready", "ready")


def test_the_plant_clock_set_through_the_api_or_the_admin_is_audited_alike(salesperson: User, sandbox: Sandbox) -> None:
    through_the_api(salesperson, sandbox, "clock", {"time_scale": 60}, 200)
    through_the_admin(salesperson, sandbox, "clock", {"time_scale": "60"})

    api, admin = entries(sandbox, "clock_set")
    assert api == admin
    assert api["detail"] == {"time_scale": 60}
    assert (api["actor_id"], api["actor_label"]) == (salesperson.pk, "sales@vendor.example")


def test_an_event_raised_by_a_tour_step_or_by_sales_in_the_admin_is_audited_alike(
    salesperson: User, sandbox: Sandbox
) -> None:
    prospect = User.objects.create_user(email="ana@refinery.example", password="pw")
    Sandbox.objects.filter(pk=sandbox.pk).update(owner=prospect, product="thermalcommand", role="engineer")
    on_the_host = Client()
    on_the_host.force_login(prospect)
    shown = on_the_host.post(
        "/api/v1/tour",
        json.dumps({"action": "shown", "step": "alarms"}),
        content_type="application/json",
        HTTP_HOST=f"{sandbox.slug}.localhost",
    )
    assert shown.status_code == 200, shown.content
    heater = asset_pk(sandbox, "H-101")
    through_the_admin(salesperson, sandbox, "raise-alarm", {"asset": heater, "kind": "alarm", "message": ALARM})

    tour, admin = entries(sandbox, "alarm_raised")
    assert {key: tour[key] for key in ("action", "detail")} == {key: admin[key] for key in ("action", "detail")}
    assert tour["detail"] == {"kind": "alarm", "asset_id": heater, "message": ALARM}
    assert (tour["actor_id"], tour["actor_label"]) == (None, "system")  # the tour raised it, not the prospect
    assert (admin["actor_id"], admin["actor_label"]) == (salesperson.pk, "sales@vendor.example")


@pytest.fixture
def audit_refused() -> None:
    """PostgreSQL refuses every new audit entry (a trigger, made inside the test's transaction and gone with it)."""
    table = SandboxAuditEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION public.audit_refused() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit refused'; END $$"
        )
        cursor.execute(
            f"CREATE TRIGGER audit_refused BEFORE INSERT ON public.{table} "
            "FOR EACH ROW EXECUTE FUNCTION public.audit_refused()"
        )


def inject(sandbox: Sandbox, actor: User) -> None:
    anomaly_inject(
        sandbox=sandbox, asset_id=Asset.objects.get(tag="H-101").pk, type="excess_air", duration_minutes=45, actor=actor
    )


def trigger(sandbox: Sandbox, actor: User) -> None:
    asset_id = Asset.objects.get(tag="H-101").pk
    alarm_raise(sandbox=sandbox, asset_id=asset_id, kind="alarm", message=ALARM, actor=actor)


def speed_up(sandbox: Sandbox, actor: User) -> None:
    plant = plant_get()
    assert plant is not None
    clock_set(sandbox=sandbox, plant=plant, time_scale=60, actor=actor)


def plant_changes() -> tuple[int, int, int]:
    plant = plant_get()
    assert plant is not None
    return InjectedAnomaly.objects.count(), RaisedAlarm.objects.count(), plant.time_scale


@pytest.mark.parametrize("change", [inject, trigger, speed_up])
def test_a_change_whose_audit_entry_cannot_be_written_is_not_made(
    salesperson: User, sandbox: Sandbox, audit_refused: None, change: Callable[[Sandbox, User], None]
) -> None:
    with schema_context(sandbox.schema_name):
        assert plant_changes() == (0, 0, 1)
        with pytest.raises(DatabaseError, match="audit refused"):
            change(sandbox, salesperson)

        assert plant_changes() == (0, 0, 1)  # no anomaly, no event, the clock at 1×
