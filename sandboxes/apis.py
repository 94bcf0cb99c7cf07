"""REST API v1 for sandboxes: create, read, reset, extend, end, list. Every write calls a service.

Staff (token or session) may act on any sandbox; a partner user on their organisation's; a prospect only
on their own. Someone else's or an unknown sandbox is 404, so existence is never revealed.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from demoportal.core.openapi import error_response
from sandboxes.access import access_url, acting_user, sandbox_for, sandbox_url
from sandboxes.authentication import SandboxScoped
from sandboxes.models import Sandbox
from sandboxes.selectors import sandboxes_visible_to
from sandboxes.services import sandbox_end, sandbox_extend, sandbox_provision, sandbox_reset
from sandboxes.usage import (
    last_accessed,
    requests_last_minute,
    sandbox_health,
    storage_bytes,
    storage_warning,
)


class SandboxOutput(serializers.Serializer[Any]):
    sandbox_id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    status = serializers.CharField()
    product = serializers.CharField()
    industry = serializers.CharField()
    role = serializers.CharField()
    owner_email = serializers.EmailField(source="owner.email", allow_null=True, default=None)
    partner = serializers.CharField(source="partner.slug", allow_null=True, default=None, help_text="A slug.")
    purpose = serializers.ChoiceField(choices=Sandbox.Purpose.choices)
    customer_company = serializers.CharField(help_text="The customer a partner's demo is for; empty otherwise.")
    url = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    ready_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    extensions = serializers.IntegerField()
    provisioning_ms = serializers.IntegerField(allow_null=True)
    auto_reset = serializers.BooleanField(help_text="Reset to the scenario's start every 24 hours.")

    def get_url(self, sandbox: Sandbox) -> str:
        return sandbox_url(sandbox=sandbox, request=self.context.get("request"))


class SandboxHealth(serializers.Serializer[Any]):
    database = serializers.CharField()
    simulator = serializers.CharField()


class SandboxUsage(serializers.Serializer[Any]):
    storage_bytes = serializers.IntegerField()
    storage_warning = serializers.CharField(allow_null=True, help_text="Set when the sandbox outgrows 10 GB.")
    requests_last_minute = serializers.IntegerField()


class SandboxDetailOutput(SandboxOutput):
    last_accessed_at = serializers.DateTimeField(allow_null=True)
    health = SandboxHealth()
    usage = SandboxUsage()


class Credentials(serializers.Serializer[Any]):
    username = serializers.CharField()
    temporary_password = serializers.CharField(allow_null=True, help_text="Only when the login was just created.")


class SandboxCreatedOutput(SandboxOutput):
    credentials = Credentials()
    access_url = serializers.CharField(help_text="One-time link into the sandbox, valid 15 minutes.")
    access_token = serializers.CharField(
        allow_null=True, help_text="The sandbox's API token (Bearer), shown once: null for an existing sandbox."
    )


class SandboxCreateInput(serializers.Serializer[Any]):
    email = serializers.EmailField()
    product = serializers.CharField()
    industry = serializers.CharField()
    role = serializers.CharField(required=False, allow_blank=True, default="")
    company = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=200,
        help_text="Stored on the prospect's profile when it has none yet.",
    )
    purpose = serializers.ChoiceField(
        choices=Sandbox.Purpose.choices,
        default=Sandbox.Purpose.EVALUATION,
        help_text="A partner user's sandbox is for training or a customer_demo; a prospect's an evaluation.",
    )
    customer_company = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200, help_text="Required for a customer_demo."
    )


class SandboxListInput(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=Sandbox.Status.choices, required=False)
    # Matched as sent: a value of whitespace alone matches nothing rather than being refused as blank.
    industry = serializers.CharField(required=False, trim_whitespace=False)
    product = serializers.CharField(required=False, trim_whitespace=False)
    email = serializers.EmailField(required=False)


class SandboxPagination(PageNumberPagination):
    page_size = 50


class SandboxListCreateApi(APIView):
    """Not bound to one sandbox, so a sandbox token is refused (RefusesSandboxTokens, the default)."""

    pagination_class = SandboxPagination  # GET's pages; the schema documents their envelope from it

    @extend_schema(
        parameters=[SandboxListInput],
        responses=SandboxOutput(many=True),
        summary="Sandboxes (staff: all; a partner user: their organisation's)",
    )
    def get(self, request: Request) -> Response:
        user = acting_user(request)
        if not (user.is_staff or user.active_partner is not None):
            raise PermissionDenied("Only staff and partner users can list sandboxes.")
        params = SandboxListInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        sandboxes: QuerySet[Sandbox] = sandboxes_visible_to(user=user)
        filters = params.validated_data
        for field in ("status", "industry", "product"):
            if field in filters:
                sandboxes = sandboxes.filter(**{field: filters[field]})
        if "email" in filters:
            sandboxes = sandboxes.filter(owner__email__iexact=filters["email"])
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(sandboxes.order_by("-created_at"), request, view=self) or []
        return paginator.get_paginated_response(SandboxOutput(page, many=True, context={"request": request}).data)

    @extend_schema(
        request=SandboxCreateInput,
        examples=[
            OpenApiExample(
                "A prospect's evaluation",
                request_only=True,
                value={"email": "engineer@cement.example", "product": "thermalcommand", "industry": "cement"},
            )
        ],
        responses={201: SandboxCreatedOutput, 200: SandboxCreatedOutput, 503: error_response(503)},
        summary="Create a sandbox, or get the prospect's active one for that product",
    )
    def post(self, request: Request) -> Response:
        data = SandboxCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        email = data.validated_data["email"]
        user = acting_user(request)
        if not user.is_staff and email.lower() != user.email.lower():
            raise ValidationError({"email": ["You can only request a sandbox for your own e-mail address."]})
        provisioned = sandbox_provision(
            email=email,
            product=data.validated_data["product"],
            industry=data.validated_data["industry"],
            role=data.validated_data["role"],
            company=data.validated_data["company"],
            actor=user,
            # A partner user's own sandbox carries their organisation; staff create prospects' evaluations.
            partner=None if user.is_staff else user.active_partner,
            purpose=data.validated_data["purpose"],
            customer_company=data.validated_data["customer_company"],
        )
        sandbox = provisioned.sandbox
        body = SandboxOutput(sandbox, context={"request": request}).data
        body["credentials"] = {
            "username": sandbox.owner.email if sandbox.owner else email,
            "temporary_password": provisioned.password,
        }
        body["access_url"] = access_url(sandbox=sandbox, request=request)
        body["access_token"] = provisioned.access_token
        return Response(body, status=status.HTTP_201_CREATED if provisioned.created else status.HTTP_200_OK)


class SandboxDetailApi(APIView):
    permission_classes = [SandboxScoped]

    @extend_schema(responses=SandboxDetailOutput, summary="One sandbox, with its health and usage")
    def get(self, request: Request, sandbox_id: int) -> Response:
        sandbox = sandbox_for(request, sandbox_id)
        body = SandboxOutput(sandbox, context={"request": request}).data
        body["last_accessed_at"] = last_accessed(sandbox=sandbox)
        body["health"] = sandbox_health(sandbox=sandbox)
        size = storage_bytes(sandbox=sandbox)
        body["usage"] = {
            "storage_bytes": size,
            "storage_warning": storage_warning(size),
            "requests_last_minute": requests_last_minute(sandbox=sandbox),
        }
        return Response(body)

    @extend_schema(responses={204: None}, summary="Destroy: the schema is dropped, the host answers 410")
    def delete(self, request: Request, sandbox_id: int) -> Response:
        sandbox_end(sandbox=sandbox_for(request, sandbox_id), actor=acting_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SandboxResetApi(APIView):
    permission_classes = [SandboxScoped]

    @extend_schema(request=None, responses=SandboxOutput, summary="Back to the scenario's start; same address")
    def post(self, request: Request, sandbox_id: int) -> Response:
        sandbox = sandbox_reset(sandbox=sandbox_for(request, sandbox_id), actor=acting_user(request))
        return Response(SandboxOutput(sandbox, context={"request": request}).data)


class SandboxExtendInput(serializers.Serializer[Any]):
    hours = serializers.IntegerField(min_value=1, max_value=168)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class SandboxExtendOutput(serializers.Serializer[Any]):
    sandbox_id = serializers.IntegerField(source="pk")
    expires_at = serializers.DateTimeField()


class SandboxExtendApi(APIView):
    permission_classes = [SandboxScoped]

    @extend_schema(
        request=SandboxExtendInput,
        examples=[
            OpenApiExample(
                "A day more", request_only=True, value={"hours": 24, "reason": "The customer's engineer is away."}
            )
        ],
        responses=SandboxExtendOutput,
        summary="Push the expiry back",
    )
    def post(self, request: Request, sandbox_id: int) -> Response:
        data = SandboxExtendInput(data=request.data)
        data.is_valid(raise_exception=True)
        sandbox = sandbox_extend(
            sandbox=sandbox_for(request, sandbox_id),
            hours=data.validated_data["hours"],
            reason=data.validated_data["reason"],
            actor=acting_user(request),
        )
        return Response(SandboxExtendOutput(sandbox).data)
