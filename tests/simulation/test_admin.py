"""The plant's side of the sandbox admin (simulation/admin.py): the anomaly form offers only what each asset can
have, the sandbox's page shows the live plant's clock and active anomalies, and its audit trail names assets."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context
from pytest_django.asserts import assertContains, assertNotContains

from analytics.models import Lead
from analytics.services.events import event_record
from demoportal.core.models import User
from sandboxes.models import Sandbox
from sandboxes.services import sandbox_provision
from simulation.engine.assets import ANOMALY_EVENTS, ASSET_TYPES
from simulation.models import Asset, InjectedAnomaly
from simulation.selectors.plant import plant_get, plant_sim_now
from simulation.selectors.staff import name_of_asset
from simulation.services import anomaly_inject, clock_set, overlay_errors

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/sandboxes/sandbox/"


@pytest.fixture
def salesperson(db: None) -> User:
    user = User.objects.create_user(email="sales@vendor.example", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Sales"))
    return user


@pytest.fixture
def sales(client: Client, salesperson: User) -> Client:
    client.force_login(salesperson)
    client.defaults["HTTP_HOST"] = "localhost"
    return client


def offered(response: Any) -> dict[str, list[str]]:
    """The anomaly form's choices: each optgroup's label and its options' values."""
    return {
        group: [value for value, _ in options] for group, options in response.context["form"].fields["anomaly"].choices
    }


def test_the_form_offers_each_asset_only_the_anomalies_it_can_have(sales: Client, sandbox: Sandbox) -> None:
    with schema_context(sandbox.schema_name):
        assets = {asset.pk: asset for asset in Asset.objects.all()}
        heater = Asset.objects.get(tag="H-101")

    response = sales.get(f"{CHANGELIST}{sandbox.pk}/anomaly/")

    groups = offered(response)
    values = [value for options in groups.values() for value in options]
    assert f"{heater.pk}:excess_air" in values
    assert f"{heater.pk}:trap_failure" not in values  # a fired heater has no steam trap to fail
    for value in values:  # every pair offered is one the service takes
        asset_id, _, kind = value.partition(":")
        assert overlay_errors(asset=assets[int(asset_id)], kind=kind) == {}
    every_pair = {
        f"{pk}:{kind}"
        for pk, asset in assets.items()
        for kind in ANOMALY_EVENTS
        if not overlay_errors(asset=asset, kind=kind)
    }
    assert set(values) == every_pair  # and every pair the service takes is offered
    without_anomalies = [a for a in assets.values() if not ASSET_TYPES[a.type].anomalies]
    assert without_anomalies, "the refinery has assets that take no anomaly (its steam headers)"
    assert not any(group.startswith(f"{without_anomalies[0].tag} ") for group in groups)
    html = response.content.decode()
    assert f'<optgroup label="{name_of_asset(heater.tag, heater.name)}">' in html  # "Process heater H-101"
    assert f'<option value="{heater.pk}:excess_air">H-101 — excess air</option>' in html


def test_sales_inject_an_offered_anomaly_and_it_is_audited(sales: Client, sandbox: Sandbox) -> None:
    with schema_context(sandbox.schema_name):
        heater = Asset.objects.get(tag="H-101").pk

    response = sales.post(
        f"{CHANGELIST}{sandbox.pk}/anomaly/",
        {"anomaly": f"{heater}:excess_air", "duration_minutes": 45, "magnitude": 1.5},
    )

    assert response.status_code == 302
    with schema_context(sandbox.schema_name):
        injected = InjectedAnomaly.objects.get()
    assert (injected.asset_id, injected.type, injected.magnitude) == (heater, "excess_air", 1.5)
    assert injected.created_by == "sales@vendor.example"
    assert sandbox.audit_entries.filter(action="anomaly_injected", detail__type="excess_air").exists()


@pytest.mark.parametrize(
    "choice",
    ["HEATER:trap_failure", "HEATER:volcano", "HEATER", "999999:excess_air", "HEATER:excess_air:again", ""],
)
def test_an_anomaly_not_offered_is_a_form_error_if_posted_and_nothing_is_injected(
    sales: Client, sandbox: Sandbox, choice: str
) -> None:
    with schema_context(sandbox.schema_name):
        heater = str(Asset.objects.get(tag="H-101").pk)

    response = sales.post(
        f"{CHANGELIST}{sandbox.pk}/anomaly/",
        {"anomaly": choice.replace("HEATER", heater), "duration_minutes": 45, "magnitude": 1},
    )

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["anomaly"]
    with schema_context(sandbox.schema_name):
        assert not InjectedAnomaly.objects.exists()
    assert not sandbox.audit_entries.filter(action="anomaly_injected").exists()


def test_the_sandbox_page_shows_the_plant_clock(sales: Client, sandbox: Sandbox, salesperson: User) -> None:
    page = sales.get(f"{CHANGELIST}{sandbox.pk}/change/")
    assertContains(page, "real time (1×)")
    assert page.context["plant_state"].time_scale == 1

    with schema_context(sandbox.schema_name):
        plant = plant_get()
        assert plant is not None
        clock_set(sandbox=sandbox, plant=plant, time_scale=600, actor=salesperson)
    faster = sales.get(f"{CHANGELIST}{sandbox.pk}/change/")

    assertContains(faster, "600× faster than real time")
    assert faster.context["plant_state"].time_scale == 600


def test_the_sandbox_page_lists_the_anomalies_active_now_and_not_those_over(
    sales: Client, sandbox: Sandbox, salesperson: User
) -> None:
    with schema_context(sandbox.schema_name):
        heater = Asset.objects.get(tag="H-101")
        anomaly_inject(
            sandbox=sandbox, asset_id=heater.pk, type="excess_air", duration_minutes=90, magnitude=2, actor=salesperson
        )
        over = anomaly_inject(
            sandbox=sandbox, asset_id=heater.pk, type="efficiency_drop", duration_minutes=5, actor=salesperson
        )
        moved = plant_sim_now(heater.plant) - timedelta(hours=2)
        InjectedAnomaly.objects.filter(pk=over.pk).update(starts_at=moved, ends_at=moved + timedelta(minutes=5))

    page = sales.get(f"{CHANGELIST}{sandbox.pk}/change/")

    injected = [a for a in page.context["plant_state"].anomalies if a.source == "injected"]
    assert [(a.asset_tag, a.type) for a in injected] == [("H-101", "excess_air")]
    assertContains(page, "<td>excess air</td><td>injected</td>", html=True)
    assertNotContains(page, "efficiency drop</td><td>injected")


def test_the_sandbox_page_reads_the_plant_in_a_fixed_number_of_queries(
    sales: Client, sandbox: Sandbox, salesperson: User, django_assert_max_num_queries: Any
) -> None:
    """Measured on the second request (the engine's plant is built once per process); more anomalies, and
    their audit entries, add no query."""

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert sales.get(f"{CHANGELIST}{sandbox.pk}/change/").status_code == 200
        return len(captured)

    def inject(tag: str, kind: str) -> None:
        with schema_context(sandbox.schema_name):
            asset = Asset.objects.get(tag=tag).pk
            anomaly_inject(sandbox=sandbox, asset_id=asset, type=kind, duration_minutes=60, actor=salesperson)

    inject("H-101", "excess_air")
    queries()  # warm-up: the engine's plant is built once per process
    one = queries()
    assert one <= 18  # measured: session, user, sandbox, inlines, and 3 for the plant (plant, anomalies, trims)
    for tag, kind in (("H-101", "efficiency_drop"), ("B-201", "excess_air"), ("B-201", "sensor_drift")):
        inject(tag, kind)
    with django_assert_max_num_queries(one):  # three more anomalies (and audit entries) cost no query
        assert sales.get(f"{CHANGELIST}{sandbox.pk}/change/").status_code == 200


def test_an_ended_sandbox_page_has_no_live_plant(sales: Client, sandbox: Sandbox) -> None:
    Sandbox.objects.filter(pk=sandbox.pk).update(status=Sandbox.Status.EXPIRED)

    page = sales.get(f"{CHANGELIST}{sandbox.pk}/change/")

    assert page.status_code == 200
    assert "plant_state" not in page.context
    assertNotContains(page, 'id="live-plant"')


def test_the_audit_trail_names_the_asset_by_its_tag(sales: Client, sandbox: Sandbox, salesperson: User) -> None:
    with schema_context(sandbox.schema_name):
        heater = Asset.objects.get(tag="H-101").pk
        anomaly_inject(sandbox=sandbox, asset_id=heater, type="excess_air", duration_minutes=30, actor=salesperson)

    page = sales.get(f"{CHANGELIST}{sandbox.pk}/change/")

    detail = "type: excess air; minutes: 30; asset: H-101; magnitude: 1.0"  # in jsonb's key order
    assertContains(page, f'<td class="field-details"><p>{detail}</p></td>', html=True)
    assertContains(page, '<td class="field-what"><p>anomaly injected</p></td>', html=True)


def test_the_sandbox_page_shows_its_owners_lead_score_and_stage(sales: Client) -> None:
    owner = User.objects.create_user(
        email="ada@northwind-steel.example", password="pw", role="engineer", contact_consent_at=timezone.now()
    )
    sandbox = sandbox_provision(email=owner.email, product="boileroptimizer", industry="steel").sandbox
    event_record(name="pricing_requested", user=owner, sandbox=sandbox)
    lead = Lead.objects.get(user=owner)

    page = sales.get(f"{CHANGELIST}{sandbox.pk}/change/")

    assertContains(page, "<strong>MQL</strong> · fit B (60) · engagement 55 · total 115", html=False)
    assertContains(page, f'href="/admin/analytics/lead/{lead.pk}/change/"')
    assertContains(page, "Call today — requested pricing for BoilerOptimizer")


def test_a_sandbox_without_a_lead_shows_none(sales: Client, sandbox: Sandbox) -> None:
    assertNotContains(sales.get(f"{CHANGELIST}{sandbox.pk}/change/"), 'id="sandbox-lead"')
