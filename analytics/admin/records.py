"""Analytics in the admin, read-only: marketing reads events and archived sandboxes; nobody edits them
(a superuser may, to repair a record by hand)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from analytics.models import ArchivedSandbox, Event


class ReadOnlyForStaff:
    """Change and delete for superusers only; the view permission (Marketing's) shows everything. Nobody
    adds: the system records these, and with every field read-only an added record could only be empty."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)


@admin.register(Event)
class EventAdmin(ReadOnlyForStaff, admin.ModelAdmin[Event]):
    list_display = ["occurred_at", "event", "user_email", "company", "sandbox", "partner", "source"]
    list_filter = ["name", "partner", "source"]
    date_hierarchy = "occurred_at"
    search_fields = ["user__email", "user__company", "sandbox__customer_company"]
    list_select_related = ["user", "sandbox", "partner"]
    fields = readonly_fields = (
        "name",
        "user",
        "sandbox",
        "partner",
        "properties",
        "occurred_at",
        "received_at",
        "source",
        "idempotency_key",
    )
    show_full_result_count = False  # no COUNT(*) over the whole table on every page

    @admin.display(description="event", ordering="name")
    def event(self, event: Event) -> str:
        return event.name

    @admin.display(description="e-mail", ordering="user__email")
    def user_email(self, event: Event) -> str:
        return event.user.email if event.user is not None else "—"

    @admin.display(description="company", ordering="user__company")
    def company(self, event: Event) -> str:
        return event.user.company if event.user is not None else ""


@admin.register(ArchivedSandbox)
class ArchivedSandboxAdmin(ReadOnlyForStaff, admin.ModelAdmin[ArchivedSandbox]):
    list_display = (
        "industry",
        "product",
        "role",
        "created_at",
        "ended_at",
        "end_status",
        "extensions",
        "resets",
        "requests",
        "provisioning_ms",
    )
    list_filter = ["industry", "product", "role", "end_status"]
    date_hierarchy = "ended_at"
    fields = readonly_fields = (*list_display, "archived_at")
