"""Registration: the prospect's name and profile, the optional consent to be contacted, every form error beside
its field and in the summary above the form, the branded verification mail, and where verifying leads (the dev
mailbox: test_dev_mailbox.py)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from analytics.models import Event, Lead
from analytics.services.events import event_record
from crm.models import CrmSync
from demoportal.core.models import User
from sandboxes.models import Sandbox

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"
VALID = {
    "first_name": "Ana",
    "last_name": "López",
    "email": "ana.lopez@refinery.example",
    "password1": "Heat-Recovery-2026",
    "password2": "Heat-Recovery-2026",
    "company": "Refinería del Sur",
    "job_title": "Energy manager",
    "role": "engineer",
    "country": "ES",
    "phone": "+34 912 345 678",
    "contact_consent": "on",
}


def signup(client: Client, **changes: str | None) -> Any:
    data = {**VALID, **changes}
    return client.post(SIGNUP, {k: v for k, v in data.items() if v is not None}, HTTP_HOST="localhost")


def field_errors(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 200, "expected the form again, with errors"
    return {name: list(errors) for name, errors in response.context["form"].errors.items()}


def confirmation_path() -> str:
    found = re.search(r"http://localhost(/accounts/confirm-email/\S+)", str(mail.outbox[-1].body))
    assert found is not None, mail.outbox[-1].body
    return found.group(1)


class Elements(HTMLParser):
    """The page's start tags as (tag, attributes), in order."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))

    def by_id(self, element_id: str) -> dict[str, str | None]:
        return next(attrs for _, attrs in self.found if attrs.get("id") == element_id)


def test_a_prospect_signs_up_with_name_profile_and_consent_and_gets_a_branded_verification_mail(
    client: Client,
) -> None:
    response = signup(client)

    assert response.status_code == 302
    user = User.objects.get(email="ana.lopez@refinery.example")
    assert (user.first_name, user.last_name, user.display_name) == ("Ana", "López", "Ana López")
    assert (user.company, user.job_title, user.role, str(user.country)) == (
        "Refinería del Sur",
        "Energy manager",
        "engineer",
        "ES",
    )
    assert user.phone == "+34912345678"  # stored in E.164
    assert user.contact_consent_at is not None
    assert user.contact_consent_version == "2026-11"
    assert not user.personal_email
    (message,) = mail.outbox
    assert message.subject == "Process Heat · Confirm your e-mail address to start your demo"
    assert message.from_email == "Process Heat Demo Portal <demo@localhost>"
    assert message.body.startswith("Hello Ana,\n")
    assert "a Process Heat demo with ana.lopez@refinery.example" in message.body
    assert "/accounts/confirm-email/" in message.body
    assert "The Process Heat Demo Portal team" in message.body
    assert "Hello from" not in message.body
    assert "[localhost" not in message.subject


def test_the_consent_to_be_contacted_is_offered_unticked_and_optional(client: Client) -> None:
    page = Elements(client.get(SIGNUP, HTTP_HOST="localhost").content.decode())

    box = page.by_id("id_contact_consent")
    assert box["type"] == "checkbox"
    assert "checked" not in box
    assert "required" not in box
    assert page.by_id("id_first_name")["autocomplete"] == "given-name"
    assert page.by_id("id_last_name")["autocomplete"] == "family-name"
    assert "required" in page.by_id("id_first_name")
    assert "required" in page.by_id("id_last_name")


def test_without_the_consent_the_account_is_made_and_no_consent_is_recorded(client: Client) -> None:
    assert signup(client, contact_consent=None).status_code == 302

    user = User.objects.get(email="ana.lopez@refinery.example")
    assert (user.contact_consent_at, user.contact_consent_version) == (None, "")
    assert user.first_name == "Ana"
    assert len(mail.outbox) == 1  # verification as for everyone


def test_a_prospect_who_did_not_consent_gets_the_demo_but_never_becomes_a_lead_nor_a_crm_sync(
    client: Client,
) -> None:
    signup(client, contact_consent=None)
    verified = client.post(confirmation_path(), HTTP_HOST="localhost")
    assert verified["Location"] == "/demo/"  # signed in by the link, on to demo selection

    chosen = client.post(
        "/demo/", {"product": "boileroptimizer", "industry": "food_beverage", "role": "engineer"}, HTTP_HOST="localhost"
    )

    user = User.objects.get(email="ana.lopez@refinery.example")
    sandbox = Sandbox.objects.get(owner=user)
    assert chosen.status_code == 302
    assert chosen["Location"].startswith(f"http://{sandbox.slug}.localhost/enter/")
    for name in ("demo_completed", "report_generated", "demo_extended"):  # a CRM trigger among them
        event_record(name=name, user=user, sandbox=sandbox)
    assert Event.objects.filter(user=user, name="demo_started").exists()
    assert not Lead.objects.filter(user=user).exists()
    assert not CrmSync.objects.exists()


@pytest.mark.parametrize("address", ["someone@gmail.com", "someone@yahoo.co.uk", "someone@outlook.de"])
def test_a_personal_address_is_allowed_but_flagged(client: Client, address: str) -> None:
    assert signup(client, email=address).status_code == 302

    assert User.objects.get(email=address).personal_email


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"first_name": ""}, "first_name", "Enter your first name."),
        ({"last_name": "   "}, "last_name", "Enter your last name."),
        ({"first_name": "x" * 151}, "first_name", "at most 150 characters"),
        ({"phone": "12345"}, "phone", "country code"),
        ({"phone": "+44 12"}, "phone", "not a valid phone number"),
        ({"password1": "password", "password2": "password"}, "password1", "too common"),
        ({"company": ""}, "company", "Enter the name of your company."),
        ({"role": "ceo"}, "role", "Select a valid choice"),
        ({"country": "XX"}, "country", "Select a valid choice"),
        ({"email": "not-an-address"}, "email", "valid email"),
    ],
)
def test_bad_input_is_shown_beside_the_field_and_nothing_is_created(
    client: Client, changes: dict[str, str | None], field: str, message: str
) -> None:
    errors = field_errors(signup(client, **changes))

    assert any(message in error for error in errors[field]), errors
    assert not User.objects.exists()
    assert mail.outbox == []


def test_errors_are_summarised_above_the_form_linked_to_their_fields_and_tied_to_the_inputs(client: Client) -> None:
    response = signup(client, last_name="", phone="call me", role="", contact_consent=None)
    html = response.content.decode()
    page = Elements(html)

    summary = re.search(r'<div class="error-summary" role="alert"[^>]*>(.*?)</div>', html, re.S)
    assert summary is not None
    assert html.index('class="error-summary"') < html.index('id="id_first_name"')  # at the top of the form
    links = re.findall(r'<a href="#(id_\w+)">([^<]+)</a>', summary.group(1))
    assert links == [
        ("id_last_name", "Last name: Enter your last name."),
        ("id_role", "Role: Choose the role closest to yours."),
        ("id_phone", "Phone: Enter a phone number with its country code, e.g. +44 20 7946 0958."),
    ]
    for field in ("last_name", "role", "phone"):
        entry = page.by_id(f"id_{field}")
        assert entry["aria-invalid"] == "true"
        assert f"id_{field}_error" in str(entry["aria-describedby"]).split()
        assert page.by_id(f"id_{field}_error")["class"] == "errorlist field-errors"  # the error it points at
    assert page.by_id("id_phone")["aria-describedby"] == "id_phone_helptext id_phone_error"  # help, then error
    assert "aria-invalid" not in page.by_id("id_first_name")
    assert re.search(
        r'<ul class="errorlist field-errors" id="id_last_name_error"><li><span class="visually-hidden">'
        r"Error: </span>Enter your last name.</li></ul>",
        html,
    )


def test_the_signup_form_has_a_csrf_token(client: Client) -> None:
    page = client.get(SIGNUP, HTTP_HOST="localhost")

    assert b"csrfmiddlewaretoken" in page.content
    assert Client(enforce_csrf_checks=True).post(SIGNUP, VALID, HTTP_HOST="localhost").status_code == 403


def test_verifying_in_another_browser_leads_through_sign_in_to_demo_selection(client: Client) -> None:
    signup(client)
    elsewhere = Client()

    verified = elsewhere.post(confirmation_path(), HTTP_HOST="localhost")

    assert verified.status_code == 302
    assert verified["Location"] == "/accounts/login/?next=%2Fdemo%2F"
    signed_in = elsewhere.post(
        verified["Location"],
        {"login": VALID["email"], "password": VALID["password1"]},
        HTTP_HOST="localhost",
    )
    assert signed_in["Location"] == "/demo/"
    assert elsewhere.get("/demo/", HTTP_HOST="localhost").status_code == 200


def test_verifying_while_signed_in_leads_to_demo_selection(client: Client) -> None:
    signup(client)
    path = confirmation_path()
    user = User.objects.get(email=VALID["email"])
    signed_in = Client()
    signed_in.force_login(user)

    verified = signed_in.post(path, HTTP_HOST="localhost")

    assert (verified.status_code, verified["Location"]) == (302, "/demo/")
