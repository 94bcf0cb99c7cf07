"""Steam-trap survey of a plant (BoilerOptimizer's trap screen): each trap read from its outlet temperature,
the failed-open ones with the steam they pass and what it costs a year.

A trap is failed open when its outlet's mean over the last day is above ``TRAP_FAILED_OPEN_C`` (live steam
near saturation instead of ~95 °C condensate), as the plant's key figures count them. Its loss is Napier's
rule with the discharge coefficient of the US DOE Steam Tip Sheet #1 (``steam_trap_loss_lb_per_h``), from
its orifice and the steam pressure at the traps; its cost, that loss for the hours a year at a steam cost
per 1,000 lb (``steam_trap_loss_cost``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simulation.engine import calculations as calc
from simulation.engine.kpis import TRAP_FAILED_OPEN_C, Clock, hourly_minutes
from simulation.engine.plant import PlantLayout
from simulation.engine.signals import MINUTES_PER_DAY, Overlay, sensor_values

# US DOE Steam Tip Sheet #15 ("Benchmark the fuel cost of steam generation"): about 1,000 Btu to raise a pound
# of steam from feedwater, at 80 % boiler efficiency 1.25 MMBtu of fuel per 1,000 lb.
FUEL_MMBTU_PER_1000_LB_STEAM = 1.25
PSI_PER_BAR = 14.5038


@dataclass(frozen=True)
class TrapReading:
    tag: str
    sensor_tag: str
    orifice_in: float
    outlet_c: float  # the last day's mean
    failed_open: bool
    loss_lb_per_h: float  # 0 for a working trap
    cost_per_year: float


def trap_survey(
    plant: PlantLayout,
    clock: Clock,
    overlays: Sequence[Overlay] = (),
    *,
    pressure_psig: float,
    steam_cost_per_1000_lb: float,
    hours_per_year: float = 8760,
) -> list[TrapReading]:
    """Every steam trap of the plant, the failed-open ones first, the costliest first."""
    traps = [asset for asset in plant.assets if asset.type == "steam_trap"]
    if not traps:
        return []
    sensors = [plant.sensors_of(asset.index)[0] for asset in traps]
    minutes = hourly_minutes(clock, MINUTES_PER_DAY)
    outlets = sensor_values(plant, [s.index for s in sensors], minutes, base_minute=clock.base, overlays=overlays)
    means = outlets.mean(axis=1)
    orifices = np.array([asset.capacity for asset in traps])
    losses = np.asarray(calc.steam_trap_loss_lb_per_h(orifice_in=orifices, pressure_psig=pressure_psig))
    readings = []
    for asset, sensor, outlet, orifice, loss in zip(traps, sensors, means, orifices, losses, strict=True):
        failed = bool(outlet > TRAP_FAILED_OPEN_C)
        lost = float(loss) if failed else 0.0
        readings.append(
            TrapReading(
                tag=asset.tag,
                sensor_tag=sensor.tag,
                orifice_in=float(orifice),
                outlet_c=float(outlet),
                failed_open=failed,
                loss_lb_per_h=lost,
                cost_per_year=float(
                    calc.steam_trap_loss_cost(
                        loss_lb_per_h=lost, hours_per_year=hours_per_year, steam_cost_per_1000_lb=steam_cost_per_1000_lb
                    )
                ),
            )
        )
    return sorted(readings, key=lambda r: (not r.failed_open, -r.cost_per_year, r.tag))
