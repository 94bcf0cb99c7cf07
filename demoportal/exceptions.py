"""One error type for what a request cannot do, and one shape for every API error.

Every API error body is ``{"detail": "<sentence>", "errors": {"<field>": ["<message>", ...]}}``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class DomainError(Exception):
    """A rule of the domain says no: an illegal state change, a limit reached. Services raise it."""

    def __init__(
        self,
        detail: str,
        *,
        errors: dict[str, list[str]] | None = None,
        status_code: int = status.HTTP_400_BAD_REQUEST,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}
        self.status_code = status_code
        self.retry_after = retry_after  # seconds, sent as Retry-After (503, 429)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, with DomainError added and every body in the one shape above."""
    if isinstance(exc, DomainError):
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
        return Response({"detail": exc.detail, "errors": exc.errors}, status=exc.status_code, headers=headers)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = {"detail": "Some fields are not valid.", "errors": errors}
    else:
        response.data = {"detail": response.data.get("detail", str(exc)), "errors": {}}
    return response
