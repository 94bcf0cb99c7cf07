"""The cement works as an engineer reads it: CO2 from fuel and from calcination, coal mills that grind what
the kiln burns at the fuel's own calorific value, and a kiln O2 with a kiln's source, not a boiler's."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from simulation.engine import calculations as calc
from simulation.engine.assets import ASSET_TYPES
from simulation.engine.kpis import Clock, annual_process_co2_t, energy_unit, hourly_minutes, scenario_kpis
from simulation.engine.plant import PlantLayout, plant_build
from simulation.engine.scenario import Scenario, ScenarioError, load_catalogue
from simulation.engine.signals import sensor_values
from tests.simulation.engine.conftest import BASE_MINUTE, FIXTURES

CLOCK = Clock.at_start(BASE_MINUTE)


@pytest.fixture(scope="module")
def cement(scenarios: dict[str, Scenario]) -> PlantLayout:
    return plant_build(scenarios["cement"], seed=7)


def year_of(plant: PlantLayout, *keys: str) -> np.ndarray:
    """Hourly values of the last 12 months of the sensors ``keys``, one row each."""
    indices = [plant.sensor_by_key(key).index for key in keys]
    return sensor_values(plant, indices, hourly_minutes(CLOCK), base_minute=CLOCK.base)


def test_cement_co2_is_fuel_plus_calcination_shown_split(cement: PlantLayout) -> None:
    kpis = {kpi.key: kpi for kpi in scenario_kpis(cement, CLOCK)}
    clinker_t = float(year_of(cement, "K-101.clinker_rate").sum())  # hourly t/h: one hour's tonnes each

    process = kpis["annual_process_co2"].value
    assert process == pytest.approx(0.507 * clinker_t, rel=1e-6)  # IPCC Tier 1, DOMAIN.md
    assert 0.8e6 < process < 0.95e6  # 5,000 t/d at 95 %: ≈ 1.7 Mt clinker a year
    assert kpis["annual_co2_total"].value == pytest.approx(kpis["annual_co2"].value + process, abs=1)
    assert kpis["annual_co2_total"].unit == kpis["annual_process_co2"].unit == "t CO2"
    # Calcination is the larger part of a kiln's CO2, as every cement inventory shows.
    assert process > kpis["annual_co2"].value


def test_a_plant_without_clinker_has_no_process_co2(refinery: PlantLayout) -> None:
    keys = [kpi.key for kpi in scenario_kpis(refinery, CLOCK)]

    assert annual_process_co2_t(refinery, CLOCK) == 0.0
    assert "annual_process_co2" not in keys
    assert "annual_co2_total" not in keys


def test_the_coal_mills_grind_what_the_kiln_burns_at_the_fuels_lhv(cement: PlantLayout) -> None:
    mills = [asset.tag for asset in cement.assets if asset.type == "coal_mill"]
    values = year_of(cement, "K-101.fuel_rate", *(f"{tag}.feed_rate" for tag in mills))
    kiln_gj_per_h, feed_t_per_h = values[0].mean(), values[1:].mean(axis=1).sum()

    assert cement.scenario.fuel == "petroleum_coke"
    # Petroleum coke's net calorific value, 32.5 GJ/t (IPCC 2006 Vol. 2 Table 1.2); the kiln meter is on LHV.
    assert kiln_gj_per_h / feed_t_per_h == pytest.approx(calc.fuel_lhv_gj_per_t("petroleum_coke"), rel=0.03)
    assert 27.0 <= kiln_gj_per_h / feed_t_per_h <= 34.0  # solid fuels' LHV, not the 16 GJ/t the mills implied


def test_a_coal_mill_runs_below_its_rated_throughput(cement: PlantLayout) -> None:
    for asset in (asset for asset in cement.assets if asset.type == "coal_mill"):
        feed = cement.sensor_by_key(f"{asset.tag}.feed_rate")
        assert 0.5 * asset.capacity < feed.template.base < 0.9 * asset.capacity, asset.tag
        assert feed.high == pytest.approx(1.05 * asset.capacity, rel=0.01)


def test_a_coal_mill_needs_a_kiln_and_a_solid_fuel(tmp_path: Path) -> None:
    catalogue = tmp_path / "fixtures"
    (catalogue / "scenarios").mkdir(parents=True)
    for name in ("products.json", "roles.json"):
        (catalogue / name).write_text((FIXTURES / name).read_text())
    data = json.loads((FIXTURES / "scenarios" / "cement.json").read_text())
    broken = copy.deepcopy(data)
    broken["assets"] = [group for group in broken["assets"] if group["type"] != "cement_kiln"]
    broken["incidents"], broken["stories"] = [], broken["stories"][:0]
    broken["fuel"]["name"] = "natural_gas"
    (catalogue / "scenarios" / "cement.json").write_text(json.dumps(broken))

    with pytest.raises(ScenarioError) as refused:
        load_catalogue(catalogue)

    problems = "\n".join(refused.value.problems)
    assert "assets[2].type: a coal_mill grinds the fuel of a cement_kiln, and this plant has none" in problems
    assert "fuel.name: a coal_mill grinds a solid fuel: one of bituminous_coal, petroleum_coke" in problems


def test_the_kiln_o2_cites_a_kiln_source_and_takes_no_boiler_trim(scenarios: dict[str, Scenario]) -> None:
    kiln = ASSET_TYPES["cement_kiln"]
    sources = scenarios["cement"].sources

    assert kiln.overlay_refusal("o2_setpoint") is not None  # no boiler efficiency table for a kiln
    assert kiln.o2_trim_basis == ""
    assert "Steam Tip" not in sources["kiln_o2"]
    assert "Kiln combustion system improvements" in sources["kiln_o2"]
    # Every type that does take a trim says where its saving comes from.
    trimmed = [t for t in ASSET_TYPES.values() if t.overlay_refusal("o2_setpoint") is None]
    assert trimmed
    assert all(t.o2_trim_basis for t in trimmed)


def test_a_plant_writes_its_fuel_in_the_unit_its_meters_read() -> None:
    assert energy_unit(["GJ/h"]) == "GJ"  # a cement works
    assert energy_unit(["MMBtu/h", "MMBtu/h"]) == "MMBtu"
    assert energy_unit(["GJ/h", "MMBtu/h"]) == "MMBtu"  # mixed meters: one unit, US practice
    assert energy_unit([]) == "MMBtu"
