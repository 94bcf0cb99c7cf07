"""Marketing's dashboards for a BI tool: ``GET /api/v1/dashboards/demo-performance``, ``/lead-quality``,
``/product-engagement`` and ``/targets`` (the portal host only), the same figures as the admin's pages under
the specification's names (docs/dashboards.md). Filters are the pages' (``DashboardFilterForm``); a bad one is
a 400 naming the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.forms import DashboardFilterForm
from analytics.models import DemoSource
from analytics.selectors.dashboards import (
    Filters,
    demo_performance,
    lead_quality,
    product_engagement,
    targets_progress,
)
from sandboxes.authentication import RefusesSandboxTokens

DASHBOARD_PERMISSION = "analytics.view_demosummary"  # Marketing's (demoportal/core/staff_groups.py), superusers


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


DASHBOARD_DESCRIPTION = (
    "Rates are fractions (0.25 is 25 %), null without a denominator; `avg_duration` is in seconds; `previous` "
    "holds the same figures for the period of equal length just before. Definitions: docs/dashboards.md."
)


@extend_schema(parameters=FILTER_PARAMETERS, responses={200: OpenApiTypes.OBJECT}, description=DASHBOARD_DESCRIPTION)
class DemoPerformanceApi(DashboardApi):
    """Demo Performance: demos_started, completion_rate, avg_duration, conversion_rate; per day or week; by
    product × industry × role."""

    compute = staticmethod(demo_performance)


@extend_schema(parameters=FILTER_PARAMETERS, responses={200: OpenApiTypes.OBJECT}, description=DASHBOARD_DESCRIPTION)
class LeadQualityApi(DashboardApi):
    """Lead Quality: leads_generated, mql_rate, sql_rate, opportunity_value; the score distribution (fit grade ×
    engagement band); the top accounts by engagement."""

    compute = staticmethod(lead_quality)


@extend_schema(parameters=FILTER_PARAMETERS, responses={200: OpenApiTypes.OBJECT}, description=DASHBOARD_DESCRIPTION)
class ProductEngagementApi(DashboardApi):
    """Product Engagement: feature_usage, top_features, drop_off_points (each tour's step funnel and the pages
    abandoned demos were left on)."""

    compute = staticmethod(product_engagement)


class TargetsApi(APIView):
    """The launch targets, 30 and 90 days from the launch date, against the actuals and their pace."""

    permission_classes = [RefusesSandboxTokens, permissions.IsAuthenticated, ReadsDashboards]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        return Response(targets_progress())
