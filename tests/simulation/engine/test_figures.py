"""The one rounding rule for the plant's limits and sizes: three significant figures, whole units kept."""

from __future__ import annotations

import pytest

from simulation.engine.figures import engineering_round, engineering_text
from simulation.engine.plant import plant_build
from simulation.engine.scenario import Scenario


@pytest.mark.parametrize(
    ("value", "rounded", "text"),
    [
        (218.75000000000003, 219.0, "219"),
        (28.875, 28.9, "28.9"),
        (413.44650000000007, 413.0, "413"),
        (1075.0, 1075.0, "1,075"),  # whole units are never rounded away
        (12_345.6, 12_346.0, "12,346"),
        (6.5, 6.5, "6.5"),
        (0.125, 0.125, "0.125"),
        (0.05, 0.05, "0.05"),
        (-250.0, -250.0, "-250"),
        (0.0, 0.0, "0"),
    ],
)
def test_a_limit_has_three_significant_figures_and_keeps_its_whole_units(
    value: float, rounded: float, text: str
) -> None:
    assert engineering_round(value) == rounded
    assert engineering_text(value) == text


def test_every_plants_normal_ranges_are_written_as_engineers_write_them(scenarios: dict[str, Scenario]) -> None:
    for scenario in scenarios.values():
        for sensor in plant_build(scenario, seed=1).sensors:
            for limit in (sensor.low, sensor.high):
                assert limit == engineering_round(limit), (sensor.key, limit)
                assert len(engineering_text(limit).replace(",", "").replace("-", "").replace(".", "")) <= max(
                    3, len(str(int(abs(limit))))
                ), (sensor.key, limit)


def test_a_steam_trap_orifice_keeps_its_size(scenarios: dict[str, Scenario]) -> None:
    traps = [asset for asset in plant_build(scenarios["chemicals"], seed=1).assets if asset.type == "steam_trap"]

    assert traps
    assert {(asset.capacity, asset.capacity_unit) for asset in traps} == {(0.125, "in")}  # 1/8 in, not 0.1
