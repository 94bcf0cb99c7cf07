"""Events and archived sandboxes in the admin: Marketing reads them, only a superuser may change them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from analytics.models import ArchivedSandbox, Event
from demoportal.core.models import Partner, User
from sandboxes.models import Sandbox

pytestmark = pytest.mark.django_db


def staff(group: str) -> User:
    user = User.objects.create_user(email=f"{group.lower()}@vendor.example", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def events(sandbox: Sandbox) -> list[Event]:
    acme = Partner.objects.create(name="Acme Integrators", slug="acme", email_domains=["acme-int.example"])
    ann = User.objects.create_user(email="ann@acme-int.example", password="pw", company="Acme", partner=acme)
    pat = User.objects.create_user(email="pat@plant.example", password="pw", company="Plant Co")
    now = timezone.now()
    return [
        Event.objects.create(name="demo_started", user=ann, partner=acme, occurred_at=now, source="server"),
        Event.objects.create(
            name="pricing_requested", user=pat, sandbox=sandbox, occurred_at=now - timedelta(days=1), source="client"
        ),
    ]


@pytest.fixture
def archived() -> ArchivedSandbox:
    now = timezone.now()
    return ArchivedSandbox.objects.create(
        industry="steel",
        product="thermalcommand",
        created_at=now - timedelta(days=2),
        ended_at=now,
        end_status="expired",
    )


def test_marketing_reads_events_with_who_where_and_partner(client: Client, events: list[Event]) -> None:
    client.force_login(staff("Marketing"))

    page = client.get("/admin/analytics/event/", HTTP_HOST="localhost")

    assert page.status_code == 200
    content = page.content.decode()
    for text in ("ann@acme-int.example", "Acme Integrators", "pat@plant.example", "Plant Co", "Test Refinery"):
        assert text in content
    assert "pricing_requested" in content
    assert "Add event" not in content


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?name__exact=pricing_requested", ["pricing_requested"]),
        ("?q=acme-int", ["demo_started"]),
        ("?q=plant+co", ["pricing_requested"]),
        ("?partner__id__exact={acme}", ["demo_started"]),
        ("?partner__isnull=True", ["pricing_requested"]),
    ],
)
def test_marketing_filters_and_searches_events(
    client: Client, events: list[Event], query: str, expected: list[str]
) -> None:
    client.force_login(staff("Marketing"))
    acme = Partner.objects.get(slug="acme")

    page = client.get(f"/admin/analytics/event/{query.format(acme=acme.pk)}", HTTP_HOST="localhost")

    assert [event.name for event in page.context["cl"].result_list] == expected


def test_the_event_list_has_a_date_hierarchy_and_a_bounded_number_of_queries(
    client: Client, events: list[Event], django_assert_max_num_queries: Any
) -> None:
    client.force_login(staff("Marketing"))

    with django_assert_max_num_queries(12):
        page = client.get("/admin/analytics/event/", HTTP_HOST="localhost")

    assert page.context["cl"].date_hierarchy == "occurred_at"


def test_marketing_cannot_add_change_or_delete_events(client: Client, events: list[Event]) -> None:
    client.force_login(staff("Marketing"))
    event = events[0]
    url = f"/admin/analytics/event/{event.pk}/change/"

    view = client.get(url, HTTP_HOST="localhost")
    changed = client.post(url, {"name": "poc_started"}, HTTP_HOST="localhost")

    assert view.status_code == 200
    assert b'type="submit" value="Save"' not in view.content
    assert changed.status_code == 403
    assert client.get("/admin/analytics/event/add/", HTTP_HOST="localhost").status_code == 403
    assert (
        client.post(f"/admin/analytics/event/{event.pk}/delete/", {"post": "yes"}, HTTP_HOST="localhost").status_code
        == 403
    )
    event.refresh_from_db()
    assert event.name == "demo_started"


def test_sales_do_not_see_events(client: Client, events: list[Event]) -> None:
    client.force_login(staff("Sales"))

    assert client.get("/admin/analytics/event/", HTTP_HOST="localhost").status_code == 403


def test_a_superuser_may_repair_an_event(client: Client, events: list[Event]) -> None:
    client.force_login(User.objects.create_superuser(email="root@vendor.example", password="pw"))

    page = client.get(f"/admin/analytics/event/{events[0].pk}/delete/", HTTP_HOST="localhost")

    assert page.status_code == 200


def test_marketing_reads_archived_sandboxes_read_only(client: Client, archived: ArchivedSandbox) -> None:
    client.force_login(staff("Marketing"))

    listing = client.get("/admin/analytics/archivedsandbox/", HTTP_HOST="localhost")
    changed = client.post(
        f"/admin/analytics/archivedsandbox/{archived.pk}/change/", {"industry": "cement"}, HTTP_HOST="localhost"
    )

    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 1
    assert changed.status_code == 403
    assert client.get("/admin/analytics/archivedsandbox/add/", HTTP_HOST="localhost").status_code == 403
    archived.refresh_from_db()
    assert archived.industry == "steel"


@pytest.mark.parametrize("model", ["event", "archivedsandbox"])
def test_nobody_adds_events_or_archives_by_hand(client: Client, model: str) -> None:
    """Every field is read-only, so an added record could only be empty: the POST was an IntegrityError (500)."""
    client.force_login(User.objects.create_superuser(email="root@vendor.example", password="pw"))

    assert client.post(f"/admin/analytics/{model}/add/", {}, HTTP_HOST="localhost").status_code == 403
    assert not Event.objects.exists()
    assert not ArchivedSandbox.objects.exists()
