"""allauth's account pages render inside the portal's layout."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "heading", "field"),
    [
        ("/accounts/signup/", b"Sign Up", b"id_email"),
        ("/accounts/login/", b"Sign In", b"id_login"),
        ("/accounts/password/reset/", b"Password Reset", b"id_email"),
    ],
)
def test_account_page_renders_in_the_portal_layout(client: Client, path: str, heading: bytes, field: bytes) -> None:
    response = client.get(path, HTTP_HOST="localhost")

    assert response.status_code == 200
    assert heading in response.content
    assert b'class="site-header"' in response.content
    assert b'<label for="' + field + b'"' in response.content  # every input has its label


def test_sign_up_with_mismatched_passwords_shows_the_error_in_the_form(client: Client) -> None:
    response = client.post(
        "/accounts/signup/",
        {"email": "engineer@refinery.example", "password1": "Furnace-Tube-42", "password2": "Furnace-Tube-43"},
        HTTP_HOST="localhost",
    )

    assert response.status_code == 200
    assert b"You must type the same password each time." in response.content
