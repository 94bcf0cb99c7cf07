"""``/api/v1/tour`` on a sandbox's host: the guided tour of this sandbox, and where its prospect is in it.

The page's tour script reads it on every page and reports what happened (a step shown, completed, its
element missing; the tour dismissed, resumed or restarted). Session-authenticated: the sandbox's owner,
or a colleague in its partner organisation. Staff watching a prospect's sandbox have no tour of their
own there, so nothing they look at counts as the prospect's engagement.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from demoportal.core.models import User
from demoportal.core.openapi import error_response
from demoportal.tours.models import TourProgress
from demoportal.tours.services import TOUR_ACTIONS, tour_progress_get, tour_step_act
from sandboxes.access import acting_on_host, host_sandbox
from sandboxes.authentication import SandboxScoped
from sandboxes.models import Sandbox
from simulation.engine.tours import Tour


class TourStepOutput(serializers.Serializer[Any]):
    id = serializers.CharField()
    url = serializers.CharField(help_text="The page the step runs on.")
    title = serializers.CharField()
    text = serializers.CharField(help_text="{value} stands for the live value of live_sensor_id.")
    target = serializers.CharField(help_text="CSS selector of the element the step points at; empty: none.")
    asset_tag = serializers.CharField()
    live_sensor_id = serializers.IntegerField(allow_null=True)
    until = serializers.DictField(help_text='{"event": name} or {"sensor", "sensor_id", and a test}; {}: none.')
    time_scale = serializers.IntegerField(help_text="How fast the plant's clock runs while the step waits.")
    records = serializers.CharField(help_text="The event that showing the step records.")
    raises = serializers.DictField(help_text="{kind, message}: an event raised on the step's asset when first shown.")


class TourOutput(serializers.Serializer[Any]):
    tour = serializers.CharField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=TourProgress.Status.choices)
    step = serializers.CharField(help_text="The current step's id; empty once finished.")
    position = serializers.IntegerField(help_text="1-based position of the current step.")
    count = serializers.IntegerField()
    completed = serializers.ListField(child=serializers.CharField())
    missing = serializers.ListField(child=serializers.CharField())
    steps = TourStepOutput(many=True)


class TourActionInput(serializers.Serializer[Any]):
    action = serializers.ChoiceField(choices=TOUR_ACTIONS)
    step = serializers.CharField(
        required=False, default="", allow_blank=True, help_text="For shown, complete, missing."
    )


def tour_output(progress: TourProgress, tour: Tour, steps: list[dict[str, Any]]) -> dict[str, Any]:
    ids = [step["id"] for step in steps]
    return {
        "tour": tour.key,
        "title": tour.title,
        "status": progress.status,
        "step": progress.step,
        "position": ids.index(progress.step) + 1 if progress.step in ids else len(ids),
        "count": len(ids),
        "completed": progress.completed,
        "missing": progress.missing,
        "steps": steps,
    }


def tour_taker(request: Request) -> tuple[User, Sandbox]:
    """Who takes this host's tour: a member of its demo sandbox (``acting_on_host``), staff only in their own."""
    if host_sandbox(request._request).kind != Sandbox.Kind.DEMO or not isinstance(request.user, User):
        raise NotFound("Tours run on a demo sandbox's own host.")
    acting = acting_on_host(request._request)
    if acting is None or (acting.user.is_staff and acting.sandbox.owner_id != acting.user.pk):
        raise NotFound("No tour of yours in this sandbox.")
    return acting.user, acting.sandbox


class TourApi(APIView):
    permission_classes = [SandboxScoped]  # a token: only on its own sandbox's host

    # 404 on another host than a demo sandbox's, or for someone with no tour there (tour_taker).
    @extend_schema(
        responses={200: TourOutput, 404: error_response(404)},
        summary="This sandbox's tour and the prospect's place in it",
    )
    def get(self, request: Request) -> Response:
        user, sandbox = tour_taker(request)
        return Response(tour_output(*tour_progress_get(user=user, sandbox=sandbox)))

    @extend_schema(
        request=TourActionInput,
        responses={200: TourOutput, 404: error_response(404), 409: error_response(409)},  # 409: not that step now
        summary="Report what happened in the tour",
    )
    def post(self, request: Request) -> Response:
        user, sandbox = tour_taker(request)
        data = TourActionInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = tour_step_act(
            user=user, sandbox=sandbox, action=data.validated_data["action"], step_id=data.validated_data["step"]
        )
        return Response(tour_output(*result))
