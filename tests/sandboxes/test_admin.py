"""The sales admin: sandboxes listed, and extend, reset and destroy run through the services."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django_tenants.utils import schema_context, schema_exists

from demoportal.core.models import User
from sandboxes.models import Sandbox
from sandboxes.services import sandbox_create
from simulation.models import Asset, InjectedAnomaly, RaisedAlarm
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


def test_the_list_shows_company_storage_and_last_access(sales: Client) -> None:
    owner = User.objects.create_user(email="buyer@steel.example", password="pw", company="Northern Steel")
    sandbox_create(slug="columns-one", name="Columns", scenario="steel", owner=owner, product="thermalcommand")

    page = sales.get(CHANGELIST, HTTP_HOST="localhost")

    assert b"Northern Steel" in page.content
    assert b" MB</td>" in page.content  # the schema's size
    assert b"Open as staff" in page.content


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


def test_sales_inject_an_anomaly_from_the_admin_and_it_is_audited(sales: Client, sandbox: Sandbox) -> None:
    with schema_context(sandbox.schema_name):
        heater = Asset.objects.get(tag="H-101").pk
    page = sales.get(f"{CHANGELIST}{sandbox.pk}/anomaly/", HTTP_HOST="localhost")
    assert page.status_code == 200
    assert b"H-101 (" in page.content

    response = sales.post(
        f"{CHANGELIST}{sandbox.pk}/anomaly/",
        {"asset": heater, "type": "excess_air", "duration_minutes": 45, "magnitude": 1.5},
        HTTP_HOST="localhost",
    )

    assert response.status_code == 302
    with schema_context(sandbox.schema_name):
        injected = InjectedAnomaly.objects.get()
    assert (injected.type, injected.magnitude, injected.created_by) == ("excess_air", 1.5, "sales@vendor.example")
    assert sandbox.audit_entries.filter(action="anomaly_injected", detail__type="excess_air").exists()


def test_an_anomaly_the_asset_cannot_have_is_a_form_error_and_nothing_is_injected(
    sales: Client, sandbox: Sandbox
) -> None:
    with schema_context(sandbox.schema_name):
        heater = Asset.objects.get(tag="H-101").pk

    response = sales.post(
        f"{CHANGELIST}{sandbox.pk}/anomaly/",
        {"asset": heater, "type": "trap_failure", "duration_minutes": 45, "magnitude": 1},
        HTTP_HOST="localhost",
    )

    assert response.status_code == 400
    assert "type" in response.context["form"].errors
    with schema_context(sandbox.schema_name):
        assert not InjectedAnomaly.objects.exists()


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
