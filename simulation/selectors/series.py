"""A sensor's values over a window, at most so many points (``sensor_series_window``): the series API's read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from demoportal.core.exceptions import DomainError
from simulation.engine.downsample import min_max_buckets
from simulation.engine.signals import sensor_values_parallel
from simulation.models import (
    Plant,
    Sensor,
)
from simulation.selectors.plant import from_minute, history_bounds, plant_layout, plant_overlays, to_minute

SERIES_DEFAULT_MINUTES = 1440
SERIES_DEFAULT_POINTS = 1000
MAX_POINTS_LIMIT = 10_000


@dataclass(frozen=True)
class SensorSeriesWindow:
    """A sensor's values over the minutes [start, end): every minute, or min/max buckets when there are more
    minutes than points asked for (the peaks stay)."""

    sensor_id: int
    unit: str
    start: datetime
    end: datetime
    resolution: str  # "minute" | "min/max buckets"
    points: tuple[tuple[str, float], ...]  # (ISO 8601 UTC time, value)


def sensor_series_window(
    *,
    plant: Plant,
    sensor_id: int,
    start: datetime | None = None,
    end: datetime | None = None,
    max_points: int = SERIES_DEFAULT_POINTS,
) -> SensorSeriesWindow:
    """Sensor ``sensor_id``'s values from ``start`` (default: a day before ``end``) to ``end`` (default: the
    plant's now), at most ``max_points`` of them, with what people changed in the plant applied.

    An unknown sensor is a DomainError with status 404; a window outside the plant's history (or empty), or
    ``max_points`` outside 2 to ``MAX_POINTS_LIMIT``, is a DomainError naming the field at fault."""
    sensor = Sensor.objects.filter(pk=sensor_id).only("pk", "index", "unit").first()
    if sensor is None:
        raise DomainError("No sensor with this id in this sandbox.", status_code=404)
    first, last = history_bounds(plant)
    end_minute = to_minute(end) if end is not None else last
    start_minute = to_minute(start) if start is not None else end_minute - SERIES_DEFAULT_MINUTES
    problems: dict[str, list[str]] = {}
    if start_minute >= end_minute:
        problems["start"] = ["start must be before end."]
    if start_minute < first:
        problems["start"] = [f"start is before this sandbox's history begins ({from_minute(first).isoformat()})."]
    if end_minute > last + 1:
        problems["end"] = [f"end is in the future; this sandbox's data ends now ({from_minute(last).isoformat()})."]
    if not 2 <= max_points <= MAX_POINTS_LIMIT:
        problems["max_points"] = [f"From 2 to {MAX_POINTS_LIMIT} points."]
    if problems:
        raise DomainError("Some fields are not valid.", errors=problems)
    minutes = np.arange(start_minute, end_minute, dtype=np.int64)
    values = sensor_values_parallel(
        plant_layout(plant),
        [sensor.index],
        minutes,
        base_minute=plant.base_minute,
        overlays=plant_overlays(plant),
    )[0]
    kept_minutes, kept_values = min_max_buckets(minutes, values, max_points)
    times = np.datetime_as_string((kept_minutes * 60).astype("datetime64[s]"), unit="s", timezone="UTC")
    return SensorSeriesWindow(
        sensor_id=sensor.pk,
        unit=sensor.unit,
        start=from_minute(start_minute),
        end=from_minute(end_minute),
        resolution="minute" if len(kept_minutes) == len(minutes) else "min/max buckets",
        points=tuple((t, round(float(v), 4)) for t, v in zip(times.tolist(), kept_values.tolist(), strict=True)),
    )


# --- The sandbox home ------------------------------------------------------------------------------------
