"""The sales admin for sandboxes: every action goes through the lifecycle services and is audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django import forms
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
from django_tenants.utils import schema_context

from demoportal.exceptions import DomainError
from demoportal.models import User
from demoportal.webforms import BaseForm, bound_data
from sandboxes.access import access_url
from sandboxes.models import Domain, Sandbox, SandboxAuditEntry
from sandboxes.selectors import schema_bytes_sql
from sandboxes.services import audit, pool_status, sandbox_destroy, sandbox_extend, sandbox_reset
from sandboxes.usage import storage_warning
from simulation.engine.assets import ASSET_TYPES
from simulation.models import ANOMALY_TYPES, TriggeredEvent
from simulation.selectors import asset_list, facility_get
from simulation.services import (
    MAX_OVERLAY_MINUTES,
    MAX_TIME_SCALE,
    TRIGGERED_MESSAGE_MAX,
    anomaly_inject,
    clock_set,
    event_trigger,
)


class PlantChangeForm(BaseForm):
    """A form of a change sales make in a running plant; it gets the plant's assets (id, tag, type)."""

    def __init__(self, *args: Any, assets: list[tuple[int, str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)


class AnomalyForm(PlantChangeForm):
    """What sales inject into a prospect's live plant; each asset lists the anomalies its type can have."""

    asset = forms.ChoiceField()
    type = forms.ChoiceField(choices=ANOMALY_TYPES)
    duration_minutes = forms.IntegerField(min_value=1, max_value=MAX_OVERLAY_MINUTES, initial=60)
    magnitude = forms.FloatField(min_value=0.1, max_value=3, initial=1.0, help_text="1 is the scenario's typical size.")

    def __init__(self, *args: Any, assets: list[tuple[int, str, str]], **kwargs: Any) -> None:
        super().__init__(*args, assets=assets, **kwargs)
        cast(forms.ChoiceField, self.fields["asset"]).choices = [
            (pk, f"{tag} ({', '.join(ASSET_TYPES[kind].anomalies) or 'no anomalies'})") for pk, tag, kind in assets
        ]


class TriggerEventForm(PlantChangeForm):
    """An event sales raise by hand in a prospect's plant during a call, e.g. "Flame failure on B-201"."""

    asset = forms.ChoiceField()
    kind = forms.ChoiceField(choices=TriggeredEvent.KIND_CHOICES, initial="alarm")
    message = forms.CharField(
        max_length=TRIGGERED_MESSAGE_MAX, help_text="What the prospect reads in the plant's events list."
    )

    def __init__(self, *args: Any, assets: list[tuple[int, str, str]], **kwargs: Any) -> None:
        super().__init__(*args, assets=assets, **kwargs)
        cast(forms.ChoiceField, self.fields["asset"]).choices = [
            (pk, f"{tag} ({ASSET_TYPES[kind].name if kind in ASSET_TYPES else kind})") for pk, tag, kind in assets
        ]


class ClockForm(PlantChangeForm):
    """How fast the prospect's plant runs: 1 is real time."""

    time_scale = forms.IntegerField(
        min_value=1, max_value=MAX_TIME_SCALE, initial=60, help_text="Plant minutes per real minute, 1 to 3600."
    )


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
    actions = [extend_day, extend_week, reset, destroy]

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
        return False  # "destroy" keeps the row and its audit trail; deleting would lose them

    def get_urls(self) -> list[URLPattern]:
        opened = self.admin_site.admin_view(self.open_view)
        watched = self.admin_site.admin_view(self.watch_view)
        anomaly = self.admin_site.admin_view(self.anomaly_view)
        triggered = self.admin_site.admin_view(self.trigger_event_view)
        clock = self.admin_site.admin_view(self.clock_view)
        return [
            path("<int:object_id>/open/", opened, name="sandboxes_sandbox_open"),
            path("<int:object_id>/watch/", watched, name="sandboxes_sandbox_watch"),
            path("<int:object_id>/anomaly/", anomaly, name="sandboxes_sandbox_anomaly"),
            path("<int:object_id>/trigger-event/", triggered, name="sandboxes_sandbox_trigger_event"),
            path("<int:object_id>/clock/", clock, name="sandboxes_sandbox_clock"),
            *super().get_urls(),
        ]

    def plant_change_view(
        self,
        request: HttpRequest,
        object_id: int,
        *,
        form_class: type[PlantChangeForm],
        title: str,
        intro: str,
        submit: str,
        change: Callable[[Sandbox, dict[str, Any], User], tuple[str, dict[str, Any], str]],
    ) -> HttpResponse:
        """A change sales make in a prospect's running plant, e.g. during a call, so both see it happen:
        the form, the service (``change``, inside the sandbox's schema: returns the audit action, its
        detail and the message for sales), the audit entry. A service's field errors show on the form."""
        sandbox = self.get_object(request, str(object_id))
        if sandbox is None or sandbox.status != Sandbox.Status.READY:
            raise Http404("No running sandbox with this id.")
        if not self.has_change_permission(request, sandbox):
            raise PermissionDenied
        assert isinstance(request.user, User)
        with schema_context(sandbox.schema_name):
            assets = list(asset_list().values_list("pk", "tag", "type"))
        form = form_class(bound_data(request), assets=assets)
        if request.method == "POST" and form.is_valid():
            try:
                with schema_context(sandbox.schema_name):
                    action, detail, message = change(sandbox, form.cleaned_data, request.user)
            except DomainError as error:
                for field, problems in error.errors.items():
                    form.add_error("asset" if field == "asset_id" else field, problems)
            else:
                audit(sandbox=sandbox, action=action, before=sandbox.status, actor=request.user, **detail)
                self.message_user(request, message, messages.SUCCESS)
                return redirect("admin:sandboxes_sandbox_change", sandbox.pk)
        context = {
            **self.admin_site.each_context(request),
            "sandbox": sandbox,
            "form": form,
            "title": title,
            "intro": intro,
            "submit": submit,
        }
        return TemplateResponse(
            request, "admin/sandboxes/plant_change.html", context, status=400 if form.errors else 200
        )

    def anomaly_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Inject an anomaly into the prospect's live plant: both see it happen."""

        def inject(sandbox: Sandbox, data: dict[str, Any], user: User) -> tuple[str, dict[str, Any], str]:
            anomaly = anomaly_inject(
                sandbox=sandbox,
                asset_id=int(data["asset"]),
                type=data["type"],
                duration_minutes=data["duration_minutes"],
                magnitude=data["magnitude"],
                created_by=user.email,
            )
            detail = {"type": anomaly.type, "asset_id": anomaly.asset_id, "minutes": data["duration_minutes"]}
            name = anomaly.type.replace("_", " ")
            return "anomaly_injected", detail, f"{name} injected into {sandbox.slug} until {anomaly.ends_at:%H:%M} UTC."

        return self.plant_change_view(
            request,
            object_id,
            form_class=AnomalyForm,
            title="Inject an anomaly",
            intro="The anomaly starts now in the live plant: whoever watches the sandbox sees it as it happens, "
            "and its history keeps it afterwards.",
            submit="Inject",
            change=inject,
        )

    def trigger_event_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Raise an event in the prospect's plant now: it shows in the sandbox's events (home and the asset's
        page) beside the ones the engine derives, and in its next live tick."""

        def trigger(sandbox: Sandbox, data: dict[str, Any], user: User) -> tuple[str, dict[str, Any], str]:
            event = event_trigger(
                sandbox=sandbox, asset_id=int(data["asset"]), kind=data["kind"], message=data["message"], by=user
            )
            detail = {"kind": event.kind, "asset_id": event.asset_id, "message": event.message}
            return (
                "event_triggered",
                detail,
                f"{event.get_kind_display()} raised on {event.asset.tag} in {sandbox.slug}.",
            )

        return self.plant_change_view(
            request,
            object_id,
            form_class=TriggerEventForm,
            title="Trigger an event",
            intro="The event happens now: it shows in the sandbox's events list and on the asset's page, and an "
            "alarm can be acknowledged there like any other.",
            submit="Trigger",
            change=trigger,
        )

    def clock_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Run the prospect's plant faster (1× to 3600×) to show a trend during a call, and back to 1×."""

        def set_clock(sandbox: Sandbox, data: dict[str, Any], user: User) -> tuple[str, dict[str, Any], str]:
            facility = facility_get()
            if facility is None:
                raise DomainError("This sandbox has no plant.", errors={"time_scale": ["This sandbox has no plant."]})
            facility = clock_set(sandbox=sandbox, facility=facility, time_scale=data["time_scale"], by=user)
            message = f"{sandbox.slug}'s plant now runs at {facility.time_scale}×."
            return "clock_set", {"time_scale": facility.time_scale}, message

        return self.plant_change_view(
            request,
            object_id,
            form_class=ClockForm,
            title="Run the plant's clock faster",
            intro="From now on the plant's time runs this many times faster than yours (1 is real time), so a "
            "trend that takes hours shows in minutes. Set it back to 1 when you are done.",
            submit="Set the clock",
            change=set_clock,
        )

    def watch_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Watch the prospect's sandbox live, read-only (``sandbox_is_watched_by``): a one-time link into its
        host as the signed-in salesperson, audited."""
        sandbox = self.get_object(request, str(object_id))
        if sandbox is None:
            raise Http404("No such sandbox.")
        if not self.has_change_permission(request, sandbox):
            raise PermissionDenied
        assert isinstance(request.user, User)
        if sandbox.status != Sandbox.Status.READY or sandbox.owner_id is None:
            why = f"it is {sandbox.status}" if sandbox.status != Sandbox.Status.READY else "nobody owns it"
            message = f"Nothing to watch in {sandbox.slug}: {why}."
            self.message_user(request, message, messages.WARNING)
            return redirect("admin:sandboxes_sandbox_change", sandbox.pk)
        audit(sandbox=sandbox, action="watched_by_staff", before=sandbox.status, actor=request.user)
        return redirect(access_url(sandbox=sandbox, request=request, staff=request.user))

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        return super().changelist_view(request, {**(extra_context or {}), "pool": pool_status()})

    def open_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Open the sandbox as the signed-in salesperson: a one-time link into its host, audited."""
        sandbox = self.get_object(request, str(object_id))
        if sandbox is None:
            raise Http404("No such sandbox.")
        if not self.has_change_permission(request, sandbox):
            raise PermissionDenied
        assert isinstance(request.user, User)
        if sandbox.status != Sandbox.Status.READY:
            message = f"{sandbox.slug} is {sandbox.status}: there is nothing to open."
            self.message_user(request, message, messages.WARNING)
            return redirect("admin:sandboxes_sandbox_change", sandbox.pk)
        audit(sandbox=sandbox, action="opened_by_staff", before=sandbox.status, actor=request.user)
        return redirect(access_url(sandbox=sandbox, request=request, staff=request.user))

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
        anomaly = reverse("admin:sandboxes_sandbox_anomaly", args=[sandbox.pk])
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">Open as staff</a> · <a href="{}">Inject anomaly</a>',
            url,
            anomaly,
        )
