"""Marketing's dashboards for a BI tool: ``GET /api/v1/dashboards/demo-performance``, ``/lead-quality``,
``/product-engagement`` and ``/targets`` (the portal host only), the same figures as the admin's pages under
the specification's names (docs/dashboards.md). Filters are the pages' (``DashboardFilterForm``); a bad one is
a 400 naming the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.forms import DashboardFilterForm
from analytics.models import DemoSource
from analytics.selectors.dashboards import (
    DASHBOARD_PERMISSION,
    Filters,
    demo_performance,
    lead_quality,
    product_engagement,
    targets_progress,
)
from sandboxes.authentication import RefusesSandboxTokens


class ReadsDashboards(permissions.BasePermission):
    message = "Only Marketing can read the dashboards."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff and user.has_perm(DASHBOARD_PERMISSION))


FILTER_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day, included (default: 29 days before `to`)."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, included (default: today)."),
    OpenApiParameter("product", str, description="A product key, e.g. `boileroptimizer`."),
    OpenApiParameter("industry", str, description="A scenario key, e.g. `cement`."),
    OpenApiParameter("role", str, description="A role key, e.g. `engineer`."),
    OpenApiParameter("partner", str, description="A partner's slug."),
    OpenApiParameter("source", str, enum=list(DemoSource.values), description="Who made the demo's sandbox."),
    OpenApiParameter("interval", str, enum=["day", "week"], description="The series' periods (default: by range)."),
]


def filters_of(request: Request) -> Filters:
    form = DashboardFilterForm(request.query_params)
    if not form.is_valid():
        raise ValidationError({field: [str(m) for m in messages] for field, messages in form.errors.items()})
    return form.filters()


SEGMENT_PARAMETERS = ("product", "industry", "role", "partner", "source")


def filters_shown(filters: Filters, request: Request) -> dict[str, Any]:
    return {
        "from": filters.start.isoformat(),
        "to": filters.end.isoformat(),
        "interval": filters.grain,
        **{
            name: request.query_params.get(name) or None
            for name in ("product", "industry", "role", "partner", "source")
        },
    }


class DashboardApi(APIView):
    permission_classes = [RefusesSandboxTokens, permissions.IsAuthenticated, ReadsDashboards]
    compute: Callable[[Filters], dict[str, Any]]

    def get(self, request: Request) -> Response:
        filters = filters_of(request)
        return Response({"filters": filters_shown(filters, request), **type(self).compute(filters)})


# What each answer holds, for the served OpenAPI (the selectors build the answers).


def number(help_text: str = "", integer: bool = False) -> serializers.Field[Any, Any, Any, Any]:
    if integer:
        return serializers.IntegerField(help_text=help_text)
    return serializers.FloatField(allow_null=True, help_text=help_text)


def rate(of: str) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=f"A fraction (0.25 is 25 %); null without {of}.")


def listed(name: str, fields: dict[str, Any]) -> serializers.BaseSerializer[Any]:
    return inline_serializer(name, fields=fields, many=True)


DEMO_COUNTS = ("demos_completed", "demos_converted", "demos_abandoned", "pricing_requests", "sales_meetings", "pocs")
DEMO_FIGURES = {
    "demos_started": number("Demos begun in the range.", integer=True),
    "completion_rate": rate("demos"),
    "avg_duration": number("Seconds of active time per demo; null without demos."),
    "conversion_rate": rate("demos"),
    **{
        name: number(integer=True)
        for name in (
            "demos_completed",
            "demos_converted",
            "demos_abandoned",
            "pricing_requests",
            "sales_meetings",
            "pocs",
        )
    },
}
LEAD_COUNTS = {
    "leads_generated": number("Leads created in the range.", integer=True),
    "mql_rate": rate("leads"),
    "sql_rate": rate("MQLs"),
    **{name: number(integer=True) for name in ("mqls", "sqls", "opportunities")},
}
LEAD_FIGURES = {
    **LEAD_COUNTS,
    "opportunity_value": serializers.DictField(child=serializers.FloatField(), help_text="Currency → amount."),
}
FILTERS_OUTPUT = inline_serializer(
    "DashboardFilters",
    fields={
        "from": serializers.DateField(),
        "to": serializers.DateField(),
        "interval": serializers.ChoiceField(choices=["day", "week"]),
        **{name: serializers.CharField(allow_null=True) for name in SEGMENT_PARAMETERS},
    },
)
DEMO_PERFORMANCE = inline_serializer(
    "DemoPerformance",
    fields={
        "filters": FILTERS_OUTPUT,
        **DEMO_FIGURES,
        "previous": inline_serializer("DemoFiguresBefore", fields=DEMO_FIGURES),
        "series": listed("DemoPeriod", {"period": serializers.DateField(), **DEMO_FIGURES}),
        "segments": listed(
            "DemoSegment",
            {name: serializers.CharField() for name in ("product", "industry", "role")} | DEMO_FIGURES,
        ),
    },
)
LEAD_QUALITY = inline_serializer(
    "LeadQuality",
    fields={
        "filters": FILTERS_OUTPUT,
        "as_of": serializers.DateTimeField(
            allow_null=True, help_text="When the lead figures were taken (every minute); null before the first time."
        ),
        **LEAD_FIGURES,
        "previous": inline_serializer("LeadFiguresBefore", fields=LEAD_FIGURES),
        "series": listed("LeadPeriod", {"period": serializers.DateField(), **LEAD_COUNTS}),
        "score_distribution": inline_serializer(
            "ScoreDistribution",
            fields={
                "bands": serializers.ListField(child=serializers.CharField(), help_text="Engagement bands, low first."),
                "mql_engagement": number("Engagement that makes an MQL (rule set in use).", integer=True),
                "grid": listed(
                    "ScoreDistributionRow",
                    {
                        "fit_grade": serializers.CharField(),
                        "counts": serializers.ListField(child=serializers.IntegerField(), help_text="Leads per band."),
                    },
                ),
            },
        ),
        "top_accounts": listed(
            "TopAccount",
            {
                "account": serializers.CharField(help_text="The business e-mail domain."),
                "people": number(integer=True),
                "engagement": number("Combined engagement now."),
                "stage": serializers.CharField(help_text="Its most advanced person's stage."),
                "last_activity_at": serializers.DateTimeField(allow_null=True),
            },
        ),
    },
)
PRODUCT_ENGAGEMENT = inline_serializer(
    "ProductEngagement",
    fields={
        "filters": FILTERS_OUTPUT,
        "demos_started": number(integer=True),
        "feature_usage": listed(
            "FeatureUsage",
            {
                "feature": serializers.CharField(),
                "demos": number("Demos that used it.", integer=True),
                "uses": number(integer=True),
                "share": rate("demos"),
            },
        ),
        "top_features": serializers.ListField(child=serializers.CharField(), help_text="Used in most demos, ten."),
        "drop_off_points": inline_serializer(
            "DropOffPoints",
            fields={
                "tours": listed(
                    "TourFunnel",
                    {
                        "tour": serializers.CharField(help_text="product.role"),
                        "steps": listed(
                            "TourFunnelStep",
                            {
                                "step": serializers.CharField(),
                                "reached": number(integer=True),
                                "left": number("Abandoned demos whose last step this was.", integer=True),
                                "reached_share": rate("demos reaching the first step"),
                            },
                        ),
                    },
                ),
                "exit_pages": listed("ExitPage", {"path": serializers.CharField(), "demos": number(integer=True)}),
            },
        ),
    },
)
TARGETS = inline_serializer(
    "LaunchTargetsProgress",
    fields={
        "launch_date": serializers.DateField(),
        "set": serializers.BooleanField(help_text="False: marketing have not set it; counting from the first demo."),
        "days_since_launch": number(integer=True),
        "windows": listed(
            "TargetWindow",
            {
                "days": number(integer=True),
                "from": serializers.DateField(),
                "to": serializers.DateField(),
                "metrics": listed(
                    "TargetMetric",
                    {
                        "metric": serializers.CharField(),
                        "label": serializers.CharField(),
                        "kind": serializers.ChoiceField(choices=["count", "rate", "money"]),
                        "target": serializers.FloatField(),
                        "actual": serializers.FloatField(allow_null=True),
                        "status": serializers.ChoiceField(choices=["on track", "behind", "no data"]),
                        "expected": serializers.FloatField(allow_null=True, help_text="Due by today."),
                        "behind_by": serializers.FloatField(
                            allow_null=True, help_text="A count, an amount, or points for a rate."
                        ),
                    },
                ),
            },
        ),
    },
)


DASHBOARD_DESCRIPTION = (
    "Rates are fractions (0.25 is 25 %), null without a denominator; `avg_duration` is in seconds; `previous` "
    "holds the same figures for the period of equal length just before. Definitions: docs/dashboards.md."
)


@extend_schema(parameters=FILTER_PARAMETERS, responses={200: DEMO_PERFORMANCE}, description=DASHBOARD_DESCRIPTION)
class DemoPerformanceApi(DashboardApi):
    """Demo Performance: demos_started, completion_rate, avg_duration, conversion_rate; per day or week; by
    product × industry × role."""

    compute = staticmethod(demo_performance)


@extend_schema(parameters=FILTER_PARAMETERS, responses={200: LEAD_QUALITY}, description=DASHBOARD_DESCRIPTION)
class LeadQualityApi(DashboardApi):
    """Lead Quality: leads_generated, mql_rate, sql_rate, opportunity_value; the score distribution (fit grade ×
    engagement band); the top accounts by engagement."""

    compute = staticmethod(lead_quality)


@extend_schema(parameters=FILTER_PARAMETERS, responses={200: PRODUCT_ENGAGEMENT}, description=DASHBOARD_DESCRIPTION)
class ProductEngagementApi(DashboardApi):
    """Product Engagement: feature_usage, top_features, drop_off_points (each tour's step funnel and the pages
    abandoned demos were left on)."""

    compute = staticmethod(product_engagement)


class TargetsApi(APIView):
    """The launch targets, 30 and 90 days from the launch date, against the actuals and their pace."""

    permission_classes = [RefusesSandboxTokens, permissions.IsAuthenticated, ReadsDashboards]

    @extend_schema(responses={200: TARGETS})
    def get(self, request: Request) -> Response:
        return Response(targets_progress())
