"""An asset's page on a sandbox's host (/assets/<tag>/): its live values, trends and alarms, the O2 trim
and the savings calculator. Same access as the sandbox home (``sandbox_member_required``); staff
watching a prospect's sandbox see it read-only."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from demoportal import catalogue
from demoportal.exceptions import DomainError
from demoportal.models import User
from sandboxes.models import Sandbox
from sandboxes.views import EVENT_KIND_LABELS, figure, sandbox_member_required
from simulation.engine.assets import ASSET_TYPES
from simulation.engine.signals import HISTORY_MINUTES
from simulation.forms import DEFAULT_OPERATING_HOURS, O2TrimForm, SavingsForm
from simulation.models import Asset, Facility
from simulation.selectors import (
    asset_event_rows,
    asset_firing_rate_mmbtu_per_h,
    asset_get,
    asset_o2_setpoint,
    facility_get,
    facility_overlays,
    facility_sim_now,
    from_minute,
    sensor_rows,
    sensor_values_window,
    to_minute,
)
from simulation.services import SavingsEstimate, optimization_apply, overlay_errors, savings_calculate

ASSET_EVENTS_DAYS = 7
# The trends an asset's page opens with, where the asset has them; else its first sensor.
TREND_DEFAULT_KINDS = ("efficiency", "o2", "stack_temp")
TARGET_EFFICIENCY_GAIN_PCT = 2.0  # the calculator's suggested target: two points better than now (editable)


def bound(value: float) -> str:
    """A normal-range limit as an engineer writes it: 1.5, 420, 1,450; no trailing zeros."""
    return f"{value:,.4g}"


def plant_asset(tag: str) -> tuple[Facility, Asset]:
    """This sandbox's facility and its asset ``tag``; 404 for either missing."""
    facility = facility_get()
    if facility is None:
        raise Http404("This sandbox has no plant.")
    asset = asset_get(tag=tag)
    if asset is None:
        raise Http404("No asset with this tag in this plant.")
    return facility, asset


def asset_page(
    request: HttpRequest,
    facility: Facility,
    asset: Asset,
    *,
    o2_form: O2TrimForm | None = None,
    savings_form: SavingsForm | None = None,
    savings: SavingsEstimate | None = None,
    status: int = 200,
) -> HttpResponse:
    """The asset's page; a form that failed (or the savings just calculated) is shown in place."""
    sandbox: Sandbox = request.tenant  # type: ignore[attr-defined]
    scenario = catalogue.scenarios()[facility.scenario]
    sensors = sensor_rows(asset_id=asset.pk)
    overlays = facility_overlays(facility)  # read once for the values, the fuel input and the events
    now_minute = to_minute(facility_sim_now(facility))
    now_values: list[float] = (
        sensor_values_window(facility, sensors, start=now_minute, end=now_minute + 1, overlays=overlays)[:, 0].tolist()
        if sensors
        else []
    )
    for sensor, value in zip(sensors, now_values, strict=True):
        low, high = sensor["normal_range"]["low"], sensor["normal_range"]["high"]
        sensor["value"] = value
        sensor["display"] = figure(value)
        sensor["range_display"] = f"{bound(low)} to {bound(high)}"
        sensor["out_of_range"] = not low <= value <= high
    by_kind = {sensor["kind"]: sensor for sensor in sensors}
    by_id = {str(sensor["id"]): sensor for sensor in sensors}
    requested = [by_id[i] for i in request.GET.getlist("trend") if i in by_id]
    trend = requested or [by_kind[kind] for kind in TREND_DEFAULT_KINDS if kind in by_kind] or sensors[:1]
    trend_ids = {sensor["id"] for sensor in trend}
    for sensor in sensors:
        sensor["trended"] = sensor["id"] in trend_ids

    o2_sensor = next((sensor for sensor in sensors if sensor["kind"] == "o2"), None)
    o2 = None
    if o2_sensor is not None and not overlay_errors(asset=asset, kind="o2_setpoint"):
        setpoint = asset_o2_setpoint(asset=asset, o2_sensor_id=o2_sensor["id"])
        o2 = {"sensor": o2_sensor, "setpoint": setpoint, "form": o2_form or O2TrimForm()}

    efficiency = by_kind.get("efficiency")
    firing_rate = (
        asset_firing_rate_mmbtu_per_h(facility, asset=asset, sensors=sensors, overlays=overlays)
        if efficiency is not None
        else None
    )
    calculator = None
    if efficiency is not None and firing_rate is not None:
        current = round(efficiency["value"], 1)
        initial = {
            "fuel_price_usd_per_mmbtu": scenario.fuel_price_usd_per_mmbtu,
            "operating_hours_per_year": DEFAULT_OPERATING_HOURS,
            "efficiency_current_pct": current,
            "efficiency_target_pct": round(min(current + TARGET_EFFICIENCY_GAIN_PCT, 95.0), 1),
        }
        calculator = {
            "form": savings_form or SavingsForm(initial=initial),
            # An empty form's current efficiency follows the live value; the prospect's own input stays.
            "live_prefill": efficiency["id"] if savings_form is None else None,
            "efficiency_sensor": efficiency,
            "firing_rate": firing_rate,
            "fuel": scenario.fuel.replace("_", " "),
            "result": savings
            and {
                "usd": f"{savings.saving_usd_per_year:,.0f}",
                "pct": f"{savings.fuel_saving_fraction * 100:.1f}",
                "co2": f"{savings.co2_avoided_t_per_year:,.0f}",
                "fuel_mmbtu": f"{savings.fuel_mmbtu_per_year:,.0f}",
                "estimate": savings,
            },
        }

    events = asset_event_rows(
        facility,
        asset_tag=asset.tag,
        since_minute=now_minute - ASSET_EVENTS_DAYS * 1440,
        end_minute=now_minute + 1,
        overlays=overlays,
    )
    asset_type = ASSET_TYPES.get(asset.type)
    context = {
        "sandbox": sandbox,
        "facility": facility,
        "asset": asset,
        "asset_type_name": asset_type.name if asset_type is not None else asset.type,
        "sensors": sensors,
        "trend": trend,
        "history_start": from_minute(facility.base_minute - HISTORY_MINUTES),
        "events": [{**event, "kind_label": EVENT_KIND_LABELS.get(event["kind"], event["kind"])} for event in events],
        "o2": o2,
        "calculator": calculator,
        "read_only": getattr(request, "sandbox_read_only", False),
    }
    return render(request, "sandbox/asset.html", context, status=status)


@sandbox_member_required
def asset_detail(request: HttpRequest, tag: str) -> HttpResponse:
    facility, asset = plant_asset(tag)
    return asset_page(request, facility, asset)


@require_POST
@sandbox_member_required
def asset_o2_trim(request: HttpRequest, tag: str) -> HttpResponse:
    """Apply a new flue-gas O2 setpoint to the asset from now on (``optimization_apply``), then back to
    its page; a value out of bounds shows the form again with the error, nothing applied."""
    sandbox: Sandbox = request.tenant  # type: ignore[attr-defined]
    facility, asset = plant_asset(tag)
    user = request.user
    assert isinstance(user, User)
    form = O2TrimForm(request.POST)
    if form.is_valid():
        setpoint = form.cleaned_data["o2_setpoint_pct"]
        try:
            optimization_apply(
                sandbox=sandbox, asset_id=asset.pk, kind="o2_setpoint", parameters={"o2_pct": setpoint}, by=user
            )
        except DomainError as error:
            form.add_error(None, error.detail)
            for field, problems in error.errors.items():
                if field == "asset_id":  # an asset that takes no trim shows no form: say it above the page
                    for problem in problems:
                        messages.error(request, problem)
                else:
                    form.add_error("o2_setpoint_pct", problems)
        else:
            messages.success(
                request, f"{asset.tag} now trims to {setpoint:g} % O2: watch O2 and efficiency follow in the trend."
            )
            return redirect(f"{reverse('sandbox:asset', args=[asset.tag])}#o2-trim")
    return asset_page(request, facility, asset, o2_form=form, status=400)


@require_POST
@sandbox_member_required
def asset_savings(request: HttpRequest, tag: str) -> HttpResponse:
    """Price a better combustion efficiency on the asset (``savings_calculate``) and show the result on its
    page; bad input shows the form again with an error per field."""
    sandbox: Sandbox = request.tenant  # type: ignore[attr-defined]
    facility, asset = plant_asset(tag)
    if not asset.sensors.filter(kind="efficiency").exists():
        raise Http404("This asset has no combustion efficiency to calculate savings from.")
    user = request.user
    assert isinstance(user, User)
    form = SavingsForm(request.POST)
    if form.is_valid():
        try:
            estimate = savings_calculate(sandbox=sandbox, facility=facility, asset=asset, by=user, **form.cleaned_data)
        except DomainError as error:
            for field, problems in error.errors.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            return asset_page(request, facility, asset, savings_form=form, savings=estimate)
    return asset_page(request, facility, asset, savings_form=form, status=400)
