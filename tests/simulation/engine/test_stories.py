"""Every story's headline comes out of the engine's own data, within ±10 %, in any sandbox."""

from __future__ import annotations

import pytest

from simulation.engine.kpis import Clock, mmbtu_per_h_factor, scenario_kpis, story_value
from simulation.engine.plant import plant_build
from simulation.engine.scenario import Scenario, load_catalogue
from tests.simulation.engine.conftest import BASE_MINUTE, FIXTURES

STORIES = [(scenario.key, story.key) for scenario in load_catalogue(FIXTURES)[0].values() for story in scenario.stories]


def test_there_are_ten_stories_two_per_scenario() -> None:
    assert len(STORIES) == 10
    assert sorted({key for key, _ in STORIES}) == ["cement", "chemicals", "food_beverage", "oil_gas", "steel"]


@pytest.mark.parametrize("seed", [1, 2024])
@pytest.mark.parametrize(("scenario_key", "story_key"), STORIES)
def test_headline_is_reproduced_by_the_engine(
    scenarios: dict[str, Scenario], scenario_key: str, story_key: str, seed: int
) -> None:
    scenario = scenarios[scenario_key]
    story = next(s for s in scenario.stories if s.key == story_key)

    value = story_value(plant_build(scenario, seed=seed), Clock.at_start(BASE_MINUTE + seed * 1440), story)

    assert value == pytest.approx(story.headline.value, rel=0.10), story.headline.text


def test_kpis_include_fuel_co2_and_every_story(scenarios: dict[str, Scenario]) -> None:
    kpis = {
        kpi.key: kpi for kpi in scenario_kpis(plant_build(scenarios["cement"], seed=1), Clock.at_start(BASE_MINUTE))
    }

    assert kpis["annual_co2"].unit == "t CO2"
    assert kpis["annual_fuel"].unit == "GJ"  # the kiln's meter reads GJ/h: the plant's fuel is written in GJ
    assert kpis["annual_fuel_cost"].value == pytest.approx(kpis["annual_fuel"].value / 1.055056 * 3.2, rel=1e-6)
    assert kpis["kiln_specific_heat_kcal_per_kg"].value == pytest.approx(790, rel=0.1)


def test_a_fuel_meter_reads_mmbtu_per_h_or_gj_per_h_and_nothing_else() -> None:
    assert mmbtu_per_h_factor("MMBtu/h") == 1.0
    assert mmbtu_per_h_factor("GJ/h") == pytest.approx(1 / 1.055056)
    with pytest.raises(ValueError, match="Not a fuel meter's unit: 't/h'"):
        mmbtu_per_h_factor("t/h")
