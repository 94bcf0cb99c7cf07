"""`manage.py validate_scenarios [--strict]`: is the scenario catalogue sound, and do its stories hold?

Checks the files (schema, references, units, ranges, the tours and the pace their length is derived at:
see simulation.engine.scenario), then runs the engine and checks that every story's headline is
reproduced within ±10 %. With --strict it checks
three seeds and two creation times instead of one of each, and that the modelled assets' fuel cost
and CO2 (fuel, and a kiln's calcination) fit inside the site totals the file states. Exits non-zero
naming file, path and problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from demoportal.core.catalogue import FIXTURES_DIR
from simulation.engine import calculations as calc
from simulation.engine.kpis import Clock, annual_fuel_mmbtu, annual_process_co2_t, story_value
from simulation.engine.plant import plant_build
from simulation.engine.scenario import Scenario, ScenarioError, load_catalogue

TOLERANCE = 0.10
HALF_YEAR_MINUTES = 182 * 1440


class Command(BaseCommand):
    help = "Validate fixtures/ and check that the engine reproduces every story's headline within ±10 %."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--strict", action="store_true", help="more seeds and start times; site totals")
        parser.add_argument("--fixtures", type=Path, default=FIXTURES_DIR, help="catalogue folder (default: fixtures/)")

    def handle(self, *args: Any, strict: bool, fixtures: Path, **options: Any) -> None:
        try:
            scenarios, rest = load_catalogue(fixtures)
        except ScenarioError as error:
            raise CommandError("scenario catalogue is invalid:\n  " + "\n  ".join(error.problems)) from error
        now = int(timezone.now().timestamp() // 60)
        seeds = (1, 7, 2024) if strict else (1,)
        bases = (now, now - HALF_YEAR_MINUTES) if strict else (now,)
        problems: list[str] = []
        for key, scenario in sorted(scenarios.items()):
            problems += self.check_stories(key, scenario, seeds, bases)
            if strict:
                problems += site_total_problems(key, scenario, now)
        if problems:
            raise CommandError("scenario stories do not hold:\n  " + "\n  ".join(problems))
        estimates = [m for roles in rest["tour_minutes"].values() for plants in roles.values() for m in plants.values()]
        self.stdout.write(
            f"{len(rest['tours'])} tours valid; their estimates, derived from their steps on each plant:"
            f" {min(estimates)}–{max(estimates)} min"
        )
        self.stdout.write(self.style.SUCCESS(f"{len(scenarios)} scenarios valid; every story reproduced"))

    def check_stories(self, key: str, scenario: Scenario, seeds: tuple[int, ...], bases: tuple[int, ...]) -> list[str]:
        problems = []
        plants = [plant_build(scenario, seed) for seed in seeds]
        for index, story in enumerate(scenario.stories):
            claimed = story.headline.value
            values = [story_value(plant, Clock.at_start(base), story) for plant in plants for base in bases]
            worst = max(values, key=lambda value: abs(value - claimed))
            off = abs(worst - claimed) / abs(claimed)
            if off > TOLERANCE:
                problems.append(
                    f"{key}.json: stories[{index}].headline: the engine computes {number(worst)} {story.headline.unit},"
                    f" the file claims {number(claimed)} ({off:.0%} off, ±10 % allowed)"
                )
            verdict = "ok" if off <= TOLERANCE else "FAILS"
            self.stdout.write(
                f"{key:14} {story.key:20} {story.headline.text:42} computed {number(values[0]):>12}  {verdict}"
            )
        return problems


def site_total_problems(key: str, scenario: Scenario, base_minute: int) -> list[str]:
    """The assets the engine models burn part of the site's energy: their cost and CO2 (fuel CO2, plus the
    calcination CO2 of a kiln's clinker) cannot exceed the totals."""
    plant, clock = plant_build(scenario, 1), Clock.at_start(base_minute)
    fuel = annual_fuel_mmbtu(plant, clock)
    problems = []
    cost = fuel * scenario.fuel_price_usd_per_mmbtu
    if cost > scenario.annual_energy_cost_usd:
        problems.append(
            f"{key}.json: annual_energy_cost_usd: modelled fuel alone costs {cost:,.0f} USD/year, more than the"
            f" {scenario.annual_energy_cost_usd:,.0f} stated"
        )
    fuel_co2 = float(calc.co2_tonnes(fuel_mmbtu=fuel, fuel=scenario.fuel))
    process_co2 = annual_process_co2_t(plant, clock)
    if fuel_co2 + process_co2 > scenario.co2_t_per_year:
        modelled = "modelled fuel alone" if not process_co2 else "modelled fuel and calcination"
        problems.append(
            f"{key}.json: co2_t_per_year: {modelled} emit {fuel_co2 + process_co2:,.0f} t CO2/year, more than the"
            f" {scenario.co2_t_per_year:,.0f} stated"
        )
    return problems


def number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.2f}"
