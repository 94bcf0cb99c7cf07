"""Boiler load allocation (simulation/engine/allocation.py): the same output for no more fuel, each boiler in
the range it ran at, and the least-fuel split found on curves where the answer is known."""

from __future__ import annotations

import pytest

from simulation.engine.allocation import BoilerCurve, boiler_curves, load_allocation
from simulation.engine.kpis import Clock
from simulation.engine.plant import PlantLayout
from tests.simulation.engine.conftest import BASE_MINUTE

CLOCK = Clock(base=BASE_MINUTE, now=BASE_MINUTE)


def test_the_best_split_keeps_the_output_burns_no_more_and_stays_in_range(refinery: PlantLayout) -> None:
    curves = boiler_curves(refinery, CLOCK)
    allocation = load_allocation(curves)

    assert allocation is not None
    assert [c.tag for c in curves] == [a.tag for a in refinery.assets if a.type == "boiler"]
    split = sum(c.output(f) for c, f in zip(curves, allocation.best_fuel, strict=True))
    assert split == pytest.approx(allocation.output, rel=1e-3)
    assert allocation.fuel_best <= allocation.fuel_now + 1e-6
    assert not allocation.worth_moving  # five boilers alike: under half a percent
    for curve, fuel in zip(curves, allocation.best_fuel, strict=True):
        assert curve.fuel_min - 1e-9 <= fuel <= curve.fuel_max + 1e-9
        assert 70 < curve.efficiency_now < 90


def test_the_more_efficient_boiler_takes_the_load() -> None:
    flat = (0.0, 0.0)
    good = BoilerCurve("B-1", ("FI-1", "AI-1"), (*flat, 85.0), 10.0, 100.0, 50.0)
    poor = BoilerCurve("B-2", ("FI-2", "AI-2"), (*flat, 75.0), 10.0, 100.0, 50.0)

    allocation = load_allocation([good, poor])

    assert allocation is not None
    assert allocation.output == pytest.approx(0.85 * 50 + 0.75 * 50)
    # The poor one down to its lowest firing, the good one makes the rest.
    assert allocation.best_fuel[1] == pytest.approx(10.0)
    assert allocation.best_fuel[0] == pytest.approx((80.0 - 0.75 * 10) / 0.85, rel=1e-3)
    assert allocation.saving_mmbtu_per_h == pytest.approx(100.0 - 10.0 - (80.0 - 7.5) / 0.85, rel=1e-3)
    assert allocation.worth_moving  # 4.7 of 100 MMBtu/h


def test_one_boiler_or_an_output_out_of_reach_has_no_split() -> None:
    only = BoilerCurve("B-1", ("FI-1", "AI-1"), (0.0, 0.0, 82.0), 10.0, 100.0, 50.0)
    assert load_allocation([only]) is None
    above = BoilerCurve("B-2", ("FI-2", "AI-2"), (0.0, 0.0, 82.0), 10.0, 40.0, 95.0)  # far above its range now
    assert load_allocation([only, above]) is None
