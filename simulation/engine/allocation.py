"""Boiler load allocation (BoilerOptimizer's load screen): the steam the boiler house makes now, shared among
its boilers so that the fuel they burn is least, from each boiler's measured efficiency curve.

Each boiler's efficiency against its firing rate is fitted (least squares, a parabola) to its hourly readings
over the last ``WINDOW_DAYS``; its useful output is firing × efficiency. The house's output now is kept; the
split that burns least fuel gives each boiler the same incremental cost, the fuel for one more MMBtu/h of
output: found by handing the demand out in small steps, each to the boiler whose next step costs least fuel
(the equal-incremental-cost rule of economic dispatch; Wood & Wollenberg, "Power Generation, Operation and
Control", ch. 3), each boiler between the lowest and highest firing it ran at over the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simulation.engine.kpis import Clock, hourly_minutes
from simulation.engine.plant import PlantLayout
from simulation.engine.signals import MINUTES_PER_DAY, Overlay, sensor_values

WINDOW_DAYS = 30
STEPS = 400  # the demand is handed out in this many steps
# A split that saves less than this share of the fuel is no reason to move load: within what the curves' fit
# and the day's swings blur (an engineer's judgement, assumed).
MATERIAL_SAVING = 0.005


@dataclass(frozen=True)
class BoilerCurve:
    tag: str
    sensor_tags: tuple[str, str]  # firing rate, efficiency
    coefficients: tuple[float, float, float]  # efficiency % = c0 × F² + c1 × F + c2, F in MMBtu/h fuel
    fuel_min: float
    fuel_max: float
    fuel_now: float  # the last hour's mean

    def efficiency(self, fuel: float) -> float:
        return float(np.polyval(self.coefficients, fuel))

    @property
    def efficiency_now(self) -> float:
        """As the fitted curve has it at the firing now."""
        return self.efficiency(self.fuel_now)

    def output(self, fuel: float) -> float:
        """Useful heat out, MMBtu/h."""
        return fuel * self.efficiency(fuel) / 100.0


@dataclass(frozen=True)
class Allocation:
    boilers: tuple[BoilerCurve, ...]
    best_fuel: tuple[float, ...]  # per boiler, in the order of ``boilers``
    output: float  # MMBtu/h, kept

    @property
    def fuel_now(self) -> float:
        return sum(boiler.fuel_now for boiler in self.boilers)

    @property
    def fuel_best(self) -> float:
        return sum(self.best_fuel)

    @property
    def saving_mmbtu_per_h(self) -> float:
        return max(0.0, self.fuel_now - self.fuel_best)

    @property
    def worth_moving(self) -> bool:
        """Whether the best split saves enough to act on (``MATERIAL_SAVING`` of the fuel now)."""
        return self.saving_mmbtu_per_h >= MATERIAL_SAVING * self.fuel_now


def boiler_curves(plant: PlantLayout, clock: Clock, overlays: Sequence[Overlay] = ()) -> list[BoilerCurve]:
    minutes = hourly_minutes(clock, WINDOW_DAYS * MINUTES_PER_DAY)
    curves = []
    for asset in plant.assets:
        sensors = {sensor.kind: sensor for sensor in plant.sensors_of(asset.index)}
        if asset.type != "boiler" or not {"firing_rate", "efficiency"} <= set(sensors):
            continue
        firing_sensor, efficiency_sensor = sensors["firing_rate"], sensors["efficiency"]
        firing, efficiency = sensor_values(
            plant, [firing_sensor.index, efficiency_sensor.index], minutes, base_minute=clock.base, overlays=overlays
        )
        coefficients = np.polyfit(firing, efficiency, 2)
        curves.append(
            BoilerCurve(
                tag=asset.tag,
                sensor_tags=(firing_sensor.tag, efficiency_sensor.tag),
                coefficients=(float(coefficients[0]), float(coefficients[1]), float(coefficients[2])),
                fuel_min=float(np.percentile(firing, 2)),
                fuel_max=float(np.percentile(firing, 98)),
                fuel_now=float(firing[-1]),
            )
        )
    return curves


def load_allocation(curves: Sequence[BoilerCurve]) -> Allocation | None:
    """The least-fuel split of the boilers' output now; None without two boilers to share it, or for an output
    outside what they ran at."""
    if len(curves) < 2:
        return None
    output = sum(curve.output(curve.fuel_now) for curve in curves)
    fuel = [curve.fuel_min for curve in curves]
    remaining = output - sum(curve.output(f) for curve, f in zip(curves, fuel, strict=True))
    if remaining < 0 or output > sum(curve.output(curve.fuel_max) for curve in curves):
        return None
    step = remaining / STEPS
    for _ in range(STEPS):
        best, best_fuel = -1, float("inf")
        for n, curve in enumerate(curves):
            if fuel[n] >= curve.fuel_max:
                continue
            slope = (curve.output(fuel[n] + 0.01) - curve.output(fuel[n])) / 0.01  # output per fuel, here
            needed = step / slope if slope > 0 else float("inf")
            if needed < best_fuel:
                best, best_fuel = n, needed
        if best < 0:
            return None
        fuel[best] = min(curves[best].fuel_max, fuel[best] + best_fuel)
    return Allocation(boilers=tuple(curves), best_fuel=tuple(fuel), output=output)
