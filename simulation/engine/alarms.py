"""Alarm rules the live plant applies to each new minute's values, vectorised across sandboxes.

- A reading leaving its normal range (the sensor's normal_low..normal_high) raises one event on the
  crossing; it re-arms only once the reading is back inside the range by a hysteresis band, so a
  reading hovering at the edge does not raise an event a minute.
- Where the scenario states a NOx permit (a story with ``permit_lb_per_mmbtu``), each minute's NOx
  rate of those assets by EPA Method 19 (``calculations.nox_lb_per_mmbtu``, as the KPI computes it)
  raises an event when it goes above the limit, re-armed below PERMIT_REARM_FRACTION of it. Permits
  are judged on hourly averages; a minute above the limit is the early warning the product shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from simulation.engine import calculations as calc
from simulation.engine.plant import PlantLayout

HYSTERESIS_SPAN_FRACTION = 0.02  # assumed: back inside the range by 2 % of its width...
HYSTERESIS_NOISE_SD = 3.0  # ...or by 3 σ of the measurement noise, whichever is wider
PERMIT_REARM_FRACTION = 0.95  # assumed: a permit warning re-arms below 95 % of the limit
O2_RANGE_PCT = (0.0, 20.0)  # what Method 19 accepts (dry flue gas), as the NOx KPI clips it


@dataclass(frozen=True)
class Limits:
    """A plant's normal ranges and hysteresis bands, by sensor index."""

    low: NDArray[np.float64]
    high: NDArray[np.float64]
    band: NDArray[np.float64]


def plant_limits(plant: PlantLayout) -> Limits:
    low = np.array([s.low for s in plant.sensors])
    high = np.array([s.high for s in plant.sensors])
    band = np.maximum(HYSTERESIS_SPAN_FRACTION * (high - low), HYSTERESIS_NOISE_SD * plant.arrays.noise_sd)
    return Limits(low, high, np.minimum(band, (high - low) / 2))


def limit_crossings(
    values: NDArray[np.float64], limits: Limits, outside: NDArray[np.bool_]
) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]:
    """(left, returned, outside afterwards) for readings ``values`` given which were ``outside`` before:
    ``left`` the readings that just left their range, ``returned`` those back inside it by the band."""
    beyond = (values < limits.low) | (values > limits.high)
    well_inside = (values >= limits.low + limits.band) & (values <= limits.high - limits.band)
    left = beyond & ~outside
    returned = well_inside & outside
    return left, returned, (outside | left) & ~returned


@dataclass(frozen=True)
class Permit:
    """A plant's NOx permit: the assets it covers, their NOx and O2 sensor indices, the limit."""

    assets: NDArray[np.int64]
    nox: NDArray[np.int64]
    o2: NDArray[np.int64]
    limit_lb_per_mmbtu: float
    fuel: str


def plant_permit(plant: PlantLayout) -> Permit | None:
    """The NOx permit the scenario states (a story's ``permit_lb_per_mmbtu`` for its ``asset_type``), or None."""
    story = next((s for s in plant.scenario.stories if "permit_lb_per_mmbtu" in s.parameters), None)
    if story is None:
        return None
    asset_type = str(story.parameters.get("asset_type", "boiler"))
    assets, nox, o2 = [], [], []
    for asset in plant.assets:
        by_kind = {s.kind: s.index for s in plant.sensors_of(asset.index)}
        if asset.type == asset_type and "nox" in by_kind and "o2" in by_kind:
            assets.append(asset.index)
            nox.append(by_kind["nox"])
            o2.append(by_kind["o2"])
    if not assets:
        return None
    limit = float(story.parameters["permit_lb_per_mmbtu"])
    return Permit(np.array(assets), np.array(nox), np.array(o2), limit, plant.scenario.fuel)


def nox_rates(nox_ppm: NDArray[np.float64], o2_pct: NDArray[np.float64], fuels: Sequence[str]) -> NDArray[np.float64]:
    """NOx lb/MMBtu of many assets at once (``fuels`` one per asset; one Method 19 call per fuel)."""
    rates = np.empty(len(nox_ppm))
    fuel_of = np.array(fuels)
    for fuel in set(fuels):
        these = fuel_of == fuel
        rates[these] = calc.nox_lb_per_mmbtu(
            nox_ppm=np.maximum(nox_ppm[these], 0.0), o2_pct=np.clip(o2_pct[these], *O2_RANGE_PCT), fuel=fuel
        )
    return rates


def permit_crossings(
    rates: NDArray[np.float64], limits: NDArray[np.float64], over: NDArray[np.bool_]
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """(went over, over afterwards) for NOx ``rates`` against their permits' ``limits``."""
    went_over = (rates > limits) & ~over
    rearmed = (rates < PERMIT_REARM_FRACTION * limits) & over
    return went_over, (over | went_over) & ~rearmed
