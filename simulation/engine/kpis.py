"""The numbers a scenario's stories promise, computed from the plant's own data.

Each metric reads the generated signals (hourly samples of the 12 months before ``clock.now``,
or the last days for "now" figures) and applies the cited calculations. A story's headline in the
scenario file is a claim; ``validate_scenarios`` checks that these functions reproduce it within ±10 %.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from simulation.engine import calculations as calc
from simulation.engine.assets import ASSET_TYPES
from simulation.engine.plant import PlantLayout, Sensor
from simulation.engine.scenario import Story
from simulation.engine.signals import (
    HISTORY_MINUTES,
    MINUTES_PER_DAY,
    O2_STACK_C_PER_PCT,
    Overlay,
    efficiency_pct,
    sensor_values,
)

HOURS_PER_YEAR = 8760
TRAP_FAILED_OPEN_C = 130.0  # a day's mean trap outlet above this: live steam passes (a healthy one sits near 95 °C)
GJ_PER_MMBTU = 1.055056


@dataclass(frozen=True)
class Clock:
    """``base``: the sandbox's start (BASE_TS), which anchors every episode; ``now``: where "the last
    12 months" end. At creation both are the same minute."""

    base: int
    now: int

    @classmethod
    def at_start(cls, base_minute: int) -> Clock:
        return cls(base_minute, base_minute)


@dataclass(frozen=True)
class Kpi:
    key: str
    name: str
    value: float
    unit: str


def hourly_minutes(clock: Clock, span_minutes: int = HISTORY_MINUTES) -> NDArray[np.int64]:
    """One sample per hour over the ``span_minutes`` before now."""
    return np.arange(clock.now - span_minutes, clock.now, 60, dtype=np.int64)


def _assets_of(plant: PlantLayout, asset_type: str) -> list[int]:
    return [asset.index for asset in plant.assets if asset.type == asset_type]


def _series(
    plant: PlantLayout,
    asset_index: int,
    kinds: Sequence[str],
    minutes: NDArray[np.int64],
    clock: Clock,
    overlays: Sequence[Overlay] = (),
) -> list[NDArray[np.float64]]:
    by_kind = {sensor.kind: sensor.index for sensor in plant.sensors_of(asset_index)}
    values = sensor_values(plant, [by_kind[k] for k in kinds], minutes, base_minute=clock.base, overlays=overlays)
    return list(values)


def o2_trim_annual_saving_usd(
    plant: PlantLayout, clock: Clock, story: Story, overlays: Sequence[Overlay] = ()
) -> float:
    """Fuel cost saved in a year by trimming every heater's O2 to the story's target (DOE Steam Tip #4)."""
    target = float(story.parameters.get("target_o2_pct", 3.0))
    minutes = hourly_minutes(clock)
    total_saving_mmbtu = 0.0
    for asset in _assets_of(plant, str(story.parameters.get("asset_type", "fired_heater"))):
        firing, o2, stack, air = _series(
            plant, asset, ("firing_rate", "o2", "stack_temp", "air_temp"), minutes, clock, overlays
        )
        now = efficiency_pct(o2, stack, air)
        trimmed_stack = stack + O2_STACK_C_PER_PCT * (np.minimum(o2, target) - o2)
        better = efficiency_pct(np.minimum(o2, target), trimmed_stack, air)
        total_saving_mmbtu += float(
            np.sum(firing * calc.fuel_saving_fraction(efficiency_old_pct=now, efficiency_new_pct=better))
        )
    return total_saving_mmbtu * plant.scenario.fuel_price_usd_per_mmbtu


def nox_permit_use_pct(plant: PlantLayout, clock: Clock, story: Story, overlays: Sequence[Overlay] = ()) -> float:
    """Highest hourly NOx of the last 7 days as a share of the permit limit (EPA Method 19, O2 basis)."""
    limit = float(story.parameters["permit_lb_per_mmbtu"])
    minutes = np.arange(clock.now - 7 * MINUTES_PER_DAY, clock.now, 1, dtype=np.int64)
    worst = 0.0
    for asset in _assets_of(plant, str(story.parameters.get("asset_type", "boiler"))):
        nox, o2 = _series(plant, asset, ("nox", "o2"), minutes, clock, overlays)
        emission = calc.nox_lb_per_mmbtu(nox_ppm=nox, o2_pct=np.clip(o2, 0.0, 20.0), fuel=plant.scenario.fuel)
        hourly = np.asarray(emission)[: len(minutes) // 60 * 60].reshape(-1, 60).mean(axis=1)
        worst = max(worst, float(hourly.max()))
    return 100.0 * worst / limit


def pinch_recoverable_mw(plant: PlantLayout, clock: Clock, story: Story, overlays: Sequence[Overlay] = ()) -> float:
    """Heat that could be recovered beyond today's exchangers: problem-table target minus current recovery."""
    streams = [
        calc.Stream(str(s["name"]), float(s["supply_c"]), float(s["target_c"]), float(s["cp_kw_per_k"]))
        for s in plant.scenario.streams
    ]
    result = calc.pinch_analysis(streams=streams, dt_min_c=float(story.parameters["dt_min_c"]))
    return (result.heat_recovery_kw - float(story.parameters["current_recovery_kw"])) / 1000.0


def _failed_traps(plant: PlantLayout, clock: Clock, overlays: Sequence[Overlay]) -> int:
    minutes = hourly_minutes(clock, MINUTES_PER_DAY)
    traps = _assets_of(plant, "steam_trap")
    sensors = [plant.sensors_of(asset)[0].index for asset in traps]
    values = sensor_values(plant, sensors, minutes, base_minute=clock.base, overlays=overlays)
    return int(np.sum(values.mean(axis=1) > TRAP_FAILED_OPEN_C))


def trap_loss_annual_usd(plant: PlantLayout, clock: Clock, story: Story, overlays: Sequence[Overlay] = ()) -> float:
    """Live steam lost through traps that read as failed open today, over a year (DOE Steam Tip #1)."""
    loss = calc.steam_trap_loss_lb_per_h(
        orifice_in=float(story.parameters["orifice_in"]), pressure_psig=float(story.parameters["pressure_psig"])
    )
    per_trap = calc.steam_trap_loss_cost(
        loss_lb_per_h=float(loss),
        hours_per_year=HOURS_PER_YEAR,
        steam_cost_per_1000_lb=float(story.parameters["steam_cost_per_1000_lb"]),
    )
    return float(per_trap) * _failed_traps(plant, clock, overlays)


def _fuel_and_product(
    plant: PlantLayout, clock: Clock, asset_type: str, product_kind: str, overlays: Sequence[Overlay]
) -> tuple[float, float]:
    """(GJ of fuel, t of product) over the last 12 months, summed over every asset of ``asset_type``."""
    minutes = hourly_minutes(clock)
    fuel_gj = product_t = 0.0
    for asset in _assets_of(plant, asset_type):
        fuel, product = _series(plant, asset, ("fuel_rate", product_kind), minutes, clock, overlays)
        fuel_gj += float(fuel.sum())
        product_t += float(product.sum())
    return fuel_gj, product_t


def _reheat_energy(plant: PlantLayout, clock: Clock, overlays: Sequence[Overlay]) -> tuple[float, float]:
    return _fuel_and_product(plant, clock, "reheat_furnace", "throughput", overlays)


def reheat_specific_energy_gj_per_t(
    plant: PlantLayout, clock: Clock, story: Story, overlays: Sequence[Overlay] = ()
) -> float:
    fuel_gj, steel_t = _reheat_energy(plant, clock, overlays)
    return float(calc.specific_energy_gj_per_t(fuel_gj=fuel_gj, product_t=steel_t))


def reheat_saving_annual_usd(plant: PlantLayout, clock: Clock, story: Story, overlays: Sequence[Overlay] = ()) -> float:
    """Fuel saved by the story's measure (e.g. hot charging: 25-35 % less reheat fuel, DOMAIN.md)."""
    fuel_gj, _ = _reheat_energy(plant, clock, overlays)
    return fuel_gj * float(story.parameters["saving_fraction"]) / GJ_PER_MMBTU * plant.scenario.fuel_price_usd_per_mmbtu


@dataclass(frozen=True)
class EconomiserSaving:
    """What an economiser cooling one boiler's flue gas to ``outlet_c`` would save over the twelve months."""

    tag: str
    stack_c: float  # the twelve months' mean stack temperature
    fuel_mmbtu: float  # burnt over the twelve months
    saved_mmbtu: float


def economiser_savings(
    plant: PlantLayout, clock: Clock, outlet_c: float, overlays: Sequence[Overlay] = ()
) -> list[EconomiserSaving]:
    """Per boiler, the fuel saved by cooling its flue gas to ``outlet_c`` every hour of the last twelve months:
    the efficiency at the stack temperature read against that at the outlet's (DOE table), on the fuel burnt
    (DOE Steam Tip #3: ≥ 121 °C, 250 °F, on gas, above the acid dew point)."""
    minutes = hourly_minutes(clock)
    savings = []
    for asset in _assets_of(plant, "boiler"):
        firing, o2, stack, air = _series(
            plant, asset, ("firing_rate", "o2", "stack_temp", "air_temp"), minutes, clock, overlays
        )
        now = efficiency_pct(o2, stack, air)
        after = efficiency_pct(o2, np.minimum(stack, outlet_c), air)
        saved = float(np.sum(firing * calc.fuel_saving_fraction(efficiency_old_pct=now, efficiency_new_pct=after)))
        savings.append(EconomiserSaving(plant.assets[asset].tag, float(stack.mean()), float(firing.sum()), saved))
    return savings


def _economiser(plant: PlantLayout, clock: Clock, story: Story, overlays: Sequence[Overlay]) -> float:
    """Annual fuel cost saved by cooling every boiler's flue gas to the economiser outlet temperature."""
    outlet = float(story.parameters["economiser_outlet_c"])  # ≥ 121 °C (250 °F) on gas, DOE Steam Tip #3
    saved_mmbtu = sum(saving.saved_mmbtu for saving in economiser_savings(plant, clock, outlet, overlays))
    return saved_mmbtu * plant.scenario.fuel_price_usd_per_mmbtu


def economiser_saving_annual_usd(
    plant: PlantLayout, clock: Clock, story: Story, overlays: Sequence[Overlay] = ()
) -> float:
    return _economiser(plant, clock, story, overlays)


def economiser_payback_years(plant: PlantLayout, clock: Clock, story: Story, overlays: Sequence[Overlay] = ()) -> float:
    saving = _economiser(plant, clock, story, overlays)
    return float(calc.simple_payback_years(capex=float(story.parameters["capex_usd"]), annual_saving=saving))


def _kiln(plant: PlantLayout, clock: Clock, overlays: Sequence[Overlay]) -> tuple[float, float]:
    return _fuel_and_product(plant, clock, "cement_kiln", "clinker_rate", overlays)


def kiln_specific_heat_kcal_per_kg(
    plant: PlantLayout, clock: Clock, story: Story, overlays: Sequence[Overlay] = ()
) -> float:
    fuel_gj, clinker_t = _kiln(plant, clock, overlays)
    return float(calc.gj_per_t_to_kcal_per_kg(fuel_gj / clinker_t))


def kiln_heat_saving_annual_usd(
    plant: PlantLayout, clock: Clock, story: Story, overlays: Sequence[Overlay] = ()
) -> float:
    """Fuel cost saved by bringing specific heat consumption down to the story's target."""
    fuel_gj, clinker_t = _kiln(plant, clock, overlays)
    target_gj = float(calc.kcal_per_kg_to_gj_per_t(float(story.parameters["target_kcal_per_kg"]))) * clinker_t
    return max(0.0, fuel_gj - target_gj) / GJ_PER_MMBTU * plant.scenario.fuel_price_usd_per_mmbtu


METRICS: dict[str, Callable[[PlantLayout, Clock, Story, Sequence[Overlay]], float]] = {
    "o2_trim_annual_saving_usd": o2_trim_annual_saving_usd,
    "nox_permit_use_pct": nox_permit_use_pct,
    "pinch_recoverable_mw": pinch_recoverable_mw,
    "trap_loss_annual_usd": trap_loss_annual_usd,
    "reheat_specific_energy_gj_per_t": reheat_specific_energy_gj_per_t,
    "reheat_saving_annual_usd": reheat_saving_annual_usd,
    "economiser_saving_annual_usd": economiser_saving_annual_usd,
    "economiser_payback_years": economiser_payback_years,
    "kiln_specific_heat_kcal_per_kg": kiln_specific_heat_kcal_per_kg,
    "kiln_heat_saving_annual_usd": kiln_heat_saving_annual_usd,
}


def story_value(plant: PlantLayout, clock: Clock, story: Story, overlays: Sequence[Overlay] = ()) -> float:
    return METRICS[story.headline.metric](plant, clock, story, overlays)


def mmbtu_per_h_factor(unit: str) -> float:
    """What a fuel meter's reading in ``unit`` (MMBtu/h, or GJ/h) is multiplied by to give MMBtu/h."""
    if unit == "MMBtu/h":
        return 1.0
    if unit == "GJ/h":
        return 1 / GJ_PER_MMBTU
    raise ValueError(f"Not a fuel meter's unit: {unit!r}")


def fuel_meters(plant: PlantLayout) -> list[Sensor]:
    """Every asset's fuel meter (its type's ``fuel_sensor``), in asset order."""
    return [
        sensor
        for asset in plant.assets
        for sensor in plant.sensors_of(asset.index)
        if sensor.kind == ASSET_TYPES[asset.type].fuel_sensor
    ]


def process_co2_meters(plant: PlantLayout) -> list[Sensor]:
    """Every meter of product whose tonnes release process CO2 (a kiln's clinker, ``process_co2_sensor``)."""
    return [
        sensor
        for asset in plant.assets
        for sensor in plant.sensors_of(asset.index)
        if sensor.kind == ASSET_TYPES[asset.type].process_co2_sensor
    ]


def energy_unit(meter_units: Collection[str]) -> str:
    """The unit a plant's fuel energy is written in on every page: the one its fuel meters read when they all
    read GJ/h (a cement works: kiln practice is GJ and kcal/kg), else MMBtu (US refinery and boiler practice).
    The same quantity then reads the same everywhere: the home's fuel input now is the kiln meter's value."""
    return "GJ" if meter_units and set(meter_units) == {"GJ/h"} else "MMBtu"


def energy_per_h_factor(meter_unit: str, unit: str) -> float:
    """What a fuel meter's reading in ``meter_unit`` is multiplied by to give ``unit`` per hour (MMBtu or GJ)."""
    return mmbtu_per_h_factor(meter_unit) / mmbtu_per_h_factor(f"{unit}/h")


def annual_fuel_mmbtu(plant: PlantLayout, clock: Clock, overlays: Sequence[Overlay] = ()) -> float:
    """Fuel burnt by every asset with a fuel meter over the last 12 months, MMBtu."""
    minutes = hourly_minutes(clock)
    total = 0.0
    for sensor in fuel_meters(plant):
        values = sensor_values(plant, [sensor.index], minutes, base_minute=clock.base, overlays=overlays)[0]
        total += float(values.sum()) * mmbtu_per_h_factor(sensor.unit)
    return total


def annual_process_co2_t(plant: PlantLayout, clock: Clock, overlays: Sequence[Overlay] = ()) -> float:
    """Process CO2 of the last 12 months, t: the calcination CO2 of every tonne of clinker the kilns made
    (hourly samples of t/h, so each is one hour's tonnes; ``calc.cement_process_co2_tonnes``, IPCC Tier 1).
    0 for a plant without a kiln. The kilns' fuel CO2 is separate (``calc.co2_tonnes``)."""
    meters = process_co2_meters(plant)
    if not meters:
        return 0.0
    minutes = hourly_minutes(clock)
    values = sensor_values(plant, [s.index for s in meters], minutes, base_minute=clock.base, overlays=overlays)
    return float(calc.cement_process_co2_tonnes(clinker_t=float(np.clip(values, 0.0, None).sum())))


def scenario_kpis(plant: PlantLayout, clock: Clock, overlays: Sequence[Overlay] = ()) -> list[Kpi]:
    """The figures a sandbox's home shows: fuel (in the plant's ``energy_unit``), CO2 and every story's
    headline, all from the data. A plant that makes clinker shows its CO2 split: from fuel, from calcination,
    and their sum."""
    fuel = annual_fuel_mmbtu(plant, clock, overlays)
    unit = energy_unit([sensor.unit for sensor in fuel_meters(plant)])
    fuel_co2 = float(calc.co2_tonnes(fuel_mmbtu=fuel, fuel=plant.scenario.fuel))
    kpis = [
        Kpi("annual_fuel", "Fuel burnt, last 12 months", round(fuel * energy_per_h_factor("MMBtu/h", unit)), unit),
        Kpi(
            "annual_fuel_cost",
            "Fuel cost, last 12 months",
            round(fuel * plant.scenario.fuel_price_usd_per_mmbtu),
            "USD",
        ),
        Kpi("annual_co2", "CO2 from metered fuel, last 12 months", round(fuel_co2), "t CO2"),
    ]
    if process_co2_meters(plant):
        process_co2 = annual_process_co2_t(plant, clock, overlays)
        kpis += [
            Kpi("annual_process_co2", "CO2 from calcination, last 12 months", round(process_co2), "t CO2"),
            Kpi(
                "annual_co2_total",
                "CO2 in total (fuel + calcination), last 12 months",
                round(fuel_co2 + process_co2),
                "t CO2",
            ),
        ]
    for story in plant.scenario.stories:
        kpis.append(
            Kpi(story.headline.metric, story.name, story_value(plant, clock, story, overlays), story.headline.unit)
        )
    return kpis
