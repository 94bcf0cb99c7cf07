"""Every API error has one shape: {"detail": ..., "errors": {field: [...]}}."""

from __future__ import annotations

import pytest
from rest_framework import exceptions

from demoportal.core.exceptions import DomainError, api_exception_handler


def test_validation_errors_are_listed_per_field() -> None:
    response = api_exception_handler(exceptions.ValidationError({"email": ["Enter a valid e-mail address."]}), {})

    assert response is not None
    assert response.status_code == 400
    assert response.data == {
        "detail": "Some fields are not valid.",
        "errors": {"email": ["Enter a valid e-mail address."]},
    }


def test_a_validation_error_without_a_field_is_a_non_field_error() -> None:
    response = api_exception_handler(exceptions.ValidationError(["Both dates are needed."]), {})

    assert response is not None
    assert response.data["errors"] == {"non_field_errors": ["Both dates are needed."]}


def test_domain_error_keeps_its_status_and_message() -> None:
    error = DomainError("An expired sandbox cannot be reset.", errors={"status": ["expired"]}, status_code=409)

    response = api_exception_handler(error, {})

    assert response is not None
    assert response.status_code == 409
    assert response.data == {"detail": "An expired sandbox cannot be reset.", "errors": {"status": ["expired"]}}


def test_other_api_errors_keep_their_status_with_empty_errors() -> None:
    response = api_exception_handler(exceptions.NotAuthenticated(), {})

    assert response is not None
    assert response.status_code == 401
    assert response.data == {"detail": "Authentication credentials were not provided.", "errors": {}}


def test_non_api_exceptions_are_left_to_django() -> None:
    assert api_exception_handler(RuntimeError("boom"), {}) is None


def test_long_input_echoed_in_a_message_is_cut_to_an_excerpt_keeping_the_sentence() -> None:
    echoed = f'"{"x" * 100_000}" is not a valid choice.'

    response = api_exception_handler(exceptions.ValidationError({"kind": [echoed], "x" * 5000: ["Unknown."]}), {})

    assert response is not None
    (field, messages), (long_key, _) = response.data["errors"].items()
    assert field == "kind"
    assert len(messages[0]) <= 500
    assert messages[0].startswith('"xxx')
    assert messages[0].endswith("is not a valid choice.")
    assert len(long_key) <= 500


def test_a_long_detail_is_cut_to_an_excerpt() -> None:
    response = api_exception_handler(DomainError("No sandbox named " + "y" * 100_000 + "."), {})

    assert response is not None
    assert len(response.data["detail"]) <= 500
    assert response.data["detail"].startswith("No sandbox named yyy")


def test_a_100_kb_value_is_not_echoed_back_whole_by_an_api(db: None) -> None:
    from rest_framework.test import APIClient

    from demoportal.core.models import User

    client = APIClient(HTTP_HOST="localhost")
    client.force_login(User.objects.create_user(email="viewer@plant.example", password="pw"))

    response = client.post("/api/v1/events", {"event": "e" * 100_000}, format="json")

    assert response.status_code == 400
    assert len(response.content) < 2000
    assert "is not an event" in response.json()["errors"]["event"][0]


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [("{" * 100, "application/json", 405), ("<stats/>", "application/xml", 405)],
)
def test_an_error_raised_before_the_view_reads_the_body_is_not_replaced_by_a_parse_error(
    db: None, body: str, content_type: str, status: int
) -> None:
    """The handler must not parse the body itself: a body DRF cannot parse would raise again, a 500."""
    from rest_framework.test import APIClient

    from demoportal.core.models import User

    client = APIClient(HTTP_HOST="localhost")
    client.force_login(User.objects.create_user(email="ae@vendor.example", password="pw", is_staff=True))

    response = client.post("/api/v1/stats", body, content_type=content_type)

    assert response.status_code == status
    assert set(response.json()) == {"detail", "errors"}
