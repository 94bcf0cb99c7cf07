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
from django.utils.html import format_html

from demoportal.core.exceptions import DomainError
from demoportal.core.models import User
from sandboxes.access import access_url
from sandboxes.models import Domain, Sandbox, SandboxAuditEntry
from sandboxes.selectors import pool_status, schema_bytes_sql
from sandboxes.services import sandbox_end, sandbox_extend, sandbox_reset, sandbox_staff_entry
from sandboxes.usage import storage_warning


class DomainInline(admin.TabularInline[Domain, Sandbox]):
    model = Domain
    extra = 0
    fields = ["domain", "is_primary"]
    readonly_fields = ["domain", "is_primary"]
    can_delete = False


class AuditInline(admin.TabularInline[SandboxAuditEntry, Sandbox]):
    model = SandboxAuditEntry
    extra = 0
    fields = ("at", "action", "from_status", "to_status", "actor_label", "duration_ms", "detail")
    readonly_fields = fields
    can_delete = False
    ordering = ["-at", "-pk"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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


# Bytes of each listed sandbox's schema, computed by PostgreSQL for the rows on the page only.
STORAGE_SQL = schema_bytes_sql("sandboxes_sandbox.schema_name")


@admin.register(Sandbox)
class SandboxAdmin(admin.ModelAdmin[Sandbox]):
    list_display = [
        "name",
        "slug",
        "status",
        "owner",
        "company",
        "partner",
        "purpose",
        "product",
        "industry",
        "role",
        "created_at",
        "expires_at",
        "time_left",
        "last_accessed_at",
        "provisioning_ms",
        "storage",
        "open_link",
    ]
    list_filter = ["status", "industry", "product", "role", "partner", "purpose", "auto_reset"]
    search_fields = ["name", "slug", "owner__email", "owner__company", "customer_company", "domains__domain"]
    list_select_related = ["owner", "partner"]
    readonly_fields = [
        "schema_name",
        "slug",
        "kind",
        "status",
        "failure_reason",
        "owner",
        "company",
        "partner",
        "purpose",
        "customer_company",
        "industry",
        "product",
        "role",
        "created_at",
        "ready_at",
        "reset_at",
        "expires_at",
        "extensions",
        "provisioning_ms",
        "last_accessed_at",
        "storage",
        "ended_at",
    ]
    fields = ["name", "auto_reset", *readonly_fields]
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

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        return super().changelist_view(request, {**(extra_context or {}), "pool": pool_status()})

    @admin.display(description="company", ordering="owner__company")
    def company(self, sandbox: Sandbox) -> str:
        return sandbox.owner.company if sandbox.owner is not None else ""

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

    @admin.display(description="")
    def open_link(self, sandbox: Sandbox) -> str:
        if sandbox.status != Sandbox.Status.READY:
            return ""
        url = reverse("admin:sandboxes_sandbox_open", args=[sandbox.pk])
        return format_html('<a href="{}" target="_blank" rel="noopener">Open as staff</a>', url)
