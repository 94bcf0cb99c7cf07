"""`POST /api/v1/events`: what the page's script saw the prospect do."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from analytics.models import EVENT_NAMES, Event
from analytics.services.events import event_record
from demoportal.core.openapi import error_response
from sandboxes.access import acting_user, sandbox_for
from sandboxes.authentication import SandboxScoped, token_sandbox

OCCURRED_AT_LATEST_AGE = timedelta(days=1)  # a page cannot report what happened longer ago than this


class EventInput(serializers.Serializer[Any]):
    event = serializers.ChoiceField(
        choices=EVENT_NAMES,
        error_messages={"invalid_choice": f'"{{input}}" is not an event. Use one of: {", ".join(EVENT_NAMES)}.'},
    )
    sandbox_id = serializers.IntegerField(required=False, help_text="Default: the sandbox of a sandbox token.")
    properties = serializers.DictField(required=False, default=dict, help_text="Anything that describes it.")
    occurred_at = serializers.DateTimeField(required=False, help_text="ISO 8601; default: when it arrives.")
    idempotency_key = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=100, help_text="A repeat returns the first id."
    )

    def validate_occurred_at(self, value: Any) -> Any:
        now = timezone.now()
        if value > now + timedelta(minutes=5):
            raise serializers.ValidationError("This is in the future.")
        if value < now - OCCURRED_AT_LATEST_AGE:
            raise serializers.ValidationError("Events older than a day are not accepted.")
        return value


class EventAcceptedOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()


class EventThrottle(UserRateThrottle):
    """Per prospect (or per sandbox token's owner): EVENTS_RATE in settings."""

    scope = "events"


class EventCreateApi(APIView):
    permission_classes = [SandboxScoped]  # a token: its own sandbox's events only (on its host, or by sandbox_id)
    throttle_classes = [EventThrottle]

    @extend_schema(
        request=EventInput,
        examples=[
            OpenApiExample("A page seen", request_only=True, value={"event": "page_view", "properties": {"path": "/"}})
        ],
        responses={202: EventAcceptedOutput, 404: error_response(404)},
        summary="Record what the prospect did",
    )
    def post(self, request: Request) -> Response:
        data = EventInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        sandbox = None
        token_for = token_sandbox(request)
        if "sandbox_id" in values:
            sandbox = sandbox_for(request, values["sandbox_id"])  # someone else's: 404
        elif token_for is not None:
            sandbox = token_for
        if sandbox is not None and sandbox.has_ended:
            raise NotFound("No sandbox with this id.")
        event, _created = event_record(
            name=values["event"],
            user=acting_user(request),
            sandbox=sandbox,
            properties=values["properties"],
            occurred_at=values.get("occurred_at"),
            idempotency_key=values["idempotency_key"],
            source=Event.Source.CLIENT,
        )
        return Response({"id": event.pk}, status=status.HTTP_202_ACCEPTED)
