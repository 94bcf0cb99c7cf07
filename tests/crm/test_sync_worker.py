"""CRM sync through a real Celery worker, from the prospect's click to the record in the CRM.

The worker runs in this process (celery.contrib.testing's ``start_worker``: the real consumer on the real
Redis broker, the ``crm`` queue) so that the fake Salesforce org — ``responses``, which patches this process's
HTTP — answers it; the HubSpot fake is a real HTTP server any process can reach."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from analytics.models import Lead
from crm.models import CrmRecord, CrmSync
from crm.services import pricing_request_create
from crm.sync.clients import clients_forget
from demoportal.celery import app
from demoportal.core.models import User
from tests.conftest import wait_for
from tests.crm.fake_salesforce import FakeSalesforceOrg


@pytest.fixture
def crm_worker(settings: Any) -> Iterator[None]:
    """A real worker taking the ``crm`` queue, in this process."""
    clients_forget()
    with start_worker(app, pool="solo", queues=["crm"], perform_ping_check=False, shutdown_timeout=30):
        yield
    clients_forget()


@pytest.fixture
def prospect(committed_db: None) -> Iterator[User]:
    user = User.objects.create_user(
        email="ada@northwind-steel.example",
        password="pw",
        first_name="Ada",
        last_name="Lovelace",
        company="Northwind Steel",
        role="engineer",
        country="US",
        contact_consent_at=timezone.now(),
    )
    yield user
    user.delete()  # its lead, syncs and CRM records with it


def test_a_pricing_request_reaches_salesforce_through_the_worker_within_seconds(
    fake_salesforce: FakeSalesforceOrg, settings: Any, prospect: User
) -> None:
    for name, value in fake_salesforce.settings().items():
        setattr(settings, name, value)
    settings.HUBSPOT_ACCESS_TOKEN = ""
    clients_forget()
    with start_worker(app, pool="solo", queues=["crm"], perform_ping_check=False, shutdown_timeout=30):
        clicked = time.monotonic()
        pricing_request_create(user=prospect, sandbox=None, company_size="1000-4999", sites=3, timeframe="0-3m")
        lead = Lead.objects.get(user=prospect)

        sf_lead = wait_for(lambda: fake_salesforce.lead(f"lead-{lead.pk}"), "the lead in the Salesforce fake", 20)
        took = time.monotonic() - clicked

    assert sf_lead["Rating"] == "Hot"
    assert "+50 requested pricing" in sf_lead["Description"]
    row = wait_for(
        lambda: CrmSync.objects.filter(lead=lead, crm="salesforce", state=CrmSync.State.DELIVERED).first(),
        "the sync marked delivered",
    )
    assert row.trigger_names == ["pricing_requested", "became_mql"]
    assert CrmRecord.objects.get(lead=lead, crm="salesforce").record_id == sf_lead["Id"]
    print(f"pricing request → Salesforce lead: {took:.2f} s")
