"""One error type for what a request cannot do, and one shape for every API error.

Every API error body is ``{"detail": "<sentence>", "errors": {"<field>": ["<message>", ...]}}``.

An error body never echoes more than an excerpt of the input: messages such as DRF's '"<input>" is not a
valid choice.' once sent a 100 KB value back whole.
"""

from __future__ import annotations

from typing import Any

from django.http import QueryDict
from rest_framework import exceptions, status
from rest_framework.request import Empty, Request
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


ECHO_MIN_CHARS = 200  # an input string at least this long is shown as an excerpt wherever a message quotes it
EXCERPT_CHARS = 60
MESSAGE_MAX_CHARS = 500  # any message or field name longer is cut in the middle (input quoted in another form)


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def long_inputs(request: Request | None) -> list[str]:
    """The request's long strings (body values and keys, query values), longest first."""
    if request is None:
        return []
    found: set[str] = set()
    # The body only if the view parsed it already: parsing it here could raise again (a 405 or a 401 comes
    # before the view reads a body DRF cannot parse), and a body never read cannot be quoted.
    body = getattr(request, "_full_data", Empty)  # DRF's "parsed yet?" has no public name
    pending: list[Any] = [request.query_params, None if body is Empty else body]
    while pending:
        value = pending.pop()
        if isinstance(value, QueryDict):
            value = dict(value.lists())
        if isinstance(value, str):
            if len(value) >= ECHO_MIN_CHARS:
                found.add(value)
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list | tuple):
            pending.extend(value)
    return sorted(found, key=len, reverse=True)


def shorten(value: Any, inputs: list[str]) -> Any:
    """``value`` (a message, or the lists and dicts of them) with every long input in it cut to an excerpt."""
    if isinstance(value, dict):
        return {shorten(key, inputs): shorten(item, inputs) for key, item in value.items()}
    if isinstance(value, list):
        return [shorten(item, inputs) for item in value]
    if not isinstance(value, str):
        return value
    text = str(value)
    for long in inputs:
        if long in text:
            text = text.replace(long, excerpt(long))
    if len(text) > MESSAGE_MAX_CHARS:
        head = MESSAGE_MAX_CHARS * 2 // 3
        text = f"{text[:head]}…{text[-(MESSAGE_MAX_CHARS - head - 1) :]}"
    return text


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, with DomainError added and every body in the one shape above."""
    if isinstance(exc, DomainError):
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
        body: dict[str, Any] = {"detail": exc.detail, "errors": exc.errors}
        response = Response(body, status=exc.status_code, headers=headers)
    else:
        found = exception_handler(exc, context)
        if found is None:
            return None
        response = found
        if isinstance(exc, exceptions.ValidationError):
            errors = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
            response.data = {"detail": "Some fields are not valid.", "errors": errors}
        else:
            response.data = {"detail": response.data.get("detail", str(exc)), "errors": {}}
    response.data = shorten(response.data, long_inputs(context.get("request")))
    return response
