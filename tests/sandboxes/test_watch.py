"""Sales watch a prospect's sandbox live, read-only: every page, no controls, and every POST refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from analytics.models import Event
from analytics.services.events import event_record
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


# --- the watch bar: back to the admin, and where the prospect is ------------------------------------

WHERE = "/watching/prospect"


def page_viewed(user: User, sandbox: Sandbox | None, path: str, minutes_ago: int) -> None:
    """What the page's script records when ``user`` opens ``path`` in ``sandbox`` (static/js/sandbox.js)."""
    occurred_at = timezone.now() - timedelta(minutes=minutes_ago)
    event_record(
        name="page_view",
        user=user,
        sandbox=sandbox,
        properties={"path": path},
        occurred_at=occurred_at,
        source="client",
    )


def test_the_watch_bar_leads_back_to_the_sandbox_in_the_admin(sales: Client, sandbox: Sandbox, prospect: User) -> None:
    admin_page = reverse("admin:sandboxes_sandbox_change", args=[sandbox.pk], urlconf="demoportal.urls")
    back = f'<a href="http://localhost{admin_page}" id="watch-back-to-admin">Back to the admin</a>'

    for path in ("/", "/assets/H-101/", "/contact/pricing/", "/materials/"):
        html = sales.get(path, HTTP_HOST=HOST).content.decode()
        assert back in html, path
        assert 'data-watch-url="/watching/prospect"' in html
        assert "js/watching.js" in html


def test_the_owner_has_no_watch_bar(client: Client, sandbox: Sandbox, prospect: User) -> None:
    client.force_login(prospect)

    html = client.get("/", HTTP_HOST=HOST).content.decode()

    assert "watch-back-to-admin" not in html
    assert "watching.js" not in html


def test_a_watcher_learns_the_page_the_prospect_is_on(sales: Client, sandbox: Sandbox, prospect: User) -> None:
    assert sales.get(WHERE, HTTP_HOST=HOST).json() == {"path": None, "title": None, "seen_at": None}

    page_viewed(prospect, sandbox, "/assets/H-101/", minutes_ago=3)
    on_the_heater = sales.get(WHERE, HTTP_HOST=HOST)
    page_viewed(prospect, sandbox, "/contact/pricing/", minutes_ago=1)
    on_pricing = sales.get(WHERE, HTTP_HOST=HOST).json()

    with schema_context(sandbox.schema_name):
        heater = Asset.objects.get(tag="H-101")
    assert on_the_heater.status_code == 200
    assert on_the_heater["Cache-Control"] == "no-store"
    assert (on_the_heater.json()["path"], on_the_heater.json()["title"]) == ("/assets/H-101/", heater.name)
    assert (on_pricing["path"], on_pricing["title"]) == ("/contact/pricing/", "Request pricing")
    assert on_pricing["seen_at"].startswith(str(timezone.now().year))


def test_only_the_owners_own_page_views_in_this_sandbox_count(sales: Client, sandbox: Sandbox, prospect: User) -> None:
    page_viewed(prospect, sandbox, "/", minutes_ago=10)
    colleague = User.objects.create_user(email="colleague@refinery.example", password="pw")
    page_viewed(colleague, sandbox, "/contact/poc/", minutes_ago=1)  # someone else in the sandbox
    page_viewed(prospect, None, "/materials/", minutes_ago=1)  # the owner, outside this sandbox

    where = sales.get(WHERE, HTTP_HOST=HOST).json()

    assert (where["path"], where["title"]) == ("/", "Plant overview")


@pytest.mark.parametrize(
    "path",
    [
        "https://elsewhere.example/",
        "//elsewhere.example/",
        "javascript:alert(1)",
        "/enter/a-one-time-token",  # a hand-off link must never be followed
        "/sign-out",
        "/api/v1/sandboxes",
        "/no/such/page/",
        "/assets/NO-SUCH/",
        "/\\elsewhere.example",
        "/" + "a" * 400,
        "",
    ],
)
def test_a_page_the_watcher_may_not_be_sent_to_gets_no_link(
    sales: Client, sandbox: Sandbox, prospect: User, path: str
) -> None:
    page_viewed(prospect, sandbox, path, minutes_ago=1)

    where = sales.get(WHERE, HTTP_HOST=HOST).json()

    assert where["path"] is None
    assert where["title"] == "a page the watch bar cannot take you to"


def test_a_page_view_without_a_path_gets_no_link(sales: Client, sandbox: Sandbox, prospect: User) -> None:
    event_record(name="page_view", user=prospect, sandbox=sandbox, properties={"path": ["/"]})

    assert sales.get(WHERE, HTTP_HOST=HOST).json()["path"] is None


def test_only_a_watcher_asks_where_the_prospect_is(client: Client, sandbox: Sandbox, prospect: User) -> None:
    page_viewed(prospect, sandbox, "/", minutes_ago=1)
    assert client.get(WHERE, HTTP_HOST=HOST).status_code == 302  # not signed in: to the portal's sign-in

    client.force_login(prospect)
    assert client.get(WHERE, HTTP_HOST=HOST).status_code == 404  # the owner is not watching anyone

    client.force_login(User.objects.create_user(email="stranger@plant.example", password="pw"))
    assert client.get(WHERE, HTTP_HOST=HOST).status_code == 404


def test_nobody_watches_a_sandbox_nobody_owns(sales: Client, sandbox: Sandbox) -> None:
    assert sales.get(WHERE, HTTP_HOST=HOST).status_code == 404  # staff on it have control, not a watch bar


def test_a_watcher_may_export_the_co2_account_but_it_is_not_the_prospects_report(
    sales: Client, sandbox: Sandbox, prospect: User
) -> None:
    export = sales.get("/products/emissionsguardian/co2-accounting/export.csv", HTTP_HOST=HOST)

    assert export.status_code == 200
    assert export.content.decode().startswith("month,hours,source,kind,inputs")
    assert not Event.objects.filter(name="report_generated").exists()  # the prospect's engagement, not staff's
