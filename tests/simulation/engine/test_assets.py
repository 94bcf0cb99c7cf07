"""The sensors each asset type gives a plant, pinned: every scenario's plant, sensor by sensor (key,
instrument tag, kind, name, unit, ranges, load response, noise, time constant, derivation, anomaly
effects, in order), equals the snapshot in ``snapshots/sensors.json``; so does each combustion type
built directly, with its defaults and with every design value it reads overridden.

A deliberate change to a sensor rewrites the snapshot (``python -m tests.simulation.engine.test_assets``)
and shows in its diff; any other change to the asset types must leave it as it is.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from simulation.engine.assets import ASSET_TYPES, SensorTemplate
from simulation.engine.plant import plant_build
from simulation.engine.scenario import Scenario, load_catalogue

SNAPSHOT = Path(__file__).with_name("snapshots") / "sensors.json"
FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"
SEED = 42  # the seed chooses which steam traps start failed (a failed trap reads hotter): some do, some not
TEMPLATE_FIELDS = [field.name for field in fields(SensorTemplate)]
# Every design value the fired heater and the boiler read, set away from its default.
COMBUSTION_DESIGN = {"o2_pct": 4.2, "stack_c": 310.0, "nox_ppm": 22.0, "pressure_barg": 41.0, "feedwater_c": 121.0}


def template_row(template: SensorTemplate) -> list[Any]:
    """One template as plain values, in field order; effects as [anomaly, delta, shape] in their order."""
    row: list[Any] = []
    for name in TEMPLATE_FIELDS:
        value = getattr(template, name)
        if name == "effects":
            value = [[anomaly, effect.delta, effect.shape] for anomaly, effect in value.items()]
        row.append(value)
    return row


def sensors_now(scenarios: dict[str, Scenario]) -> dict[str, Any]:
    """What the current code builds, in the snapshot's shape (JSON round-trips every float exactly)."""
    plants = {
        key: [
            [sensor.key, sensor.tag, *template_row(sensor.template)]
            for sensor in plant_build(scenarios[key], seed=SEED).sensors
        ]
        for key in sorted(scenarios)
    }
    asset_types = {
        f"{type_key}({capacity}, {design})": [
            template_row(template) for template in ASSET_TYPES[type_key].sensors(capacity, design)
        ]
        for type_key in ("fired_heater", "boiler")
        for capacity, design in ((1.0, {}), (37.5, COMBUSTION_DESIGN))
    }
    return {"fields": ["key", "instrument_tag", *TEMPLATE_FIELDS], "plants": plants, "asset_types": asset_types}


def snapshot_text(data: dict[str, Any]) -> str:
    """One sensor a line, so that a deliberate change shows as a readable diff."""
    lines = ["{", f'  "fields": {json.dumps(data["fields"])},']
    for section in ("plants", "asset_types"):
        lines.append(f'  "{section}": {{')
        entries = list(data[section].items())
        for number, (name, rows) in enumerate(entries):
            lines.append(f"    {json.dumps(name)}: [")
            lines.extend(
                f"      {json.dumps(row, ensure_ascii=False)}{',' if i < len(rows) - 1 else ''}"
                for i, row in enumerate(rows)
            )
            lines.append(f"    ]{',' if number < len(entries) - 1 else ''}")
        lines.append("  }," if section == "plants" else "  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def snapshot() -> dict[str, Any]:
    return dict(json.loads(SNAPSHOT.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def built(scenarios: dict[str, Scenario]) -> dict[str, Any]:
    return sensors_now(scenarios)


def test_the_snapshot_covers_every_scenario_and_so_every_asset_type(
    snapshot: dict[str, Any], scenarios: dict[str, Scenario]
) -> None:
    assert snapshot["fields"] == ["key", "instrument_tag", *TEMPLATE_FIELDS]
    assert sorted(snapshot["plants"]) == sorted(scenarios)
    assert {group.type for scenario in scenarios.values() for group in scenario.assets} == set(ASSET_TYPES)


@pytest.mark.parametrize("scenario_key", ["cement", "chemicals", "food_beverage", "oil_gas", "steel"])
def test_every_scenarios_plant_has_the_sensors_of_the_snapshot(
    snapshot: dict[str, Any], built: dict[str, Any], scenario_key: str
) -> None:
    expected, actual = snapshot["plants"][scenario_key], built["plants"][scenario_key]

    assert [row[0] for row in actual] == [row[0] for row in expected]  # the same sensors in the same order
    for row, expected_row in zip(actual, expected, strict=True):
        assert row == expected_row, row[0]


def test_the_fired_heater_and_the_boiler_have_the_sensors_of_the_snapshot(
    snapshot: dict[str, Any], built: dict[str, Any]
) -> None:
    assert built["asset_types"] == snapshot["asset_types"]


if __name__ == "__main__":
    SNAPSHOT.parent.mkdir(exist_ok=True)
    SNAPSHOT.write_text(snapshot_text(sensors_now(load_catalogue(FIXTURES)[0])), encoding="utf-8")
    print(f"wrote {SNAPSHOT}")
