"""How many queries the plant's pages and the list endpoints take, so moving code between apps cannot add
queries silently. Every request goes through its URL on the right host and no view is imported, so these
tests keep guarding the pages wherever their modules end up.

Each ceiling is the count measured today; a query more fails the test. A page is measured on its second
request, after one warm-up request to it, so the first request's one-off work (the engine's plant built
once per process, caches filled) is not what is counted. The list endpoints are measured with few rows and
with many, and must take the same number of queries both times: no query per row.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from analytics.models import Lead
from analytics.services.events import event_record
from demoportal.core.models import Partner, User
from sandboxes.models import Sandbox
from simulation.models import Acknowledgement, Asset, RaisedAlarm
from simulation.selectors.plant import plant_get, plant_kpis

pytestmark = pytest.mark.django_db


def host(sandbox: Sandbox) -> str:
    return f"{sandbox.slug}.localhost"


def member_signs_in(client: Client, sandbox: Sandbox) -> Client:
    """The session sandbox, owned (for this test's transaction) by a prospect signed in on its host."""
    user = User.objects.create_user(email="owner@refinery.example", password="pw")
    Sandbox.objects.filter(pk=sandbox.pk).update(owner=user, product="thermalcommand")
    client.force_login(user)
    client.defaults["HTTP_HOST"] = host(sandbox)
    return client


def staff_api() -> APIClient:
    """A staff member's API client on the portal host, signed in as the API's users are (a token)."""
    user = User.objects.create_user(email="sales@vendor.example", password="pw", is_staff=True)
    client = APIClient(HTTP_HOST="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def ok(client: Client, path: str) -> Any:
    response = client.get(path)
    assert response.status_code == 200, response.content[:500]
    return response


# --- the plant's pages on the sandbox host ----------------------------------------------------------


def test_the_sandbox_home(client: Client, sandbox: Sandbox, django_assert_max_num_queries: Any) -> None:
    member = member_signs_in(client, sandbox)
    with schema_context(sandbox.schema_name):
        plant_kpis(plant_get())  # type: ignore[arg-type]  # the KPIs cached, as kpis_warm does for a new sandbox
    ok(member, "/")  # warm-up

    # tenant (search_path ×2, domain), session, user, plant, assets, sensors, triggered events,
    # acknowledgements, sensor indices, and the overlays (anomalies, optimisations) read once by
    # plant_home for the events, the KPIs' cache key and the values now (three times, 17 queries, before).
    with django_assert_max_num_queries(13):
        response = ok(member, "/")

    assert response.context["kpis"]  # the page as a prospect sees it: figures shown, not fetched later
    assert response.context["events"]


def test_an_asset_page(client: Client, sandbox: Sandbox, django_assert_max_num_queries: Any) -> None:
    member = member_signs_in(client, sandbox)
    # An alarm on the heater, acknowledged: whether the engine gave it events this week depends on the
    # sandbox's random seed, and with none listed the acknowledgements are not looked up (one query fewer).
    (alarm,) = alarms_add(sandbox, count=1, first=0)
    ok(member, "/assets/H-101/")  # warm-up

    # tenant (3), session, user, plant, asset, its sensors, overlays (2), sensor indices for the values
    # now and for the fuel input (2), the O2 setpoint (its optimisation, the O2 sensor's parameters), events,
    # their acknowledgements.
    with django_assert_max_num_queries(16):
        response = ok(member, "/assets/H-101/")

    assert response.context["o2"] is not None  # the heater's page in full: O2 trim and calculator included
    assert response.context["calculator"] is not None
    assert next(event for event in response.context["events"] if event["key"] == alarm)["acknowledged"]


# --- list endpoints: the same count for few rows and for many ----------------------------------------


def sandboxes_add(*, count: int, first: int, partner: Partner) -> list[int]:
    """``count`` ready demo sandboxes, each owned by a user of its own and every other one a partner's.
    Rows only: bulk_create skips the schema that save() would make, and the list reads no schema."""
    made = Sandbox.objects.bulk_create(
        [
            Sandbox(
                schema_name=f"counted_{n}",
                slug=f"counted-{n}",
                name=f"Counted plant {n}",
                industry="cement",
                product="thermalcommand",
                owner=User.objects.create_user(email=f"owner-{n}@plant-{n}.example", password="pw"),
                partner=partner if n % 2 else None,
            )
            for n in range(first, first + count)
        ]
    )
    return [sandbox.pk for sandbox in made]


def test_the_staff_list_of_sandboxes_takes_the_same_queries_for_2_and_6(
    db: None, django_assert_max_num_queries: Any
) -> None:
    staff = staff_api()
    partner = Partner.objects.create(name="Acme Integration", slug="acme")
    listed = sandboxes_add(count=2, first=0, partner=partner)
    ok(staff, "/api/v1/sandboxes")  # warm-up

    # tenant (search_path ×2, domain), token with its user, the count, the page with owners and partners.
    with django_assert_max_num_queries(6) as two:
        response = ok(staff, "/api/v1/sandboxes")
    assert set(listed) <= {row["sandbox_id"] for row in response.json()["results"]}

    listed += sandboxes_add(count=4, first=2, partner=partner)
    with django_assert_max_num_queries(6) as six:
        response = ok(staff, "/api/v1/sandboxes")
    rows = {row["sandbox_id"]: row for row in response.json()["results"]}
    assert set(listed) <= set(rows)
    assert rows[listed[5]]["owner_email"] == "owner-5@plant-5.example"
    assert rows[listed[5]]["partner"] == "acme"

    queries_for_2, queries_for_6 = len(two.captured_queries), len(six.captured_queries)
    assert queries_for_6 == queries_for_2


def alarms_add(sandbox: Sandbox, *, count: int, first: int) -> list[str]:
    """``count`` alarms raised in the last minutes, each on an asset of its own and acknowledged; their keys."""
    keys = []
    with schema_context(sandbox.schema_name):
        for n, asset in enumerate(Asset.objects.order_by("index")[first : first + count], start=first):
            alarm = RaisedAlarm.objects.create(
                asset=asset, kind="alarm", message=f"Alarm {n}", occurred_at=timezone.now() - timedelta(minutes=n)
            )
            keys.append(f"triggered:{alarm.pk}")
            Acknowledgement.objects.create(alarm_key=keys[-1], acknowledged_by="operator@plant.example")
    return keys


# The member calls it on the sandbox's host with the session (as the home page does), staff on the portal's
# host with a token. Queries: tenant (search_path ×2, domain); session and user, or token with its user;
# the sandbox (access); search_path to its schema; plant; overlays (2); triggered events; acknowledgements.
@pytest.mark.parametrize(("caller", "ceiling"), [("member", 12), ("staff", 11)])
def test_the_events_api_takes_the_same_queries_for_2_and_22_acknowledged_alarms(
    client: Client, sandbox: Sandbox, django_assert_max_num_queries: Any, caller: str, ceiling: int
) -> None:
    api = member_signs_in(client, sandbox) if caller == "member" else staff_api()
    path = f"/api/v1/sandboxes/{sandbox.pk}/alarms"
    alarms = alarms_add(sandbox, count=2, first=0)
    ok(api, path)  # warm-up

    with django_assert_max_num_queries(ceiling) as two:
        response = ok(api, path)
    acknowledged = {row["key"] for row in response.json()["results"] if row["acknowledged"]}
    assert set(alarms) <= acknowledged

    alarms += alarms_add(sandbox, count=20, first=2)
    with django_assert_max_num_queries(ceiling) as many:
        response = ok(api, path)
    acknowledged = {row["key"] for row in response.json()["results"] if row["acknowledged"]}
    assert set(alarms) <= acknowledged  # all 22 on the first page (50 rows), each on an asset of its own

    queries_for_2, queries_for_22 = len(two.captured_queries), len(many.captured_queries)
    assert queries_for_22 == queries_for_2


def leads_add(*, count: int, first: int) -> list[int]:
    """``count`` leads, each a consenting prospect at a company of their own (every other one a colleague of
    the previous) with a demo sandbox and an event in it, scored as in production; their ids."""
    made = []
    for n in range(first, first + count):
        user = User.objects.create_user(
            email=f"lead-{n}@company-{n // 2}.example", role="engineer", contact_consent_at=timezone.now()
        )
        (sandbox,) = Sandbox.objects.bulk_create(
            [Sandbox(schema_name=f"lead_{n}", slug=f"lead-{n}", name=f"Plant {n}", industry="steel", owner=user)]
        )
        event_record(name="demo_started", user=user, sandbox=sandbox)
        made.append(user.lead.pk)
    return made


def sales_api() -> APIClient:
    user = User.objects.create_user(email="rep@vendor.example", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Sales"))
    client = APIClient(HTTP_HOST="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


# tenant (search_path ×2, domain), token with its user, the groups (Sales or Marketing), the active rule set
# (the decay's half-lives), the count; then the page of leads, their users (prefetched: see leads_scored) and
# their sandboxes (leads), or the page of accounts rolled up in one query (accounts).
@pytest.mark.parametrize(("path", "ceiling"), [("/api/v1/leads", 10), ("/api/v1/accounts", 8)])
def test_the_leads_and_accounts_lists_take_the_same_queries_for_2_and_6(
    db: None, django_assert_max_num_queries: Any, path: str, ceiling: int
) -> None:
    sales = sales_api()
    listed = leads_add(count=2, first=0)
    ok(sales, path)  # warm-up

    with django_assert_max_num_queries(ceiling) as two:
        response = ok(sales, path)
    assert response.json()["count"] == (2 if path.endswith("leads") else 1)

    listed += leads_add(count=4, first=2)
    with django_assert_max_num_queries(ceiling) as six:
        response = ok(sales, path)
    rows = response.json()["results"]
    if path.endswith("leads"):
        assert {row["id"] for row in rows} == set(listed)
        assert all(len(row["sandboxes"]) == 1 for row in rows)
    else:
        assert [row["people"] for row in rows] == [2, 2, 2]

    queries_for_2, queries_for_6 = len(two.captured_queries), len(six.captured_queries)
    assert queries_for_6 == queries_for_2


# --- the lead admin: the same count for few leads (or a short history) and for many --------------------


def sales_signs_in() -> Client:
    user = User.objects.create_user(email="sales-counted@vendor.example", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Sales"))
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def admin_leads_add(*, count: int, first: int, domain: str = "plant.example") -> list[User]:
    """``count`` consenting prospects of one company, each with a sandbox row (no schema) where they started a
    demo, saw a tour step and asked for pricing: each a lead with fit and engagement lines."""
    people = []
    for n in range(first, first + count):
        user = User.objects.create_user(
            email=f"lead-{n}@{domain}", password="pw", role="engineer", contact_consent_at=timezone.now()
        )
        (sandbox,) = Sandbox.objects.bulk_create(
            [
                Sandbox(
                    schema_name=f"lead_{n}",
                    slug=f"lead-{n}",
                    name=f"Lead plant {n}",
                    industry="cement",
                    product="thermalcommand",
                    owner=user,
                )
            ]
        )
        event_record(name="demo_started", user=user, sandbox=sandbox)
        event_record(name="feature_viewed", user=user, sandbox=sandbox, properties={"tour": "t", "step": "a"})
        event_record(name="pricing_requested", user=user, sandbox=sandbox, properties={"sites": n})
        people.append(user)
    return people


def test_the_leads_list_takes_the_same_queries_for_2_and_6(db: None, django_assert_max_num_queries: Any) -> None:
    client = sales_signs_in()
    admin_leads_add(count=2, first=0)
    ok(client, "/admin/analytics/lead/")  # warm-up

    # tenant (search_path ×2, domain), session, user, permissions (user's and groups'), the rule set in use
    # (for the decay), the count, the page of leads, their users.
    with django_assert_max_num_queries(11) as two:
        response = ok(client, "/admin/analytics/lead/")
    assert len(response.context["cl"].result_list) == 2

    admin_leads_add(count=4, first=2)
    with django_assert_max_num_queries(11) as six:
        response = ok(client, "/admin/analytics/lead/")
    assert len(response.context["cl"].result_list) == 6

    assert len(six.captured_queries) == len(two.captured_queries)


def test_the_lead_page_takes_the_same_queries_for_a_short_and_a_long_history(
    db: None, django_assert_max_num_queries: Any
) -> None:
    client = sales_signs_in()
    (lead_user,) = admin_leads_add(count=1, first=0)
    admin_leads_add(count=1, first=1)  # a colleague
    path = f"/admin/analytics/lead/{Lead.objects.get(user=lead_user).pk}/change/"
    ok(client, path)  # warm-up

    # tenant (3), session, user, permissions (2), the rule set in use, the lead and its user (get_object), the
    # rule set it was scored under, the breakdown, the sandboxes, their tour events, the calls to action, the
    # rule set in use again, the committee and their users, the stage history.
    with django_assert_max_num_queries(19) as short:
        response = ok(client, path)
    assert len(response.context["page"].committee) == 1

    admin_leads_add(count=4, first=2)  # more colleagues
    second = Sandbox.objects.get(owner=lead_user)
    Sandbox.objects.filter(pk=second.pk).update(status=Sandbox.Status.EXPIRED)
    (more,) = Sandbox.objects.bulk_create(
        [Sandbox(schema_name="lead_more", slug="lead-more", name="More", industry="steel", owner=lead_user)]
    )
    for name in ("demo_started", "report_generated", "savings_calculated", "sales_contact_requested", "poc_started"):
        event_record(name=name, user=lead_user, sandbox=more, properties={"tour": "u", "step": name})
    with django_assert_max_num_queries(19) as long:
        response = ok(client, path)
    page = response.context["page"]
    assert (len(page.committee), len(page.sandboxes), len(page.calls_to_action)) == (5, 2, 3)

    assert len(long.captured_queries) == len(short.captured_queries)
