"""Writes to a sandbox's plant. Every function runs inside the sandbox's schema (``schema_context``)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from demoportal import catalogue
from demoportal.exceptions import DomainError
from simulation.engine.plant import plant_build
from simulation.models import Asset, Facility, Sensor
from simulation.selectors import facility_get


def facility_load(*, scenario_key: str, seed: int, started_at: datetime) -> Facility:
    """Load the scenario's plant (facility, assets, sensors) into the current sandbox schema.

    All or nothing, in one transaction; no history rows (the engine computes them). ``started_at``
    is BASE_TS, truncated to the minute.
    """
    scenarios = catalogue.scenarios()
    if scenario_key not in scenarios:
        raise DomainError(
            f"Unknown scenario {scenario_key!r}.",
            errors={"industry": [f"Choose one of {', '.join(sorted(scenarios))}."]},
        )
    scenario = scenarios[scenario_key]
    plant = plant_build(scenario, seed)
    with transaction.atomic():
        if Facility.objects.exists():
            raise DomainError("This sandbox already has a plant.", status_code=409)
        facility = Facility.objects.create(
            scenario=scenario.key,
            scenario_version=scenario.version,
            name=scenario.name,
            seed=seed,
            started_at=started_at.replace(second=0, microsecond=0),
        )
        assets = Asset.objects.bulk_create(
            Asset(
                facility=facility,
                index=a.index,
                tag=a.tag,
                type=a.type,
                name=a.name,
                capacity=a.capacity,
                capacity_unit=a.capacity_unit,
            )
            for a in plant.assets
        )
        Sensor.objects.bulk_create(
            Sensor(
                asset=assets[s.asset_index],
                index=s.index,
                key=s.key,
                tag=s.tag,
                kind=s.kind,
                name=s.name,
                unit=s.unit,
                normal_low=s.low,
                normal_high=s.high,
                parameters={
                    "base": s.template.base,
                    "per_load": s.template.per_load,
                    "noise_sd": s.template.noise_sd,
                    "wander_sd": s.template.wander_sd,
                    "tau_min": s.template.tau_min,
                    "derived": s.template.derived,
                },
            )
            for s in plant.sensors
        )
    return facility


def facility_start(*, scenario_key: str, seed: int, started_at: datetime) -> Facility:
    """Give this sandbox's plant its own seed and start (BASE_TS): the rows cloned from the scenario's
    template, or a fresh load when the sandbox was not cloned."""
    facility = facility_get()
    if facility is None:
        return facility_load(scenario_key=scenario_key, seed=seed, started_at=started_at)
    if facility.scenario != scenario_key:
        raise DomainError(f"This sandbox's plant is {facility.scenario!r}, not {scenario_key!r}.", status_code=409)
    facility.seed = seed
    facility.started_at = started_at.replace(second=0, microsecond=0)
    facility.save(update_fields=["seed", "started_at"])
    return facility
