"""Carbon accounting of a plant: CO2 per calendar month and per source over the last twelve months, from its
own meters (EmissionsGuardian's "CO2 accounting" screen).

Sources are each asset with a fuel meter (combustion CO2 by 40 CFR 98 Subpart C, Tier 1: Eq. C-1 with the
Table C-1 factor of the scenario's fuel, and CO2e with the Table C-2 CH4 and N2O defaults, ``co2_tonnes`` and
``co2e_tonnes``) and, at a cement works, each kiln's clinker (process CO2 of calcination, IPCC 2006 Vol. 3
Ch. 2 Tier 1, ``cement_process_co2_tonnes``; under the EU ETS MRR Annex IV it is reported separately from
fuel). One sample per hour, as the key figures (``kpis.hourly_minutes``): a meter's rate times one hour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simulation.engine import calculations as calc
from simulation.engine.assets import ASSET_TYPES
from simulation.engine.kpis import Clock, hourly_minutes, mmbtu_per_h_factor
from simulation.engine.plant import PlantLayout
from simulation.engine.signals import Overlay, sensor_values

CLINKER_KIND = "clinker_rate"  # t/h, on a cement kiln


@dataclass(frozen=True)
class CarbonSource:
    """One source's CO2 per month (t), and what it is computed from."""

    key: str  # the asset's tag, suffixed by the kind of emission
    name: str
    kind: str  # "combustion" or "process"
    inputs: tuple[str, ...]  # the sensor tags read
    activity: tuple[float, ...]  # per month: fuel in MMBtu (HHV), or clinker in t
    activity_unit: str
    co2_t: tuple[float, ...]
    co2e_t: tuple[float, ...]  # CO2 plus CH4 and N2O as CO2e (combustion); process CO2 is CO2 alone


@dataclass(frozen=True)
class CarbonAccount:
    """CO2 per calendar month (``months``, "YYYY-MM", oldest first) and per source. The first and last months
    are part-months: the twelve months end at the plant's current hour."""

    months: tuple[str, ...]
    hours: tuple[int, ...]  # hours of each month inside the window
    sources: tuple[CarbonSource, ...]
    fuel: str
    co2_kg_per_mmbtu: float

    @property
    def co2_by_month(self) -> tuple[float, ...]:
        return tuple(float(sum(values)) for values in zip(*(s.co2_t for s in self.sources), strict=True))

    @property
    def co2e_by_month(self) -> tuple[float, ...]:
        return tuple(float(sum(values)) for values in zip(*(s.co2e_t for s in self.sources), strict=True))

    @property
    def co2_total(self) -> float:
        return float(sum(self.co2_by_month))

    @property
    def co2e_total(self) -> float:
        return float(sum(self.co2e_by_month))


def carbon_account(plant: PlantLayout, clock: Clock, overlays: Sequence[Overlay] = ()) -> CarbonAccount:
    minutes = hourly_minutes(clock)
    month_of = minutes.astype("datetime64[m]").astype("datetime64[M]")
    months, month_index, hours = np.unique(month_of, return_inverse=True, return_counts=True)

    def by_month(hourly: np.ndarray) -> np.ndarray:
        return np.bincount(month_index, weights=hourly, minlength=len(months))

    fuel = plant.scenario.fuel
    sources = []
    for asset in plant.assets:
        asset_type = ASSET_TYPES[asset.type]
        sensors = {sensor.kind: sensor for sensor in plant.sensors_of(asset.index)}
        if asset_type.fuel_sensor is not None:
            meter = sensors[asset_type.fuel_sensor]
            rate = sensor_values(plant, [meter.index], minutes, base_minute=clock.base, overlays=overlays)[0]
            mmbtu = by_month(rate * mmbtu_per_h_factor(meter.unit))
            sources.append(
                CarbonSource(
                    key=f"{asset.tag}:combustion",
                    name=f"{asset.tag} {asset_type.name.lower()}: fuel",
                    kind="combustion",
                    inputs=(meter.tag,),
                    activity=tuple(mmbtu.tolist()),
                    activity_unit="MMBtu",
                    co2_t=tuple(calc.co2_tonnes(fuel_mmbtu=mmbtu, fuel=fuel).tolist()),
                    co2e_t=tuple(calc.co2e_tonnes(fuel_mmbtu=mmbtu, fuel=fuel).tolist()),
                )
            )
        if CLINKER_KIND in sensors:
            clinker_sensor = sensors[CLINKER_KIND]
            rate = sensor_values(plant, [clinker_sensor.index], minutes, base_minute=clock.base, overlays=overlays)[0]
            clinker = by_month(rate)
            process = calc.cement_process_co2_tonnes(clinker_t=clinker).tolist()
            sources.append(
                CarbonSource(
                    key=f"{asset.tag}:process",
                    name=f"{asset.tag} {asset_type.name.lower()}: calcination",
                    kind="process",
                    inputs=(clinker_sensor.tag,),
                    activity=tuple(clinker.tolist()),
                    activity_unit="t clinker",
                    co2_t=tuple(process),
                    co2e_t=tuple(process),
                )
            )
    return CarbonAccount(
        months=tuple(str(month) for month in months),
        hours=tuple(int(count) for count in hours),
        sources=tuple(sources),
        fuel=fuel,
        co2_kg_per_mmbtu=float(calc.CO2_KG_PER_MMBTU[fuel]),
    )


# EU ETS free allocation, 2021–2025: Commission Implementing Regulation (EU) 2021/447, the benchmark values.
CLINKER_BENCHMARK_T_PER_T = 0.693  # grey cement clinker, allowances per t clinker
FUEL_BENCHMARK_T_PER_TJ = 42.6  # fuel-benchmark sub-installation, allowances per TJ of fuel
CARBON_LEAKAGE_FACTOR = 1.0  # cement, iron and steel, refining and chemicals are on the carbon-leakage list
TJ_PER_MMBTU = 1.055056e-3


@dataclass(frozen=True)
class AllowancePosition:
    """A plant's EU ETS position over the account's twelve months: free allocation by the benchmarks applied to
    this year's activity, verified emissions (its CO2), the shortfall and what buying it costs."""

    free_t: float
    basis: str  # which benchmark, on what activity
    verified_t: float
    price_eur_per_t: float

    @property
    def shortfall_t(self) -> float:
        return max(0.0, self.verified_t - self.free_t)

    @property
    def surplus_t(self) -> float:
        return max(0.0, self.free_t - self.verified_t)

    @property
    def cost_eur(self) -> float:
        return self.shortfall_t * self.price_eur_per_t


def allowance_position(account: CarbonAccount, price_eur_per_t: float) -> AllowancePosition:
    """The clinker product benchmark for a kiln's output, the fuel benchmark for the fuel burnt elsewhere (an
    approximation: a real installation's sub-installations are fixed in its allocation application), times
    the carbon-leakage factor."""
    clinker_t = sum(sum(s.activity) for s in account.sources if s.kind == "process")
    kilns = {s.key.split(":")[0] for s in account.sources if s.kind == "process"}
    fuel_tj = TJ_PER_MMBTU * sum(
        sum(s.activity) for s in account.sources if s.kind == "combustion" and s.key.split(":")[0] not in kilns
    )
    free = CARBON_LEAKAGE_FACTOR * (CLINKER_BENCHMARK_T_PER_T * clinker_t + FUEL_BENCHMARK_T_PER_TJ * fuel_tj)
    parts = []
    if clinker_t:
        parts.append(f"clinker benchmark {CLINKER_BENCHMARK_T_PER_T} × {clinker_t:,.0f} t clinker")
    if fuel_tj:
        parts.append(f"fuel benchmark {FUEL_BENCHMARK_T_PER_TJ} × {fuel_tj:,.0f} TJ of fuel")
    return AllowancePosition(
        free_t=free, basis="; ".join(parts), verified_t=account.co2_total, price_eur_per_t=price_eur_per_t
    )
