"""Leads and accounts for Sales and Marketing: ``GET /api/v1/leads``, ``/leads/{id}``, ``/accounts``,
``/accounts/{domain}`` (the portal host only). Read-only: the stage is changed in the admin.

Scores are read as of the request (``analytics.selectors.leads``: engagement decays in SQL), so a list is
filtered and ordered by the score a salesperson would see on the lead.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, Prefetch, Q, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import scoring
from analytics.models import Lead
from analytics.selectors.leads import ROLES, account_stage, accounts, breakdown_lines, leads_scored, roles_covered
from demoportal.core import catalogue
from sandboxes.authentication import RefusesSandboxTokens
from sandboxes.models import Sandbox

LEAD_READER_GROUPS = ("Sales", "Marketing")
SCORE_LIMIT = 10_000  # |min_score| at most: far beyond any lead's score (fit ≤ 100, engagement a few hundred)
PEOPLE_LIMIT = 10_000
PAGE_SIZE, PAGE_SIZE_MAX = 50, 200
ACCOUNT_STAGES = ("lead", "mql", "sql", "opportunity")  # account_stage: its most advanced person's
FIT_GRADES = (*(letter for letter, _floor in scoring.GRADE_FLOORS), "D")


class ReadsLeads(permissions.BasePermission):
    """Staff of the Sales or Marketing group, or a superuser: leads name people and their companies."""

    message = "Only Sales and Marketing can see leads and accounts."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return False
        return bool(user.is_superuser or user.groups.filter(name__in=LEAD_READER_GROUPS).exists())


class LeadPagination(PageNumberPagination):
    """Pages of ``page_size`` (default 50, at most 200; the input serializers refuse more with a 400)."""

    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = PAGE_SIZE_MAX


class StaffLeadApi(APIView):
    # A sandbox token is its sandbox's, not its owner's account (403); then signed in (401), then the groups.
    permission_classes = [RefusesSandboxTokens, permissions.IsAuthenticated, ReadsLeads]


def page_size_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=PAGE_SIZE_MAX,
        help_text=f"Rows per page (default {PAGE_SIZE}, at most {PAGE_SIZE_MAX}).",
    )


def choice_message(choices: list[str]) -> str:
    return f'"{{input}}" is not one of: {", ".join(choices)}.'


class LeadListInput(serializers.Serializer[Any]):
    stage = serializers.ChoiceField(
        choices=Lead.Stage.choices,
        required=False,
        error_messages={"invalid_choice": choice_message(list(Lead.Stage.values))},
    )
    product = serializers.ChoiceField(
        choices=[], required=False, help_text="A catalogue product key: leads who demoed it."
    )
    industry = serializers.ChoiceField(
        choices=[], required=False, help_text="A scenario key: leads who demoed that industry's plant."
    )
    min_score = serializers.IntegerField(
        required=False, min_value=-SCORE_LIMIT, max_value=SCORE_LIMIT, help_text="total_score at least this."
    )
    # Matched as sent (lower-cased): a value of whitespace alone matches nothing rather than being refused.
    account_domain = serializers.CharField(required=False, max_length=253, trim_whitespace=False)
    email = serializers.EmailField(required=False, help_text="Exact, ignoring case.")
    page_size = page_size_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The catalogue is read when a request (or the schema) needs it, not when the module is imported.
        catalogued = {
            "product": [item["key"] for item in catalogue.products()],
            "industry": sorted(catalogue.scenarios()),
        }
        for name, keys in catalogued.items():
            field = self.fields[name]
            assert isinstance(field, serializers.ChoiceField)
            field.choices = keys
            field.error_messages["invalid_choice"] = choice_message(keys)


class LeadSandboxOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    product = serializers.CharField()
    industry = serializers.CharField()
    status = serializers.ChoiceField(choices=Sandbox.Status.choices)
    expires_at = serializers.DateTimeField(allow_null=True)


class LeadOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    email = serializers.EmailField(source="user.email")
    name = serializers.CharField(source="user.get_full_name")
    company = serializers.CharField(source="user.company")
    job_title = serializers.CharField(source="user.job_title")
    account_domain = serializers.CharField(help_text="The business e-mail domain; empty for free-mail.")
    role = serializers.CharField(source="user.role", help_text="executive, engineer, operator, consultant or empty.")
    fit_grade = serializers.ChoiceField(choices=FIT_GRADES)
    fit_score = serializers.IntegerField(help_text="Who they are, 0–100; never decays.")
    engagement_score = serializers.IntegerField(help_text="What they did, decayed to the moment of the request.")
    total_score = serializers.IntegerField(help_text="fit_score + engagement_score.")
    stage = serializers.ChoiceField(choices=Lead.Stage.choices)
    stage_changed_at = serializers.DateTimeField(allow_null=True)
    recommended_action = serializers.CharField()
    products = serializers.ListField(child=serializers.CharField(), help_text="Products demoed, first one first.")
    industries = serializers.ListField(child=serializers.CharField())
    last_activity_at = serializers.DateTimeField(allow_null=True)
    sandboxes = LeadSandboxOutput(many=True, source="user.demo_sandboxes", help_text="Theirs, newest first.")
    updated_at = serializers.DateTimeField()


class BreakdownLineOutput(serializers.Serializer[Any]):
    rule = serializers.CharField(help_text="The signal scored, e.g. pricing_requested, role_engineer.")
    rule_version = serializers.IntegerField(help_text="The rule set version that scored it.")
    kind = serializers.ChoiceField(choices=["fit", "engagement"])
    group = serializers.CharField(help_text="intent or activity (engagement); empty for fit.")
    points = serializers.IntegerField()
    decayed_points = serializers.FloatField(help_text="What the points are worth now (fit: never decays).")
    event = serializers.IntegerField(allow_null=True, help_text="The event's id; null for fit.")
    product = serializers.CharField()
    at = serializers.DateTimeField()
    explanation = serializers.CharField(help_text='e.g. "requested pricing for BoilerOptimizer".')


class LeadDetailOutput(LeadOutput):
    breakdown = BreakdownLineOutput(many=True, help_text="Fit first, then engagement, newest first.")


def leads_with_sandboxes(leads: QuerySet[Lead]) -> QuerySet[Lead]:
    """``leads`` with each user's demo sandboxes in ``user.demo_sandboxes`` (one query for the page)."""
    demos = Sandbox.objects.filter(kind=Sandbox.Kind.DEMO).exclude(status=Sandbox.Status.POOLED)
    return leads.prefetch_related(
        Prefetch("user__sandboxes", queryset=demos.order_by("-created_at", "-pk"), to_attr="demo_sandboxes")
    )


def by_score(leads: QuerySet[Lead]) -> QuerySet[Lead]:
    return leads.order_by(F("total_score").desc(nulls_last=True), "pk")


class LeadListApi(StaffLeadApi):
    pagination_class = LeadPagination

    @extend_schema(
        parameters=[LeadListInput],
        responses=LeadOutput(many=True),
        summary="Leads, highest total score first (Sales and Marketing)",
    )
    def get(self, request: Request) -> Response:
        params = LeadListInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = params.validated_data
        leads = leads_scored()
        if "stage" in filters:
            leads = leads.filter(stage=filters["stage"])
        if "product" in filters:
            leads = leads.filter(products__contains=[filters["product"]])
        if "industry" in filters:
            leads = leads.filter(industries__contains=[filters["industry"]])
        if "min_score" in filters:
            leads = leads.filter(Q(total_score__gte=filters["min_score"]))  # annotated by leads_scored
        if "account_domain" in filters:
            leads = leads.filter(account_domain=filters["account_domain"].lower())
        if "email" in filters:
            leads = leads.filter(user__email__iexact=filters["email"])
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(leads_with_sandboxes(by_score(leads)), request, view=self) or []
        return paginator.get_paginated_response(LeadOutput(page, many=True).data)


class LeadDetailApi(StaffLeadApi):
    @extend_schema(responses=LeadDetailOutput, summary="One lead, with the breakdown of its score")
    def get(self, request: Request, lead_id: int) -> Response:
        lead = leads_with_sandboxes(leads_scored().filter(pk=lead_id)).first()
        if lead is None:
            raise NotFound("No lead with this id.")
        lines = [
            {
                "rule": line.entry.signal,
                "rule_version": line.entry.rule_set.version,
                "kind": line.entry.kind,
                "group": line.entry.group,
                "points": line.entry.points,
                "decayed_points": round(line.decayed_points, 1),
                "event": line.entry.event_id,
                "product": line.entry.product,
                "at": line.entry.occurred_at,
                "explanation": line.entry.explanation,
            }
            for line in breakdown_lines(lead)
        ]
        return Response({**LeadOutput(lead).data, "breakdown": BreakdownLineOutput(lines, many=True).data})


class AccountListInput(serializers.Serializer[Any]):
    min_people = serializers.IntegerField(
        required=False, min_value=1, max_value=PEOPLE_LIMIT, help_text="Accounts with at least this many leads."
    )
    page_size = page_size_field()


class AccountOutput(serializers.Serializer[Any]):
    account_domain = serializers.CharField(help_text="The business e-mail domain its people share.")
    people = serializers.IntegerField(help_text="How many leads it has.")
    roles_covered = serializers.ListField(
        child=serializers.ChoiceField(choices=ROLES), help_text=f"Of the buying committee's {', '.join(ROLES)}."
    )
    roles_missing = serializers.ListField(child=serializers.ChoiceField(choices=ROLES))
    engagement = serializers.IntegerField(help_text="Its people's engagement, decayed to now, added up.")
    stage = serializers.ChoiceField(choices=ACCOUNT_STAGES, help_text="Its most advanced person's stage.")
    last_activity_at = serializers.DateTimeField(allow_null=True)


class AccountPersonOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk", help_text="The lead's id.")
    email = serializers.EmailField(source="user.email")
    name = serializers.CharField(source="user.get_full_name")
    role = serializers.CharField(source="user.role")
    stage = serializers.ChoiceField(choices=Lead.Stage.choices)
    fit_grade = serializers.ChoiceField(choices=FIT_GRADES)
    total_score = serializers.IntegerField()
    last_activity_at = serializers.DateTimeField(allow_null=True)


class AccountDetailOutput(AccountOutput):
    leads = AccountPersonOutput(many=True, help_text="Its people, highest total score first.")


def account_of(row: dict[str, Any]) -> dict[str, Any]:
    covered = roles_covered(row)
    return {
        "account_domain": row["account_domain"],
        "people": row["people"],
        "roles_covered": covered,
        "roles_missing": [role for role in ROLES if role not in covered],
        "engagement": round(row["engagement"] or 0),
        "stage": account_stage(row),
        "last_activity_at": row["last_activity_at"],
    }


class AccountListApi(StaffLeadApi):
    pagination_class = LeadPagination

    @extend_schema(
        parameters=[AccountListInput],
        responses=AccountOutput(many=True),
        summary="Accounts (buying committees), most engaged first (Sales and Marketing)",
    )
    def get(self, request: Request) -> Response:
        params = AccountListInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        rows = accounts()
        if "min_people" in params.validated_data:
            rows = rows.filter(Q(people__gte=params.validated_data["min_people"]))  # annotated by accounts
        paginator = self.pagination_class()
        page: list[dict[str, Any]] = paginator.paginate_queryset(rows, request, view=self) or []
        return paginator.get_paginated_response(AccountOutput([account_of(row) for row in page], many=True).data)


class AccountDetailApi(StaffLeadApi):
    @extend_schema(responses=AccountDetailOutput, summary="One account, with its people")
    def get(self, request: Request, account_domain: str) -> Response:
        domain = account_domain.lower()
        # Free-mail leads have no domain (""), so gmail.com is no account; a NUL never reaches PostgreSQL.
        row = None if "\x00" in domain else accounts().filter(account_domain=domain).first()
        if row is None:
            raise NotFound("No account with this domain.")
        people = by_score(leads_scored().filter(account_domain=domain))
        return Response(AccountDetailOutput({**account_of(row), "leads": people}).data)
