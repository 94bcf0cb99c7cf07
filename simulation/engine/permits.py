"""NOx against the permit, per combustion unit (EmissionsGuardian's NOx permit screen): the emission rate by
EPA Method 19 from each unit's NOx and O2 analysers, averaged over each clock hour (permits are written on
averaging periods, not single minutes), the highest hour of the last week, and an early warning: the last
day's hourly averages fitted by a straight line and projected a day ahead; a line that crosses the limit
says in how many hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simulation.engine import calculations as calc
from simulation.engine.assets import ASSET_TYPES
from simulation.engine.kpis import Clock
from simulation.engine.plant import PlantLayout
from simulation.engine.signals import Overlay, sensor_values

WEEK_HOURS = 7 * 24
TREND_HOURS = 24  # the hourly averages the warning fits
HORIZON_HOURS = 24  # how far ahead it looks
NOX_KINDS = ("nox", "o2")  # a boiler's or heater's stack analysers, ppm dry and % dry


@dataclass(frozen=True)
class PermitReading:
    asset_tag: str
    asset_type: str
    limit_lb_per_mmbtu: float
    last_hour: float  # lb/MMBtu, the last complete hour's average
    week_max: float  # the highest hourly average of the last seven days
    slope_per_hour: float  # of the last day's hourly averages, lb/MMBtu an hour
    hourly: tuple[float, ...]  # the last week's hourly averages, oldest first

    @property
    def last_hour_pct(self) -> float:
        return 100.0 * self.last_hour / self.limit_lb_per_mmbtu

    @property
    def week_max_pct(self) -> float:
        return 100.0 * self.week_max / self.limit_lb_per_mmbtu

    @property
    def hours_to_limit(self) -> float | None:
        """Hours until the trend crosses the limit, within the horizon; 0 when over it now; None otherwise."""
        if self.last_hour >= self.limit_lb_per_mmbtu:
            return 0.0
        if self.slope_per_hour <= 0:
            return None
        hours = (self.limit_lb_per_mmbtu - self.last_hour) / self.slope_per_hour
        return hours if hours <= HORIZON_HOURS else None


def nox_permits(
    plant: PlantLayout, clock: Clock, limit_lb_per_mmbtu: float, overlays: Sequence[Overlay] = ()
) -> list[PermitReading]:
    """Every unit with stack NOx and O2 analysers, the nearest to its limit first."""
    end = clock.now - clock.now % 60  # hours end on the hour: the current one is not complete
    minutes = np.arange(end - WEEK_HOURS * 60, end, 1, dtype=np.int64)
    readings = []
    for asset in plant.assets:
        by_kind = {sensor.kind: sensor.index for sensor in plant.sensors_of(asset.index)}
        if not all(kind in by_kind for kind in NOX_KINDS):
            continue
        nox, o2 = sensor_values(
            plant, [by_kind[k] for k in NOX_KINDS], minutes, base_minute=clock.base, overlays=overlays
        )
        rate = np.asarray(calc.nox_lb_per_mmbtu(nox_ppm=nox, o2_pct=np.clip(o2, 0.0, 20.0), fuel=plant.scenario.fuel))
        hourly = rate.reshape(WEEK_HOURS, 60).mean(axis=1)
        recent = hourly[-TREND_HOURS:]
        slope = float(np.polyfit(np.arange(TREND_HOURS, dtype=float), recent, 1)[0])
        readings.append(
            PermitReading(
                asset_tag=asset.tag,
                asset_type=ASSET_TYPES[asset.type].name,
                limit_lb_per_mmbtu=limit_lb_per_mmbtu,
                last_hour=float(hourly[-1]),
                week_max=float(hourly.max()),
                slope_per_hour=slope,
                hourly=tuple(hourly.tolist()),
            )
        )
    return sorted(readings, key=lambda r: (-r.last_hour_pct, r.asset_tag))
