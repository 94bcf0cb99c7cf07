"""NOx against the permit (simulation/engine/permits.py): hourly Method 19 averages, the week's highest hour as
the refinery story counts it, and the early warning."""

from __future__ import annotations

import pytest

from simulation.engine.kpis import Clock, story_value
from simulation.engine.permits import PermitReading, nox_permits
from simulation.engine.plant import PlantLayout
from simulation.engine.scenario import Scenario
from simulation.engine.signals import Overlay
from tests.simulation.engine.conftest import BASE_MINUTE

CLOCK = Clock(base=BASE_MINUTE, now=BASE_MINUTE)


def test_the_boilers_highest_hour_is_the_storys_figure(refinery: PlantLayout, scenarios: dict[str, Scenario]) -> None:
    story = next(s for s in scenarios["oil_gas"].stories if s.key == "nox_permit")
    units = nox_permits(refinery, CLOCK, float(story.parameters["permit_lb_per_mmbtu"]))

    boilers = [unit for unit in units if unit.asset_type == "Boiler"]
    assert max(unit.week_max_pct for unit in boilers) == pytest.approx(story_value(refinery, CLOCK, story))
    assert len(units) == len([a for a in refinery.assets if a.type in ("boiler", "fired_heater")])
    assert all(len(unit.hourly) == 7 * 24 for unit in units)
    shares = [unit.last_hour_pct for unit in units]
    assert shares == sorted(shares, reverse=True)


def test_an_exceedance_now_raises_the_hour_and_over_the_limit_is_a_warning_at_once(refinery: PlantLayout) -> None:
    boiler = next(asset for asset in refinery.assets if asset.type == "boiler")
    exceedance = Overlay(
        "anomaly", boiler.index, BASE_MINUTE - 300, None, anomaly_type="permit_exceedance", magnitude=1.0
    )

    calm = {u.asset_tag: u for u in nox_permits(refinery, CLOCK, 0.1)}[boiler.tag]
    over = {u.asset_tag: u for u in nox_permits(refinery, CLOCK, 0.1, [exceedance])}[boiler.tag]

    assert over.last_hour > calm.last_hour * 1.2
    tighter = {u.asset_tag: u for u in nox_permits(refinery, CLOCK, over.last_hour * 0.95, [exceedance])}[boiler.tag]
    assert tighter.last_hour_pct > 100
    assert tighter.hours_to_limit == 0


@pytest.mark.parametrize(
    ("last", "slope", "hours"),
    [(0.08, 0.002, 10.0), (0.08, 0.0005, None), (0.08, -0.001, None), (0.1, 0.0, 0.0), (0.12, -0.01, 0.0)],
)
def test_the_warning_looks_a_day_ahead_on_a_rising_trend(last: float, slope: float, hours: float | None) -> None:
    unit = PermitReading("B-201", "Boiler", 0.1, last, last, slope, ())
    assert unit.hours_to_limit == (pytest.approx(hours) if hours else hours)
