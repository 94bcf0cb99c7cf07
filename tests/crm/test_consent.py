"""The consent to be contacted on the calls to action: a prospect who did not give it at sign-up is asked for it,
explicitly, where a reply needs contact (pricing, a sales call, a POC); given, it is recorded with its time and
wording version and they become a lead, synced to the CRMs; refused, nothing is stored."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from analytics.models import Event, Lead
from crm.models import CrmSync, PocRequest, PricingRequest, SalesCallBooking
from crm.services import pricing_request_create
from demoportal.core.exceptions import DomainError
from demoportal.core.forms import CONTACT_CONSENT_NEEDED_ERROR, CONTACT_CONSENT_TEXT
from demoportal.core.models import User
from demoportal.core.services import contact_consent_record
from sandboxes.models import Sandbox
from tests.crm.conftest import in_days

pytestmark = pytest.mark.django_db

PRICING = {"company_size": "250-999", "sites": "2", "timeframe": "0-3m"}


def next_month() -> str:
    today = timezone.now().date()
    first = date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    return f"{first:%Y-%m}"


@pytest.fixture
def unconsented(prospect: User) -> User:
    """The prospect, who left the consent unticked at sign-up."""
    User.objects.filter(pk=prospect.pk).update(contact_consent_at=None, contact_consent_version="")
    prospect.refresh_from_db()
    return prospect


def form_data(kind: str, make_slot: Any) -> tuple[str, dict[str, Any], Any]:
    """The page of a call to action, a valid request for it, and the model it is stored in."""
    if kind == "pricing":
        return "/contact/pricing/", dict(PRICING), PricingRequest
    if kind == "poc":
        return "/contact/poc/", {"sites": "1", "objective": "fuel", "start_month": next_month()}, PocRequest
    return "/contact/call/", {"slot": make_slot(in_days(3)).pk}, SalesCallBooking


@pytest.mark.parametrize("kind", ["pricing", "poc", "call"])
def test_without_consent_the_call_to_action_asks_for_it_unticked(
    member: Client, unconsented: User, make_slot: Any, kind: str
) -> None:
    path, _, _ = form_data(kind, make_slot)

    page = member.get(path).content.decode()

    box = re.search(r'<input type="checkbox" name="contact_consent"[^>]*>', page)
    assert box is not None
    assert "checked" not in box.group(0)
    assert CONTACT_CONSENT_TEXT in page
    assert "tick the box in the form" in page  # the profile card says why


@pytest.mark.parametrize("kind", ["pricing", "poc", "call"])
def test_with_consent_from_sign_up_it_is_not_asked_again(
    member: Client, prospect: User, make_slot: Any, kind: str
) -> None:
    path, _, _ = form_data(kind, make_slot)

    page = member.get(path).content.decode()

    assert 'name="contact_consent"' not in page
    assert "<dt>Name</dt><dd>Ada Buyer</dd>" in page


@pytest.mark.parametrize("kind", ["pricing", "poc", "call"])
def test_a_request_without_the_box_ticked_is_refused_beside_it_and_nothing_is_stored(
    member: Client, unconsented: User, make_slot: Any, kind: str
) -> None:
    path, data, model = form_data(kind, make_slot)

    response = member.post(path, data)

    assert response.status_code == 400
    assert response.context["form"].errors == {"contact_consent": [CONTACT_CONSENT_NEEDED_ERROR]}
    html = response.content.decode()
    assert re.search(r'<div class="error-summary" role="alert"', html)
    assert f'<a href="#id_contact_consent">{CONTACT_CONSENT_NEEDED_ERROR}</a>' in html
    box = re.search(r'<input type="checkbox" name="contact_consent"[^>]*>', html)
    assert box is not None
    assert 'aria-invalid="true"' in box.group(0)
    assert 'aria-describedby="id_contact_consent_helptext id_contact_consent_error"' in box.group(0)
    assert not model.objects.exists()
    assert not Event.objects.filter(user=unconsented).exists()
    unconsented.refresh_from_db()
    assert unconsented.contact_consent_at is None
    assert not Lead.objects.exists()
    assert not CrmSync.objects.exists()


@pytest.mark.parametrize("kind", ["pricing", "poc", "call"])
def test_ticking_it_records_the_consent_and_makes_a_lead_synced_to_the_crms(
    member: Client, unconsented: User, own_sandbox: Sandbox, make_slot: Any, kind: str
) -> None:
    path, data, model = form_data(kind, make_slot)
    before = timezone.now()

    response = member.post(path, {**data, "contact_consent": "on"})

    assert response.status_code == 302
    assert model.objects.get().user == unconsented
    unconsented.refresh_from_db()
    assert unconsented.contact_consent_at is not None
    assert unconsented.contact_consent_at >= before
    assert unconsented.contact_consent_version == "2026-11"
    lead = Lead.objects.get(user=unconsented)
    assert lead.stage == Lead.Stage.MQL  # a hand-raise
    assert CrmSync.objects.filter(lead=lead).exists()


def test_the_service_refuses_a_request_from_someone_without_consent(unconsented: User) -> None:
    with pytest.raises(DomainError) as refused:
        pricing_request_create(user=unconsented, sandbox=None, company_size="1-249", sites=1, timeframe="0-3m")

    assert refused.value.errors == {"contact_consent": [CONTACT_CONSENT_NEEDED_ERROR]}
    assert not PricingRequest.objects.exists()


def test_a_consent_already_given_keeps_its_first_time_and_version(member: Client, prospect: User) -> None:
    first = prospect.contact_consent_at
    User.objects.filter(pk=prospect.pk).update(contact_consent_version="2025-01")

    member.post("/contact/pricing/", {**PRICING, "contact_consent": "on"})  # sent anyway: not offered, ignored

    prospect.refresh_from_db()
    assert (prospect.contact_consent_at, prospect.contact_consent_version) == (first, "2025-01")
    assert PricingRequest.objects.count() == 1
    contact_consent_record(user=prospect, now=timezone.now() + timedelta(days=1))  # recorded again: no change
    prospect.refresh_from_db()
    assert (prospect.contact_consent_at, prospect.contact_consent_version) == (first, "2025-01")


def test_an_account_without_a_name_shows_no_empty_name(member: Client, prospect: User) -> None:
    User.objects.filter(pk=prospect.pk).update(first_name="", last_name="")

    page = member.get("/contact/pricing/").content.decode()

    assert "<dt>Name</dt>" not in page
    assert "buyer@refinery.example" in page
