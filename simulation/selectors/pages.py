"""What the plant's pages show, assembled into small typed objects: the sandbox home (``plant_home`` →
``PlantHome``) and an asset's page (``asset_overview`` → ``AssetOverview``). Run inside the sandbox's schema."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from demoportal.core import catalogue
from simulation.engine.assets import ASSET_TYPES
from simulation.engine.scenario import Scenario, Story
from simulation.models import (
    Asset,
    Plant,
)
from simulation.selectors.alarms import AlarmRow, alarm_rows, alarms_with_acknowledgement, asset_alarm_rows
from simulation.selectors.display import ByKey, Kpi, bound, capacity_text, figure
from simulation.selectors.plant import (
    PlantNow,
    asset_firing_rate_mmbtu_per_h,
    asset_o2_setpoint,
    asset_rows,
    from_minute,
    history_bounds,
    plant_kpis_cached,
    plant_now,
    plant_overlays,
    plant_sim_now,
    sensor_rows,
    sensor_values_window,
    to_minute,
)

RECENT_ALARMS_DAYS = 7
RECENT_ALARMS_SHOWN = 8
# The sensor a story's chart opens on: the first of these kinds its asset type has.
CHART_KIND_PREFERENCE = ("efficiency", "o2", "nox", "stack_temp", "specific_energy")


@dataclass(frozen=True)
class AssetTypeGroup(ByKey):
    """The plant's assets of one type (rows of ``asset_rows``) and the sensor its card charts."""

    type: str
    name: str
    assets: tuple[dict[str, Any], ...]
    chart_sensor: dict[str, Any] | None  # a row of ``sensor_rows``

    @property
    def capacity_min(self) -> float:
        return float(min(asset["capacity"] for asset in self.assets))

    @property
    def capacity_max(self) -> float:
        return float(max(asset["capacity"] for asset in self.assets))

    @property
    def capacity_unit(self) -> str:
        return str(self.assets[0]["capacity_unit"])

    @property
    def capacity_label(self) -> str:
        """What the capacity is: "Capacity", or a steam trap's "Orifice"."""
        asset_type = ASSET_TYPES.get(self.type)
        return asset_type.capacity_label if asset_type is not None else "Capacity"

    @property
    def capacity_display(self) -> str:
        """The group's capacity as people read it: "5,000 t/d clinker", "25–35 t/h", "0.125 in (3.2 mm)"."""
        return capacity_text(self.capacity_min, self.capacity_max, self.capacity_unit)


@dataclass(frozen=True)
class StoryEntry(ByKey):
    """One of the scenario's stories and the sensor its "Explore the data" opens the chart on."""

    story: Story
    sensor: dict[str, Any] | None  # a row of ``sensor_rows``


@dataclass(frozen=True)
class PlantHome:
    """What the sandbox home shows: the plant, its assets by type, its key figures (None until computed: the
    page then fetches them), its fuel input now, the history chart's sensors and the one it opens on, the
    last days' events with their acknowledgement, and the scenario's stories."""

    plant: Plant
    scenario: Scenario
    asset_types: tuple[AssetTypeGroup, ...]
    asset_count: int
    sensor_count: int
    kpis: tuple[Kpi, ...] | None
    now: PlantNow
    sensors: tuple[dict[str, Any], ...]  # rows of ``sensor_rows``
    selected_sensor: dict[str, Any] | None
    history_start: datetime
    events: tuple[AlarmRow, ...]
    stories: tuple[StoryEntry, ...]


def chart_sensor(sensors: Sequence[dict[str, Any]], asset_ids: set[int]) -> dict[str, Any] | None:
    """The sensor to chart for a group of assets: the first asset's preferred kind, else its first sensor."""
    candidates = [sensor for sensor in sensors if sensor["asset_id"] in asset_ids]
    for kind in CHART_KIND_PREFERENCE:
        for sensor in candidates:
            if sensor["kind"] == kind:
                return sensor
    return candidates[0] if candidates else None


def plant_home(*, plant: Plant, chart_sensor_id: int | None = None) -> PlantHome:
    """The sandbox home of ``plant``'s plant, its history chart on sensor ``chart_sensor_id`` (default, or
    for an id that is not one of the plant's: the first asset type's chart sensor). The plant's overlays
    are read once, for the events, the KPIs' cache key and the figures now."""
    scenario = catalogue.scenarios()[plant.scenario]
    overlays = plant_overlays(plant)
    assets, sensors = asset_rows(), sensor_rows()
    by_type: dict[str, list[dict[str, Any]]] = {}
    for asset in assets:
        by_type.setdefault(asset["type"], []).append(asset)
    ids_of_type = {type_: {asset["id"] for asset in group} for type_, group in by_type.items()}
    asset_types = tuple(
        AssetTypeGroup(
            type=type_,
            name=ASSET_TYPES[type_].name if type_ in ASSET_TYPES else type_,
            assets=tuple(group),
            chart_sensor=chart_sensor(sensors, ids_of_type[type_]),
        )
        for type_, group in by_type.items()
    )
    stories = tuple(
        StoryEntry(
            story=story, sensor=chart_sensor(sensors, ids_of_type.get(story.parameters.get("asset_type", ""), set()))
        )
        for story in scenario.stories
    )
    requested = next((sensor for sensor in sensors if sensor["id"] == chart_sensor_id), None)
    selected = requested or (asset_types[0].chart_sensor if asset_types else None)
    now_minute = to_minute(plant_sim_now(plant))
    recent = alarm_rows(
        plant, since_minute=now_minute - RECENT_ALARMS_DAYS * 1440, end_minute=now_minute + 1, overlays=overlays
    )
    kpis = plant_kpis_cached(plant, overlays=overlays)
    return PlantHome(
        plant=plant,
        scenario=scenario,
        asset_types=asset_types,
        asset_count=len(assets),
        sensor_count=len(sensors),
        kpis=tuple(Kpi(**kpi) for kpi in kpis) if kpis is not None else None,
        now=plant_now(
            plant,
            assets=assets,
            sensors=sensors,
            fuel=scenario.fuel,
            price_usd_per_mmbtu=scenario.fuel_price_usd_per_mmbtu,
            overlays=overlays,
        ),
        sensors=tuple(sensors),
        selected_sensor=selected,
        history_start=from_minute(history_bounds(plant)[0]),
        events=tuple(alarms_with_acknowledgement(recent[:RECENT_ALARMS_SHOWN])),
        stories=stories,
    )


# --- An asset's page -------------------------------------------------------------------------------------

ASSET_ALARMS_DAYS = 7
# The trends an asset's page opens with, where the asset has them; else its first sensor.
TREND_DEFAULT_KINDS = ("efficiency", "o2", "stack_temp")
TARGET_EFFICIENCY_GAIN_PCT = 2.0  # the calculator's suggested target: two points better than now (editable)
TARGET_EFFICIENCY_MAX_PCT = 95.0


@dataclass(frozen=True)
class SensorReading(ByKey):
    """A sensor (a row of ``sensor_rows``) with its value at the plant's current minute, and whether the
    page plots its trend."""

    id: int
    asset_id: int
    asset_tag: str
    key: str
    tag: str
    kind: str
    name: str
    unit: str
    normal_range: dict[str, float]  # {"low": ..., "high": ...}
    value: float
    trended: bool

    @property
    def display(self) -> str:
        return figure(self.value)

    @property
    def range_display(self) -> str:
        return f"{bound(self.normal_range['low'])} to {bound(self.normal_range['high'])}"

    @property
    def out_of_range(self) -> bool:
        return not self.normal_range["low"] <= self.value <= self.normal_range["high"]


@dataclass(frozen=True)
class O2Trim(ByKey):
    """An asset's O2 trim: its flue-gas O2 sensor, the setpoint it runs at (``asset_o2_setpoint``) and where
    the saving comes from for its type, with the source (``AssetType.o2_trim_basis``)."""

    sensor: SensorReading
    setpoint: dict[str, Any]
    basis: str

    @property
    def setpoint_display(self) -> str:
        """A setpoint is written as a limit is: 3.5, not 3.50."""
        return bound(float(self.setpoint["value"]))


@dataclass(frozen=True)
class SavingsBasis(ByKey):
    """What an asset's savings calculator starts from: its live combustion efficiency, its measured fuel input
    (MMBtu/h, mean of the last seven days), the scenario's fuel and its price (USD/MMBtu)."""

    efficiency_sensor: SensorReading
    firing_rate: float
    fuel: str  # as people write it: "natural gas"
    fuel_price_usd_per_mmbtu: float

    @property
    def firing_rate_display(self) -> str:
        return figure(self.firing_rate)

    @property
    def efficiency_current_pct(self) -> float:
        return round(self.efficiency_sensor.value, 1)

    @property
    def efficiency_target_pct(self) -> float:
        """The suggested target: a little better than now."""
        return round(min(self.efficiency_current_pct + TARGET_EFFICIENCY_GAIN_PCT, TARGET_EFFICIENCY_MAX_PCT), 1)


@dataclass(frozen=True)
class AssetOverview:
    """What an asset's page shows: the asset, its sensors' values now, the trends it plots, its events of the
    last days with their acknowledgement, and its O2 trim and savings calculator where it has them."""

    plant: Plant
    asset: Asset
    asset_type_name: str
    capacity_label: str  # "Capacity", or a steam trap's "Orifice"
    capacity_display: str  # "5,000 t/d clinker", "0.125 in (3.2 mm)"
    sensors: tuple[SensorReading, ...]
    trend: tuple[SensorReading, ...]
    history_start: datetime
    events: tuple[AlarmRow, ...]
    o2_trim: O2Trim | None
    savings_basis: SavingsBasis | None


def asset_overview(*, plant: Plant, asset: Asset, trend: Sequence[int] = ()) -> AssetOverview:
    """``asset``'s page, plotting the trends of its sensors ``trend`` (ids, in that order; ids not of this
    asset are left out) or, for none of them, its default ones. The plant's overlays are read once, for the
    values, the fuel input and the events."""
    scenario = catalogue.scenarios()[plant.scenario]
    rows = sensor_rows(asset_id=asset.pk)
    overlays = plant_overlays(plant)
    now_minute = to_minute(plant_sim_now(plant))
    values: list[float] = (
        sensor_values_window(plant, rows, start=now_minute, end=now_minute + 1, overlays=overlays)[:, 0].tolist()
        if rows
        else []
    )
    by_id = {row["id"]: row for row in rows}
    by_kind = {row["kind"]: row for row in rows}
    requested = [by_id[sensor_id] for sensor_id in trend if sensor_id in by_id]
    trend_rows = requested or [by_kind[kind] for kind in TREND_DEFAULT_KINDS if kind in by_kind] or rows[:1]
    trended = {row["id"] for row in trend_rows}
    readings = {
        row["id"]: SensorReading(**row, value=value, trended=row["id"] in trended)
        for row, value in zip(rows, values, strict=True)
    }

    o2_row = next((row for row in rows if row["kind"] == "o2"), None)
    o2_trim = None
    if o2_row is not None and ASSET_TYPES[asset.type].overlay_refusal("o2_setpoint") is None:
        setpoint = asset_o2_setpoint(asset=asset, o2_sensor_id=o2_row["id"])
        o2_trim = O2Trim(sensor=readings[o2_row["id"]], setpoint=setpoint, basis=ASSET_TYPES[asset.type].o2_trim_basis)

    efficiency = by_kind.get("efficiency")
    firing_rate = (
        asset_firing_rate_mmbtu_per_h(plant, asset=asset, sensors=rows, overlays=overlays)
        if efficiency is not None
        else None
    )
    savings_basis = (
        SavingsBasis(
            efficiency_sensor=readings[efficiency["id"]],
            firing_rate=firing_rate,
            fuel=scenario.fuel.replace("_", " "),
            fuel_price_usd_per_mmbtu=scenario.fuel_price_usd_per_mmbtu,
        )
        if efficiency is not None and firing_rate is not None
        else None
    )

    asset_type = ASSET_TYPES.get(asset.type)
    return AssetOverview(
        plant=plant,
        asset=asset,
        asset_type_name=asset_type.name if asset_type is not None else asset.type,
        capacity_label=asset_type.capacity_label if asset_type is not None else "Capacity",
        capacity_display=capacity_text(asset.capacity, asset.capacity, asset.capacity_unit),
        sensors=tuple(readings.values()),
        trend=tuple(readings[row["id"]] for row in trend_rows),
        history_start=from_minute(history_bounds(plant)[0]),
        events=tuple(
            asset_alarm_rows(
                plant,
                asset_tag=asset.tag,
                since_minute=now_minute - ASSET_ALARMS_DAYS * 1440,
                end_minute=now_minute + 1,
                overlays=overlays,
            )
        ),
        o2_trim=o2_trim,
        savings_basis=savings_basis,
    )
