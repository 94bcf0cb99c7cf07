"""Registration: the prospect's profile and consent, and every form error beside its field (the dev mailbox:
test_dev_mailbox.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client

from demoportal.core.models import User

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"
VALID = {
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


def signup(client: Client, **changes: str) -> Any:
    data = {**VALID, **changes}
    return client.post(SIGNUP, {k: v for k, v in data.items() if v is not None}, HTTP_HOST="localhost")


def field_errors(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 200, "expected the form again, with errors"
    return {name: list(errors) for name, errors in response.context["form"].errors.items()}


def test_a_prospect_signs_up_with_profile_and_consent_and_gets_a_verification_mail(client: Client) -> None:
    response = signup(client)

    assert response.status_code == 302
    user = User.objects.get(email="ana.lopez@refinery.example")
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
    assert len(mail.outbox) == 1
    assert "/accounts/confirm-email/" in mail.outbox[0].body


@pytest.mark.parametrize("address", ["someone@gmail.com", "someone@yahoo.co.uk", "someone@outlook.de"])
def test_a_personal_address_is_allowed_but_flagged(client: Client, address: str) -> None:
    assert signup(client, email=address).status_code == 302

    assert User.objects.get(email=address).personal_email


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"contact_consent": None}, "contact_consent", "Please agree to be contacted"),
        ({"phone": "12345"}, "phone", "country code"),
        ({"phone": "+44 12"}, "phone", "not a valid phone number"),
        ({"password1": "password", "password2": "password"}, "password1", "too common"),
        ({"company": ""}, "company", "required"),
        ({"role": "ceo"}, "role", "Select a valid choice"),
        ({"country": "XX"}, "country", "Select a valid choice"),
        ({"email": "not-an-address"}, "email", "valid email"),
    ],
)
def test_bad_input_is_shown_beside_the_field_and_nothing_is_created(
    client: Client, changes: dict[str, str | None], field: str, message: str
) -> None:
    errors = field_errors(signup(client, **changes))  # type: ignore[arg-type]

    assert any(message in error for error in errors[field]), errors
    assert not User.objects.exists()
    assert mail.outbox == []


def test_the_signup_form_has_a_csrf_token(client: Client) -> None:
    page = client.get(SIGNUP, HTTP_HOST="localhost")

    assert b"csrfmiddlewaretoken" in page.content
    assert Client(enforce_csrf_checks=True).post(SIGNUP, VALID, HTTP_HOST="localhost").status_code == 403
