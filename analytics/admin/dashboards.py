"""Marketing's dashboards in the admin (``/admin/dashboards/…``): Demo Performance, Lead Quality, Product
Engagement and the launch targets. Charts first, the numbers beside them, the definitions a click away, every
figure a link to the list behind it, every table exported as CSV or XLSX (docs/dashboards.md). Marketing and
superusers (``analytics.view_demosummary``); a Marketing login lands here (``demoportal/urls.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from analytics.admin.display import WIDE_PAGE, industry_names, product_names
from analytics.admin.exports import csv_response, xlsx_response
from analytics.forms import DashboardFilterForm
from analytics.models import DemoSource, DemoSummary, LaunchTargets, Lead
from analytics.selectors.dashboards import (
    DASHBOARD_PERMISSION,
    Filters,
    default_filters,
    demo_performance,
    lead_quality,
    product_engagement,
    targets_progress,
)
from analytics.services.sample import SAMPLE_DOMAIN, sample_users
from demoportal.core import catalogue

SHOWN_ROWS = 15  # rows of a list of demos or leads on the page; the export has them all


# How figures read.


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def money(amounts: dict[str, float]) -> str:
    if not amounts:
        return "$0"
    return " + ".join(f"${v:,.0f}" if c == "USD" else f"{c} {v:,.0f}" for c, v in amounts.items())


def count(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def delta(current: float | None, previous: float | None, kind: str) -> tuple[str, str]:
    """("+12.5 % vs previous period", tone) for a count; percentage points for a rate."""
    if current is None or previous is None:
        return "no previous figure", "quiet"
    if kind == "rate":
        points = (current - previous) * 100
        return f"{points:+.1f} pts vs previous period", "up" if points > 0 else "down" if points < 0 else "quiet"
    if not previous:
        return ("new this period", "up") if current else ("none either period", "quiet")
    change = (current - previous) / previous * 100
    return f"{change:+.1f} % vs previous period", "up" if change > 0 else "down" if change < 0 else "quiet"


@dataclass
class Card:
    label: str
    value: str
    change: str
    tone: str
    href: str
    definition: str


def card(label: str, name: str, data: dict[str, Any], kind: str, href: str, definition: str) -> Card:
    shown = {"rate": percent, "count": count, "duration": duration}[kind]
    change, tone = delta(data[name], data["previous"][name], "rate" if kind == "rate" else "count")
    return Card(label, shown(data[name]), change, tone, href, definition)


# The lists behind the figures.


def demos_list(filters: Filters, **extra: str) -> str:
    query = {"day__gte": filters.start.isoformat(), "day__lte": filters.end.isoformat()}
    for name in ("product", "industry", "role", "source"):
        if getattr(filters, name):
            query[f"{name}__exact"] = getattr(filters, name)
    if filters.partner_id is not None:
        query["partner__id__exact"] = str(filters.partner_id)
    return reverse("admin:analytics_demosummary_changelist") + "?" + urlencode({**query, **extra})


def leads_list(filters: Filters, **extra: str) -> str:
    start, end = filters.bounds()
    query = {"created_at__gte": start.isoformat(), "created_at__lt": end.isoformat()}
    for name, lookup in (("product", "products__0"), ("industry", "industries__0"), ("role", "user__role")):
        if getattr(filters, name):
            query[lookup] = getattr(filters, name)
    if filters.source:
        query["source"] = filters.source
    if filters.partner_id is not None:
        query["user__partner__id__exact"] = str(filters.partner_id)
    return reverse("admin:analytics_lead_changelist") + "?" + urlencode({**query, **extra})


# Tables: shown on the page and exported.


@dataclass
class Table:
    name: str
    title: str
    header: Sequence[str]
    rows: Callable[[Filters, dict[str, Any]], Iterable[Sequence[Any]]]
    note: str = ""
    link: Callable[[Filters, Sequence[Any]], str] | None = None  # the list behind a row, on the page

    @property
    def lists(self) -> bool:
        """A table of single demos or leads, not of figures: the page shows its first rows, the export all."""
        return self.rows in (demo_rows, lead_rows)

    def rows_shown(self, filters: Filters, data: dict[str, Any]) -> Iterable[Sequence[Any]]:
        rows = self.rows(filters, data)
        return rows[:SHOWN_ROWS] if isinstance(rows, QuerySet) else rows

    def rows_exported(self, filters: Filters, data: dict[str, Any]) -> Iterable[Sequence[Any]]:
        """Every row; a list's from a server-side cursor, a few thousand rows in memory at a time."""
        rows = self.rows(filters, data)
        return rows.iterator(chunk_size=2000) if isinstance(rows, QuerySet) else rows


def period_of(filters: Filters, row: Sequence[Any]) -> Filters:
    """The filters narrowed to the period of a series row (its first day is the row's first cell)."""
    first = date.fromisoformat(row[0])
    last = first + timedelta(days=0 if filters.grain == "day" else 6)
    return replace(filters, start=max(first, filters.start), end=min(last, filters.end))


def demo_rows(filters: Filters, _: dict[str, Any]) -> Iterable[Sequence[Any]]:
    return (
        DemoSummary.objects.filter(filters.segment())
        .order_by("day", "started_at", "sandbox_id")
        .values_list(
            "started_at",
            "product",
            "industry",
            "role",
            "partner__name",
            "source",
            "completed",
            "abandoned",
            "pricing",
            "meetings",
            "pocs",
            "duration_seconds",
            "visits",
            "tour",
            "steps",
            "exit_path",
        )
    )


def lead_rows(filters: Filters, _: dict[str, Any]) -> Iterable[Sequence[Any]]:
    return (
        Lead.objects.filter(filters.lead_segment())
        .order_by("created_at", "pk")
        .values_list(
            "created_at",
            "user__email",
            "user__company",
            "account_domain",
            "user__role",
            "stage",
            "fit_grade",
            "mql_at",
            "sql_at",
            "opportunity_value",
            "opportunity_currency",
            "source",
            "products",
            "industries",
        )
    )


def series_table(names: Sequence[str], link: Callable[[Filters, Sequence[Any]], str]) -> Table:
    return Table(
        "series",
        "By period",
        ["period", *names],
        lambda _f, data: ([row["period"], *(row[name] for name in names)] for row in data["series"]),
        link=link,
    )


DEMO_SERIES = ("demos_started", "completion_rate", "avg_duration", "conversion_rate", "demos_completed")
LEAD_SERIES = ("leads_generated", "mql_rate", "sql_rate", "mqls", "sqls", "opportunities")
SEGMENT_COLUMNS = ("demos_started", "completion_rate", "avg_duration", "conversion_rate")

TABLES: dict[str, list[Table]] = {
    "demo-performance": [
        series_table(DEMO_SERIES, lambda f, row: demos_list(period_of(f, row))),
        Table(
            "segments",
            "By product × industry × role",
            ["product", "industry", "role", *SEGMENT_COLUMNS],
            lambda _f, data: (
                [row["product"], row["industry"], row["role"], *(row[n] for n in SEGMENT_COLUMNS)]
                for row in data["segments"]
            ),
            link=lambda f, row: demos_list(replace(f, product=row[0], industry=row[1], role=row[2])),
        ),
        Table(
            "demos",
            "Demos",
            [
                "started_at",
                "product",
                "industry",
                "role",
                "partner",
                "source",
                "completed",
                "abandoned",
                "pricing_requests",
                "sales_meetings",
                "pocs",
                "duration_seconds",
                "visits",
                "tour",
                "steps_reached",
                "exit_page",
            ],
            demo_rows,
            note="Every demo started in the range, one row each.",
        ),
    ],
    "lead-quality": [
        series_table(LEAD_SERIES, lambda f, row: leads_list(period_of(f, row))),
        Table(
            "score-distribution",
            "Score distribution",
            ["fit_grade", "engagement_band", "leads"],
            lambda _f, data: (
                [row["fit_grade"], band, n]
                for row in data["score_distribution"]["grid"]
                for band, n in zip(data["score_distribution"]["bands"], row["counts"], strict=True)
            ),
            link=lambda f, row: leads_list(f, fit_grade=row[0]),
        ),
        Table(
            "top-accounts",
            "Top accounts",
            ["account", "people", "engagement", "stage", "last_activity_at"],
            lambda _f, data: (
                [row[c] for c in ("account", "people", "engagement", "stage", "last_activity_at")]
                for row in data["top_accounts"]
            ),
            link=lambda f, row: leads_list(f, account_domain=row[0]),
        ),
        Table(
            "leads",
            "Leads",
            [
                "created_at",
                "email",
                "company",
                "account",
                "role",
                "stage",
                "fit_grade",
                "mql_at",
                "sql_at",
                "opportunity_value",
                "currency",
                "source",
                "products",
                "industries",
            ],
            lead_rows,
            note="Every lead generated in the range, one row each.",
        ),
    ],
    "product-engagement": [
        Table(
            "features",
            "Feature usage",
            ["feature", "demos", "uses", "share_of_demos"],
            lambda _f, data: ([r["feature"], r["demos"], r["uses"], r["share"]] for r in data["feature_usage"]),
            link=lambda f, row: demos_list(f, features__has_key=row[0]),
        ),
        Table(
            "tour-steps",
            "Tour steps",
            ["tour", "step", "reached", "left_here", "reached_share"],
            lambda _f, data: (
                [tour["tour"], s["step"], s["reached"], s["left"], s["reached_share"]]
                for tour in data["drop_off_points"]["tours"]
                for s in tour["steps"]
            ),
        ),
        Table(
            "exit-pages",
            "Pages abandoned demos were left on",
            ["page", "abandoned_demos"],
            lambda _f, data: ([r["path"], r["demos"]] for r in data["drop_off_points"]["exit_pages"]),
            link=lambda f, row: demos_list(f, outcome="abandoned", exit_path=row[0]),
        ),
    ],
}
COMPUTE: dict[str, Callable[[Filters], dict[str, Any]]] = {
    "demo-performance": demo_performance,
    "lead-quality": lead_quality,
    "product-engagement": product_engagement,
}
TITLES = {
    "demo-performance": "Demo Performance",
    "lead-quality": "Lead Quality",
    "product-engagement": "Product Engagement",
    "targets": "Launch targets",
}


# Views.


def marketing_only(request: HttpRequest) -> None:
    if not request.user.has_perm(DASHBOARD_PERMISSION):
        raise PermissionDenied("Only Marketing can read the dashboards.")


def filters_from(request: HttpRequest) -> tuple[DashboardFilterForm, Filters]:
    """The filters asked for; without any, or with a wrong one, the last 30 days (the dates shown in the form)."""
    default = default_filters()
    form = DashboardFilterForm(request.GET or None, initial={"from": default.start, "to": default.end})
    if request.GET and form.is_valid():
        return form, form.filters()
    return form, default


def names_of(filters: Filters) -> dict[str, str]:
    return {
        "product": product_names().get(filters.product, ""),
        "industry": industry_names().get(filters.industry, ""),
        "role": catalogue.role_name(filters.role) if filters.role else "",
        "source": dict(DemoSource.choices).get(filters.source, ""),
    }


def chart(title: str, series: list[dict[str, Any]], lines: Sequence[tuple[str, str, str]]) -> dict[str, Any]:
    """What static/js/dashboards.js draws (``data``: the periods and, per line, its label, scale and values) and
    the same figures as a table, for those who cannot see the chart."""
    shown = {"rate": percent, "count": count}
    return {
        "title": title,
        "id": "chart-" + "-".join(key for key, _, _ in lines),
        "data": {
            "x": [row["period"] for row in series],
            "series": [
                {"label": label, "scale": scale, "values": [row[key] for row in series]} for key, label, scale in lines
            ],
        },
        "labels": [label for _, label, _ in lines],
        "rows": [[row["period"], *(shown[scale](row[key]) for key, _, scale in lines)] for row in series],
    }


def demo_cards(filters: Filters, data: dict[str, Any]) -> list[Card]:
    return [
        card("Demos started", "demos_started", data, "count", demos_list(filters),
             "Demos begun in the range: one per sandbox a prospect was given, counted on the day it started."),
        card("Completion rate", "completion_rate", data, "rate", demos_list(filters, outcome="completed"),
             "Demos whose guided tour was finished (demo_completed) ÷ demos started."),
        card("Average duration", "avg_duration", data, "duration", demos_list(filters),
             "Active time per demo: the sum of its visits, each from its first to its last event; a gap of 30"
             " minutes ends a visit. The system's demo_abandoned is not activity."),
        card("Conversion rate", "conversion_rate", data, "rate", demos_list(filters, outcome="converted"),
             "Demos with a pricing request, a sales call booked or a proof of concept requested ÷ demos started."),
    ]  # fmt: skip


def lead_cards(filters: Filters, data: dict[str, Any]) -> list[Card]:
    value = money(data["opportunity_value"])
    previous = money(data["previous"]["opportunity_value"])
    return [
        card("Leads generated", "leads_generated", data, "count", leads_list(filters),
             "Prospects who agreed to be contacted and became leads in the range (by the day the lead was made)."),
        card("MQL rate", "mql_rate", data, "rate", leads_list(filters, mql_at__isnull="False"),
             "Of those leads, the share that became marketing-qualified (by the scoring, a hand-raise, or accepted by"
             " sales directly), whatever their stage now."),
        card("SQL rate", "sql_rate", data, "rate", leads_list(filters, sql_at__isnull="False"),
             "Of those MQLs, the share sales accepted (SQL or later)."),
        Card("Opportunity value", value, f"previous period {previous}", "quiet",
             leads_list(filters, stage=Lead.Stage.OPPORTUNITY),
             "The amounts sales recorded on those leads now at the opportunity stage, per currency (not converted)."),
    ]  # fmt: skip


def dashboard_page(request: HttpRequest, dashboard: str) -> HttpResponse:
    marketing_only(request)
    if dashboard not in COMPUTE:
        raise Http404("No such dashboard.")
    form, filters = filters_from(request)
    data = COMPUTE[dashboard](filters)
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        **WIDE_PAGE,
        "title": TITLES[dashboard],
        "dashboard": dashboard,
        "dashboards": TITLES,
        "form": form,
        "filters": filters,
        "names": names_of(filters),
        "query": request.GET.urlencode(),
        "shown_rows": SHOWN_ROWS,
        **sample_notice(),
        "data": data,
        "tables": [
            {
                "table": table,
                "rows": [
                    {"cells": cells_shown(table.header, row), "href": table.link(filters, row) if table.link else ""}
                    for row in table.rows_shown(filters, data)
                ],
            }
            for table in TABLES[dashboard]
        ],
    }
    if dashboard == "demo-performance":
        context["cards"] = demo_cards(filters, data)
        context["charts"] = [
            chart("Demos started", data["series"], [("demos_started", "Demos started", "count")]),
            chart("Completion and conversion", data["series"], [
                ("completion_rate", "Completion rate", "rate"), ("conversion_rate", "Conversion rate", "rate")]),
        ]  # fmt: skip
    elif dashboard == "lead-quality":
        context["cards"] = lead_cards(filters, data)
        context["as_of"] = parse_datetime(data["as_of"]) if data["as_of"] else None
        context["charts"] = [
            chart("Leads and MQLs", data["series"], [("leads_generated", "Leads", "count"), ("mqls", "MQLs", "count")])
        ]
    else:
        context["cards"] = []
        context["charts"] = []
    request.current_app = admin.site.name
    return TemplateResponse(request, "admin/analytics/dashboards/page.html", context)


def sample_notice() -> dict[str, Any]:
    """Whether the figures include the labelled sample activity (manage.py sample_activity)."""
    return {"sample_domain": SAMPLE_DOMAIN if sample_users().exists() else ""}


def cells_shown(header: Sequence[str], row: Sequence[Any]) -> list[str]:
    """A table row as the page shows it: rates as percentages, durations in minutes, counts grouped."""
    shown = []
    for column, value in zip(header, row, strict=True):
        if column.endswith(("_rate", "_share", "share_of_demos")):
            shown.append(percent(value))
        elif column in ("avg_duration", "duration_seconds"):
            shown.append(duration(value))
        elif column == "product":
            shown.append(product_names().get(value, value))
        elif column == "industry":
            shown.append(industry_names().get(value, value))
        elif column == "role":
            shown.append(catalogue.role_name(value) if value else "–")
        elif isinstance(value, bool):
            shown.append("yes" if value else "no")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            shown.append(count(value))
        elif isinstance(value, datetime):
            shown.append(timezone.localtime(value).strftime("%Y-%m-%d %H:%M"))
        elif isinstance(value, list):
            shown.append(" → ".join(str(v) for v in value))
        else:
            shown.append("–" if value in (None, "") else str(value))
    return shown


def targets_page(request: HttpRequest) -> HttpResponse:
    marketing_only(request)
    targets = LaunchTargets.objects.first()
    context = {
        **admin.site.each_context(request),
        **WIDE_PAGE,
        "title": TITLES["targets"],
        "dashboard": "targets",
        "dashboards": TITLES,
        "progress": targets_progress(),
        "edit_url": reverse("admin:analytics_launchtargets_change", args=[targets.pk])
        if targets
        else reverse("admin:analytics_launchtargets_add"),
        "can_edit": request.user.has_perm("analytics.change_launchtargets"),
        **sample_notice(),
    }
    request.current_app = admin.site.name
    return TemplateResponse(request, "admin/analytics/dashboards/targets.html", context)


def export(request: HttpRequest, dashboard: str, table: str, fmt: str) -> HttpResponseBase:
    marketing_only(request)
    found = next((t for t in TABLES.get(dashboard, []) if t.name == table), None)
    if found is None or fmt not in ("csv", "xlsx"):
        raise Http404("No such table.")
    form = DashboardFilterForm(request.GET)
    if not form.is_valid():
        messages = "; ".join(f"{field}: {' '.join(str(e) for e in errors)}" for field, errors in form.errors.items())
        return HttpResponse(f"Bad filters — {messages}", status=400, content_type="text/plain; charset=utf-8")
    filters = form.filters()
    data = {} if found.lists else COMPUTE[dashboard](filters)  # a list streams from the database alone
    rows = found.rows_exported(filters, data)
    filename = f"{dashboard}-{table}-{filters.start}-{filters.end}.{fmt}"
    if fmt == "csv":
        return csv_response(filename, found.header, rows)
    return xlsx_response(filename, found.title, found.header, rows)


def targets_export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    marketing_only(request)
    progress = targets_progress()
    header = ["window_days", "from", "to", "metric", "target", "actual", "status", "expected_by_now", "behind_by"]
    rows = [
        [
            w["days"],
            w["from"],
            w["to"],
            m["metric"],
            m["target"],
            m["actual"],
            m["status"],
            m["expected"],
            m["behind_by"],
        ]
        for w in progress["windows"]
        for m in w["metrics"]
    ]
    filename = f"launch-targets-{progress['launch_date']}.{fmt}"
    if fmt == "csv":
        return csv_response(filename, header, rows)
    return xlsx_response(filename, "Launch targets", header, rows)


def view(function: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    return admin.site.admin_view(function)


app_name = "dashboards"
urlpatterns: list[URLPattern] = [
    path("targets/", view(targets_page), name="targets"),
    path("targets/export.<str:fmt>", view(targets_export), name="targets-export"),
    path("<slug:dashboard>/", view(dashboard_page), name="page"),
    path("<slug:dashboard>/export/<slug:table>.<str:fmt>", view(export), name="export"),
]


# The lists behind the figures, and the targets marketing set.


class OutcomeFilter(admin.SimpleListFilter):
    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("completed", "completed the tour"), ("converted", "converted"), ("abandoned", "abandoned")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[DemoSummary]) -> QuerySet[DemoSummary]:
        if self.value() == "completed":
            return queryset.filter(completed=True)
        if self.value() == "abandoned":
            return queryset.filter(abandoned=True)
        if self.value() == "converted":
            return queryset.exclude(pricing=0, meetings=0, pocs=0)
        return queryset


@admin.register(DemoSummary)
class DemoSummaryAdmin(admin.ModelAdmin[DemoSummary]):
    """The demos the dashboards count, read-only: each figure's link opens this list filtered."""

    list_display = ["started_at", "product", "industry", "role", "source", "partner", "completed", "converted_shown",
                    "duration_shown", "exit_path"]  # fmt: skip
    list_filter = [
        "product",
        "industry",
        "role",
        "source",
        "partner",
        OutcomeFilter,
        ("day", admin.DateFieldListFilter),
    ]
    list_select_related = ["partner"]
    show_full_result_count = False
    date_hierarchy = "day"

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        dashboards = ("day__gte", "day__lte", "features__has_key", "exit_path")  # the dashboards' row links
        return lookup in dashboards or super().lookup_allowed(lookup, value, request)

    @admin.display(description="converted", boolean=True)
    def converted_shown(self, summary: DemoSummary) -> bool:
        return summary.converted

    @admin.display(description="active time")
    def duration_shown(self, summary: DemoSummary) -> str:
        return duration(summary.duration_seconds)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LaunchTargets)
class LaunchTargetsAdmin(admin.ModelAdmin[LaunchTargets]):
    """One row: the launch date and the 30- and 90-day targets (the specification's, until marketing change them)."""

    fieldsets = [
        (None, {"fields": ["launch_date"]}),
        ("30 days after launch", {"fields": [f"{m}_30" for m in ("demos_started", "completion_rate",
                                  "leads_generated", "mql_rate", "meetings_booked", "pipeline")]}),
        ("90 days after launch", {"fields": [f"{m}_90" for m in ("demos_started", "completion_rate",
                                  "leads_generated", "mql_rate", "meetings_booked", "pipeline")]}),
    ]  # fmt: skip

    # One row: the list and a second "add" lead to it (no query in has_add_permission, which every admin page's
    # navigation asks).
    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        row = LaunchTargets.objects.first()
        if row is None:
            return redirect("admin:analytics_launchtargets_add")
        return redirect("admin:analytics_launchtargets_change", row.pk)

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        row = LaunchTargets.objects.first()
        if row is not None:
            return redirect("admin:analytics_launchtargets_change", row.pk)
        return super().add_view(request, form_url, extra_context)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: LaunchTargets, form: Any, change: bool) -> None:
        obj.updated_by = request.user if request.user.is_authenticated else None
        super().save_model(request, obj, form, change)

    def response_post_save_change(self, request: HttpRequest, obj: LaunchTargets) -> HttpResponseRedirect:
        return redirect("dashboards:targets")

    def response_post_save_add(self, request: HttpRequest, obj: LaunchTargets) -> HttpResponseRedirect:
        return self.response_post_save_change(request, obj)
