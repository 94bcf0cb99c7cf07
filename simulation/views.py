"""The plant's pages on a sandbox's host: the sandbox home (/: the plant, its KPIs, a history chart, recent
alarms and the stories), acknowledging an alarm, and an asset's page (/assets/<tag>/: its live values,
trends and alarms, the O2 trim and the savings calculator). For the sandbox's members
(``sandbox_member_required``); staff watching a prospect's sandbox see them read-only."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from demoportal.core import catalogue
from demoportal.core.exceptions import DomainError
from demoportal.core.models import User
from demoportal.core.webforms import next_path
from sandboxes.access import host_sandbox, portal_url, sandbox_member_required
from simulation.engine.assets import ASSET_TYPES
from simulation.engine.signals import HISTORY_MINUTES
from simulation.forms import DEFAULT_OPERATING_HOURS, O2TrimForm, SavingsForm
from simulation.models import Acknowledgement, Asset, Facility
from simulation.selectors import (
    asset_event_rows,
    asset_firing_rate_mmbtu_per_h,
    asset_get,
    asset_o2_setpoint,
    asset_rows,
    event_rows,
    facility_get,
    facility_kpis_cached,
    facility_overlays,
    facility_sim_now,
    from_minute,
    plant_now,
    sensor_rows,
    sensor_values_window,
    to_minute,
)
from simulation.services import (
    SavingsEstimate,
    event_acknowledge,
    optimization_apply,
    overlay_errors,
    savings_calculate,
)

EVENT_KIND_LABELS = {"alarm": "Alarm", "maintenance_due": "Maintenance due", "permit_exceedance": "Permit exceedance"}
RECENT_EVENTS_DAYS = 7
RECENT_EVENTS_SHOWN = 8
# The sensor a story's chart opens on: the first of these kinds its asset type has.
CHART_KIND_PREFERENCE = ("efficiency", "o2", "nox", "stack_temp", "specific_energy")


def figure(value: float) -> str:
    """A KPI as people read it: thousands separated, decimals only where they carry information."""
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return f"{value:,.{digits}f}"


def chart_sensor(sensors: list[dict[str, Any]], asset_ids: set[int]) -> dict[str, Any] | None:
    """The sensor to chart for a group of assets: the first asset's preferred kind, else its first sensor."""
    candidates = [sensor for sensor in sensors if sensor["asset_id"] in asset_ids]
    for kind in CHART_KIND_PREFERENCE:
        for sensor in candidates:
            if sensor["kind"] == kind:
                return sensor
    return candidates[0] if candidates else None


@sandbox_member_required
def sandbox_home(request: HttpRequest) -> HttpResponse:
    """Facility, assets by type, the scenario's KPIs, a history chart, recent events and the stories."""
    sandbox = host_sandbox(request)
    facility = facility_get()
    if facility is None:
        raise Http404("This sandbox has no plant.")
    scenario = catalogue.scenarios()[facility.scenario]
    assets, sensors = asset_rows(), sensor_rows()
    asset_types: dict[str, dict[str, Any]] = {}
    for asset in assets:
        name = ASSET_TYPES[asset["type"]].name if asset["type"] in ASSET_TYPES else asset["type"]
        group = asset_types.setdefault(asset["type"], {"type": asset["type"], "name": name, "assets": [], "ids": set()})
        group["assets"].append(asset)
        group["ids"].add(asset["id"])
    for group in asset_types.values():
        capacities = [asset["capacity"] for asset in group["assets"]]
        group["capacity_min"], group["capacity_max"] = min(capacities), max(capacities)
        group["capacity_unit"] = group["assets"][0]["capacity_unit"]
        group["chart_sensor"] = chart_sensor(sensors, group["ids"])
    stories = [
        {
            "story": story,
            "sensor": chart_sensor(
                sensors, asset_types.get(story.parameters.get("asset_type", ""), {}).get("ids", set())
            ),
        }
        for story in scenario.stories
    ]
    requested = request.GET.get("sensor", "")
    by_id = {str(sensor["id"]): sensor for sensor in sensors}
    first_group = next(iter(asset_types.values()), None)
    selected = by_id.get(requested) or (first_group["chart_sensor"] if first_group else None)
    now_minute = to_minute(facility_sim_now(facility))
    recent = event_rows(facility, since_minute=now_minute - RECENT_EVENTS_DAYS * 1440, end_minute=now_minute + 1)
    shown = recent[:RECENT_EVENTS_SHOWN]
    acknowledged = set(
        Acknowledgement.objects.filter(event_key__in=[e["key"] for e in shown]).values_list("event_key", flat=True)
    )
    kpis = facility_kpis_cached(facility)  # not computed yet (a sandbox just made): the page fetches them
    now = plant_now(
        facility,
        assets=assets,
        sensors=sensors,
        fuel=scenario.fuel,
        price_usd_per_mmbtu=scenario.fuel_price_usd_per_mmbtu,
    )
    context = {
        "sandbox": sandbox,
        "portal_url": portal_url(request),
        "facility": facility,
        "scenario": scenario,
        "asset_types": list(asset_types.values()),
        "asset_count": len(assets),
        "sensor_count": len(sensors),
        "kpis": [{**kpi, "display": figure(kpi["value"])} for kpi in kpis] if kpis is not None else None,
        "now": now,
        "now_json": json.dumps({key: now[key] for key in ("meters", "price", "co2_per_mmbtu")}),
        "now_cards": [
            {"key": "firing", "name": "Fuel input now", "display": figure(now["firing"]), "unit": "MMBtu/h"},
            {"key": "cost", "name": "Fuel cost now", "display": figure(now["cost"]), "unit": "USD/h"},
            {"key": "co2", "name": "CO₂ now", "display": figure(now["co2"]), "unit": "t/h"},
        ],
        "sensors": sensors,
        "selected_sensor": selected,
        "history_start": from_minute(facility.base_minute - HISTORY_MINUTES),
        "events": [
            {
                **event,
                "kind_label": EVENT_KIND_LABELS.get(event["kind"], event["kind"]),
                "acknowledged": event["key"] in acknowledged,
            }
            for event in shown
        ],
        "product": catalogue.product(sandbox.product),
        "stories": stories,
    }
    return render(request, "sandbox/home.html", context)


@require_POST
@sandbox_member_required
def sandbox_event_acknowledge(request: HttpRequest, key: str) -> HttpResponse:
    """Acknowledge an alarm or event shown on the sandbox's pages; stored in the sandbox, recorded as
    ``alert_acknowledged`` for its owner the first time."""
    sandbox = host_sandbox(request)
    user = request.user
    assert isinstance(user, User)
    # The page the alarm was acknowledged on, e.g. an asset's; decided before anything is stored.
    back = next_path(request, default=f"{reverse('sandbox:home')}#events-title")
    facility = facility_get()
    if facility is None:
        raise Http404("This sandbox has no plant.")
    try:
        event_acknowledge(sandbox=sandbox, facility=facility, key=key, actor=user)
    except DomainError as error:
        raise Http404(error.detail) from error
    messages.success(request, "Acknowledged: the alarm stays in the plant's history, marked as seen.")
    return redirect(back)


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
    sandbox = host_sandbox(request)
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
    sandbox = host_sandbox(request)
    facility, asset = plant_asset(tag)
    user = request.user
    assert isinstance(user, User)
    form = O2TrimForm(request.POST)
    if form.is_valid():
        setpoint = form.cleaned_data["o2_setpoint_pct"]
        try:
            optimization_apply(
                sandbox=sandbox, asset_id=asset.pk, kind="o2_setpoint", parameters={"o2_pct": setpoint}, actor=user
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
    sandbox = host_sandbox(request)
    facility, asset = plant_asset(tag)
    if not asset.sensors.filter(kind="efficiency").exists():
        raise Http404("This asset has no combustion efficiency to calculate savings from.")
    user = request.user
    assert isinstance(user, User)
    form = SavingsForm(request.POST)
    if form.is_valid():
        try:
            estimate = savings_calculate(
                sandbox=sandbox, facility=facility, asset=asset, actor=user, **form.cleaned_data
            )
        except DomainError as error:
            for field, problems in error.errors.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            return asset_page(request, facility, asset, savings_form=form, savings=estimate)
    return asset_page(request, facility, asset, savings_form=form, status=400)
