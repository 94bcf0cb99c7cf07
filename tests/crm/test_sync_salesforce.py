"""The outbox through the real Salesforce client (simple-salesforce) against the fake org: a trigger becomes a
Lead and its Tasks; an hour's outage and a worker that died after Salesforce answered leave exactly one of each.

Deliveries run in this process (``syncs_deliver``), the clock is passed in; ``test_sync_worker.py`` runs them
through a real Celery worker."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from crm.models import CrmRecord, CrmStatus, CrmSync
from crm.sync import outbox
from crm.sync.clients import client_for, clients_forget
from crm.sync.lead_records import lead_records
from crm.sync.records import Target
from crm.sync.salesforce import SalesforceClient
from tests.crm.fake_salesforce import UNAVAILABLE, FakeSalesforceOrg
from tests.crm.syncing import deliver_until_done, keep_trying, prospects_asking_for_pricing

pytestmark = pytest.mark.django_db
State = CrmSync.State


@pytest.fixture
def org(
    fake_salesforce: FakeSalesforceOrg, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeSalesforceOrg]:
    """Salesforce configured on the fake org, HubSpot not; deliveries run by the test, none queued."""
    for name, value in fake_salesforce.settings().items():
        setattr(settings, name, value)
    settings.HUBSPOT_ACCESS_TOKEN = ""
    clients_forget()
    monkeypatch.setattr(outbox, "deliver_later", lambda crms=None, always=False: None)
    yield fake_salesforce
    clients_forget()


def test_a_pricing_request_becomes_a_lead_with_its_score_and_a_task_per_demo(org: FakeSalesforceOrg) -> None:
    (lead,) = prospects_asking_for_pricing(1)

    assert outbox.syncs_deliver(crm="salesforce") == 1

    sf_lead = org.lead(f"lead-{lead.pk}")
    assert sf_lead is not None
    assert (sf_lead["Email"], sf_lead["LastName"], sf_lead["Company"], sf_lead["Rating"]) == (
        "buyer0@plant0.example",
        "Buyer0",
        "Plant 0",
        "Hot",
    )
    assert "+50 requested pricing for ThermalCommand" in sf_lead["Description"]
    (task,) = org.tasks_of(sf_lead["Id"])
    assert task["Subject"] == "Demo: ThermalCommand (Cement)"
    row = CrmSync.objects.get(lead=lead, crm="salesforce")
    assert (row.state, row.record_id) == (State.DELIVERED, sf_lead["Id"])
    assert row.record_url.endswith(f"/lightning/r/Lead/{sf_lead['Id']}/view")
    assert CrmStatus.objects.get(crm="salesforce").api_used == org.api_used
    assert CrmSync.objects.get(lead=lead, crm="hubspot").state == State.PENDING  # not configured: it waits


def test_an_hours_outage_then_every_pending_sync_is_delivered_exactly_once(org: FakeSalesforceOrg) -> None:
    leads = prospects_asking_for_pricing(5)
    org.down = UNAVAILABLE
    at = keep_trying("salesforce", timezone.now(), hours=1)
    rows = CrmSync.objects.filter(crm="salesforce")
    assert {r.state for r in rows} == {State.FAILED}
    assert all(3 <= r.attempts <= 9 for r in rows)  # backed off, not hammered 60 times
    assert "503" in rows[0].last_error

    org.down = None
    deliver_until_done("salesforce", at)

    assert {r.state for r in CrmSync.objects.filter(crm="salesforce")} == {State.DELIVERED}
    assert org.created["Lead"] == 5
    assert org.created["Task"] == 5
    for lead in leads:
        assert sum(1 for sf in org.leads.values() if sf.get("Demo_Portal_Id__c") == f"lead-{lead.pk}") == 1


def test_a_worker_that_died_after_salesforce_answered_is_delivered_again_without_a_duplicate(
    org: FakeSalesforceOrg,
) -> None:
    (lead,) = prospects_asking_for_pricing(1)
    start = timezone.now()
    (claimed,) = outbox.syncs_claim(crm="salesforce", limit=10, now=start)
    client = client_for("salesforce")
    assert isinstance(client, SalesforceClient)
    client.deliver([Target(lead_records([lead.pk])[lead.pk])])  # Salesforce has it; then the worker is killed

    later = start + outbox.lease() + timedelta(seconds=1)
    assert outbox.syncs_sweep(now=later)["taken_back"] == 1
    deliver_until_done("salesforce", later)

    assert CrmSync.objects.get(pk=claimed).state == State.DELIVERED
    assert (org.created["Lead"], org.created["Task"]) == (1, 1)
    assert CrmRecord.objects.get(lead=lead, crm="salesforce").record_id == org.lead(f"lead-{lead.pk}")["Id"]  # type: ignore[index]
