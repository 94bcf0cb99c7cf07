"""The sales admin: sandboxes listed, and extend, reset and destroy run through the services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context, schema_exists
from pytest_django.asserts import assertContains

from demoportal.core.models import Partner, User
from sandboxes.models import Sandbox
from sandboxes.services import sandbox_create
from simulation.models import Asset, RaisedAlarm
from simulation.selectors.plant import plant_get

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/sandboxes/sandbox/"
HOST = "test-sandbox.localhost"  # the session sandbox's host


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

    asked = act(sales, "end", sandbox)
    assert b"End these sandboxes?" in asked.content  # type: ignore[attr-defined]
    assert schema_exists("destroy_admin")

    act(sales, "end", sandbox, confirmed="yes")
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


def test_the_list_keeps_the_columns_a_salesperson_needs_and_the_row_actions(sales: Client) -> None:
    owner = User.objects.create_user(
        email="buyer@steel.example", password="pw", first_name="Ada", last_name="Steel", company="Northern Steel"
    )
    sandbox_create(slug="columns-one", name="Columns", scenario="steel", owner=owner, product="wasteheatrecovery")
    sandbox_create(slug="columns-nobody", name="Nobody's", scenario="cement")

    page = sales.get(f"{CHANGELIST}?q=columns", HTTP_HOST="localhost")

    assert page.context["cl"].list_display == [
        *("action_checkbox", "prospect", "company", "product_name", "industry_name", "state", "expires"),
        *("last_activity", "row_actions"),
    ]
    html = page.content.decode()
    assert '<span title="buyer@steel.example">Ada Steel</span>' in html
    assert "Northern Steel" in html
    assert "WasteHeatRecovery</td>" in html
    assert "Steel</td>" in html
    assert "never</td>" in html  # no activity yet
    assert "Watch live" in html  # the prospect's, read-only
    assert "Open as staff" in html  # the one nobody owns
    assert html.count(">Inject anomaly</a>") == 2
    assert page.context["is_nav_sidebar_enabled"] is False  # the width goes to the columns


def test_the_list_names_products_industries_and_statuses_never_their_keys(sales: Client) -> None:
    owner = User.objects.create_user(email="plant@food.example", password="pw")
    sandbox_create(slug="keys-one", name="Keys", scenario="food_beverage", owner=owner, product="emissionsguardian")

    page = sales.get(CHANGELIST, HTTP_HOST="localhost")
    row = page.content.decode().split('class="field-prospect"', 2)[1]  # the first row

    assert "EmissionsGuardian" in row
    assert "Food &amp; beverage" in row
    assert "Ready" in row
    assert "emissionsguardian" not in row
    assert "food_beverage" not in row
    filters = {
        spec.title: [choice["display"] for choice in spec.choices(page.context["cl"])]
        for spec in page.context["cl"].filter_specs
    }
    assert "Oil & gas" in filters["industry"]
    assert "oil_gas" not in filters["industry"]
    assert "Process engineer" in filters["role"]
    assert "Pooled" not in filters["status"]  # the pool is not listed


def test_the_list_filters_by_the_catalogue_key_behind_a_name(sales: Client) -> None:
    sandbox_create(slug="filter-steel", name="Steel", scenario="steel")
    sandbox_create(slug="filter-cement", name="Cement", scenario="cement")

    page = sales.get(f"{CHANGELIST}?industry=steel", HTTP_HOST="localhost")

    assert [s.slug for s in page.context["cl"].result_list] == ["filter-steel"]


def test_the_list_shows_time_left_last_activity_and_flags_a_sandbox_past_its_storage(
    sales: Client, settings: Any
) -> None:
    sandbox = sandbox_create(slug="busy-one", name="Busy", scenario="cement")
    Sandbox.objects.filter(pk=sandbox.pk).update(last_accessed_at=timezone.now() - timedelta(minutes=5))
    settings.SANDBOX_STORAGE_WARNING_BYTES = 1024  # any schema is more

    html = sales.get(CHANGELIST, HTTP_HOST="localhost").content.decode()
    change_page = sales.get(f"{CHANGELIST}{sandbox.pk}/change/", HTTP_HOST="localhost").content.decode()

    assert "5\xa0minutes ago" in html  # timesince joins with a no-break space
    assert "min left</span>" in html
    assert 'Ready <strong title="Uses ' in html  # ⚠ beside the status; the size is on the change page
    assert " MB</strong>" in change_page


def test_marketing_sees_the_list_without_the_actions_it_may_not_take(client: Client) -> None:
    marketer = User.objects.create_user(email="mkt-list@vendor.example", password="pw", is_staff=True)
    marketer.groups.add(Group.objects.get(name="Marketing"))
    client.force_login(marketer)
    sandbox_create(slug="mkt-list", name="Mkt", scenario="cement", owner=marketer)

    page = sales_list = client.get(CHANGELIST, HTTP_HOST="localhost")

    assert "row_actions" not in page.context["cl"].list_display
    assert b"Watch live" not in sales_list.content


def test_the_change_page_names_the_demo_by_the_catalogue(sales: Client) -> None:
    owner = User.objects.create_user(email="exec@cement.example", password="pw")
    sandbox = sandbox_create(
        slug="named-one", name="Named", scenario="cement", owner=owner, product="boileroptimizer", role="executive"
    )

    html = sales.get(f"{CHANGELIST}{sandbox.pk}/change/", HTTP_HOST="localhost").content.decode()

    for name in ("BoilerOptimizer", "Cement", "Executive"):
        assert f'<div class="readonly">{name}</div>' in html
    assert '<div class="readonly">boileroptimizer</div>' not in html


def test_sales_see_the_audit_trail_in_words(sales: Client) -> None:
    sandbox = sandbox_create(slug="audit-words", name="Audit", scenario="cement")
    act(sales, "extend_24h", sandbox)

    page = sales.get(f"{CHANGELIST}{sandbox.pk}/change/", HTTP_HOST="localhost")

    assertContains(page, '<td class="field-what"><p>extend</p></td>', html=True)
    assertContains(
        page, '<td class="field-details"><p>hours: 24; reason: Extended by sales in the admin</p></td>', html=True
    )
    assertContains(page, "extend (ready → ready) by sales@vendor.example")


def test_nobody_adds_a_domain_in_the_admin(sales: Client, admin_client: Client) -> None:
    """Domains are made with their sandbox by provisioning: Sales hold no permission to add, change or delete
    one, there is no domain admin page to add one on, and the sandbox's page offers no "Add another"."""
    sandbox = sandbox_create(slug="domains-one", name="Domains", scenario="cement")
    codenames = set(Group.objects.get(name="Sales").permissions.values_list("codename", flat=True))

    assert {"add_domain", "change_domain", "delete_domain"}.isdisjoint(codenames)
    assert sales.get("/admin/sandboxes/domain/add/", HTTP_HOST="localhost").status_code == 404
    assert (
        sales.post("/admin/sandboxes/domain/add/", {"domain": "x.localhost"}, HTTP_HOST="localhost").status_code == 404
    )
    for client in (sales, admin_client):
        page = client.get(f"{CHANGELIST}{sandbox.pk}/change/", HTTP_HOST="localhost")
        assert b"domains-one.localhost" in page.content
        assert page.context["inline_admin_formsets"][0].has_add_permission is False


def test_open_as_staff_signs_the_salesperson_into_the_sandbox_and_is_audited(sales: Client) -> None:
    sandbox = sandbox_create(slug="open-admin", name="Open", scenario="cement")

    response = sales.get(f"{CHANGELIST}{sandbox.pk}/open/", HTTP_HOST="localhost")

    assert response.status_code == 302
    link = response["Location"]
    assert link.startswith("http://open-admin.localhost/enter/")
    visitor = Client()
    entered = visitor.get(link.split(".localhost", 1)[1], HTTP_HOST="open-admin.localhost")
    assert entered.status_code == 302
    assert visitor.session["_auth_user_id"] == str(User.objects.get(email="sales@vendor.example").pk)
    assert sandbox.audit_entries.filter(action="opened_by_staff", actor_label="sales@vendor.example").exists()


def test_open_as_staff_is_refused_without_the_sales_permission_or_for_an_ended_sandbox(
    sales: Client, client: Client
) -> None:
    ended = sandbox_create(slug="open-ended", name="Ended", scenario="cement")
    Sandbox.objects.filter(pk=ended.pk).update(status="expired")

    page = sales.get(f"{CHANGELIST}{ended.pk}/open/", HTTP_HOST="localhost", follow=True)
    assert b"Open-ended is expired: there is nothing to open." in page.content

    marketer = User.objects.create_user(email="mkt2@vendor.example", password="pw", is_staff=True)
    marketer.groups.add(Group.objects.get(name="Marketing"))
    client.force_login(marketer)
    running = sandbox_create(slug="open-running", name="Running", scenario="cement")
    assert client.get(f"{CHANGELIST}{running.pk}/open/", HTTP_HOST="localhost").status_code == 403


def test_a_staff_link_stops_working_once_its_holder_is_no_longer_staff(sales: Client) -> None:
    sandbox = sandbox_create(slug="open-revoked", name="Revoked", scenario="cement")
    link = sales.get(f"{CHANGELIST}{sandbox.pk}/open/", HTTP_HOST="localhost")["Location"]
    User.objects.filter(email="sales@vendor.example").update(is_staff=False)

    entered = Client().get(link.split(".localhost", 1)[1], HTTP_HOST="open-revoked.localhost")

    assert entered.status_code == 403


def test_auto_reset_is_a_per_sandbox_setting_in_the_admin(sales: Client) -> None:
    sandbox = sandbox_create(slug="policy-admin", name="Policy", scenario="cement")
    assert sandbox.auto_reset

    sales.post(
        f"{CHANGELIST}{sandbox.pk}/change/",
        {
            "name": "Policy",
            "domains-TOTAL_FORMS": "1",
            "domains-INITIAL_FORMS": "1",
            "domains-0-id": "",
            "audit_entries-TOTAL_FORMS": "1",
            "audit_entries-INITIAL_FORMS": "1",
        },
        HTTP_HOST="localhost",
    )

    sandbox.refresh_from_db()
    assert not sandbox.auto_reset


def test_injecting_needs_the_sales_permission(client: Client, sandbox: Sandbox) -> None:
    client.force_login(User.objects.create_user(email="intern@vendor.example", password="pw", is_staff=True))

    assert client.get(f"{CHANGELIST}{sandbox.pk}/anomaly/", HTTP_HOST="localhost").status_code == 403


def test_the_change_page_offers_raise_alarm(sales: Client, sandbox: Sandbox) -> None:
    html = sales.get(f"{CHANGELIST}{sandbox.pk}/change/", HTTP_HOST="localhost").content.decode()

    assert f'href="{CHANGELIST}{sandbox.pk}/raise-alarm/"' in html


@pytest.fixture
def prospect(sandbox: Sandbox) -> User:
    user = User.objects.create_user(email="plant.manager@refinery.example", password="pw")
    Sandbox.objects.filter(pk=sandbox.pk).update(owner=user)
    return user


def test_sales_trigger_an_event_that_the_prospect_sees_and_it_is_audited(
    sales: Client, sandbox: Sandbox, prospect: User
) -> None:
    with schema_context(sandbox.schema_name):
        boiler = Asset.objects.get(tag="B-201").pk
    form = sales.get(f"{CHANGELIST}{sandbox.pk}/raise-alarm/", HTTP_HOST="localhost")
    assert form.status_code == 200
    assert b"B-201 (Boiler)" in form.content

    response = sales.post(
        f"{CHANGELIST}{sandbox.pk}/raise-alarm/",
        {"asset": boiler, "kind": "alarm", "message": "Flame failure on burner 2"},
        HTTP_HOST="localhost",
    )

    assert response.status_code == 302
    with schema_context(sandbox.schema_name):
        triggered = RaisedAlarm.objects.get()
    assert (triggered.kind, triggered.message, triggered.created_by) == (
        "alarm",
        "Flame failure on burner 2",
        "sales@vendor.example",
    )
    assert sandbox.audit_entries.filter(action="alarm_raised", detail__kind="alarm").exists()
    owner = Client()
    owner.force_login(prospect)
    home_events = owner.get("/", HTTP_HOST=HOST).context["events"]
    assert home_events[0]["message"] == "Flame failure on burner 2"
    asset_page = owner.get("/assets/B-201/", HTTP_HOST=HOST).content.decode()
    assert f'data-ack="triggered:{triggered.pk}"' in asset_page


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "alarm", "message": "x"}, "asset"),
        ({"asset": "999999", "kind": "alarm", "message": "x"}, "asset"),
        ({"asset": "ASSET", "kind": "explosion", "message": "x"}, "kind"),
        ({"asset": "ASSET", "kind": "alarm", "message": ""}, "message"),
        ({"asset": "ASSET", "kind": "alarm", "message": "   "}, "message"),
        ({"asset": "ASSET", "kind": "alarm", "message": "x" * 301}, "message"),
    ],
)
def test_a_bad_trigger_is_a_form_error_and_nothing_happens(
    sales: Client, sandbox: Sandbox, data: dict[str, str], field: str
) -> None:
    with schema_context(sandbox.schema_name):
        heater = str(Asset.objects.get(tag="H-101").pk)
    data = {key: heater if value == "ASSET" else value for key, value in data.items()}

    response = sales.post(f"{CHANGELIST}{sandbox.pk}/raise-alarm/", data, HTTP_HOST="localhost")

    assert response.status_code == 400
    assert list(response.context["form"].errors) == [field]
    with schema_context(sandbox.schema_name):
        assert not RaisedAlarm.objects.exists()
    assert not sandbox.audit_entries.filter(action="alarm_raised").exists()


def test_triggering_needs_the_sales_permission(client: Client, sandbox: Sandbox) -> None:
    client.force_login(User.objects.create_user(email="intern@vendor.example", password="pw", is_staff=True))

    assert client.get(f"{CHANGELIST}{sandbox.pk}/raise-alarm/", HTTP_HOST="localhost").status_code == 403


def test_sales_run_the_prospects_plant_faster_during_a_call_and_it_is_audited(sales: Client, sandbox: Sandbox) -> None:
    assert b'id="plant-clock"' in sales.get(f"{CHANGELIST}{sandbox.pk}/change/", HTTP_HOST="localhost").content

    response = sales.post(f"{CHANGELIST}{sandbox.pk}/clock/", {"time_scale": "60"}, HTTP_HOST="localhost")

    assert response.status_code == 302
    with schema_context(sandbox.schema_name):
        plant = plant_get()
        assert plant is not None
        assert plant.time_scale == 60
    assert sandbox.audit_entries.filter(action="clock_set", detail__time_scale=60).exists()


@pytest.mark.parametrize("time_scale", ["0", "3601", "fast", ""])
def test_a_clock_out_of_range_is_a_form_error_and_the_plant_keeps_its_pace(
    sales: Client, sandbox: Sandbox, time_scale: str
) -> None:
    response = sales.post(f"{CHANGELIST}{sandbox.pk}/clock/", {"time_scale": time_scale}, HTTP_HOST="localhost")

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["time_scale"]
    with schema_context(sandbox.schema_name):
        plant = plant_get()
        assert plant is not None
        assert plant.time_scale == 1
    assert not sandbox.audit_entries.filter(action="clock_set").exists()


def test_the_list_takes_the_same_queries_for_1_and_4_sandboxes(
    sales: Client, django_assert_max_num_queries: Any
) -> None:
    def listed() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert sales.get(CHANGELIST, HTTP_HOST="localhost").status_code == 200
        return len(captured)

    partner = Partner.objects.create(name="Acme Integration", slug="acme")
    owner = User.objects.create_user(email="first@plant.example", password="pw", company="First Plant")
    sandbox_create(slug="count-0", name="Count", scenario="cement", owner=owner, product="thermalcommand")
    listed()  # warm-up
    one = listed()
    for n in range(1, 4):
        someone = User.objects.create_user(email=f"p{n}@partner.example", password="pw", partner=partner)
        sandbox_create(
            slug=f"count-{n}",
            name="Count",
            scenario="steel",
            owner=someone,
            product="boileroptimizer",
            partner=partner,
            purpose=Sandbox.Purpose.CUSTOMER_DEMO,
            customer_company=f"Customer {n}",
        )

    with django_assert_max_num_queries(one):  # owners and partners come with the page: no query per row
        page = sales.get(CHANGELIST, HTTP_HOST="localhost")
    assert b"Customer 3 (via Acme Integration)" in page.content
