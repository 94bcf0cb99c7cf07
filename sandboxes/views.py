"""Pages of a sandbox's own host, <slug>.<DEMO_DOMAIN>: the sandbox home and the hand-off into it.

Every page here is for the sandbox's owner, or staff, signed in on this host (``sandbox_member_required``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login, logout
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from demoportal import catalogue
from demoportal.exceptions import DomainError
from demoportal.models import User
from demoportal.webforms import next_path
from sandboxes.access import handoff_redeem
from sandboxes.middleware import portal_url
from sandboxes.models import Sandbox
from sandboxes.selectors import sandbox_is_visible_to, sandbox_is_watched_by
from sandboxes.services import sandbox_destroy, sandbox_extend, sandbox_reset
from simulation.engine.assets import ASSET_TYPES
from simulation.engine.signals import HISTORY_MINUTES
from simulation.models import Acknowledgement
from simulation.selectors import (
    asset_rows,
    event_rows,
    facility_get,
    facility_kpis_cached,
    facility_sim_now,
    from_minute,
    plant_now,
    sensor_rows,
    to_minute,
)
from simulation.services import event_acknowledge

EVENT_KIND_LABELS = {"alarm": "Alarm", "maintenance_due": "Maintenance due", "permit_exceedance": "Permit exceedance"}
RECENT_EVENTS_DAYS = 7
RECENT_EVENTS_SHOWN = 8
# The sensor a story's chart opens on: the first of these kinds its asset type has.
CHART_KIND_PREFERENCE = ("efficiency", "o2", "nox", "stack_temp", "specific_energy")


def sandbox_member_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The owner, a colleague in the sandbox's partner organisation, or staff only. Someone not signed in
    on this host goes to the portal's sign-in, which leads to My sandboxes (its "Enter" signs them in
    here); anyone else gets 404, as if no such sandbox.

    Staff watching a prospect's sandbox (``sandbox_is_watched_by``) read every page but change nothing:
    ``request.sandbox_read_only`` tells templates to leave out the controls, and any POST is a 403."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        sandbox: Sandbox = request.tenant  # type: ignore[attr-defined]
        if not request.user.is_authenticated:
            return redirect(f"{portal_url(request)}accounts/login/?{urlencode({'next': '/sandboxes/'})}")
        user = request.user
        if not (isinstance(user, User) and sandbox_is_visible_to(sandbox=sandbox, user=user)):
            raise Http404("No such sandbox.")
        read_only = sandbox_is_watched_by(sandbox=sandbox, user=user)
        request.sandbox_read_only = read_only  # type: ignore[attr-defined]
        if read_only and request.method not in ("GET", "HEAD", "OPTIONS"):
            raise PermissionDenied("You are watching this prospect's sandbox read-only.")
        return view(request, *args, **kwargs)

    return guarded


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
    sandbox: Sandbox = request.tenant  # type: ignore[attr-defined]
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
def sandbox_action(request: HttpRequest, action: str) -> HttpResponse:
    """The owner's self-service from the sandbox's own pages: extend by a day, reset, or end it."""
    sandbox: Sandbox = request.tenant  # type: ignore[attr-defined]
    self_service(request, sandbox=sandbox, action=action)
    if sandbox.is_retired:
        return redirect(f"{portal_url(request)}sandboxes/")
    return redirect("sandbox:home")


def self_service(request: HttpRequest, *, sandbox: Sandbox, action: str) -> None:
    """Extend ``sandbox`` by a day, reset or end it for the signed-in user, from My sandboxes or the
    sandbox's own pages; what happened (or why not) goes to the user's messages. Another action: 404."""
    user = request.user if isinstance(request.user, User) else None
    try:
        if action == "extend":
            sandbox_extend(sandbox=sandbox, hours=24, actor=user)
            messages.success(request, f"{sandbox.name} now runs until {sandbox.expires_at:%d %b %H:%M} UTC.")
        elif action == "reset":
            sandbox_reset(sandbox=sandbox, actor=user)
            messages.success(request, f"{sandbox.name} is back at the start of its scenario.")
        elif action == "end":
            sandbox_destroy(sandbox=sandbox, actor=user)
            messages.success(request, f"{sandbox.name} has ended.")
        else:
            raise Http404("No such action.")
    except DomainError as error:
        messages.error(request, error.detail)


def sandbox_enter(request: HttpRequest, token: str) -> HttpResponse:
    """The ``access_url`` hand-off: signs the owner (or staff, opening it from the admin) in on this
    sandbox's host, once, then to the home page."""
    sandbox = request.tenant  # type: ignore[attr-defined]
    user = handoff_redeem(token=token, sandbox=sandbox)
    if user is None:
        context = {"sandbox": sandbox, "sign_in_url": f"{portal_url(request)}accounts/login/"}
        return render(request, "sandbox/link_used.html", context, status=403)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("sandbox:home")


@require_POST
def sandbox_sign_out(request: HttpRequest) -> HttpResponse:
    """Signs out of this sandbox's host, then on to the portal's sign-out (its session is another)."""
    logout(request)
    return redirect(f"{portal_url(request)}accounts/logout/")


@require_POST
@sandbox_member_required
def sandbox_event_acknowledge(request: HttpRequest, key: str) -> HttpResponse:
    """Acknowledge an alarm or event shown on the sandbox's pages; stored in the sandbox, recorded as
    ``alert_acknowledged`` for its owner the first time."""
    sandbox: Sandbox = request.tenant  # type: ignore[attr-defined]
    user = request.user
    assert isinstance(user, User)
    # The page the alarm was acknowledged on, e.g. an asset's; decided before anything is stored.
    back = next_path(request, default=f"{reverse('sandbox:home')}#events-title")
    facility = facility_get()
    if facility is None:
        raise Http404("This sandbox has no plant.")
    try:
        event_acknowledge(sandbox=sandbox, facility=facility, key=key, by=user)
    except DomainError as error:
        raise Http404(error.detail) from error
    messages.success(request, "Acknowledged: the alarm stays in the plant's history, marked as seen.")
    return redirect(back)
