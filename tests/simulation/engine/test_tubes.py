"""The tube-metal temperature watch (simulation/engine/tubes.py): a fouling tube's creep is a rising trend with
the days to its limit; a steady one is not rising; the nearest to its limit comes first."""

from __future__ import annotations

import pytest

from simulation.engine.kpis import Clock
from simulation.engine.plant import PlantLayout
from simulation.engine.signals import Overlay
from simulation.engine.tubes import TubePass, tube_watch
from tests.simulation.engine.conftest import BASE_MINUTE

CLOCK = Clock(base=BASE_MINUTE, now=BASE_MINUTE)


def test_every_pass_of_every_fired_heater_is_watched(refinery: PlantLayout) -> None:
    passes = tube_watch(refinery, CLOCK)

    heaters = [asset for asset in refinery.assets if asset.type == "fired_heater"]
    assert len(passes) == 2 * len(heaters)
    assert {p.asset_tag for p in passes} == {asset.tag for asset in heaters}
    assert all(p.limit_c == 560.0 for p in passes)
    assert all(400 < p.now_c < 560 for p in passes)
    # Only a rising trend has days to the limit, and the nearest come first.
    assert all((p.days_to_limit is not None) == (p.slope_c_per_day >= 0.5) for p in passes)
    days = [p.days_to_limit for p in passes if p.days_to_limit is not None]
    assert days == sorted(days)
    assert passes[: len(days)] == [p for p in passes if p.days_to_limit is not None]


def test_a_fouling_tube_rises_toward_its_limit_and_comes_first(refinery: PlantLayout) -> None:
    heater = [asset for asset in refinery.assets if asset.type == "fired_heater"][3]
    fouling = Overlay("anomaly", heater.index, BASE_MINUTE - 5 * 1440, None, anomaly_type="tube_fouling", magnitude=1)

    passes = tube_watch(refinery, CLOCK, [fouling])

    first = passes[0]
    assert first.asset_tag == heater.tag
    assert first.rising
    days = first.days_to_limit
    assert days is not None
    assert days == pytest.approx(first.margin_c / first.slope_c_per_day)
    assert 0 < days < 30
    assert passes[1].asset_tag == heater.tag  # both its passes foul


@pytest.mark.parametrize(
    ("now_c", "slope", "days"),
    [(500.0, 6.0, 10.0), (500.0, 0.2, None), (500.0, -3.0, None), (565.0, 1.0, 0.0), (565.0, -1.0, 0.0)],
)
def test_days_to_limit_only_for_a_rising_trend_and_none_left_past_it(
    now_c: float, slope: float, days: float | None
) -> None:
    tube = TubePass("H-101", "TI-10106", "Tube metal temperature, pass A", now_c, 560.0, slope)
    assert tube.days_to_limit == days
