"""The sync log in the admin (``/admin/crm/crmsync/``): every delivery of a lead to a CRM, its state, attempts,
error and the record in the CRM; per CRM the backlog and API usage at a glance; "Retry now" for failed and dead
rows, "Resync this lead" on a lead's log. Sales act; Marketing read (demoportal/core/staff_groups.py)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.views.decorators.http import require_POST

from analytics.admin.display import WIDE_PAGE
from analytics.models import Lead
from crm.models import Crm, CrmSync
from crm.sync.clients import client_for
from crm.sync.outbox import backlog, lead_resync, sync_retry
from demoportal.core.exceptions import DomainError
from demoportal.core.models import User

State = CrmSync.State
STATE_TONES = {
    State.PENDING: "waiting",
    State.DELIVERING: "waiting",
    State.DELIVERED: "ok",
    State.FAILED: "warn",
    State.DEAD: "bad",
    State.SUPERSEDED: "quiet",
}


@admin.register(CrmSync)
class CrmSyncAdmin(admin.ModelAdmin[CrmSync]):
    list_display = ["when", "lead_shown", "state_shown", "triggers_shown", "error_shown", "record_shown"]
    list_filter = ["crm", "state", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["lead__user__email", "lead__user__company", "record_id"]
    list_select_related = ["lead__user"]
    list_per_page = 50
    show_full_result_count = False
    actions = ["retry_now"]
    readonly_fields = [
        "lead",
        "crm",
        "state",
        "triggers",
        "created_at",
        "due_at",
        "claimed_until",
        "attempts",
        "last_attempt_at",
        "last_error",
        "delivered_at",
        "duration_ms",
        "record_id",
        "record_url",
        "note",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a trigger or a person's resync writes a row, never the form

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the log is kept; the lead's erasure removes its rows

    def get_urls(self) -> list[URLPattern]:
        resync = self.admin_site.admin_view(require_POST(self.resync_view))
        return [path("lead/<int:lead_id>/resync/", resync, name="crm_crmsync_resync"), *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        lead = None
        lead_id = request.GET.get("lead__id__exact", "")
        if lead_id.isdigit():
            lead = Lead.objects.select_related("user").filter(pk=int(lead_id)).first()
        report = backlog()
        context = {
            "crm_backlog": [
                {"crm": crm, "name": Crm(crm).label, **row, "usage_pct": usage_pct(row)} for crm, row in report.items()
            ],
            "log_lead": lead,
            "can_resync": self.has_change_permission(request),
            "title": f"CRM sync log of {lead.user.display_name}" if lead else "CRM sync log",
            **WIDE_PAGE,
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    def resync_view(self, request: HttpRequest, lead_id: int) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        lead = get_object_or_404(Lead.objects.select_related("user"), pk=lead_id)
        assert isinstance(request.user, User)
        lead_resync(lead=lead, actor=request.user)
        configured = [Crm(crm).label for crm in Crm.values if client_for(crm) is not None]
        if configured:
            told = f"{lead.user.display_name} will be synced to {' and '.join(configured)} within seconds."
        else:
            told = f"{lead.user.display_name} will be synced once a CRM is configured: until then the syncs wait."
        self.message_user(request, told, messages.SUCCESS)
        return HttpResponseRedirect(f"{reverse('admin:crm_crmsync_changelist')}?lead__id__exact={lead.pk}")

    @admin.action(description="Retry now", permissions=["change"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[CrmSync]) -> None:
        assert isinstance(request.user, User)
        retried, refused = 0, []
        for sync in queryset:
            try:
                sync_retry(sync=sync, actor=request.user)
                retried += 1
            except DomainError as error:
                refused.append(f"#{sync.pk}: {error.detail}")
        if retried:
            self.message_user(request, f"{retried} sync(s) will be delivered again within seconds.", messages.SUCCESS)
        for message in refused:
            self.message_user(request, message, messages.WARNING)

    # THE LIST

    @admin.display(description="triggered", ordering="created_at")
    def when(self, sync: CrmSync) -> str:
        return f"{timezone.localtime(sync.created_at):%-d %b %H:%M:%S}"

    @admin.display(description="lead", ordering="lead__user__email")
    def lead_shown(self, sync: CrmSync) -> SafeString:
        user = sync.lead.user
        log = f"{reverse('admin:crm_crmsync_changelist')}?lead__id__exact={sync.lead_id}"
        local, _, domain = user.email.rpartition("@")
        # A long address breaks after the @ when the column is narrow.
        return format_html(
            '<a href="{}">{}@<wbr>{}</a><span class="lead-sub">{}</span>', log, local, domain, user.company
        )

    @admin.display(description="CRM · state", ordering="state")
    def state_shown(self, sync: CrmSync) -> SafeString:
        label = sync.get_state_display()
        tone = STATE_TONES[State(sync.state)]
        if sync.state == State.PENDING and client_for(sync.crm) is None:
            label, tone = "Waiting for configuration", "quiet"
        return format_html(
            '<strong>{}</strong><br><span class="sync-state sync-state-{}">{}</span>',
            sync.get_crm_display(),
            tone,
            label,
        )

    @admin.display(description="triggers")
    def triggers_shown(self, sync: CrmSync) -> str:
        return ", ".join(name.replace("_", " ") for name in sync.trigger_names)

    @admin.display(description="attempts · last error", ordering="attempts")
    def error_shown(self, sync: CrmSync) -> SafeString:
        error = sync.last_error[:140] + ("…" if len(sync.last_error) > 140 else "")
        return format_html('{}<span class="sync-error">{}</span>', sync.attempts, f" · {error}" if error else "")

    @admin.display(description="in the CRM")
    def record_shown(self, sync: CrmSync) -> SafeString | str:
        if not sync.record_id:
            return "—"
        if not sync.record_url:
            return sync.record_id
        return format_html(
            '<a href="{}" target="_blank" rel="noopener" title="{} {}">Open ↗</a>',
            sync.record_url,
            sync.get_crm_display(),
            sync.record_id,
        )


def usage_pct(row: dict[str, Any]) -> int | None:
    if not row.get("api_limit"):
        return None
    return round(100 * int(row["api_used"] or 0) / int(row["api_limit"]))
