"""The plant's live controls in the sales admin: the sandbox admin (``sandboxes.admin``) plus inject an
anomaly, trigger an event and run the clock faster, each a change both sales and the prospect see happen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django_tenants.utils import schema_context

from analytics.selectors.leads import leads_scored
from demoportal.core.exceptions import DomainError
from demoportal.core.models import User
from demoportal.core.webforms import BaseForm, bound_data, domain_error_show
from sandboxes import admin as sandboxes_admin
from sandboxes.models import Sandbox
from simulation.engine.assets import ASSET_TYPES
from simulation.models import ANOMALY_TYPES, RaisedAlarm
from simulation.selectors.plant import asset_list, plant_get
from simulation.selectors.staff import name_of_asset, plant_state
from simulation.services import (
    ALARM_MESSAGE_MAX,
    MAX_OVERLAY_MINUTES,
    MAX_TIME_SCALE,
    alarm_raise,
    anomaly_inject,
    clock_set,
)

Assets = list[tuple[int, str, str, str]]  # the plant's assets: (id, tag, type, name)


class PlantChangeForm(BaseForm):
    """A form of a change sales make in a running plant; it gets the plant's assets (``Assets``)."""

    # Where a service's field errors go on the form: its ``asset_id`` is the form's ``asset``.
    service_fields: ClassVar[dict[str, str]] = {"asset_id": "asset"}

    def __init__(self, *args: Any, assets: Assets, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)


def anomaly_choices(assets: Assets) -> list[tuple[str, list[tuple[str, str]]]]:
    """The anomalies each asset can take (the engine's rule, ``AssetType.overlay_refusal``), grouped by asset:
    ``("Process heater H-101", [("65:excess_air", "H-101 — excess air"), ...])``, the asset's type added when
    its name does not say it ("Hot-oil heater H-201 (process heater)"). An asset whose type takes none is left out."""
    groups = []
    for pk, tag, kind, name in assets:
        asset_type = ASSET_TYPES.get(kind)
        if asset_type is None:
            continue
        options = [
            (f"{pk}:{anomaly}", f"{tag} — {label}")
            for anomaly, label in ANOMALY_TYPES
            if asset_type.overlay_refusal(anomaly) is None
        ]
        if options:
            kind_name = asset_type.name.lower()
            label = name_of_asset(tag, name)
            groups.append((label if kind_name in label.lower() else f"{label} ({kind_name})", options))
    return groups


class AnomalyForm(PlantChangeForm):
    """What sales inject into a prospect's live plant: the asset and the anomaly in one choice, grouped by
    asset, so that only anomalies the asset can have are offered. The service checks the pair again."""

    anomaly = forms.ChoiceField(label="Asset and anomaly", help_text="Only the anomalies each asset can have.")
    duration_minutes = forms.IntegerField(min_value=1, max_value=MAX_OVERLAY_MINUTES, initial=60)
    magnitude = forms.FloatField(min_value=0.1, max_value=3, initial=1.0, help_text="1 is the scenario's typical size.")

    service_fields: ClassVar[dict[str, str]] = {"asset_id": "anomaly", "type": "anomaly"}

    def __init__(self, *args: Any, assets: Assets, **kwargs: Any) -> None:
        super().__init__(*args, assets=assets, **kwargs)
        cast(forms.ChoiceField, self.fields["anomaly"]).choices = anomaly_choices(assets)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "anomaly" in cleaned:  # one of the offered "<asset id>:<type>", so both parts are there
            asset, _, anomaly_type = cleaned["anomaly"].partition(":")
            cleaned["asset"], cleaned["type"] = int(asset), anomaly_type
        return cleaned


class RaiseAlarmForm(PlantChangeForm):
    """An alarm sales raise by hand in a prospect's plant during a call, e.g. "Flame failure on B-201"."""

    asset = forms.ChoiceField()
    kind = forms.ChoiceField(choices=RaisedAlarm.KIND_CHOICES, initial="alarm")
    message = forms.CharField(max_length=ALARM_MESSAGE_MAX, help_text="What the prospect reads in the plant's alarms.")

    def __init__(self, *args: Any, assets: Assets, **kwargs: Any) -> None:
        super().__init__(*args, assets=assets, **kwargs)
        cast(forms.ChoiceField, self.fields["asset"]).choices = [
            (pk, f"{tag} ({ASSET_TYPES[kind].name if kind in ASSET_TYPES else kind})") for pk, tag, kind, _ in assets
        ]


class ClockForm(PlantChangeForm):
    """How fast the prospect's plant runs: 1 is real time."""

    time_scale = forms.IntegerField(
        min_value=1, max_value=MAX_TIME_SCALE, initial=60, help_text="Plant minutes per real minute, 1 to 3600."
    )


class AuditInline(sandboxes_admin.AuditInline):
    """The audit trail, with the assets named by their tags (they live in the sandbox's schema)."""

    def get_formset(self, request: HttpRequest, obj: Sandbox | None = None, **kwargs: Any) -> Any:
        self.asset_tags: dict[int, str] | None = None  # read from the sandbox's schema at the first asset named
        return super().get_formset(request, obj, **kwargs)

    def detail_value(self, key: str, value: object) -> str:
        if key != "asset_id":
            return super().detail_value(key, value)
        if self.asset_tags is None:
            self.asset_tags = {}
            if self.sandbox is not None and self.sandbox.status == Sandbox.Status.READY:
                with schema_context(self.sandbox.schema_name):
                    self.asset_tags = dict(asset_list().values_list("pk", "tag"))
        return self.asset_tags.get(value, f"#{value}") if isinstance(value, int) else str(value)


class SandboxAdmin(sandboxes_admin.SandboxAdmin):
    """The sandbox admin, with the plant's live controls on each running sandbox, and on its page its owner's
    lead (score and stage), the plant's clock and the anomalies active in it."""

    inlines = [sandboxes_admin.DomainInline, AuditInline]

    def get_urls(self) -> list[URLPattern]:
        anomaly = self.admin_site.admin_view(self.anomaly_view)
        triggered = self.admin_site.admin_view(self.raise_alarm_view)
        clock = self.admin_site.admin_view(self.clock_view)
        return [
            path("<int:object_id>/anomaly/", anomaly, name="sandboxes_sandbox_anomaly"),
            path("<int:object_id>/raise-alarm/", triggered, name="sandboxes_sandbox_raise_alarm"),
            path("<int:object_id>/clock/", clock, name="sandboxes_sandbox_clock"),
            *super().get_urls(),
        ]

    def row_links(self, sandbox: Sandbox) -> list[str]:
        links = super().row_links(sandbox)
        if links:  # a running sandbox
            anomaly = reverse("admin:sandboxes_sandbox_anomaly", args=[sandbox.pk])
            links.append(format_html('<a href="{}">Inject anomaly</a>', anomaly))
        return links

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Sandbox | None = None,
    ) -> HttpResponse:
        """The change page, with the running plant's clock and active anomalies (``plant_state``) above the
        fields: what sales check before and during a call."""
        if obj is not None and obj.status == Sandbox.Status.READY:
            with schema_context(obj.schema_name):
                context["plant_state"] = plant_state()
        if obj is not None and obj.owner_id is not None:
            context["lead"] = leads_scored().filter(user_id=obj.owner_id).first()  # its owner's score and stage
        return super().render_change_form(request, context, add, change, form_url, obj)

    def plant_change_view(
        self,
        request: HttpRequest,
        object_id: int,
        *,
        form_class: type[PlantChangeForm],
        title: str,
        intro: str,
        submit: str,
        change: Callable[[Sandbox, dict[str, Any], User], str],
    ) -> HttpResponse:
        """A change sales make in a prospect's running plant, e.g. during a call, so both see it happen:
        the form, then the service (``change``, inside the sandbox's schema: it writes the audit entry, as
        it does for the API, and returns the message for sales). A service's field errors show on the form."""
        sandbox = self.get_object(request, str(object_id))
        if sandbox is None or sandbox.status != Sandbox.Status.READY:
            raise Http404("No running sandbox with this id.")
        if not self.has_change_permission(request, sandbox):
            raise PermissionDenied
        assert isinstance(request.user, User)
        with schema_context(sandbox.schema_name):
            assets = list(asset_list().values_list("pk", "tag", "type", "name"))
        form = form_class(bound_data(request), assets=assets)
        if request.method == "POST" and form.is_valid():
            try:
                with schema_context(sandbox.schema_name):
                    message = change(sandbox, form.cleaned_data, request.user)
            except DomainError as error:
                domain_error_show(form, error, fields=form.service_fields)
            else:
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

        def inject(sandbox: Sandbox, data: dict[str, Any], user: User) -> str:
            anomaly = anomaly_inject(
                sandbox=sandbox,
                asset_id=int(data["asset"]),
                type=data["type"],
                duration_minutes=data["duration_minutes"],
                magnitude=data["magnitude"],
                actor=user,
            )
            name = anomaly.type.replace("_", " ")
            return f"{name} injected into {sandbox.slug} until {anomaly.ends_at:%H:%M} UTC."

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

    def raise_alarm_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Raise an alarm in the prospect's plant now: it shows in the sandbox's alarms (home and the asset's
        page) beside the ones the engine derives, and in its next live tick."""

        def raise_alarm(sandbox: Sandbox, data: dict[str, Any], user: User) -> str:
            alarm = alarm_raise(
                sandbox=sandbox, asset_id=int(data["asset"]), kind=data["kind"], message=data["message"], actor=user
            )
            return f"{alarm.get_kind_display()} raised on {alarm.asset.tag} in {sandbox.slug}."

        return self.plant_change_view(
            request,
            object_id,
            form_class=RaiseAlarmForm,
            title="Raise an alarm",
            intro="The alarm happens now: it shows in the sandbox's alarms and on the asset's page, and can be "
            "acknowledged there like any other.",
            submit="Raise",
            change=raise_alarm,
        )

    def clock_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Run the prospect's plant faster (1× to 3600×) to show a trend during a call, and back to 1×."""

        def set_clock(sandbox: Sandbox, data: dict[str, Any], user: User) -> str:
            plant = plant_get()
            if plant is None:
                raise DomainError("This sandbox has no plant.", errors={"time_scale": ["This sandbox has no plant."]})
            plant = clock_set(sandbox=sandbox, plant=plant, time_scale=data["time_scale"], actor=user)
            return f"{sandbox.slug}'s plant now runs at {plant.time_scale}×."

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


admin.site.unregister(Sandbox)
admin.site.register(Sandbox, SandboxAdmin)
