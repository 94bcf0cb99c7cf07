"""The sales admin: sandboxes listed, and extend, reset and destroy run through the services."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django_tenants.utils import schema_exists

from demoportal.models import User
from sandboxes.models import Sandbox
from sandboxes.services import sandbox_create

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/sandboxes/sandbox/"


@pytest.fixture
def sales(client: Client) -> Client:
    user = User.objects.create_user(email="sales@vendor.example", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Sales"))
    client.force_login(user)
    return client


def act(client: Client, action: str, *sandboxes: Sandbox, **extra: str) -> object:
    data = {"action": action, "_selected_action": [str(s.pk) for s in sandboxes], **extra}
    return client.post(CHANGELIST, data, HTTP_HOST="localhost", follow=True)


def test_the_list_shows_status_owner_and_time_left(sales: Client) -> None:
    owner = User.objects.create_user(email="plant@manager.example", password="pw")
    sandbox_create(slug="listed-one", name="Listed", scenario="cement", owner=owner, product="thermalcommand")

    page = sales.get(CHANGELIST, HTTP_HOST="localhost")

    assert b"listed-one" in page.content
    assert b"plant@manager.example" in page.content
    assert b"23 h 59 min" in page.content or b"24 h 00 min" in page.content


def test_extend_by_a_day_is_audited_with_the_salesperson(sales: Client) -> None:
    sandbox = sandbox_create(slug="extend-admin", name="Extend", scenario="cement")
    before = sandbox.expires_at

    act(sales, "extend_24h", sandbox)

    sandbox.refresh_from_db()
    assert (sandbox.expires_at - before).total_seconds() == 24 * 3600  # type: ignore[operator]
    assert sandbox.audit_entries.filter(action="extend", actor_label="sales@vendor.example").exists()


def test_reset_from_the_admin(sales: Client) -> None:
    sandbox = sandbox_create(slug="reset-admin", name="Reset", scenario="cement")

    act(sales, "reset", sandbox)

    assert sandbox.audit_entries.filter(action="reset", actor_label="sales@vendor.example").exists()


def test_destroy_asks_for_confirmation_first(sales: Client) -> None:
    sandbox = sandbox_create(slug="destroy-admin", name="Destroy", scenario="cement")

    asked = act(sales, "destroy", sandbox)
    assert b"Destroy these sandboxes?" in asked.content  # type: ignore[attr-defined]
    assert schema_exists("destroy_admin")

    act(sales, "destroy", sandbox, confirmed="yes")
    sandbox.refresh_from_db()
    assert sandbox.status == Sandbox.Status.DESTROYED
    assert not schema_exists("destroy_admin")


def test_a_refused_action_says_why(sales: Client) -> None:
    sandbox = sandbox_create(slug="refused-admin", name="Refused", scenario="cement")
    Sandbox.objects.filter(pk=sandbox.pk).update(status=Sandbox.Status.EXPIRED)

    page = act(sales, "reset", sandbox)

    assert b"Not done for refused-admin: A sandbox that is expired cannot be reset." in page.content  # type: ignore[attr-defined]


def test_marketing_cannot_run_actions(client: Client) -> None:
    user = User.objects.create_user(email="mkt@vendor.example", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Marketing"))
    client.force_login(user)
    sandbox = sandbox_create(slug="mkt-one", name="Mkt", scenario="cement")

    act(client, "reset", sandbox)

    assert not sandbox.audit_entries.filter(action="reset").exists()
