"""The Sales and Marketing groups, made by a data migration, and what they may do in the admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from demoportal.core.models import User
from sandboxes.models import Sandbox

pytestmark = pytest.mark.django_db


def staff(group: str) -> User:
    user = User.objects.create_user(email=f"{group.lower()}@vendor.example", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def test_groups_exist_with_their_permissions() -> None:
    sales = set(Group.objects.get(name="Sales").permissions.values_list("codename", flat=True))
    marketing = set(Group.objects.get(name="Marketing").permissions.values_list("codename", flat=True))

    assert sales == {
        *("view_sandbox", "change_sandbox", "view_domain", "view_sandboxauditentry", "view_user", "view_partner"),
        *("view_pricingrequest", "change_pricingrequest", "view_pocrequest", "change_pocrequest"),
        *("view_salescallbooking", "change_salescallbooking"),
        *("view_salescallslot", "add_salescallslot", "change_salescallslot", "delete_salescallslot"),
        *("view_lead", "change_lead", "view_scoreentry", "view_leadstagechange", "view_ruleset", "view_rule"),
        *("view_crmsync", "change_crmsync", "view_crmrecord", "view_crmstatus"),  # retry, resync
    }
    assert marketing == {
        *("view_sandbox", "view_user", "view_partner", "view_event", "view_archivedsandbox"),
        *("view_lead", "view_scoreentry", "view_leadstagechange", "view_ruleset", "add_ruleset", "change_ruleset"),
        *("view_rule", "add_rule", "change_rule", "delete_rule", "view_rescorejob", "add_rescorejob"),
        *("view_pricingrequest", "view_pocrequest"),  # read-only: sales tick them handled
        "view_crmsync",
        *("view_demosummary", "view_launchtargets", "add_launchtargets", "change_launchtargets"),  # dashboards
    }


def test_sales_can_open_a_sandbox_in_the_admin_but_not_delete_it(client: Client, sandbox: Sandbox) -> None:
    client.force_login(staff("Sales"))

    assert client.get("/admin/sandboxes/sandbox/", HTTP_HOST="localhost").status_code == 200
    assert client.get(f"/admin/sandboxes/sandbox/{sandbox.pk}/change/", HTTP_HOST="localhost").status_code == 200
    assert client.get(f"/admin/sandboxes/sandbox/{sandbox.pk}/delete/", HTTP_HOST="localhost").status_code == 403


def test_marketing_can_view_but_not_change_a_sandbox(client: Client, sandbox: Sandbox) -> None:
    client.force_login(staff("Marketing"))
    url = f"/admin/sandboxes/sandbox/{sandbox.pk}/change/"

    page = client.get(url, HTTP_HOST="localhost")
    post = client.post(url, {"name": "Renamed"}, HTTP_HOST="localhost")

    assert page.status_code == 200
    assert b"Save" not in page.content  # read-only view
    assert post.status_code == 403
    sandbox.refresh_from_db()
    assert sandbox.name == "Test Refinery"


def test_the_portal_and_the_templates_are_not_listed_as_sandboxes(client: Client, sandbox: Sandbox) -> None:
    client.force_login(User.objects.create_superuser(email="root@vendor.example", password="pw"))

    page = client.get("/admin/sandboxes/sandbox/", HTTP_HOST="localhost")

    assert sandbox.slug.encode() in page.content
    assert b"portal</td>" not in page.content
    assert page.context["cl"].result_count == 1
