"""A scenario expanded into concrete assets and sensors for one seed, with its parameters as arrays.

The same (scenario, seed) always yields the same plant. The fleet (capacities, evenly spread over each
group's range) is the scenario's; the seed chooses which assets start failed and drives every noise
stream and anomaly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from simulation.engine.assets import ASSET_TYPES, SensorTemplate, sensor_bounds
from simulation.engine.calculations import fuel_lhv_gj_per_t
from simulation.engine.figures import engineering_round
from simulation.engine.noise import uniform
from simulation.engine.scenario import AssetGroup, Scenario, asset_tag


@dataclass(frozen=True)
class Asset:
    index: int
    tag: str
    type: str
    name: str
    capacity: float
    capacity_unit: str
    design: dict[str, float]


@dataclass(frozen=True)
class Sensor:
    index: int
    asset_index: int
    key: str  # "<asset tag>.<kind>", unique in the plant
    tag: str  # instrument tag, e.g. "AI-10102"
    kind: str
    name: str
    unit: str
    low: float
    high: float
    template: SensorTemplate


@dataclass(frozen=True)
class PlantLayout:
    """The plant as the engine lays it out from a scenario and a seed: its assets and sensors, in memory. The
    plant a sandbox stores (its scenario, seed, start and clock) is ``simulation.models.Plant``."""

    scenario: Scenario
    seed: int
    assets: tuple[Asset, ...]
    sensors: tuple[Sensor, ...]

    def sensors_of(self, asset_index: int) -> list[Sensor]:
        return self._by_asset.get(asset_index, [])

    @cached_property
    def _by_asset(self) -> dict[int, list[Sensor]]:
        grouped: dict[int, list[Sensor]] = {}
        for sensor in self.sensors:
            grouped.setdefault(sensor.asset_index, []).append(sensor)
        return grouped

    def sensor_by_key(self, key: str) -> Sensor:
        return self._by_key[key]

    def asset_by_tag(self, tag: str) -> Asset:
        return self._assets_by_tag[tag]

    @cached_property
    def _by_key(self) -> dict[str, Sensor]:
        return {sensor.key: sensor for sensor in self.sensors}

    @cached_property
    def _assets_by_tag(self) -> dict[str, Asset]:
        return {asset.tag: asset for asset in self.assets}

    @cached_property
    def arrays(self) -> PlantArrays:
        return PlantArrays.of(self)


@dataclass(frozen=True)
class PlantArrays:
    """Sensor parameters as arrays indexed by sensor index, for vectorised generation."""

    asset: NDArray[np.int64]
    base: NDArray[np.float64]
    per_load: NDArray[np.float64]
    noise_sd: NDArray[np.float64]
    wander_sd: NDArray[np.float64]
    tau_min: NDArray[np.float64]
    derived: NDArray[np.bool_]
    floor: NDArray[np.float64]  # physical bounds (``sensor_bounds``)
    ceiling: NDArray[np.float64]

    @classmethod
    def of(cls, plant: PlantLayout) -> PlantArrays:
        templates = [sensor.template for sensor in plant.sensors]
        return cls(
            asset=np.array([sensor.asset_index for sensor in plant.sensors], dtype=np.int64),
            base=np.array([t.base for t in templates]),
            per_load=np.array([t.per_load for t in templates]),
            noise_sd=np.array([t.noise_sd for t in templates]),
            wander_sd=np.array([t.wander_sd for t in templates]),
            tau_min=np.array([t.tau_min for t in templates]),
            derived=np.array([t.derived is not None for t in templates]),
            floor=np.array([sensor_bounds(t)[0] for t in templates]),
            ceiling=np.array([sensor_bounds(t)[1] for t in templates]),
        )


def group_capacities(group: AssetGroup) -> list[float]:
    """The capacities of a group's assets: evenly spread over its range, the same for every seed (a story's
    figure depends on the fleet, and must hold in every sandbox of the scenario). One decimal; below 1, three
    significant figures (``engineering_round``): a 1/8 in trap orifice stays 0.125 in, not 0.1."""
    spread = [
        group.capacity_min + (group.capacity_max - group.capacity_min) * (number + 0.5) / group.count
        for number in range(group.count)
    ]
    return [round(value, 1) if abs(value) >= 1 else engineering_round(value) for value in spread]


def fuel_shares(scenario: Scenario) -> dict[str, dict[str, float]]:
    """What each asset of a type that grinds another type's fuel (a coal mill, the kiln's) must supply: the
    fuel meters' total at nominal load and its load response (GJ/h), shared evenly among its assets, and the
    scenario fuel's LHV (GJ/t). By asset type; types that grind no fuel are absent."""
    shares: dict[str, dict[str, float]] = {}
    for grinder in {ASSET_TYPES[group.type].grinds_fuel_for for group in scenario.assets} - {None}:
        base = per_load = 0.0
        for group in scenario.assets:
            burner = ASSET_TYPES[group.type]
            if group.type != grinder or burner.fuel_sensor is None:
                continue
            for capacity in group_capacities(group):
                meter = next(t for t in burner.sensors(capacity, group.design) if t.kind == burner.fuel_sensor)
                base, per_load = base + meter.base, per_load + meter.per_load
        mills = sum(group.count for group in scenario.assets if ASSET_TYPES[group.type].grinds_fuel_for == grinder)
        shares[str(grinder)] = {
            "fuel_gj_per_h": base / mills,
            "fuel_per_load_gj_per_h": per_load / mills,
            "lhv_gj_per_t": fuel_lhv_gj_per_t(scenario.fuel),
        }
    return shares


def plant_build(scenario: Scenario, seed: int) -> PlantLayout:
    """Expand every asset group of ``scenario`` into assets and their sensors. Normal-range limits are
    written as engineers write them (``figures.engineering_round``), so the limit a page shows is the one
    alarms and flags test against."""
    assets: list[Asset] = []
    sensors: list[Sensor] = []
    shares = fuel_shares(scenario)
    for group_index, group in enumerate(scenario.assets):
        asset_type = ASSET_TYPES[group.type]
        # design.failed_fraction: exactly that share of the group starts out failed (e.g. steam traps
        # without a maintenance programme), which ones chosen by the seed.
        ranks = np.argsort(uniform(seed, group_index, np.arange(group.count), 0xFA1))
        failed = set(ranks[: round(group.design.get("failed_fraction", 0.0) * group.count)].tolist())
        grinds = shares.get(asset_type.grinds_fuel_for or "", {})
        for number, capacity in enumerate(group_capacities(group)):
            index = len(assets)
            tag = asset_tag(group.tag_prefix, group_index, number)
            name = f"{group.name} {tag}" if group.count > 1 else group.name
            design = {**group.design, **grinds, "failed": 1.0 if number in failed else 0.0}
            asset = Asset(index, tag, group.type, name, capacity, group.capacity_unit, design)
            assets.append(asset)
            for position_in_asset, template in enumerate(asset_type.sensors(capacity, design)):
                number_part = tag.split("-")[-1]
                sensors.append(
                    Sensor(
                        index=len(sensors),
                        asset_index=index,
                        key=f"{tag}.{template.kind}",
                        tag=f"{template.tag}-{number_part}{position_in_asset + 1:02d}",
                        kind=template.kind,
                        name=template.name,
                        unit=template.unit,
                        low=engineering_round(template.low),
                        high=engineering_round(template.high),
                        template=template,
                    )
                )
    return PlantLayout(scenario, seed, tuple(assets), tuple(sensors))
