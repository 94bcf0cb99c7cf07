"""The products' areas on a sandbox's host: each product's landing (``product_area`` → ``ProductArea``) and
each of its feature screens (``feature_screen`` → ``FeatureScreen``), from ``fixtures/products.json``.

A product feature is a screen of its product. Which plants have it is data: the asset types it ``needs`` (a
plant without one of them has no such screen, and the landing says why), the specification's feature names it
``serves``, the sensor kinds it shows live. The prospect's chosen product is where they land; the other three
are "also available". Run inside the sandbox's schema."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.urls import reverse

from demoportal.core import catalogue
from simulation.engine.allocation import WINDOW_DAYS, Allocation, BoilerCurve, boiler_curves, load_allocation
from simulation.engine.assets import ASSET_TYPES
from simulation.engine.calculations import Stream
from simulation.engine.carbon import AllowancePosition, CarbonAccount, allowance_position, carbon_account
from simulation.engine.kpis import Clock, EconomiserSaving, economiser_savings
from simulation.engine.permits import HORIZON_HOURS, TREND_HOURS, PermitReading, nox_permits
from simulation.engine.pinch import Curve, Pinch, pinch_of
from simulation.engine.scenario import Scenario, Story, feature_absence
from simulation.engine.traps import FUEL_MMBTU_PER_1000_LB_STEAM, PSI_PER_BAR, TrapReading, trap_survey
from simulation.engine.tubes import TREND_DAYS, TubePass, tube_watch
from simulation.models import Plant
from simulation.selectors.display import ByKey
from simulation.selectors.pages import SensorReading
from simulation.selectors.plant import (
    asset_rows,
    plant_layout,
    plant_overlays,
    plant_sim_now,
    sensor_rows,
    sensor_values_window,
    to_minute,
)


def slug_of(key: str) -> str:
    """A catalogue key as it reads in a URL: ``co2_accounting`` → ``co2-accounting``."""
    return key.replace("_", "-")


def key_of(slug: str) -> str:
    return slug.replace("-", "_")


@dataclass(frozen=True)
class FeatureEntry(ByKey):
    """One feature of a product, and whether this plant has its screen (``absence``: why not)."""

    product: str
    key: str
    name: str
    description: str
    serves: tuple[str, ...]
    sensors: tuple[str, ...]
    absence: str | None

    @property
    def slug(self) -> str:
        return slug_of(self.key)

    @property
    def url(self) -> str:
        return reverse("sandbox:feature", args=[self.product, self.slug])

    @property
    def event_key(self) -> str:
        """How ``feature_viewed`` names it: ``<product>.<feature>``, as the scenarios' stories do."""
        return f"{self.product}.{self.key}"


@dataclass(frozen=True)
class ProductArea(ByKey):
    """A product as this sandbox shows it: its features (those this plant lacks with the reason), whether it
    is the product the prospect chose, and the other products, "also available"."""

    product: dict[str, Any]
    chosen: bool
    features: tuple[FeatureEntry, ...]
    others: tuple[dict[str, Any], ...]
    scenario: Scenario

    @property
    def key(self) -> str:
        return str(self.product["key"])

    @property
    def url(self) -> str:
        return reverse("sandbox:product", args=[self.key])

    @property
    def available(self) -> tuple[FeatureEntry, ...]:
        return tuple(feature for feature in self.features if feature.absence is None)

    @property
    def absent(self) -> tuple[FeatureEntry, ...]:
        return tuple(feature for feature in self.features if feature.absence is not None)


def product_area(*, product_key: str, chosen_key: str, scenario: Scenario) -> ProductArea | None:
    """The area of ``product_key`` on a plant of ``scenario``, for a sandbox made for ``chosen_key``; None for
    no such product."""
    product = catalogue.product(product_key)
    if product is None:
        return None
    features = tuple(
        FeatureEntry(
            product=product_key,
            key=str(feature["key"]),
            name=str(feature["name"]),
            description=str(feature["description"]),
            serves=tuple(feature.get("serves") or ()),
            sensors=tuple(feature.get("sensors") or ()),
            absence=feature_absence(feature, scenario.asset_types),
        )
        for feature in product["features"]
    )
    others = tuple(
        {**item, "url": reverse("sandbox:product", args=[item["key"]])}
        for item in catalogue.products()
        if item["key"] != product_key
    )
    return ProductArea(
        product=product, chosen=product_key == chosen_key, features=features, others=others, scenario=scenario
    )


@dataclass(frozen=True)
class AssetReadings(ByKey):
    """One asset a feature screen covers, with a reading (or None) for each of the screen's columns."""

    tag: str
    name: str
    type_name: str
    cells: tuple[SensorReading | None, ...]

    @property
    def url(self) -> str:
        return reverse("sandbox:asset", args=[self.tag])


@dataclass(frozen=True)
class FeatureScreen(ByKey):
    """A feature's screen: the plant's assets that carry its sensors, each with their values now (updated live
    on the page), and the kinds shown as the table's columns."""

    area: ProductArea
    feature: FeatureEntry
    columns: tuple[tuple[str, str, str], ...]  # (kind, name, unit) of each kind shown, in the feature's order
    assets: tuple[AssetReadings, ...]


def feature_screen(*, plant: Plant, area: ProductArea, feature: FeatureEntry) -> FeatureScreen:
    """The screen of ``feature`` (which this plant has) on ``plant``: its values read once, at the plant's
    current minute, with the plant's overlays (a trim the prospect applied shows)."""
    kinds = feature.sensors
    rows = [row for row in sensor_rows() if row["kind"] in kinds]
    values: list[float] = []
    if rows:
        minute = to_minute(plant_sim_now(plant))
        window = sensor_values_window(plant, rows, start=minute, end=minute + 1, overlays=plant_overlays(plant))
        values = window[:, 0].tolist()
    readings: dict[int, list[SensorReading]] = {}
    for row, value in zip(rows, values, strict=True):
        readings.setdefault(row["asset_id"], []).append(SensorReading(**row, value=value, trended=False))
    order = {kind: n for n, kind in enumerate(kinds)}
    shown = sorted({(row["kind"], row["name"], row["unit"]) for row in rows}, key=lambda c: (order[c[0]], c[1], c[2]))
    columns: list[tuple[str, str, str]] = []
    for column in shown:  # one column per kind (the first name and unit it has)
        if not columns or columns[-1][0] != column[0]:
            columns.append(column)
    assets = []
    for asset in asset_rows():
        found = {reading.kind: reading for reading in readings.get(asset["id"], [])}
        if not found:
            continue
        asset_type = ASSET_TYPES.get(asset["type"])
        assets.append(
            AssetReadings(
                tag=asset["tag"],
                name=asset["name"],
                type_name=asset_type.name if asset_type is not None else asset["type"],
                cells=tuple(found.get(kind) for kind, _, _ in columns),
            )
        )
    return FeatureScreen(area=area, feature=feature, columns=tuple(columns), assets=tuple(assets))


# Screens of their own: what a feature shows beyond its assets' live values.


def story_with(scenario: Scenario, *parameters: str) -> Story | None:
    """The scenario's first story that states all of ``parameters``: where a screen takes its figures from, so
    that it reproduces the story's headline on the plant."""
    return next((s for s in scenario.stories if all(name in s.parameters for name in parameters)), None)


def hour_clock(plant: Plant) -> Clock:
    """The engine's clock for a screen's figures: to the start of the plant's current hour (as the key
    figures)."""
    hour = int(plant_sim_now(plant).timestamp() // 3600)
    return Clock(base=plant.base_minute, now=hour * 60)


def carbon_accounting(plant: Plant) -> CarbonAccount:
    """EmissionsGuardian's CO2 accounting: CO2 per month and per source over the twelve months to the plant's
    current hour, with the plant's overlays (simulation/engine/carbon.py; 10-45 ms by scenario)."""
    return carbon_account(plant_layout(plant), hour_clock(plant), plant_overlays(plant))


@dataclass(frozen=True)
class CarbonMonth(ByKey):
    month: date
    hours: int
    combustion_t: float
    process_t: float
    co2e_t: float

    @property
    def co2_t(self) -> float:
        return self.combustion_t + self.process_t

    @property
    def partial(self) -> bool:
        """Only part of the month is in the twelve months (the first and the last)."""
        return self.hours < calendar.monthrange(self.month.year, self.month.month)[1] * 24


@dataclass(frozen=True)
class CarbonSourceRow(ByKey):
    name: str
    kind: str
    inputs: tuple[str, ...]
    activity: float
    activity_unit: str
    co2_t: float
    share: float


@dataclass(frozen=True)
class CarbonScreen(ByKey):
    """The CO2 accounting screen: per month (combustion and process), per source over the twelve months, and
    the factors used."""

    months: tuple[CarbonMonth, ...]
    sources: tuple[CarbonSourceRow, ...]
    co2_t: float
    co2e_t: float
    process_t: float
    fuel: str
    co2_kg_per_mmbtu: float
    allowances: AllowancePosition


def carbon_screen(plant: Plant, eua_price_eur_per_t: float) -> CarbonScreen:
    """The account, and its EU ETS position at the allowance price given."""
    account = carbon_accounting(plant)

    def month_sum(kind: str, n: int) -> float:
        return float(sum(source.co2_t[n] for source in account.sources if source.kind == kind))

    months = tuple(
        CarbonMonth(
            month=date.fromisoformat(f"{month}-01"),
            hours=account.hours[n],
            combustion_t=month_sum("combustion", n),
            process_t=month_sum("process", n),
            co2e_t=account.co2e_by_month[n],
        )
        for n, month in enumerate(account.months)
    )
    total = account.co2_total
    sources = tuple(
        sorted(
            (
                CarbonSourceRow(
                    name=source.name,
                    kind=source.kind,
                    inputs=source.inputs,
                    activity=float(sum(source.activity)),
                    activity_unit=source.activity_unit,
                    co2_t=float(sum(source.co2_t)),
                    share=float(sum(source.co2_t)) / total if total else 0.0,
                )
                for source in account.sources
            ),
            key=lambda row: -row.co2_t,
        )
    )
    return CarbonScreen(
        months=months,
        sources=sources,
        co2_t=total,
        co2e_t=account.co2e_total,
        process_t=float(sum(month.process_t for month in months)),
        fuel=account.fuel.replace("_", " "),
        co2_kg_per_mmbtu=account.co2_kg_per_mmbtu,
        allowances=allowance_position(account, eua_price_eur_per_t),
    )


def carbon_csv_rows(plant: Plant) -> list[list[Any]]:
    """The CO2 account as a table: one row per month and source, with what it was computed from."""
    account = carbon_accounting(plant)
    header = ["month", "hours", "source", "kind", "inputs", "activity", "activity_unit", "co2_t", "co2e_t"]
    rows: list[list[Any]] = [header]
    for n, month in enumerate(account.months):
        for source in account.sources:
            rows.append(
                [
                    month,
                    account.hours[n],
                    source.name,
                    source.kind,
                    " ".join(source.inputs),
                    round(source.activity[n], 1),
                    source.activity_unit,
                    round(source.co2_t[n], 2),
                    round(source.co2e_t[n], 2),
                ]
            )
    return rows


@dataclass(frozen=True)
class TubeScreen(ByKey):
    """ThermalCommand's tube-metal temperature watch: every pass, the nearest to its limit first."""

    passes: tuple[TubePass, ...]
    trend_days: int

    @property
    def nearest(self) -> TubePass | None:
        """The first pass whose trend reaches its limit, if any does."""
        return next((p for p in self.passes if p.days_to_limit is not None), None)


def tube_screen(plant: Plant) -> TubeScreen:
    """Each fired heater's passes at the plant's current hour, with the plant's overlays (a fouling injected
    by sales shows as a rising trend; 30 ms for a refinery's 24 passes)."""
    hour = int(plant_sim_now(plant).timestamp() // 3600)
    clock = Clock(base=plant.base_minute, now=hour * 60)
    return TubeScreen(
        passes=tuple(tube_watch(plant_layout(plant), clock, plant_overlays(plant))), trend_days=TREND_DAYS
    )


@dataclass(frozen=True)
class TrapBasis(ByKey):
    """What the trap survey prices lost steam at, and where each figure comes from."""

    pressure_psig: float
    steam_cost_per_1000_lb: float
    hours_per_year: int
    source: str


def trap_basis(scenario: Scenario) -> TrapBasis:
    """The scenario's trap story's figures where it has one; else the plant's lowest-pressure steam header
    and a steam cost from its fuel price (DOE Steam Tip #15: 1.25 MMBtu of fuel per 1,000 lb)."""
    story = story_with(scenario, "pressure_psig", "steam_cost_per_1000_lb")
    if story is not None:
        return TrapBasis(
            pressure_psig=float(story.parameters["pressure_psig"]),
            steam_cost_per_1000_lb=float(story.parameters["steam_cost_per_1000_lb"]),
            hours_per_year=8760,
            source=f"the figures of the story \u201c{story.name}\u201d",
        )
    headers = [
        g.design["pressure_barg"] for g in scenario.assets if g.type == "steam_header" and "pressure_barg" in g.design
    ]
    pressure = min(headers) * PSI_PER_BAR if headers else 150.0
    return TrapBasis(
        pressure_psig=round(pressure),
        steam_cost_per_1000_lb=round(FUEL_MMBTU_PER_1000_LB_STEAM * scenario.fuel_price_usd_per_mmbtu, 2),
        hours_per_year=8760,
        source="the plant's lowest-pressure steam header, and its fuel price × 1.25 MMBtu per 1,000 lb",
    )


@dataclass(frozen=True)
class TrapScreen(ByKey):
    """BoilerOptimizer's steam-trap survey: every trap, the failed-open ones first, priced at ``basis``."""

    traps: tuple[TrapReading, ...]
    basis: TrapBasis

    @property
    def failed(self) -> tuple[TrapReading, ...]:
        return tuple(trap for trap in self.traps if trap.failed_open)

    @property
    def loss_lb_per_h(self) -> float:
        return sum(trap.loss_lb_per_h for trap in self.traps)

    @property
    def cost_per_year(self) -> float:
        return sum(trap.cost_per_year for trap in self.traps)


def trap_screen(plant: Plant, basis: TrapBasis | None = None) -> TrapScreen:
    """Every steam trap of the plant from its last day's outlet temperature (0.1 s at 150 traps), priced at
    ``basis`` (the scenario's by default)."""
    basis = basis or trap_basis(catalogue.scenarios()[plant.scenario])
    traps = trap_survey(
        plant_layout(plant),
        hour_clock(plant),
        plant_overlays(plant),
        pressure_psig=basis.pressure_psig,
        steam_cost_per_1000_lb=basis.steam_cost_per_1000_lb,
        hours_per_year=basis.hours_per_year,
    )
    return TrapScreen(traps=tuple(traps), basis=basis)


@dataclass(frozen=True)
class Chart(ByKey):
    """A line chart drawn as SVG on the server: each line's points in the view box, the axes' ticks."""

    lines: tuple[tuple[str, str], ...]  # (css class, "x,y x,y …")
    x_ticks: tuple[tuple[float, str], ...]  # (position, label)
    y_ticks: tuple[tuple[float, str], ...]
    x_label: str
    y_label: str

    WIDTH = 640
    HEIGHT = 320
    PAD = 48


def chart_of(curves: dict[str, Curve], *, x_label: str, y_label: str, x_scale: float = 1.0) -> Chart:
    """``curves`` (css class → points) scaled into one SVG view box with five ticks on each axis."""
    xs = [x * x_scale for points in curves.values() for x, _ in points]
    ys = [y for points in curves.values() for _, y in points]
    x_low, x_high = min(0.0, min(xs)), max(xs) or 1.0
    y_low, y_high = min(ys), max(ys)
    span_x, span_y = (x_high - x_low) or 1.0, (y_high - y_low) or 1.0
    inner_w, inner_h = Chart.WIDTH - 2 * Chart.PAD, Chart.HEIGHT - 2 * Chart.PAD

    def at(x: float, y: float) -> tuple[float, float]:
        return (Chart.PAD + (x - x_low) / span_x * inner_w, Chart.HEIGHT - Chart.PAD - (y - y_low) / span_y * inner_h)

    lines = tuple(
        (name, " ".join(f"{px:.1f},{py:.1f}" for px, py in (at(x * x_scale, y) for x, y in points)))
        for name, points in curves.items()
    )
    x_ticks = tuple((at(x_low + span_x * n / 4, y_low)[0], f"{x_low + span_x * n / 4:,.0f}") for n in range(5))
    y_ticks = tuple((at(x_low, y_low + span_y * n / 4)[1], f"{y_low + span_y * n / 4:,.0f}") for n in range(5))
    return Chart(lines=lines, x_ticks=x_ticks, y_ticks=y_ticks, x_label=x_label, y_label=y_label)


DT_MIN_DEFAULT_C = 10.0


@dataclass(frozen=True)
class PinchScreen(ByKey):
    """WasteHeatRecovery's pinch analysis at ``dt_min_c``: targets, the recovery beyond today's, the curves."""

    pinch: Pinch
    current_recovery_kw: float | None  # the plant's exchangers today, where the scenario states it
    composites: Chart
    grand: Chart

    @property
    def recoverable_kw(self) -> float | None:
        if self.current_recovery_kw is None:
            return None
        return self.pinch.targets.heat_recovery_kw - self.current_recovery_kw


def pinch_dt_min_default(scenario: Scenario) -> float:
    story = story_with(scenario, "dt_min_c")
    return float(story.parameters["dt_min_c"]) if story is not None else DT_MIN_DEFAULT_C


def pinch_screen(scenario: Scenario, dt_min_c: float) -> PinchScreen | None:
    """The pinch analysis of the scenario's process streams; None for a plant whose streams the demo does not
    hold (its screen says so)."""
    if not scenario.streams:
        return None
    streams = [
        Stream(str(s["name"]), float(s["supply_c"]), float(s["target_c"]), float(s["cp_kw_per_k"]))
        for s in scenario.streams
    ]
    pinch = pinch_of(streams, dt_min_c)
    story = story_with(scenario, "current_recovery_kw")
    return PinchScreen(
        pinch=pinch,
        current_recovery_kw=float(story.parameters["current_recovery_kw"]) if story is not None else None,
        composites=chart_of(
            {"hot": pinch.hot_composite, "cold": pinch.cold_composite},
            x_label="Enthalpy, MW",
            y_label="Temperature, °C",
            x_scale=0.001,
        ),
        grand=chart_of(
            {"grand": pinch.grand_composite},
            x_label="Net heat flow, MW",
            y_label="Shifted temperature, °C",
            x_scale=0.001,
        ),
    )


NSPS_NOX_GAS_LB_PER_MMBTU = 0.20  # 40 CFR 60 Subpart D, gas-fired steam generators (DOMAIN.md)


@dataclass(frozen=True)
class NoxScreen(ByKey):
    """EmissionsGuardian's NOx permit screen: each unit's hourly NOx against the limit, the nearest first."""

    units: tuple[PermitReading, ...]
    limit_lb_per_mmbtu: float
    limit_source: str
    trend_hours: int
    horizon_hours: int

    @property
    def worst(self) -> PermitReading | None:
        """The unit whose highest hour of the week came nearest the limit."""
        return max(self.units, key=lambda unit: unit.week_max_pct, default=None)

    @property
    def warnings(self) -> tuple[PermitReading, ...]:
        return tuple(unit for unit in self.units if unit.hours_to_limit is not None)


def nox_screen(plant: Plant) -> NoxScreen:
    """The plant's units at the site permit's limit where the scenario states one, else the federal NSPS limit
    for gas (55 ms for a refinery's 17 units over a week of minutes)."""
    scenario = catalogue.scenarios()[plant.scenario]
    story = story_with(scenario, "permit_lb_per_mmbtu")
    if story is not None:
        limit, source = float(story.parameters["permit_lb_per_mmbtu"]), "the site's permit"
    else:
        limit, source = (
            NSPS_NOX_GAS_LB_PER_MMBTU,
            "the federal limit for gas (40 CFR 60 Subpart D), no site permit on file",
        )
    units = nox_permits(plant_layout(plant), hour_clock(plant), limit, plant_overlays(plant))
    return NoxScreen(
        units=tuple(units),
        limit_lb_per_mmbtu=limit,
        limit_source=source,
        trend_hours=TREND_HOURS,
        horizon_hours=HORIZON_HOURS,
    )


@dataclass(frozen=True)
class LoadRow(ByKey):
    boiler: BoilerCurve
    best_fuel: float

    @property
    def change(self) -> float:
        return self.best_fuel - self.boiler.fuel_now


@dataclass(frozen=True)
class LoadScreen(ByKey):
    """BoilerOptimizer's load allocation: the boilers' split now and the least-fuel split of the same output."""

    allocation: Allocation | None
    boilers: tuple[BoilerCurve, ...]
    fuel_price_usd_per_mmbtu: float
    window_days: int
    hours_per_year: int = 8760

    @property
    def rows(self) -> tuple[LoadRow, ...]:
        if self.allocation is None:
            return ()
        return tuple(
            LoadRow(boiler=b, best_fuel=f)
            for b, f in zip(self.allocation.boilers, self.allocation.best_fuel, strict=True)
        )

    @property
    def saving_usd_per_year(self) -> float:
        if self.allocation is None:
            return 0.0
        return self.allocation.saving_mmbtu_per_h * self.hours_per_year * self.fuel_price_usd_per_mmbtu


def load_screen(plant: Plant) -> LoadScreen:
    """The boilers' curves over the last 30 days and the least-fuel split of their output now (60 ms for a
    refinery's five boilers)."""
    curves = boiler_curves(plant_layout(plant), hour_clock(plant), plant_overlays(plant))
    return LoadScreen(
        allocation=load_allocation(curves),
        boilers=tuple(curves),
        fuel_price_usd_per_mmbtu=catalogue.scenarios()[plant.scenario].fuel_price_usd_per_mmbtu,
        window_days=WINDOW_DAYS,
    )


ECONOMISER_OUTLET_DEFAULT_C = 121.0  # the coldest a plain economiser on gas goes (DOE Steam Tip #3)


@dataclass(frozen=True)
class EconomiserBasis(ByKey):
    outlet_c: float
    capex_usd: float | None
    source: str


def economiser_basis(scenario: Scenario) -> EconomiserBasis:
    """The scenario's economiser story's figures where it has one; else 121 °C and no cost (no payback until
    the prospect enters one)."""
    story = story_with(scenario, "economiser_outlet_c", "capex_usd") or story_with(scenario, "economiser_outlet_c")
    if story is not None:
        capex = story.parameters.get("capex_usd")
        return EconomiserBasis(
            outlet_c=float(story.parameters["economiser_outlet_c"]),
            capex_usd=float(capex) if capex is not None else None,
            source=f"the figures of the story \u201c{story.name}\u201d",
        )
    return EconomiserBasis(outlet_c=ECONOMISER_OUTLET_DEFAULT_C, capex_usd=None, source="the coldest outlet on gas")


@dataclass(frozen=True)
class EconomiserScreen(ByKey):
    """BoilerOptimizer's economiser screen: per boiler, the fuel an economiser would save, and the payback."""

    boilers: tuple[EconomiserSaving, ...]
    basis: EconomiserBasis
    fuel_price_usd_per_mmbtu: float

    @property
    def saved_mmbtu(self) -> float:
        return sum(boiler.saved_mmbtu for boiler in self.boilers)

    @property
    def saving_usd(self) -> float:
        return self.saved_mmbtu * self.fuel_price_usd_per_mmbtu

    @property
    def payback_years(self) -> float | None:
        if self.basis.capex_usd is None or self.saving_usd <= 0:
            return None
        return self.basis.capex_usd / self.saving_usd


def economiser_screen(plant: Plant, basis: EconomiserBasis | None = None) -> EconomiserScreen:
    """Each boiler over the twelve months to the plant's current hour (hourly), priced at the scenario's fuel."""
    scenario = catalogue.scenarios()[plant.scenario]
    basis = basis or economiser_basis(scenario)
    boilers = economiser_savings(plant_layout(plant), hour_clock(plant), basis.outlet_c, plant_overlays(plant))
    return EconomiserScreen(
        boilers=tuple(boilers), basis=basis, fuel_price_usd_per_mmbtu=scenario.fuel_price_usd_per_mmbtu
    )
