"""The sales admin for sandboxes: every action goes through the lifecycle services and is audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from demoportal.exceptions import DomainError
from demoportal.models import User
from sandboxes.models import Domain, Sandbox, SandboxAuditEntry
from sandboxes.services import sandbox_destroy, sandbox_extend, sandbox_reset


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


@admin.action(description="Destroy (asks for confirmation)", permissions=["change"])
def destroy(
    modeladmin: admin.ModelAdmin[Sandbox], request: HttpRequest, queryset: QuerySet[Sandbox]
) -> HttpResponse | None:
    if request.POST.get("confirmed") != "yes":
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": "Destroy these sandboxes?",
            "sandboxes": queryset,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "opts": modeladmin.model._meta,
        }
        return TemplateResponse(request, "admin/sandboxes/confirm_destroy.html", context)
    _each(modeladmin, request, queryset, "Destroyed", lambda s, u: sandbox_destroy(sandbox=s, actor=u))
    return None


@admin.register(Sandbox)
class SandboxAdmin(admin.ModelAdmin[Sandbox]):
    list_display = [
        "name",
        "slug",
        "status",
        "owner",
        "product",
        "industry",
        "role",
        "created_at",
        "time_left",
        "provisioning_ms",
    ]
    list_filter = ["status", "industry", "product", "role"]
    search_fields = ["name", "slug", "owner__email", "domains__domain"]
    list_select_related = ["owner"]
    readonly_fields = [
        "schema_name",
        "slug",
        "kind",
        "status",
        "failure_reason",
        "owner",
        "industry",
        "product",
        "role",
        "created_at",
        "ready_at",
        "expires_at",
        "extensions",
        "provisioning_ms",
    ]
    fields = ["name", *readonly_fields]
    inlines = [DomainInline, AuditInline]
    actions = [extend_day, extend_week, reset, destroy]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Sandbox]:
        # The portal's own row and the scenario templates are machinery, not sandboxes to manage.
        return super().get_queryset(request).filter(kind=Sandbox.Kind.DEMO)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # sandboxes are created by the provisioning service, never by hand

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # "destroy" keeps the row and its audit trail; deleting would lose them

    @admin.display(description="time left")
    def time_left(self, sandbox: Sandbox) -> str:
        if sandbox.status != Sandbox.Status.READY or sandbox.expires_at is None:
            return "—"
        seconds = max(0, int((sandbox.expires_at - timezone.now()).total_seconds()))
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
