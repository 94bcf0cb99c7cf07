"""The sales admin for sandboxes: every action goes through the lifecycle services and is audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

from demoportal.core import catalogue
from demoportal.core.admin_filters import IndustryFilter, ProductFilter, RoleFilter
from demoportal.core.exceptions import DomainError
from demoportal.core.models import User
from sandboxes.access import access_url
from sandboxes.models import Domain, Sandbox, SandboxAuditEntry
from sandboxes.selectors import pool_status, schema_bytes_sql
from sandboxes.services import sandbox_end, sandbox_extend, sandbox_reset, sandbox_staff_entry
from sandboxes.usage import storage_warning


class DomainInline(admin.TabularInline[Domain, Sandbox]):
    """The sandbox's host names, made by provisioning: shown, never added, changed or deleted here."""

    model = Domain
    extra = 0
    fields = ["domain", "is_primary"]
    readonly_fields = ["domain", "is_primary"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AuditInline(admin.TabularInline[SandboxAuditEntry, Sandbox]):
    """The sandbox's audit trail, in words: "anomaly injected", "type: excess air; asset: H-101; minutes: 45"."""

    model = SandboxAuditEntry
    extra = 0
    fields = ("at", "what", "from_status", "to_status", "actor_label", "duration_ms", "details")
    readonly_fields = fields
    can_delete = False
    ordering = ["-at", "-pk"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_formset(self, request: HttpRequest, obj: Sandbox | None = None, **kwargs: Any) -> Any:
        self.sandbox = obj  # the entries' sandbox, for ``detail_value`` (an inline is made per request)
        return super().get_formset(request, obj, **kwargs)

    @admin.display(description="action")
    def what(self, entry: SandboxAuditEntry) -> str:
        return entry.action.replace("_", " ")

    @admin.display(description="detail")
    def details(self, entry: SandboxAuditEntry) -> str:
        detail = entry.detail if isinstance(entry.detail, dict) else {}
        return "; ".join(f"{key.removesuffix('_id')}: {self.detail_value(key, value)}" for key, value in detail.items())

    def detail_value(self, key: str, value: object) -> str:
        """One detail in words: a type or kind key as words; a row id (``asset_id``) as the subclass can name it."""
        if key in ("type", "kind") and isinstance(value, str):
            return value.replace("_", " ")
        if key.endswith("_id"):
            return f"#{value}"
        return str(value)


def _each(
    modeladmin: admin.ModelAdmin[Sandbox], request: HttpRequest, queryset: QuerySet[Sandbox], verb: str, act: Any
) -> None:
    """Run ``act`` on every selected sandbox; say how many it worked for and why the others refused."""
    assert isinstance(request.user, User)
    done = 0
    for sandbox in queryset:
        try:
            act(sandbox, request.user)
            done += 1
        except DomainError as error:
            modeladmin.message_user(request, f"Not done for {sandbox.slug}: {error.detail}", messages.WARNING)
    if done:
        modeladmin.message_user(request, f"{verb} {done} sandbox{'es' if done != 1 else ''}.", messages.SUCCESS)


def _extend_action(hours: int, description: str) -> Any:
    """An admin action extending every selected sandbox by ``hours``, audited as the salesperson's."""

    @admin.action(description=description, permissions=["change"])
    def extend(modeladmin: admin.ModelAdmin[Sandbox], request: HttpRequest, queryset: QuerySet[Sandbox]) -> None:
        reason = "Extended by sales in the admin"
        _each(
            modeladmin,
            request,
            queryset,
            "Extended",
            lambda s, u: sandbox_extend(sandbox=s, hours=hours, actor=u, reason=reason),
        )

    extend.__name__ = f"extend_{hours}h"
    return extend


extend_day = _extend_action(24, "Extend by 24 hours")
extend_week = _extend_action(168, "Extend by 7 days")


@admin.action(description="Reset to the scenario's start", permissions=["change"])
def reset(modeladmin: admin.ModelAdmin[Sandbox], request: HttpRequest, queryset: QuerySet[Sandbox]) -> None:
    _each(modeladmin, request, queryset, "Reset", lambda s, u: sandbox_reset(sandbox=s, actor=u))


@admin.action(description="End (asks for confirmation)", permissions=["change"])
def end(
    modeladmin: admin.ModelAdmin[Sandbox], request: HttpRequest, queryset: QuerySet[Sandbox]
) -> HttpResponse | None:
    if request.POST.get("confirmed") != "yes":
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": "End these sandboxes?",
            "sandboxes": queryset,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "opts": modeladmin.model._meta,
        }
        return TemplateResponse(request, "admin/sandboxes/confirm_end.html", context)
    _each(modeladmin, request, queryset, "Ended", lambda s, u: sandbox_end(sandbox=s, actor=u))
    return None


class StatusFilter(admin.SimpleListFilter):
    """By status, without "pooled": the warm pool is not listed (its counts follow the list)."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(value, label) for value, label in Sandbox.Status.choices if value != Sandbox.Status.POOLED]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(status=self.value()) if self.value() else queryset


# Bytes of each listed sandbox's schema, computed by PostgreSQL for the rows on the page only.
STORAGE_SQL = schema_bytes_sql("sandboxes_sandbox.schema_name")


@admin.register(Sandbox)
class SandboxAdmin(admin.ModelAdmin[Sandbox]):
    """The sandboxes sales follow. The list keeps what a salesperson reads at a glance (who, which company,
    product and industry, state, time left, last activity) and the row's actions, so that it fits a 1280 px
    screen; the rest is on the change page or in the filters."""

    list_display = [
        "prospect",
        "company",
        "product_name",
        "industry_name",
        "state",
        "expires",
        "last_activity",
        "row_actions",
    ]
    list_display_links = ["prospect"]
    list_filter = [
        StatusFilter,
        IndustryFilter,
        ProductFilter,
        RoleFilter,
        "partner",
        "purpose",
        "auto_reset",
    ]
    search_fields = ["name", "slug", "owner__email", "owner__company", "customer_company", "domains__domain"]
    list_select_related = ["owner", "partner"]
    fieldsets = [
        (None, {"fields": ["name", "auto_reset"]}),
        ("Who", {"fields": ["owner", "company", "partner", "purpose", "customer_company"]}),
        ("Demo", {"fields": ["product_name", "industry_name", "role_name"]}),
        (
            "Lifecycle",
            {
                "fields": [
                    "status",
                    "failure_reason",
                    "created_at",
                    "ready_at",
                    "reset_at",
                    "expires_at",
                    "time_left",
                    "extensions",
                    "last_accessed_at",
                    "ended_at",
                ]
            },
        ),
        ("Machinery", {"fields": ["slug", "schema_name", "kind", "provisioning_ms", "storage"]}),
    ]
    readonly_fields = [
        *("owner", "company", "partner", "purpose", "customer_company"),
        *("product_name", "industry_name", "role_name"),
        *("status", "failure_reason", "created_at", "ready_at", "reset_at", "expires_at", "time_left"),
        *("extensions", "last_accessed_at", "ended_at"),
        *("slug", "schema_name", "kind", "provisioning_ms", "storage"),
    ]
    inlines = [DomainInline, AuditInline]
    actions = [extend_day, extend_week, reset, end]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Sandbox]:
        # The portal's own row, the scenario templates and the warm pool are machinery, not sandboxes to
        # manage; the pool shows as counts above the list.
        sandboxes: QuerySet[Sandbox] = (
            super()
            .get_queryset(request)
            .filter(kind=Sandbox.Kind.DEMO)
            .exclude(status=Sandbox.Status.POOLED)
            .annotate(storage_bytes=RawSQL(STORAGE_SQL, []))  # noqa: S611  # a constant, no input
        )
        return sandboxes

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # sandboxes are created by the provisioning service, never by hand

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # "end" keeps the row and its audit trail; deleting would lose them

    def get_urls(self) -> list[URLPattern]:
        opened = self.admin_site.admin_view(self.open_view)
        watched = self.admin_site.admin_view(self.watch_view)
        return [
            path("<int:object_id>/open/", opened, name="sandboxes_sandbox_open"),
            path("<int:object_id>/watch/", watched, name="sandboxes_sandbox_watch"),
            *super().get_urls(),
        ]

    def watch_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Watch the prospect's sandbox live, read-only (``sandbox_is_watched_by``): a one-time link into its
        host as the signed-in salesperson, audited."""
        return self.staff_entry_view(request, object_id, watching=True)

    def open_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Open the sandbox as the signed-in salesperson: a one-time link into its host, audited."""
        return self.staff_entry_view(request, object_id, watching=False)

    def staff_entry_view(self, request: HttpRequest, object_id: int, *, watching: bool) -> HttpResponse:
        sandbox = self.get_object(request, str(object_id))
        if sandbox is None:
            raise Http404("No such sandbox.")
        if not self.has_change_permission(request, sandbox):
            raise PermissionDenied
        assert isinstance(request.user, User)
        try:
            sandbox_staff_entry(sandbox=sandbox, actor=request.user, watching=watching)
        except DomainError as error:
            self.message_user(request, error.detail, messages.WARNING)
            return redirect("admin:sandboxes_sandbox_change", sandbox.pk)
        return redirect(access_url(sandbox=sandbox, request=request, staff=request.user))

    def get_list_display(self, request: HttpRequest) -> Any:
        """The row's actions only for whom they work: those who may change sandboxes (Sales)."""
        shown = list(super().get_list_display(request))
        return shown if self.has_change_permission(request) else [name for name in shown if name != "row_actions"]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        # Without the admin's navigation column the list has the width it needs for its columns and the
        # row's actions at 1280 px (the app index is a click away in the breadcrumbs).
        context = {**(extra_context or {}), "pool": pool_status(), "is_nav_sidebar_enabled": False}
        return super().changelist_view(request, context)

    @admin.display(description="prospect", ordering="owner__email")
    def prospect(self, sandbox: Sandbox) -> str:
        """Who the sandbox is for: its owner's name (their e-mail on hover), or the sandbox's name if it has none."""
        owner = sandbox.owner
        if owner is None:
            return format_html("{} <small>(no owner)</small>", sandbox.name)
        return format_html('<span title="{}">{}</span>', owner.email, owner.get_full_name() or owner.email)

    @admin.display(description="company", ordering="owner__company")
    def company(self, sandbox: Sandbox) -> str:
        """The prospect's company; for a partner's customer demo, the customer and the partner."""
        if sandbox.purpose == Sandbox.Purpose.CUSTOMER_DEMO and sandbox.customer_company:
            partner = f" (via {sandbox.partner.name})" if sandbox.partner is not None else ""
            return f"{sandbox.customer_company}{partner}"
        return sandbox.owner.company if sandbox.owner is not None else ""

    @admin.display(description="product", ordering="product")
    def product_name(self, sandbox: Sandbox) -> str:
        return catalogue.product_name(sandbox.product)

    @admin.display(description="industry", ordering="industry")
    def industry_name(self, sandbox: Sandbox) -> str:
        return catalogue.industry_name(sandbox.industry)

    @admin.display(description="role", ordering="role")
    def role_name(self, sandbox: Sandbox) -> str:
        return catalogue.role_name(sandbox.role)

    @admin.display(description="status", ordering="status")
    def state(self, sandbox: Sandbox) -> str:
        """The status, flagged when the sandbox's storage is past the warning size (the figure is on its page)."""
        label = sandbox.get_status_display()
        warning = storage_warning(int(getattr(sandbox, "storage_bytes", 0) or 0))
        return format_html('{} <strong title="{}">⚠</strong>', label, warning) if warning else label

    @admin.display(description="expires", ordering="expires_at")
    def expires(self, sandbox: Sandbox) -> str:
        """Time left while it runs (the moment on hover); when it ended, for one that has."""
        if sandbox.has_ended:
            return f"ended {sandbox.ended_at:%d %b}" if sandbox.ended_at else "ended"
        if sandbox.status != Sandbox.Status.READY or sandbox.expires_at is None:
            return "—"
        until = f"until {sandbox.expires_at:%d %b %Y %H:%M} UTC"
        return format_html('<span title="{}">{} left</span>', until, self.time_left(sandbox))

    @admin.display(description="last activity", ordering="last_accessed_at")
    def last_activity(self, sandbox: Sandbox) -> str:
        """When the sandbox was last used (its pages or API, by anyone), to the minute the usage flush allows."""
        if sandbox.last_accessed_at is None:
            return "never"
        moment = f"{sandbox.last_accessed_at:%d %b %Y %H:%M} UTC"
        return format_html('<span title="{}">{} ago</span>', moment, timesince(sandbox.last_accessed_at, depth=1))

    @admin.display(description="time left")
    def time_left(self, sandbox: Sandbox) -> str:
        if sandbox.status != Sandbox.Status.READY or sandbox.expires_at is None:
            return "—"
        seconds = max(0, int((sandbox.expires_at - timezone.now()).total_seconds()))
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"

    @admin.display(description="storage", ordering="storage_bytes")
    def storage(self, sandbox: Sandbox) -> str:
        size = int(getattr(sandbox, "storage_bytes", 0) or 0)
        if not size:
            return "—"
        warning = storage_warning(size)
        label = f"{size / 1024**2:.1f} MB"
        return format_html('<strong title="{}">⚠ {}</strong>', warning, label) if warning else label

    def row_links(self, sandbox: Sandbox) -> list[str]:
        """The row's actions on a running sandbox, each a link: watch the prospect live (or, with no
        owner, open it as staff). Subclasses add theirs."""
        if sandbox.status != Sandbox.Status.READY:
            return []
        if sandbox.owner_id is not None:
            url = reverse("admin:sandboxes_sandbox_watch", args=[sandbox.pk])
            return [format_html('<a href="{}" target="_blank" rel="noopener">Watch live</a>', url)]
        url = reverse("admin:sandboxes_sandbox_open", args=[sandbox.pk])
        return [format_html('<a href="{}" target="_blank" rel="noopener">Open as staff</a>', url)]

    @admin.display(description="actions")
    def row_actions(self, sandbox: Sandbox) -> str:
        return format_html_join(mark_safe("<br>"), "{}", ((link,) for link in self.row_links(sandbox)))
