"""Bad input to the calls to action's forms: where to go back to (``next``), bodies that are no form, and a
field sent twice. A 4xx or a form error, never a 500; nothing stored unless the whole request is good."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from crm.models import PocRequest, PricingRequest, SalesCallBooking
from tests.crm.conftest import in_days
from tests.crm.test_requests import PRICING, poc

FORMS: dict[str, tuple[dict[str, str], type[PricingRequest] | type[PocRequest]]] = {
    "/contact/pricing/": (PRICING, PricingRequest),
    "/contact/poc/": (poc(), PocRequest),
}


@pytest.mark.parametrize("path", FORMS)
@pytest.mark.parametrize(
    ("given", "goes_to"),
    [
        ("pricing", "/"),  # no leading slash: was NoReverseMatch (500) after the request was stored
        ("materials/", "/"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("http://test-sandbox.localhost.evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/materials/", "/materials/"),
    ],
)
def test_next_is_a_path_on_this_host_or_the_sandbox_home_and_the_request_is_stored_once(
    member: Client, path: str, given: str, goes_to: str
) -> None:
    data, model = FORMS[path]

    response = member.post(path, {**data, "next": given})

    assert response.status_code == 302
    assert response["Location"] == goes_to
    assert model.objects.count() == 1


@pytest.mark.parametrize("path", ["/contact/pricing/", "/contact/poc/", "/contact/call/"])
@pytest.mark.parametrize(
    ("body", "content_type"),
    [('{"company_size": "1-249"}', "application/json"), ("company_size=1-249", "text/plain")],
)
def test_a_body_that_is_no_form_is_refused_with_415_saying_so(
    member: Client, path: str, body: str, content_type: str
) -> None:
    response = member.post(path, body, content_type=content_type)

    assert response.status_code == 415
    assert b"form" in response.content
    assert not PricingRequest.objects.exists()
    assert not PocRequest.objects.exists()


def test_an_empty_post_without_a_content_type_is_a_form_with_its_fields_missing(member: Client) -> None:
    response = member.generic("POST", "/contact/pricing/", b"", content_type="")

    assert response.status_code == 400
    assert "company_size" in response.context["form"].errors


def test_a_slot_sent_twice_is_an_error_beside_the_slot_and_nothing_is_booked(member: Client, make_slot: Any) -> None:
    first, second = make_slot(in_days(2)), make_slot(in_days(2) + timedelta(hours=1))

    response = member.post(
        "/contact/call/", f"slot={first.pk}&slot={second.pk}", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 400
    assert "more than once" in response.context["form"].errors["slot"][0]
    assert not SalesCallBooking.objects.exists()


def test_a_field_sent_twice_is_an_error_naming_it_on_every_form(member: Client) -> None:
    response = member.post(
        "/contact/pricing/",
        "sites=2&sites=3&company_size=1-249&timeframe=3-6m",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["sites"]
    assert not PricingRequest.objects.exists()
