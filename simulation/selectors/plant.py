"""Reads of a sandbox's plant and the engine inputs its rows stand for: the plant, its assets and sensors, its
clock, overlays and KPIs, and its values now. Run inside the sandbox's schema."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, cast

import numpy as np
from django.core.cache import cache
from django.db.models import F, QuerySet
from django.utils import timezone
from numpy.typing import NDArray

from demoportal.core import catalogue
from simulation.engine.assets import ASSET_TYPES
from simulation.engine.calculations import CLINKER_CO2_T_PER_T, co2_tonnes
from simulation.engine.kpis import Clock, energy_per_h_factor, energy_unit, mmbtu_per_h_factor, scenario_kpis
from simulation.engine.plant import PlantLayout, plant_build
from simulation.engine.signals import HISTORY_MINUTES, Overlay, sensor_values_parallel
from simulation.models import (
    AppliedOptimization,
    Asset,
    InjectedAnomaly,
    Plant,
    Sensor,
)
from simulation.selectors.display import ByKey, Kpi


def plant_get() -> Plant | None:
    return Plant.objects.first()


def asset_list() -> QuerySet[Asset]:
    return Asset.objects.order_by("index")


def asset_rows() -> list[dict[str, Any]]:
    """The assets as the API shows them (``AssetOutput``), built from values(): no model instances."""
    return [dict(row) for row in asset_list().values("id", "tag", "type", "name", "capacity", "capacity_unit")]


def sensor_rows(*, asset_id: int | None = None) -> list[dict[str, Any]]:
    """The sensors as the API shows them (``SensorOutput``), built from values(): a refinery's 537 sensors
    take 4 ms this way against 40 ms through a serializer."""
    fields = ("id", "asset_id", "key", "tag", "kind", "name", "unit", "normal_low", "normal_high")
    rows = sensor_list(asset_id=asset_id).values(*fields, asset_tag=F("asset__tag"))
    return [
        {
            "id": row["id"],
            "asset_id": row["asset_id"],
            "asset_tag": row["asset_tag"],
            "key": row["key"],
            "tag": row["tag"],
            "kind": row["kind"],
            "name": row["name"],
            "unit": row["unit"],
            "normal_range": {"low": row["normal_low"], "high": row["normal_high"]},
        }
        for row in rows
    ]


def sensor_list(*, asset_id: int | None = None) -> QuerySet[Sensor]:
    sensors = Sensor.objects.select_related("asset").order_by("index")
    return sensors.filter(asset_id=asset_id) if asset_id is not None else sensors


@lru_cache(maxsize=64)
def _plant(scenario_key: str, version: str, seed: int) -> PlantLayout:
    return plant_build(catalogue.scenarios()[scenario_key], seed)


def plant_layout(plant: Plant) -> PlantLayout:
    """The engine's plant for this plant (built once per process for each scenario and seed)."""
    return _plant(plant.scenario, plant.scenario_version, plant.seed)


def plant_sim_now(plant: Plant, now: datetime | None = None) -> datetime:
    """The plant's own "now": wall time at 1×, further ahead the faster its clock has run (time
    compression, ``clock_set``). Where a plant's "now" matters (the end of its history, its KPIs'
    window, its recent events, the live ticker) it is this."""
    now = now or timezone.now()
    if plant.clock_wall_at is None or plant.clock_sim_at is None:
        return now
    return plant.clock_sim_at + (now - plant.clock_wall_at) * plant.time_scale


@dataclass(frozen=True)
class PlantClock:
    """The plant's clock as the sandbox bar shows it to whoever uses the sandbox: how fast it runs and where
    it is, so nobody takes values that move faster than physics allows for real time."""

    time_scale: int  # simulated seconds per wall second: 1 is real time
    plant_now: datetime
    wall_now: datetime

    @property
    def ahead(self) -> timedelta:
        """How far the plant's time runs ahead of the wall clock, from having run faster."""
        return self.plant_now - self.wall_now

    @property
    def shown(self) -> bool:
        """Worth a word in the bar: the clock runs fast now, or ran fast and is a minute or more ahead."""
        return self.time_scale > 1 or self.ahead >= timedelta(minutes=1)

    @property
    def shows_date(self) -> bool:
        """The plant's time needs its date: it is on another day than the wall clock (UTC)."""
        return self.plant_now.astimezone(UTC).date() != self.wall_now.astimezone(UTC).date()


def plant_clock(plant: Plant, now: datetime | None = None) -> PlantClock:
    """``plant``'s clock at wall time ``now`` (``plant_sim_now``); no query."""
    wall = now or timezone.now()
    scale = plant.time_scale if plant.clock_wall_at is not None and plant.clock_sim_at is not None else 1
    return PlantClock(time_scale=scale, plant_now=plant_sim_now(plant, wall), wall_now=wall)


def to_minute(moment: datetime) -> int:
    """A moment in the engine's unit: whole minutes since the Unix epoch, UTC."""
    return int(moment.timestamp() // 60)


def from_minute(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * 60, tz=UTC)


def plant_overlays(plant: Plant) -> list[Overlay]:
    """What people changed in this plant, as engine overlays, oldest first."""
    overlays = [
        Overlay(
            "anomaly",
            a.asset.index,
            to_minute(a.starts_at),
            to_minute(a.ends_at) if a.ends_at else None,
            anomaly_type=a.type,
            magnitude=a.magnitude,
        )
        for a in InjectedAnomaly.objects.select_related("asset").filter(asset__plant=plant)
    ]
    overlays += [
        Overlay("o2_setpoint", o.asset.index, to_minute(o.applied_at), value=float(o.parameters["o2_pct"]))
        for o in AppliedOptimization.objects.select_related("asset").filter(asset__plant=plant, kind="o2_setpoint")
    ]
    return overlays


KPI_CACHE_SECONDS = 3600


def plant_kpis(plant: Plant) -> list[dict[str, Any]]:
    """The scenario's key figures up to the current hour, computed from the plant's data (0.03-0.35 s of
    CPU, by scenario) and cached for the hour, the plant's start and its current overlays. ``kpis_warm``
    fills the cache when a sandbox is made or reset, so the first page a prospect opens need not wait."""
    key, hour, overlays = _kpi_cache_key(plant)

    def compute() -> list[dict[str, Any]]:
        computed = scenario_kpis(plant_layout(plant), Clock(base=plant.base_minute, now=hour * 60), overlays)
        return [{"key": k.key, "name": k.name, "value": round(k.value, 4), "unit": k.unit} for k in computed]

    return cast(list[dict[str, Any]], cache.get_or_set(key, compute, KPI_CACHE_SECONDS))


def plant_kpis_cached(plant: Plant, *, overlays: list[Overlay] | None = None) -> list[dict[str, Any]] | None:
    """The key figures if they are computed already, else None (the page then fetches them from the API).
    ``overlays``: the plant's ``plant_overlays`` when the caller has them already."""
    return cast(list[dict[str, Any]] | None, cache.get(_kpi_cache_key(plant, overlays=overlays)[0]))


def _kpi_cache_key(plant: Plant, *, overlays: list[Overlay] | None = None) -> tuple[str, int, list[Overlay]]:
    overlays = plant_overlays(plant) if overlays is None else overlays
    fingerprint = hashlib.sha256(repr(overlays).encode()).hexdigest()[:16]
    hour = int(plant_sim_now(plant).timestamp() // 3600)
    # The schema prefixes every cache key; seed and start change with a claim or reset.
    key = f"kpis:{plant.pk}:{plant.seed}:{plant.base_minute}:{fingerprint}:{hour}"
    return key, hour, overlays


def asset_get(*, tag: str) -> Asset | None:
    return Asset.objects.filter(tag=tag).first()


def sensor_values_window(
    plant: Plant,
    sensors: list[dict[str, Any]],
    *,
    start: int,
    end: int,
    overlays: list[Overlay] | None = None,
) -> NDArray[Any]:
    """The engine's values of ``sensors`` (rows of ``sensor_rows``) for the minutes [start, end), one row per
    sensor, with what people changed in the plant (``plant_overlays``) applied."""
    indices = list(Sensor.objects.filter(pk__in=[s["id"] for s in sensors]).values_list("pk", "index"))
    index_of = dict(indices)
    return sensor_values_parallel(
        plant_layout(plant),
        [index_of[s["id"]] for s in sensors],
        np.arange(start, end, dtype=np.int64),
        base_minute=plant.base_minute,
        overlays=plant_overlays(plant) if overlays is None else overlays,
    )


def asset_o2_setpoint(*, asset: Asset, o2_sensor_id: int) -> dict[str, Any]:
    """The O2 setpoint ``asset`` runs at, %: the one last applied to it (``applied_at``, ``applied_by``) or,
    when nobody changed it, its design value (the O2 sensor's base)."""
    latest = AppliedOptimization.objects.filter(asset=asset, kind="o2_setpoint").order_by("-applied_at").first()
    if latest is not None:
        return {
            "value": float(latest.parameters["o2_pct"]),
            "applied_at": latest.applied_at,
            "applied_by": latest.created_by,
        }
    parameters = Sensor.objects.filter(pk=o2_sensor_id).values_list("parameters", flat=True).first() or {}
    return {"value": float(parameters.get("base", 0.0)), "applied_at": None, "applied_by": ""}


FIRING_RATE_WINDOW_MINUTES = 7 * 1440


def asset_firing_rate_mmbtu_per_h(
    plant: Plant,
    *,
    asset: Asset,
    sensors: list[dict[str, Any]] | None = None,
    overlays: list[Overlay] | None = None,
) -> float | None:
    """``asset``'s mean fuel input over the last seven days of its plant's data, MMBtu/h (HHV), from its
    fuel meter (a GJ/h meter converted); None for an asset without one. ``sensors``: the asset's
    ``sensor_rows`` when the caller has them already."""
    meters = fuel_meters(
        assets=[{"id": asset.pk, "type": asset.type}],
        sensors=sensor_rows(asset_id=asset.pk) if sensors is None else sensors,
    )
    if not meters:
        return None
    (fuel, factor), *_ = meters
    end = to_minute(plant_sim_now(plant))
    start = end - FIRING_RATE_WINDOW_MINUTES
    values = sensor_values_window(plant, [fuel], start=start, end=end, overlays=overlays)[0]
    return float(np.clip(values, 0.0, None).mean()) * factor


def fuel_meters(*, assets: list[dict[str, Any]], sensors: list[dict[str, Any]]) -> list[tuple[dict[str, Any], float]]:
    """The fuel meters among ``sensors`` (rows of ``sensor_rows``): the sensor of each asset's type that
    measures its fuel input, each with the factor that turns its reading into MMBtu/h."""
    fuel_kind = {asset["id"]: getattr(ASSET_TYPES.get(asset["type"]), "fuel_sensor", None) for asset in assets}
    return [
        (sensor, mmbtu_per_h_factor(sensor["unit"]))
        for sensor in sensors
        if fuel_kind.get(sensor["asset_id"]) == sensor["kind"]
    ]


def process_co2_meters(*, assets: list[dict[str, Any]], sensors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The meters among ``sensors`` whose product releases process CO2 (a kiln's clinker, t/h): its type's
    ``process_co2_sensor``."""
    kind = {asset["id"]: getattr(ASSET_TYPES.get(asset["type"]), "process_co2_sensor", None) for asset in assets}
    return [sensor for sensor in sensors if kind.get(sensor["asset_id"]) == sensor["kind"]]


@dataclass(frozen=True)
class PlantNow(ByKey):
    """The plant's fuel input at its current minute (in ``unit``: GJ/h or MMBtu/h, as its fuel meters read,
    ``kpis.energy_unit``), what it costs (USD/h) and emits (t CO2/h: from fuel and, for a kiln's clinker,
    from calcination), and what a page needs to keep them live: each meter's sensor id and factor (fuel
    meters: to ``unit``; clinker meters: t CO2 per t), the fuel's price and t CO2 per unit of energy."""

    unit: str  # of the fuel input: "GJ/h" or "MMBtu/h"
    meters: tuple[dict[str, Any], ...]  # fuel meters: {"id": sensor id, "factor": to ``unit``}
    process_meters: tuple[dict[str, Any], ...]  # clinker meters: {"id": sensor id, "factor": t CO2 per t}
    price: float  # USD per unit of energy (per GJ or per MMBtu)
    co2_per_unit: float  # t CO2 per unit of energy
    firing: float
    cost: float
    co2: float  # from fuel
    process_co2: float  # from calcination

    @property
    def live_json(self) -> str:
        """What the page's script (static/js/plant-now.js) recomputes the figures from, as JSON."""
        return json.dumps(
            {
                "meters": self.meters,
                "process_meters": self.process_meters,
                "price": self.price,
                "co2_per_unit": self.co2_per_unit,
            }
        )

    @property
    def cards(self) -> tuple[Kpi, ...]:
        """Fuel input, its cost, and CO2: for a plant with calcination, split into fuel, calcination and total."""
        cards = [
            Kpi("firing", "Fuel input now", self.firing, self.unit),
            Kpi("cost", "Fuel cost now", self.cost, "USD/h"),
        ]
        if not self.process_meters:
            return (*cards, Kpi("co2", "CO₂ now", self.co2, "t/h"))
        return (
            *cards,
            Kpi("co2", "CO₂ from fuel now", self.co2, "t/h"),
            Kpi("co2_process", "CO₂ from calcination now", self.process_co2, "t/h"),
            Kpi("co2_total", "CO₂ in total now", self.co2 + self.process_co2, "t/h"),
        )


def plant_now(
    plant: Plant,
    *,
    assets: list[dict[str, Any]],
    sensors: list[dict[str, Any]],
    fuel: str,
    price_usd_per_mmbtu: float,
    overlays: list[Overlay] | None = None,
) -> PlantNow:
    """The plant's fuel input right now, with what it costs and emits an hour: the figures at the plant's
    current minute, in the unit its fuel meters read, and what a page needs to keep them live. CO2 from fuel
    by 40 CFR 98 Eq. C-1 for the scenario's fuel; from calcination, 0.507 t per t of clinker (IPCC Tier 1).
    ``overlays``: the plant's ``plant_overlays`` when the caller has them already."""
    meters = [meter for meter, _ in fuel_meters(assets=assets, sensors=sensors)]
    clinker = process_co2_meters(assets=assets, sensors=sensors)
    energy = energy_unit([meter["unit"] for meter in meters])
    factors = [energy_per_h_factor(meter["unit"], energy) for meter in meters]
    minute = to_minute(plant_sim_now(plant))
    watched = meters + clinker
    values = (
        np.clip(sensor_values_window(plant, watched, start=minute, end=minute + 1, overlays=overlays)[:, 0], 0.0, None)
        if watched
        else np.zeros(0)
    )
    firing = float(np.dot(values[: len(meters)], factors))
    mmbtu_per_unit = mmbtu_per_h_factor(f"{energy}/h")
    co2_per_unit = float(co2_tonnes(fuel_mmbtu=mmbtu_per_unit, fuel=fuel)) if fuel else 0.0
    price = price_usd_per_mmbtu * mmbtu_per_unit
    return PlantNow(
        unit=f"{energy}/h",
        meters=tuple({"id": meter["id"], "factor": factor} for meter, factor in zip(meters, factors, strict=True)),
        process_meters=tuple({"id": meter["id"], "factor": CLINKER_CO2_T_PER_T} for meter in clinker),
        price=price,
        co2_per_unit=co2_per_unit,
        firing=firing,
        cost=firing * price,
        co2=firing * co2_per_unit,
        process_co2=float(values[len(meters) :].sum()) * CLINKER_CO2_T_PER_T,
    )


def history_bounds(plant: Plant) -> tuple[int, int]:
    """[first, last] minute a sandbox has data for: 12 months before its start, up to the plant's now."""
    return plant.base_minute - HISTORY_MINUTES, to_minute(plant_sim_now(plant))


# --- What the plant's pages and read endpoints show, as small typed objects -------------------------------
