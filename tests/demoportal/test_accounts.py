"""allauth's account pages render inside the portal's layout."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.test import Client

from demoportal.core.hashers import temporary_password_set
from demoportal.core.models import User

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


def test_a_temporary_password_is_cheap_to_hash_and_rehashed_properly_at_first_sign_in(settings: Any) -> None:
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "demoportal.core.hashers.GeneratedPasswordHasher",
    ]
    user = User(email="temp@plant.example")
    password = temporary_password_set(user)
    user.save()

    assert len(password) == 16
    assert user.password.startswith("pbkdf2_sha256_generated$10000$")
    assert authenticate(email="temp@plant.example", password=password) == user
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_sha256$1000000$")  # the default hasher took over
    assert authenticate(email="temp@plant.example", password="wrong") is None
