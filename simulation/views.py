"""The plant's pages on a sandbox's host: the sandbox home (/: the plant, its KPIs, a history chart, recent
alarms and the stories), acknowledging an alarm, and an asset's page (/assets/<tag>/: its live values,
trends and alarms, the O2 trim and the savings calculator). For the sandbox's members
(``sandbox_member_required``); staff watching a prospect's sandbox see them read-only."""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from analytics.services.events import event_record
from demoportal.core import catalogue
from demoportal.core.exceptions import DomainError
from demoportal.core.models import User
from demoportal.core.webforms import BaseForm, domain_error_show, next_path
from sandboxes.access import host_acting, host_sandbox, portal_url, sandbox_member_required
from simulation.forms import (
    DEFAULT_OPERATING_HOURS,
    EUA_PRICE_DEFAULT,
    AllowancePriceForm,
    EconomiserForm,
    O2TrimForm,
    PinchForm,
    SavingsForm,
    TrapSurveyForm,
)
from simulation.models import Asset, Plant
from simulation.selectors.pages import O2Trim, SavingsBasis, asset_overview, plant_home
from simulation.selectors.plant import asset_get, plant_clock, plant_get
from simulation.selectors.products import (
    EconomiserBasis,
    FeatureEntry,
    ProductArea,
    TrapBasis,
    carbon_csv_rows,
    carbon_screen,
    economiser_basis,
    economiser_screen,
    feature_screen,
    key_of,
    load_screen,
    nox_screen,
    pinch_dt_min_default,
    pinch_screen,
    product_area,
    trap_basis,
    trap_screen,
    tube_screen,
)
from simulation.selectors.staff import prospect_page
from simulation.services import (
    SavingsEstimate,
    alarm_acknowledge,
    optimization_apply,
    savings_calculate,
)

ID_DIGITS_MAX = 18  # a row id fits a bigint; a longer number in a link is no row's


def id_param(value: str) -> int | None:
    """A row id given in a link (``?sensor=``, ``?trend=``), or None for anything else: a word, a huge number."""
    return int(value) if value.isascii() and value.isdigit() and len(value) <= ID_DIGITS_MAX else None


def page_context(page: Any) -> dict[str, Any]:
    """A page's typed object (``PlantHome``, ``AssetOverview``) as template context: one name per field."""
    return {field.name: getattr(page, field.name) for field in dataclasses.fields(page)}


def plant_or_404() -> Plant:
    """This sandbox's plant; 404 for a sandbox without a plant."""
    plant = plant_get()
    if plant is None:
        raise Http404("This sandbox has no plant.")
    return plant


@sandbox_member_required
def sandbox_home(request: HttpRequest) -> HttpResponse:
    """Plant, assets by type, the scenario's KPIs, a history chart, recent events and the stories."""
    sandbox = host_sandbox(request)
    plant = plant_or_404()
    home = plant_home(plant=plant, chart_sensor_id=id_param(request.GET.get("sensor", "")))
    context = {
        **page_context(home),
        **chosen_area(request, plant),
        "plant_clock": plant_clock(plant),  # the bar's, from the plant in hand (the context processor would read it)
        "sandbox": sandbox,
        "portal_url": portal_url(request),
        "product": catalogue.product(sandbox.product),
    }
    return render(request, "sandbox/home.html", context)


def chosen_area(request: HttpRequest, plant: Plant) -> dict[str, Any]:
    """The plant's shared pages inside the area of the product the sandbox was made for (its navigation, the
    plant overview current); nothing for a sandbox made for no product."""
    area = product_area(
        product_key=host_sandbox(request).product,
        chosen_key=host_sandbox(request).product,
        scenario=catalogue.scenarios()[plant.scenario],
    )
    return {"area": area, "nav_current": "plant"} if area is not None else {}


def area_or_404(request: HttpRequest, product: str, plant: Plant) -> ProductArea:
    """The area of ``product`` on this plant; 404 for no such product."""
    area = product_area(
        product_key=product, chosen_key=host_sandbox(request).product, scenario=catalogue.scenarios()[plant.scenario]
    )
    if area is None:
        raise Http404("No such product.")
    return area


@sandbox_member_required
def product_landing(request: HttpRequest, product: str) -> HttpResponse:
    """A product's landing: its features on this plant (those the plant lacks, with the reason), the plant
    overview, and the other products, "also available"."""
    plant = plant_or_404()
    area = area_or_404(request, product, plant)
    context = {
        "area": area,
        "nav_current": "",
        "plant": plant,
        "plant_clock": plant_clock(plant),
        "sandbox": host_sandbox(request),
        "portal_url": portal_url(request),
    }
    return render(request, "sandbox/product.html", context)


@sandbox_member_required
def feature_detail(request: HttpRequest, product: str, feature: str) -> HttpResponse:
    """One feature's screen: the plant's assets it covers with their values, live. A feature this plant lacks
    answers 404 with the reason."""
    plant = plant_or_404()
    area = area_or_404(request, product, plant)
    entry = next((item for item in area.features if item.key == key_of(feature)), None)
    if entry is None:
        raise Http404("No such feature.")
    context: dict[str, Any] = {
        "area": area,
        "nav_current": entry.key,
        "feature": entry,
        "plant": plant,
        "plant_clock": plant_clock(plant),
        "sandbox": host_sandbox(request),
        "portal_url": portal_url(request),
    }
    if entry.absence is not None:
        return render(request, "sandbox/feature.html", context, status=404)
    context["screen"] = feature_screen(plant=plant, area=area, feature=entry)
    status = 200
    if entry.key in FEATURE_PAGES:
        extra, status = FEATURE_PAGES[entry.key](request, plant)
        context.update(extra, feature_template=f"sandbox/features/{entry.key}.html")
    return render(request, "sandbox/feature.html", context, status=status)


def screen_form(
    request: HttpRequest, form_class: type[BaseForm], initial: dict[str, Any]
) -> tuple[BaseForm, dict[str, Any] | None, int]:
    """A screen's figures form, on GET (nothing is stored): (the form, its figures or None, the page's status).
    Without a query, the form shows ``initial`` and the screen its own figures; with one, the figures entered,
    or 400 with the errors beside their fields while the screen keeps its own."""
    form = form_class(request.GET or None, initial=initial)
    if not request.GET:
        return form, None, 200
    if form.is_valid():
        return form, form.cleaned_data, 200
    return form, None, 400


def trap_page(request: HttpRequest, plant: Plant) -> tuple[dict[str, Any], int]:
    """The trap survey, priced at the scenario's figures or at those the prospect entered."""
    basis = trap_basis(catalogue.scenarios()[plant.scenario])
    initial = {name: getattr(basis, name) for name in ("pressure_psig", "steam_cost_per_1000_lb", "hours_per_year")}
    form, entered, status = screen_form(request, TrapSurveyForm, initial)
    if entered is not None:
        basis = TrapBasis(**entered, source="the figures you entered")
    return {"traps": trap_screen(plant, basis), "trap_form": form}, status


def carbon_page(request: HttpRequest, plant: Plant) -> tuple[dict[str, Any], int]:
    """The CO2 account, its EU ETS position costed at the assumed allowance price or the prospect's."""
    form, entered, status = screen_form(request, AllowancePriceForm, {"eua_price": EUA_PRICE_DEFAULT})
    price = entered["eua_price"] if entered is not None else EUA_PRICE_DEFAULT
    context = {"carbon": carbon_screen(plant, price), "price_form": form, "price_assumed": entered is None}
    return context, status


def economiser_page(request: HttpRequest, plant: Plant) -> tuple[dict[str, Any], int]:
    """The economisers at the scenario's figures or the prospect's."""
    basis = economiser_basis(catalogue.scenarios()[plant.scenario])
    initial = {"outlet_c": basis.outlet_c, "capex_usd": basis.capex_usd}
    form, entered, status = screen_form(request, EconomiserForm, initial)
    if entered is not None:
        basis = EconomiserBasis(**entered, source="the figures you entered")
    return {"economiser": economiser_screen(plant, basis), "economiser_form": form}, status


def pinch_page(request: HttpRequest, plant: Plant) -> tuple[dict[str, Any], int]:
    """The pinch analysis at the scenario's ΔTmin or the prospect's."""
    scenario = catalogue.scenarios()[plant.scenario]
    form, entered, status = screen_form(request, PinchForm, {"dt_min_c": pinch_dt_min_default(scenario)})
    dt_min = entered["dt_min_c"] if entered is not None else pinch_dt_min_default(scenario)
    return {"pinch": pinch_screen(scenario, dt_min), "pinch_form": form}, status


# The features with a screen of their own above their assets' live values: what computes its context (and
# the page's status: 400 for a form that failed).
FEATURE_PAGES: dict[str, Callable[[HttpRequest, Plant], tuple[dict[str, Any], int]]] = {
    "co2_accounting": carbon_page,
    "tmt_monitoring": lambda request, plant: ({"tubes": tube_screen(plant)}, 200),
    "steam_trap_monitoring": trap_page,
    "pinch_analysis": pinch_page,
    "nox_permit_tracking": lambda request, plant: ({"nox": nox_screen(plant)}, 200),
    "load_allocation": lambda request, plant: ({"load": load_screen(plant)}, 200),
    "economiser_tracking": economiser_page,
}
# The features whose figures export as CSV: what makes the rows (a header first).
FEATURE_EXPORTS: dict[str, Callable[[Plant], list[list[Any]]]] = {
    "co2_accounting": carbon_csv_rows,
}


@sandbox_member_required
def feature_export(request: HttpRequest, product: str, feature: str) -> HttpResponse:
    """A feature's figures as CSV (the CO2 account), recorded as ``report_generated`` for the sandbox's owner."""
    plant = plant_or_404()
    area = area_or_404(request, product, plant)
    entry: FeatureEntry | None = next((item for item in area.features if item.key == key_of(feature)), None)
    if entry is None or entry.absence is not None or entry.key not in FEATURE_EXPORTS:
        raise Http404("This feature has no export.")
    rows = FEATURE_EXPORTS[entry.key](plant)
    sandbox = host_sandbox(request)
    if not getattr(request, "sandbox_read_only", False):
        event_record(
            name="report_generated",
            user=sandbox.owner or (request.user if isinstance(request.user, User) else None),
            sandbox=sandbox,
            properties={"product": area.key, "report": entry.key, "format": "csv"},
        )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{sandbox.slug}-{entry.slug}.csv"'
    csv.writer(response).writerows(rows)
    return response


@require_POST
@sandbox_member_required
def sandbox_alarm_acknowledge(request: HttpRequest, key: str) -> HttpResponse:
    """Acknowledge an alarm or event shown on the sandbox's pages; stored in the sandbox, recorded as
    ``alert_acknowledged`` for its owner the first time."""
    sandbox = host_sandbox(request)
    user = request.user
    assert isinstance(user, User)
    # The page the alarm was acknowledged on, e.g. an asset's; decided before anything is stored.
    back = next_path(request, default=f"{reverse('sandbox:home')}#events-title")
    plant = plant_or_404()
    try:
        alarm_acknowledge(sandbox=sandbox, plant=plant, key=key, actor=user)
    except DomainError as error:
        raise Http404(error.detail) from error
    messages.success(request, "Acknowledged: the alarm stays in the plant's history, marked as seen.")
    return redirect(back)


def plant_asset(tag: str) -> tuple[Plant, Asset]:
    """This sandbox's plant and its asset ``tag``; 404 for either missing."""
    plant = plant_or_404()
    asset = asset_get(tag=tag)
    if asset is None:
        raise Http404("No asset with this tag in this plant.")
    return plant, asset


def o2_panel(trim: O2Trim | None, form: O2TrimForm | None) -> dict[str, Any] | None:
    """The O2 trim's card: the trim and its form (empty, or as posted with its errors)."""
    if trim is None:
        return None
    return {
        "sensor": trim.sensor,
        "setpoint": trim.setpoint,
        "setpoint_display": trim.setpoint_display,
        "basis": trim.basis,
        "form": form or O2TrimForm(),
    }


def calculator_panel(
    basis: SavingsBasis | None, form: SavingsForm | None, savings: SavingsEstimate | None
) -> dict[str, Any] | None:
    """The savings calculator's card: its form (suggested inputs, or as posted) and the result just
    calculated, if any."""
    if basis is None:
        return None
    initial = {
        "fuel_price_usd_per_mmbtu": basis.fuel_price_usd_per_mmbtu,
        "operating_hours_per_year": DEFAULT_OPERATING_HOURS,
        "efficiency_current_pct": basis.efficiency_current_pct,
        "efficiency_target_pct": basis.efficiency_target_pct,
    }
    return {
        "form": form or SavingsForm(initial=initial),
        # An empty form's current efficiency follows the live value; the prospect's own input stays.
        "live_prefill": basis.efficiency_sensor.id if form is None else None,
        "efficiency_sensor": basis.efficiency_sensor,
        "firing_rate": basis.firing_rate_display,
        "fuel": basis.fuel,
        "result": savings
        and {
            "usd": f"{savings.saving_usd_per_year:,.0f}",
            "pct": f"{savings.fuel_saving_fraction * 100:.1f}",
            "co2": f"{savings.co2_avoided_t_per_year:,.0f}",
            "fuel_mmbtu": f"{savings.fuel_mmbtu_per_year:,.0f}",
            "estimate": savings,
        },
    }


def asset_page(
    request: HttpRequest,
    plant: Plant,
    asset: Asset,
    *,
    o2_form: O2TrimForm | None = None,
    savings_form: SavingsForm | None = None,
    savings: SavingsEstimate | None = None,
    status: int = 200,
) -> HttpResponse:
    """The asset's page; a form that failed (or the savings just calculated) is shown in place."""
    trend = [sensor_id for value in request.GET.getlist("trend") if (sensor_id := id_param(value)) is not None]
    overview = asset_overview(plant=plant, asset=asset, trend=trend)
    context = {
        **page_context(overview),
        **chosen_area(request, plant),
        "plant_clock": plant_clock(plant),  # the bar's, from the plant in hand (the context processor would read it)
        "sandbox": host_sandbox(request),
        "portal_url": portal_url(request),  # the layout's "My sandboxes" and the watch bar's way back
        "o2": o2_panel(overview.o2_trim, o2_form),
        "calculator": calculator_panel(overview.savings_basis, savings_form, savings),
        "read_only": getattr(request, "sandbox_read_only", False),
    }
    return render(request, "sandbox/asset.html", context, status=status)


@sandbox_member_required
def asset_detail(request: HttpRequest, tag: str) -> HttpResponse:
    plant, asset = plant_asset(tag)
    return asset_page(request, plant, asset)


@require_POST
@sandbox_member_required
def asset_o2_trim(request: HttpRequest, tag: str) -> HttpResponse:
    """Apply a new flue-gas O2 setpoint to the asset from now on (``optimization_apply``), then back to
    its page; a value out of bounds shows the form again with the error, nothing applied."""
    sandbox = host_sandbox(request)
    plant, asset = plant_asset(tag)
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
    return asset_page(request, plant, asset, o2_form=form, status=400)


@require_POST
@sandbox_member_required
def asset_savings(request: HttpRequest, tag: str) -> HttpResponse:
    """Price a better combustion efficiency on the asset (``savings_calculate``) and show the result on its
    page; bad input shows the form again with an error per field."""
    sandbox = host_sandbox(request)
    plant, asset = plant_asset(tag)
    if not asset.sensors.filter(kind="efficiency").exists():
        raise Http404("This asset has no combustion efficiency to calculate savings from.")
    user = request.user
    assert isinstance(user, User)
    form = SavingsForm(request.POST)
    if form.is_valid():
        try:
            estimate = savings_calculate(sandbox=sandbox, plant=plant, asset=asset, actor=user, **form.cleaned_data)
        except DomainError as error:
            domain_error_show(form, error)
        else:
            return asset_page(request, plant, asset, savings_form=form, savings=estimate)
    return asset_page(request, plant, asset, savings_form=form, status=400)


@require_GET
@sandbox_member_required
def watching_prospect(request: HttpRequest) -> HttpResponse:
    """For staff watching a prospect's sandbox, the page the prospect is on (``prospect_page``), which the
    watch bar asks for every few seconds (``static/js/watching.js``): ``{"path", "title", "seen_at"}``, all
    null before their first page; ``path`` null for a page the bar does not link to. 404 for anyone else."""
    acting = host_acting(request)
    if not acting.watching:
        raise Http404("Only staff watching this sandbox ask where its prospect is.")
    page = prospect_page(sandbox=acting.sandbox)
    body: dict[str, str | None] = {"path": None, "title": None, "seen_at": None}
    if page is not None:
        body = {"path": page.path, "title": page.title, "seen_at": page.seen_at.isoformat()}
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    return response
