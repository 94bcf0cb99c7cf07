"""The outbox through the real HubSpot client (hubspot-api-client) against the HubSpot fake: an hour's outage,
then every pending sync delivered exactly once — one contact per lead, one note per demo.

Deliveries run in this process (``syncs_deliver``), the clock is passed in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from analytics.services.events import event_record
from crm.models import CrmRecord, CrmSync
from crm.sync import outbox
from crm.sync.clients import clients_forget
from crm.sync.hubspot import HubSpotRetry
from sandboxes.models import Sandbox
from tests.crm.fake_hubspot import FakeHubSpot
from tests.crm.syncing import deliver_until_done, keep_trying, prospects_asking_for_pricing

pytestmark = pytest.mark.django_db
State = CrmSync.State


@pytest.fixture
def hubspot(fake_hubspot: FakeHubSpot, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHubSpot]:
    """HubSpot configured on the fake (the fixture set its settings), Salesforce not; nothing queued."""
    settings.SALESFORCE_USERNAME = ""
    clients_forget()
    monkeypatch.setattr(outbox, "deliver_later", lambda crms=None, always=False: None)
    # urllib3's pauses between a call's own retries (0, 1, 2 s) are real sleeps: skipped here, where the outbox's
    # clock is simulated anyway; the retries themselves still happen (test_hubspot_client.py times nothing).
    monkeypatch.setattr(HubSpotRetry, "sleep", lambda self, response=None: None)
    yield fake_hubspot
    clients_forget()


def test_an_hours_outage_then_every_pending_sync_is_delivered_exactly_once(hubspot: FakeHubSpot) -> None:
    leads = prospects_asking_for_pricing(4)
    hubspot.down = True
    at = keep_trying("hubspot", timezone.now(), hours=1)
    rows = list(CrmSync.objects.filter(crm="hubspot"))
    assert {r.state for r in rows} == {State.FAILED}
    assert all(3 <= r.attempts <= 9 for r in rows)

    hubspot.down = False
    deliver_until_done("hubspot", at)

    assert {r.state for r in CrmSync.objects.filter(crm="hubspot")} == {State.DELIVERED}
    assert len(hubspot.contacts) == 4
    for lead in leads:
        contact_id = hubspot.contact_id(lead.user.email)
        assert contact_id is not None
        assert len(hubspot.notes_of(contact_id)) == 1
        assert CrmRecord.objects.get(lead=lead, crm="hubspot").record_id == contact_id


def test_a_second_delivery_updates_the_contact_and_its_note_and_adds_none(hubspot: FakeHubSpot) -> None:
    (lead,) = prospects_asking_for_pricing(1)
    outbox.syncs_deliver(crm="hubspot")
    event_record(name="demo_completed", user=lead.user, sandbox=Sandbox.objects.get(owner=lead.user))

    outbox.syncs_deliver(crm="hubspot")

    contact_id = hubspot.contact_id(lead.user.email)
    assert contact_id is not None
    assert len(hubspot.contacts) == 1
    (note,) = hubspot.notes_of(contact_id)
    assert "completed" in note.properties["hs_note_body"].lower()
    assert CrmSync.objects.filter(lead=lead, crm="hubspot", state=State.DELIVERED).count() == 2
