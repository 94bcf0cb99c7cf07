"""Tube-metal temperature watch of a plant's fired heaters (ThermalCommand's TMT screen): each pass's
temperature now, its trend over the last days, and when the trend reaches the pass's limit.

The trend is the least-squares slope of the hourly samples over ``TREND_DAYS`` (°C/day): coking and fouling
raise a tube's metal temperature slowly, over weeks (API RP 535 on fired-heater tube skin thermocouples),
and a straight line over a week separates that creep from the hour-to-hour swing of load and noise. The
limit is the high end of the thermocouple's normal range, where the plant alarms; the days to it are the
margin over the slope, shown only for a rising trend (a falling or flat one never reaches it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simulation.engine.kpis import Clock
from simulation.engine.plant import PlantLayout
from simulation.engine.signals import Overlay, sensor_values

TUBE_KINDS = ("tmt_a", "tmt_b")  # a fired heater's tube-metal thermocouples, per pass
TREND_DAYS = 7
RISING_C_PER_DAY = 0.5  # a slower slope is within what a week of load swings makes of a flat tube


@dataclass(frozen=True)
class TubePass:
    asset_tag: str
    sensor_tag: str
    name: str
    now_c: float  # the last hour's mean
    limit_c: float
    slope_c_per_day: float

    @property
    def margin_c(self) -> float:
        return self.limit_c - self.now_c

    @property
    def rising(self) -> bool:
        return self.slope_c_per_day >= RISING_C_PER_DAY

    @property
    def days_to_limit(self) -> float | None:
        """Days until the trend reaches the limit: 0 at or past it, None for a trend that is not rising."""
        if self.margin_c <= 0:
            return 0.0
        return self.margin_c / self.slope_c_per_day if self.rising else None


def tube_watch(plant: PlantLayout, clock: Clock, overlays: Sequence[Overlay] = ()) -> list[TubePass]:
    """Every tube pass of the plant, the nearest to its limit first (by days, then by margin)."""
    minutes = np.arange(clock.now - TREND_DAYS * 1440, clock.now, 60, dtype=np.int64)
    days = (minutes - minutes[0]) / 1440.0
    passes = []
    for asset in plant.assets:
        sensors = [sensor for sensor in plant.sensors_of(asset.index) if sensor.kind in TUBE_KINDS]
        if not sensors:
            continue
        values = sensor_values(plant, [s.index for s in sensors], minutes, base_minute=clock.base, overlays=overlays)
        for sensor, series in zip(sensors, values, strict=True):
            slope = float(np.polyfit(days, series, 1)[0])
            passes.append(
                TubePass(
                    asset_tag=asset.tag,
                    sensor_tag=sensor.tag,
                    name=sensor.name,
                    now_c=float(series[-1]),
                    limit_c=sensor.high,
                    slope_c_per_day=slope,
                )
            )
    return sorted(passes, key=lambda p: (p.days_to_limit is None, p.days_to_limit or 0.0, p.margin_c))
