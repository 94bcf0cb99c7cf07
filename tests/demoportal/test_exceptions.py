"""Every API error has one shape: {"detail": ..., "errors": {field: [...]}}."""

from __future__ import annotations

from rest_framework import exceptions

from demoportal.exceptions import DomainError, api_exception_handler


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
