"""The CO2 account (simulation/engine/carbon.py): per month and source, the same fuel CO2 as the key figures,
calcination at a cement works, every hour of the twelve months counted once."""

from __future__ import annotations

import calendar

import pytest

from simulation.engine import calculations as calc
from simulation.engine.carbon import AllowancePosition, allowance_position, carbon_account
from simulation.engine.kpis import Clock, hourly_minutes, scenario_kpis
from simulation.engine.plant import plant_build
from simulation.engine.scenario import Scenario
from simulation.engine.signals import Overlay, sensor_values
from tests.simulation.engine.conftest import BASE_MINUTE

CLOCK = Clock(base=BASE_MINUTE, now=BASE_MINUTE)


@pytest.mark.parametrize("key", ["cement", "chemicals", "food_beverage", "oil_gas", "steel"])
def test_fuel_co2_adds_up_to_the_key_figure_and_every_hour_counts_once(
    scenarios: dict[str, Scenario], key: str
) -> None:
    plant = plant_build(scenarios[key], seed=3)
    account = carbon_account(plant, CLOCK)

    kpis = {kpi.key: kpi.value for kpi in scenario_kpis(plant, CLOCK)}
    combustion = sum(sum(source.co2_t) for source in account.sources if source.kind == "combustion")
    assert combustion == pytest.approx(kpis["annual_co2"], abs=1)
    assert sum(account.hours) == len(hourly_minutes(CLOCK)) == 8760
    assert len(account.months) == 13  # twelve months from a mid-month hour: two part-months at the ends
    first, last = account.months[0], account.months[-1]
    assert first[5:] == last[5:]  # the same month a year apart, each in part
    year, month = map(int, first.split("-"))
    assert account.hours[0] + account.hours[-1] == calendar.monthrange(year, month)[1] * 24
    assert account.co2_total == pytest.approx(sum(sum(source.co2_t) for source in account.sources))
    assert account.co2e_total > account.co2_total * 0.999  # CH4 and N2O add a little


def test_a_cement_works_adds_the_calcination_of_its_clinker(scenarios: dict[str, Scenario]) -> None:
    plant = plant_build(scenarios["cement"], seed=3)
    account = carbon_account(plant, CLOCK)

    process = [source for source in account.sources if source.kind == "process"]
    assert [source.activity_unit for source in process] == ["t clinker"]
    kiln = next(asset for asset in plant.assets if asset.type == "cement_kiln")
    meter = next(sensor for sensor in plant.sensors_of(kiln.index) if sensor.kind == "clinker_rate")
    clinker = sensor_values(plant, [meter.index], hourly_minutes(CLOCK), base_minute=BASE_MINUTE)[0].sum()
    assert sum(process[0].activity) == pytest.approx(float(clinker))
    assert sum(process[0].co2_t) == pytest.approx(0.507 * float(clinker))
    assert process[0].inputs == (meter.tag,)
    # Calcination is the larger part of a cement works' CO2 (about 0.5 of ~0.8 t CO2 per t clinker).
    assert 0.5 < sum(process[0].co2_t) / account.co2_total < 0.75
    assert not [
        s for s in carbon_account(plant_build(scenarios["steel"], seed=3), CLOCK).sources if s.kind == "process"
    ]


def test_a_trim_applied_in_the_plant_lowers_its_months_from_then_on(scenarios: dict[str, Scenario]) -> None:
    plant = plant_build(scenarios["oil_gas"], seed=3)
    heater = next(asset for asset in plant.assets if asset.type == "fired_heater")
    trimmed_from = BASE_MINUTE - 40 * 1440
    before = carbon_account(plant, CLOCK)
    after = carbon_account(plant, CLOCK, [Overlay("o2_setpoint", heater.index, trimmed_from, value=2.0)])

    source = f"{heater.tag}:combustion"
    old = next(s for s in before.sources if s.key == source).co2_t
    new = next(s for s in after.sources if s.key == source).co2_t
    assert new[:-3] == old[:-3]  # months before the trim unchanged
    assert sum(new[-2:]) < sum(old[-2:])
    assert before.co2_kg_per_mmbtu == calc.CO2_KG_PER_MMBTU[plant.scenario.fuel]


def test_the_allowance_position_applies_the_clinker_and_fuel_benchmarks(scenarios: dict[str, Scenario]) -> None:
    cement = carbon_account(plant_build(scenarios["cement"], seed=3), CLOCK)
    steel = carbon_account(plant_build(scenarios["steel"], seed=3), CLOCK)

    kiln = allowance_position(cement, 70.0)
    clinker = sum(sum(s.activity) for s in cement.sources if s.kind == "process")
    assert kiln.free_t == pytest.approx(0.693 * clinker)  # the kiln's fuel is inside the clinker benchmark
    assert kiln.verified_t == pytest.approx(cement.co2_total)
    assert kiln.shortfall_t == pytest.approx(kiln.verified_t - kiln.free_t)
    assert kiln.cost_eur == pytest.approx(70.0 * kiln.shortfall_t)
    assert "clinker benchmark 0.693" in kiln.basis

    furnace = allowance_position(steel, 90.0)
    fuel_tj = 1.055056e-3 * sum(sum(s.activity) for s in steel.sources)
    assert furnace.free_t == pytest.approx(42.6 * fuel_tj)
    assert "fuel benchmark 42.6" in furnace.basis


def test_an_allocation_above_the_emissions_is_a_surplus_and_costs_nothing() -> None:
    position = AllowancePosition(free_t=1200.0, basis="", verified_t=1000.0, price_eur_per_t=80.0)
    assert (position.shortfall_t, position.surplus_t, position.cost_eur) == (0.0, 200.0, 0.0)
