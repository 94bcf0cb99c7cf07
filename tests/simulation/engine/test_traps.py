"""The steam-trap survey (simulation/engine/traps.py): failed-open traps from their outlets, priced by Napier's
rule; it adds up to the chemicals story's headline figure."""

from __future__ import annotations

import pytest

from simulation.engine import calculations as calc
from simulation.engine.kpis import Clock, scenario_kpis
from simulation.engine.plant import plant_build
from simulation.engine.scenario import Scenario
from simulation.engine.signals import Overlay
from simulation.engine.traps import trap_survey
from tests.simulation.engine.conftest import BASE_MINUTE

CLOCK = Clock(base=BASE_MINUTE, now=BASE_MINUTE)


def test_the_survey_adds_up_to_the_trap_storys_figure(scenarios: dict[str, Scenario]) -> None:
    plant = plant_build(scenarios["chemicals"], seed=5)
    story = next(s for s in scenarios["chemicals"].stories if s.key == "steam_traps")
    traps = trap_survey(
        plant,
        CLOCK,
        pressure_psig=float(story.parameters["pressure_psig"]),
        steam_cost_per_1000_lb=float(story.parameters["steam_cost_per_1000_lb"]),
    )

    kpis = {kpi.key: kpi.value for kpi in scenario_kpis(plant, CLOCK)}
    assert sum(t.cost_per_year for t in traps) == pytest.approx(kpis["trap_loss_annual_usd"])
    assert sum(t.cost_per_year for t in traps) == pytest.approx(story.headline.value, rel=0.10)
    assert len(traps) == 120
    assert all(t.orifice_in == 0.125 for t in traps)  # the scenario's 1/8-inch orifices, not rounded to 0.1
    failed = [t for t in traps if t.failed_open]
    assert traps[: len(failed)] == failed  # the failed ones first
    assert all(t.outlet_c > 130 for t in failed)
    assert all(t.outlet_c <= 130 for t in traps[len(failed) :])
    assert {t.loss_lb_per_h for t in traps[len(failed) :]} == {0.0}
    per_trap = calc.steam_trap_loss_lb_per_h(orifice_in=0.125, pressure_psig=150.0)
    assert failed[0].loss_lb_per_h == pytest.approx(per_trap)


def test_a_trap_failing_now_joins_the_failed_and_a_higher_pressure_loses_more(
    scenarios: dict[str, Scenario],
) -> None:
    plant = plant_build(scenarios["food_beverage"], seed=5)
    before = trap_survey(plant, CLOCK, pressure_psig=145.0, steam_cost_per_1000_lb=8.0)
    working = next(t for t in before if not t.failed_open)
    trap = plant.asset_by_tag(working.tag)
    failing = Overlay("anomaly", trap.index, BASE_MINUTE - 2 * 1440, None, anomaly_type="trap_failure", magnitude=1.0)

    after = trap_survey(plant, CLOCK, [failing], pressure_psig=145.0, steam_cost_per_1000_lb=8.0)

    assert next(t for t in after if t.tag == working.tag).failed_open
    assert len([t for t in after if t.failed_open]) == len([t for t in before if t.failed_open]) + 1
    higher = trap_survey(plant, CLOCK, pressure_psig=290.0, steam_cost_per_1000_lb=8.0)
    assert sum(t.cost_per_year for t in higher) > sum(t.cost_per_year for t in before)


def test_a_plant_without_traps_has_an_empty_survey(scenarios: dict[str, Scenario]) -> None:
    assert (
        trap_survey(plant_build(scenarios["cement"], seed=5), CLOCK, pressure_psig=150, steam_cost_per_1000_lb=8) == []
    )
