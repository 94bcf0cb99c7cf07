"""The OpenAPI schemas the portal serves: one per host, each built from that host's own URL conf.

The portal host (``PUBLIC_SCHEMA_URLCONF``) serves the sandbox lifecycle and plant API at
``/api/schema/``; a sandbox's host (``ROOT_URLCONF``) serves its own at its ``/api/schema/``: the
guided tour and the same plant API. Every operation documents the errors it can answer, in the one
shape ``demoportal.core.exceptions`` renders, by the rules in ``ErrorDocumentingAutoSchema``, so a new
endpoint is documented the same way without repeating them.
"""

from __future__ import annotations

from typing import Any, Literal

from django.conf import settings
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers

# Values of "errors": a field's messages, or for a nested field (a dict's key, a list's item) its own errors.
FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "additionalProperties": {"anyOf": [{"type": "array", "items": {}}, {"type": "object"}]},
    "description": "Messages by field name (non_field_errors: about the request as a whole); {} when none.",
}


@extend_schema_field(FIELD_ERRORS_SCHEMA)
class FieldErrors(serializers.DictField):
    pass


class ErrorOutput(serializers.Serializer[Any]):
    """Every API error: ``{"detail": "<sentence>", "errors": {"<field>": ["<message>", ...]}}``."""

    detail = serializers.CharField(help_text="What went wrong, as a sentence.")
    # The metaclass takes declared fields off the class, so this does not hide Serializer.errors.
    errors = FieldErrors()  # type: ignore[assignment]


ERROR_DESCRIPTIONS = {
    400: "Invalid input: errors names each field and what is wrong with it.",
    401: "No credentials, or unknown ones (an ended sandbox's token included).",
    403: "Signed in, but not allowed to do this (or a session request without its CSRF token).",
    404: "No such sandbox, object or page, or not one these credentials may see (never revealed).",
    409: "The sandbox's state does not allow it now (being provisioned or reset; already ended).",
    410: "The sandbox has ended: its plant data is gone.",
    415: "The body is not JSON (send Content-Type: application/json).",
    429: "Too many requests: the sandbox's per-minute limit or the caller's rate. Retry-After says when.",
    503: "Out of capacity for now; Retry-After says when to try again.",
}
PAGINATION_PARAMETERS = {"page", "page_size"}


def error_response(status: int) -> OpenApiResponse:
    return OpenApiResponse(response=ErrorOutput, description=ERROR_DESCRIPTIONS[status])


class ErrorDocumentingAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, plus each operation's error responses, derived from how it answers:

    - 401, 403: every operation (all need credentials: DEFAULT_PERMISSION_CLASSES);
    - 400: an operation that takes a body or query parameters; 415 too when it takes a body;
    - 404: one with path parameters (unknown or someone else's) or pages (a page past the end);
    - 429: one on a sandbox (``request_record``'s per-sandbox limit) or with a throttle;
    - 409: a change to a sandbox (its state forbids it), and anything on its plant: a view class that says
      ``reads_sandbox_plant = True`` (it answers through ``simulation.apis.sandbox_plant``);
    - 410: anything on an ended sandbox's plant (the same views).

    An error specific to one operation (503 when every sandbox is in use) is listed in that view's
    ``extend_schema(responses=...)`` with ``error_response``.
    """

    def _get_response_bodies(self, direction: Literal["request", "response"] = "response") -> dict[str, Any]:
        bodies: dict[str, Any] = super()._get_response_bodies(direction)
        for status in sorted(self.error_statuses()):
            if str(status) not in bodies:
                bodies[str(status)] = self._get_response_for_code(  # type: ignore[no-untyped-call]
                    error_response(status), str(status)
                )
        return bodies

    def error_statuses(self) -> set[int]:
        statuses = {401, 403}
        parameters = self._get_parameters()
        takes_query = any(p["in"] == "query" and p["name"] not in PAGINATION_PARAMETERS for p in parameters)
        takes_body = self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None
        if takes_query or takes_body:
            statuses.add(400)
        if takes_body:
            statuses.add(415)
        on_sandbox = "{sandbox_id}" in self.path
        if any(p["in"] == "path" for p in parameters) or self._get_paginator() is not None:
            statuses.add(404)
        if on_sandbox or self.view.throttle_classes:
            statuses.add(429)
        changes_sandbox = on_sandbox and self.method not in ("GET", "HEAD")
        on_plant = getattr(self.view, "reads_sandbox_plant", False)
        if changes_sandbox or on_plant:
            statuses.add(409)
        if on_plant:
            statuses.add(410)
        return statuses

    def _get_paginator(self) -> Any:
        # Only the list read is paginated, not a write on the same view (POST /sandboxes).
        if self.method != "GET":
            return None
        return super()._get_paginator()  # type: ignore[no-untyped-call]

    def _get_parameters(self) -> list[dict[str, Any]]:
        """An optional query parameter sent empty (``?asset=``) counts as not sent, as DRF reads it."""
        parameters: list[dict[str, Any]] = super()._get_parameters()
        for parameter in parameters:
            if parameter["in"] == "query" and not parameter.get("required"):
                parameter["allowEmptyValue"] = True
        return parameters

    def _resolve_path_parameters(self, variables: list[str]) -> list[dict[str, Any]]:
        """Path parameters as Django's converters match them, so a client (or a fuzzer) is told that
        ``-1`` or an empty string never reaches the view: ``int`` is digits, ``str`` has no slash."""
        parameters: list[dict[str, Any]] = super()._resolve_path_parameters(variables)  # type: ignore[no-untyped-call]
        for parameter in parameters:
            schema = parameter["schema"]
            if schema.get("type") == "integer":
                schema["minimum"] = 0
            elif schema.get("type") == "string":
                schema["pattern"] = "^[^/]+$"
        return parameters


def schema_views(*, urlconf: str, title: str) -> tuple[Any, Any]:
    """The schema of ``urlconf`` at /api/schema/ and Swagger UI for it at /api/docs/ (served from the
    project's static files: drf-spectacular-sidecar; the split view loads its start-up script as a
    file, so the page needs no inline script under a Content-Security-Policy)."""
    # Imported here: drf-spectacular's views load DEFAULT_SCHEMA_CLASS, this module, on import.
    from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

    schema = SpectacularAPIView.as_view(urlconf=urlconf, custom_settings={"TITLE": title})
    docs = SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api_docs.html", title=title)
    return schema, docs


def portal_schema_views() -> tuple[Any, Any]:
    return schema_views(urlconf=settings.PUBLIC_SCHEMA_URLCONF, title="Demo Portal API")


def sandbox_host_schema_views() -> tuple[Any, Any]:
    return schema_views(urlconf=settings.ROOT_URLCONF, title="Demo Portal API: a sandbox's own host")
