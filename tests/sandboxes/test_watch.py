"""Sales watch a prospect's sandbox live, read-only: every page, no controls, and every POST refused."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django_tenants.utils import schema_context

from analytics.models import Event
from crm.models import PricingRequest
from demoportal.core.exceptions import DomainError
from demoportal.core.models import User
from sandboxes.models import Sandbox
from sandboxes.services import sandbox_staff_entry
from simulation.models import Acknowledgement, AppliedOptimization, Asset, RaisedAlarm

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/sandboxes/sandbox/"
HOST = "test-sandbox.localhost"
SAVINGS = {
    "fuel_price_usd_per_mmbtu": "5.5",
    "operating_hours_per_year": "8000",
    "efficiency_current_pct": "80",
    "efficiency_target_pct": "84",
}


@pytest.fixture
def prospect(sandbox: Sandbox) -> User:
    user = User.objects.create_user(
        email="plant.manager@refinery.example", password="pw", first_name="Pat", last_name="Manager"
    )
    Sandbox.objects.filter(pk=sandbox.pk).update(owner=user)
    return user


@pytest.fixture
def sales(client: Client) -> Client:
    user = User.objects.create_user(email="sales@vendor.example", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Sales"))
    client.force_login(user)
    return client


@pytest.fixture
def alarm_key(sandbox: Sandbox) -> str:
    with schema_context(sandbox.schema_name):
        heater = Asset.objects.get(tag="H-101")
        alarm = RaisedAlarm.objects.create(
            asset=heater, kind="alarm", message="High TMT", occurred_at=heater.plant.started_at
        )
    return f"triggered:{alarm.pk}"


def test_staff_watching_see_the_pages_with_live_values_but_no_controls(
    sales: Client, sandbox: Sandbox, prospect: User, alarm_key: str
) -> None:
    home = sales.get("/", HTTP_HOST=HOST).content.decode()
    asset = sales.get("/assets/H-101/", HTTP_HOST=HOST).content.decode()

    for html in (home, asset):
        assert "Watching Pat Manager live — read-only" in html
        assert "data-live-sensor=" in html
        assert "data-chart" in html
        assert "Extend 24 h" not in html
        assert 'action="/sandbox/' not in html
        assert 'data-ack="' not in html
        assert "cta-band" not in html
    assert 'name="o2_setpoint_pct"' not in asset
    assert 'action="/assets/H-101/savings' not in asset
    assert "High TMT" in asset  # the alarm is there to see, not to acknowledge


def test_the_owner_sees_the_controls_and_no_banner(client: Client, sandbox: Sandbox, prospect: User) -> None:
    client.force_login(prospect)

    html = client.get("/assets/H-101/", HTTP_HOST=HOST).content.decode()

    assert "read-only" not in html
    assert "Extend 24 h" in html
    assert 'name="o2_setpoint_pct"' in html


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/sandbox/extend", {}),
        ("/sandbox/reset", {}),
        ("/sandbox/end", {}),
        ("/assets/H-101/o2-trim", {"o2_setpoint_pct": "3"}),
        ("/assets/H-101/savings", SAVINGS),
        ("/contact/pricing/", {"company_size": "1-249", "sites": 1, "timeframe": "0-3m"}),
        ("/materials/report.pdf", {}),
    ],
)
def test_the_server_refuses_a_watchers_changes_with_403(
    sales: Client, sandbox: Sandbox, prospect: User, path: str, data: dict[str, str]
) -> None:
    expires_at = Sandbox.objects.get(pk=sandbox.pk).expires_at

    assert sales.post(path, data, HTTP_HOST=HOST).status_code == 403

    refreshed = Sandbox.objects.get(pk=sandbox.pk)
    assert (refreshed.status, refreshed.expires_at) == ("ready", expires_at)
    with schema_context(sandbox.schema_name):
        assert not AppliedOptimization.objects.exists()
    assert not PricingRequest.objects.exists()
    assert not Event.objects.filter(sandbox=sandbox).exists()


def test_a_watcher_cannot_acknowledge_the_prospects_alarm(
    sales: Client, sandbox: Sandbox, prospect: User, alarm_key: str
) -> None:
    assert sales.post(f"/alarms/{alarm_key}/acknowledge", HTTP_HOST=HOST).status_code == 403

    with schema_context(sandbox.schema_name):
        assert not Acknowledgement.objects.exists()
    assert not Event.objects.filter(name="alert_acknowledged").exists()


def test_staff_keep_control_of_a_sandbox_nobody_owns(sales: Client, sandbox: Sandbox) -> None:
    html = sales.get("/", HTTP_HOST=HOST).content.decode()

    assert "read-only" not in html
    assert "Extend 24 h" in html


# --- the admin ---------------------------------------------------------------------------------------


def test_the_change_page_offers_watch_live(sales: Client, sandbox: Sandbox, prospect: User) -> None:
    html = sales.get(f"{CHANGELIST}{sandbox.pk}/change/", HTTP_HOST="localhost").content.decode()

    assert f'href="{CHANGELIST}{sandbox.pk}/watch/"' in html
    assert "Watch live" in html


def test_watch_live_signs_the_salesperson_in_read_only_and_is_audited(
    sales: Client, sandbox: Sandbox, prospect: User
) -> None:
    response = sales.get(f"{CHANGELIST}{sandbox.pk}/watch/", HTTP_HOST="localhost")

    assert response.status_code == 302
    link = response["Location"]
    assert link.startswith(f"http://{HOST}/enter/")
    watcher = Client()
    watcher.get(link.split(".localhost", 1)[1], HTTP_HOST=HOST)
    assert "Watching Pat Manager live" in watcher.get("/", HTTP_HOST=HOST).content.decode()
    assert watcher.post("/sandbox/extend", HTTP_HOST=HOST).status_code == 403
    assert sandbox.audit_entries.filter(action="watched_by_staff", actor_label="sales@vendor.example").exists()


def test_there_is_nothing_to_watch_in_a_sandbox_nobody_owns(sales: Client, sandbox: Sandbox) -> None:
    page = sales.get(f"{CHANGELIST}{sandbox.pk}/watch/", HTTP_HOST="localhost", follow=True)

    assert b"Nothing to watch in test-sandbox: nobody owns it." in page.content
    assert not sandbox.audit_entries.filter(action="watched_by_staff").exists()


def test_watching_needs_the_sales_permission(client: Client, sandbox: Sandbox, prospect: User) -> None:
    client.force_login(User.objects.create_user(email="intern@vendor.example", password="pw", is_staff=True))

    assert client.get(f"{CHANGELIST}{sandbox.pk}/watch/", HTTP_HOST="localhost").status_code == 403
    assert not sandbox.audit_entries.filter(action="watched_by_staff").exists()


def test_staff_entry_is_a_service_that_audits_and_refuses_what_has_nothing_to_enter(
    sandbox: Sandbox, prospect: User
) -> None:
    seller = User.objects.create_user(email="seller@vendor.example", password="pw", is_staff=True)
    sandbox.refresh_from_db()  # owned by the prospect now

    sandbox_staff_entry(sandbox=sandbox, actor=seller, watching=True)
    sandbox_staff_entry(sandbox=sandbox, actor=seller, watching=False)

    actions = list(sandbox.audit_entries.filter(actor=seller).values_list("action", flat=True))
    assert sorted(actions) == ["opened_by_staff", "watched_by_staff"]

    Sandbox.objects.filter(pk=sandbox.pk).update(status=Sandbox.Status.EXPIRED)
    sandbox.refresh_from_db()
    for watching, says in [(True, "Nothing to watch in test-sandbox: it is expired."), (False, "nothing to open")]:
        with pytest.raises(DomainError, match=says):
            sandbox_staff_entry(sandbox=sandbox, actor=seller, watching=watching)
    assert sandbox.audit_entries.filter(actor=seller).count() == 2  # a refusal audits nothing
