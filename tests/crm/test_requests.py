"""Request pricing and start a POC: stored with the sandbox's product and industry, an event recorded,
and bad input shown beside its field with nothing stored."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.utils import timezone

from analytics.models import Event
from crm.models import PocRequest, PricingRequest
from crm.services import pricing_request_create
from demoportal.core.models import User
from sandboxes.models import Sandbox

PRICING = {"company_size": "1000-4999", "sites": "3", "timeframe": "3-6m", "message": "Two refineries and a terminal."}


def next_month() -> str:
    today = timezone.now().date()
    first = date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    return f"{first:%Y-%m}"


def poc() -> dict[str, str]:
    return {"sites": "1", "objective": "fuel", "start_month": next_month(), "message": ""}


def test_the_pricing_page_shows_the_form_and_the_contact_details_from_the_profile(member: Client) -> None:
    page = member.get("/contact/pricing/")

    assert page.status_code == 200
    assert b'name="company_size"' in page.content
    assert b"buyer@refinery.example" in page.content
    assert b"Gulf Refining" in page.content
    assert b'name="email"' not in page.content  # not asked again
    assert b"csrfmiddlewaretoken" in page.content


def test_a_pricing_request_is_stored_with_its_sandbox_and_recorded(
    member: Client, own_sandbox: Sandbox, prospect: User
) -> None:
    response = member.post("/contact/pricing/?next=/materials/", PRICING, follow=True)

    request = PricingRequest.objects.get()
    assert (request.user, request.sandbox, request.product, request.industry) == (
        prospect,
        own_sandbox,
        "thermalcommand",
        "oil_gas",
    )
    assert (request.company_size, request.sites, request.timeframe) == ("1000-4999", 3, "3-6m")
    assert request.message == "Two refineries and a terminal."
    assert not request.handled
    event = Event.objects.get(name="pricing_requested")
    assert (event.user, event.sandbox, event.properties["request_id"]) == (prospect, own_sandbox, request.pk)
    assert response.redirect_chain == [("/materials/", 302)]
    assert b"sales will send you pricing" in response.content


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("company_size", "", "This field is required."),
        ("company_size", "huge", "Select a valid choice."),
        ("sites", "0", "greater than or equal to 1"),
        ("sites", "many", "Enter a whole number."),
        ("sites", "", "This field is required."),
        ("timeframe", "yesterday", "Select a valid choice."),
        ("message", "x" * 2001, "at most 2000 characters"),
    ],
)
def test_bad_pricing_input_is_an_error_beside_the_field_and_nothing_is_stored(
    member: Client, field: str, value: str, error: str
) -> None:
    response = member.post("/contact/pricing/", {**PRICING, field: value})

    assert response.status_code == 400
    assert error in " ".join(response.context["form"].errors[field])
    assert f'id="id_{field}_error"'.encode() in response.content
    assert b'aria-invalid="true"' in response.content
    assert not PricingRequest.objects.exists()
    assert not Event.objects.filter(name="pricing_requested").exists()


def test_after_a_request_an_outside_next_address_is_ignored(member: Client) -> None:
    response = member.post("/contact/pricing/", {**PRICING, "next": "https://evil.example/"})

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_a_poc_request_is_stored_and_recorded(member: Client, own_sandbox: Sandbox, prospect: User) -> None:
    response = member.post("/contact/poc/", {**poc(), "sites": "2", "objective": "emissions"})

    assert response.status_code == 302
    request = PocRequest.objects.get()
    assert (request.user, request.sandbox, request.product, request.sites, request.objective) == (
        prospect,
        own_sandbox,
        "thermalcommand",
        2,
        "emissions",
    )
    assert f"{request.start_month:%Y-%m}" == next_month()
    assert request.start_month.day == 1
    assert Event.objects.filter(name="poc_started", user=prospect, sandbox=own_sandbox).count() == 1


def test_the_poc_page_offers_the_next_twelve_months(member: Client) -> None:
    page = member.get("/contact/poc/")

    assert page.status_code == 200
    assert f'value="{next_month()}"'.encode() in page.content
    assert b'type="radio" name="objective"' in page.content


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("sites", "51", "less than or equal to 50"),
        ("sites", "-1", "greater than or equal to 1"),
        ("objective", "", "This field is required."),
        ("objective", "world_peace", "Select a valid choice."),
        ("start_month", "2001-01", "Select a valid choice."),
        ("start_month", "", "This field is required."),
        ("message", "x" * 2001, "at most 2000 characters"),
    ],
)
def test_bad_poc_input_is_an_error_beside_the_field_and_nothing_is_stored(
    member: Client, field: str, value: str, error: str
) -> None:
    response = member.post("/contact/poc/", {**poc(), field: value})

    assert response.status_code == 400
    assert error in " ".join(response.context["form"].errors[field])
    assert not PocRequest.objects.exists()
    assert not Event.objects.filter(name="poc_started").exists()


def test_a_request_stays_when_its_sandbox_record_is_purged(prospect: User) -> None:
    # A row without a schema, like an ended sandbox's; bulk_create skips the schema that save() would make.
    (ended,) = Sandbox.objects.bulk_create(
        [Sandbox(schema_name="ended_one", slug="ended-one", name="Ended", status="destroyed", product="x")]
    )
    request = pricing_request_create(user=prospect, sandbox=ended, company_size="1-249", sites=1, timeframe="exploring")

    Sandbox.objects.filter(pk=ended.pk).delete()  # what the retention purge does

    request.refresh_from_db()
    assert request.sandbox is None
    assert request.product == "x"
