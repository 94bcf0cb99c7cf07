"""The pinch curves (simulation/engine/pinch.py) agree with the problem table's targets."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.engine.calculations import Stream
from simulation.engine.pinch import pinch_of
from simulation.engine.scenario import Scenario


def streams_of(scenario: Scenario) -> list[Stream]:
    return [Stream(s["name"], s["supply_c"], s["target_c"], s["cp_kw_per_k"]) for s in scenario.streams]


def enthalpy_at(curve: tuple[tuple[float, float], ...], temperature: float) -> float:
    h, t = zip(*curve, strict=True)
    return float(np.interp(temperature, t, h))


@pytest.mark.parametrize("dt_min", [5.0, 10.0, 20.0])
def test_the_composites_meet_dt_min_apart_at_the_pinch_and_span_the_targets(
    scenarios: dict[str, Scenario], dt_min: float
) -> None:
    streams = streams_of(scenarios["chemicals"])
    pinch = pinch_of(streams, dt_min)
    targets = pinch.targets

    hot_duty = sum(s.duty_kw for s in streams if s.is_hot)
    cold_duty = sum(s.duty_kw for s in streams if not s.is_hot)
    assert pinch.hot_composite[0][0] == 0
    assert pinch.hot_composite[-1][0] == pytest.approx(hot_duty)
    assert pinch.cold_composite[0][0] == pytest.approx(targets.min_cold_utility_kw)
    assert pinch.cold_composite[-1][0] - targets.min_cold_utility_kw == pytest.approx(cold_duty)
    # Above the hot composite's end, the cold composite's overhang is the hot utility.
    assert pinch.cold_composite[-1][0] - pinch.hot_composite[-1][0] == pytest.approx(targets.min_hot_utility_kw)
    # At the pinch the two curves stand at the same enthalpy, ΔTmin apart.
    assert enthalpy_at(pinch.hot_composite, targets.pinch_hot_c) == pytest.approx(
        enthalpy_at(pinch.cold_composite, targets.pinch_cold_c)
    )
    assert targets.pinch_hot_c - targets.pinch_cold_c == pytest.approx(dt_min)
    flows = [h for h, _ in pinch.grand_composite]
    assert min(flows) == pytest.approx(0.0, abs=1e-9)
    assert flows[0] == pytest.approx(targets.min_hot_utility_kw)
    assert flows[-1] == pytest.approx(targets.min_cold_utility_kw)


def test_a_larger_dt_min_recovers_less(scenarios: dict[str, Scenario]) -> None:
    streams = streams_of(scenarios["chemicals"])
    recovery = [pinch_of(streams, dt).targets.heat_recovery_kw for dt in (5.0, 10.0, 20.0)]
    assert recovery == sorted(recovery, reverse=True)
    assert recovery[0] > recovery[-1]
