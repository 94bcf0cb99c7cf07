"""The CRM sync log in the admin (crm/sync/admin.py): what sales and marketing see, "Retry now", "Resync this
lead", and the link from a lead's page."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from analytics.models import Lead
from analytics.services.events import event_record
from crm.models import CrmStatus, CrmSync
from demoportal.core.models import User

pytestmark = pytest.mark.django_db
LOG = "/admin/crm/crmsync/"
State = CrmSync.State


def staff_client(group: str) -> Client:
    user = User.objects.create_user(email=f"{group.lower()}@vendor.example", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def synced_lead(email: str = "ada@northwind-steel.example") -> Lead:
    user = User.objects.create_user(
        email=email, password="pw", company="Northwind Steel", role="engineer", contact_consent_at=timezone.now()
    )
    event_record(name="pricing_requested", user=user)
    return Lead.objects.get(user=user)


def test_sales_see_each_crms_backlog_and_rows_waiting_for_configuration() -> None:
    synced_lead()
    CrmStatus.objects.create(crm="salesforce", api_used=4100, api_limit=5000)

    page = staff_client("Sales").get(LOG)

    assert page.status_code == 200
    html = page.content.decode()
    assert "Waiting for configuration" in html
    assert "no — its syncs wait" in html
    assert "4100 of 5000 (82 %)" in html
    assert "ada@<wbr>northwind-steel.example" in html
    assert "pricing requested, became mql" in html
    assert '<option value="retry_now">Retry now</option>' in html


def test_sales_retry_a_dead_sync_and_are_told_when_a_row_cannot_be_retried() -> None:
    lead = synced_lead()
    dead = CrmSync.objects.get(lead=lead, crm="salesforce")
    CrmSync.objects.filter(pk=dead.pk).update(state=State.DEAD, attempts=12, last_error="503")
    pending = CrmSync.objects.get(lead=lead, crm="hubspot")
    client = staff_client("Sales")

    answer = client.post(LOG, {"action": "retry_now", "_selected_action": [dead.pk, pending.pk]}, follow=True)

    messages = [str(m) for m in answer.context["messages"]]
    assert "1 sync(s) will be delivered again within seconds." in messages
    assert any(m.startswith(f"#{pending.pk}: This sync is pending") for m in messages)
    dead.refresh_from_db()
    assert (dead.state, dead.attempts, dead.trigger_names[-1]) == (State.FAILED, 0, "retried")
    assert dead.due_at <= timezone.now()


def test_a_leads_log_offers_resync_which_writes_a_waiting_row_per_crm() -> None:
    lead = synced_lead()
    CrmSync.objects.filter(lead=lead).update(state=State.DELIVERED)
    client = staff_client("Sales")

    page = client.get(f"{LOG}?lead__id__exact={lead.pk}")
    assert "Resync this lead" in page.content.decode()
    answer = client.post(f"{LOG}lead/{lead.pk}/resync/", follow=True)

    assert answer.redirect_chain[-1][0] == f"{LOG}?lead__id__exact={lead.pk}"
    assert [str(m) for m in answer.context["messages"]] == [
        "ada@northwind-steel.example will be synced once a CRM is configured: until then the syncs wait."
    ]
    waiting = CrmSync.objects.filter(lead=lead, state=State.PENDING)
    assert sorted(w.crm for w in waiting) == ["hubspot", "salesforce"]
    assert all(w.trigger_names == ["resync by sales@vendor.example"] for w in waiting)


def test_marketing_read_the_log_but_cannot_retry_or_resync() -> None:
    lead = synced_lead()
    client = staff_client("Marketing")

    page = client.get(f"{LOG}?lead__id__exact={lead.pk}")

    assert page.status_code == 200
    assert "Resync this lead" not in page.content.decode()
    assert "retry_now" not in page.content.decode()
    assert client.post(f"{LOG}lead/{lead.pk}/resync/").status_code == 403
    assert CrmSync.objects.filter(lead=lead).count() == 2


def test_resync_is_a_post_and_an_unknown_lead_is_404() -> None:
    client = staff_client("Sales")

    assert client.get(f"{LOG}lead/1/resync/").status_code == 405
    assert client.post(f"{LOG}lead/999999/resync/").status_code == 404


def test_nobody_adds_or_deletes_a_sync_in_the_admin(admin_client: Any) -> None:
    lead = synced_lead()
    sync = CrmSync.objects.filter(lead=lead).first()
    assert sync is not None

    assert admin_client.get(f"{LOG}add/", HTTP_HOST="localhost").status_code == 403
    assert admin_client.get(f"{LOG}{sync.pk}/delete/", HTTP_HOST="localhost").status_code == 403


def test_the_lead_page_links_to_its_sync_log() -> None:
    lead = synced_lead()

    page = staff_client("Sales").get(f"/admin/analytics/lead/{lead.pk}/change/")

    assert f'href="{LOG}?lead__id__exact={lead.pk}">CRM sync log</a>' in page.content.decode()
