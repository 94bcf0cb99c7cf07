"""The engine's signals: deterministic, plausible, and physically consistent under faults and changes."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.engine.plant import PlantLayout, plant_build
from simulation.engine.scenario import Scenario
from simulation.engine.signals import HISTORY_MINUTES, Overlay, episodes, events, sensor_values, sensor_values_parallel
from tests.simulation.engine.conftest import BASE_MINUTE


def sensor(plant: PlantLayout, key: str) -> int:
    return plant.sensor_by_key(key).index


def window(start: int, end: int, step: int = 1) -> np.ndarray:
    return np.arange(BASE_MINUTE + start, BASE_MINUTE + end, step, dtype=np.int64)


def test_same_inputs_give_identical_arrays(scenarios: dict[str, Scenario]) -> None:
    minutes = window(-10_000, 0)
    first = plant_build(scenarios["oil_gas"], seed=7)
    second = plant_build(scenarios["oil_gas"], seed=7)
    indices = list(range(0, len(first.sensors), 7))

    np.testing.assert_array_equal(
        sensor_values(first, indices, minutes, base_minute=BASE_MINUTE),
        sensor_values(second, indices, minutes, base_minute=BASE_MINUTE),
    )


def test_a_window_equals_the_same_slice_of_a_longer_series(refinery: PlantLayout) -> None:
    indices = [sensor(refinery, "H-101.o2"), sensor(refinery, "H-101.efficiency"), sensor(refinery, "B-203.nox")]
    long = sensor_values(refinery, indices, window(-5_000, 0), base_minute=BASE_MINUTE)
    short = sensor_values(refinery, indices, window(-3_000, -2_000), base_minute=BASE_MINUTE)

    np.testing.assert_array_equal(long[:, 2_000:3_000], short)


def test_another_seed_gives_another_plant_history(scenarios: dict[str, Scenario]) -> None:
    minutes = window(-1_000, 0)
    one = sensor_values(plant_build(scenarios["oil_gas"], seed=1), [0], minutes, base_minute=BASE_MINUTE)
    two = sensor_values(plant_build(scenarios["oil_gas"], seed=2), [0], minutes, base_minute=BASE_MINUTE)

    assert not np.allclose(one, two)


def test_live_values_continue_history_without_a_jump(refinery: PlantLayout) -> None:
    index = [sensor(refinery, "H-103.stack_temp")]
    history = sensor_values(refinery, index, window(-60, 0), base_minute=BASE_MINUTE)[0]
    live = sensor_values(refinery, index, window(0, 60), base_minute=BASE_MINUTE)[0]
    steps = np.abs(np.diff(np.concatenate([history, live])))

    assert steps[59] < 5 * np.median(steps) + 1.0  # the seam is an ordinary minute-to-minute step


@pytest.mark.parametrize("key", ["oil_gas", "chemicals", "steel", "food_beverage", "cement"])
def test_every_sensor_stays_in_its_normal_range_outside_anomalies(scenarios: dict[str, Scenario], key: str) -> None:
    plant = plant_build(scenarios[key], seed=3)
    minutes = window(-60 * 24 * 60, 0, 10)  # 60 days, every 10 minutes
    values = sensor_values(plant, range(len(plant.sensors)), minutes, base_minute=BASE_MINUTE)
    found = episodes(plant, base_minute=BASE_MINUTE, start=int(minutes[0]), end=int(minutes[-1]) + 1)
    for s in plant.sensors:
        if plant.assets[s.asset_index].design.get("failed"):
            continue  # a trap that failed before the sandbox began is a known fault, not normal operation
        quiet = np.ones(len(minutes), dtype=bool)
        for episode in found:
            if episode.asset_index == s.asset_index:
                quiet &= (minutes < episode.start - 60) | (minutes >= episode.end + 240)
        outside = (values[s.index][quiet] < s.low) | (values[s.index][quiet] > s.high)
        assert not outside.any(), f"{s.key} left {s.low}..{s.high}: {values[s.index][quiet][outside][:5]}"


def test_anomaly_time_is_the_scenarios_two_percent(refinery: PlantLayout) -> None:
    start, end = BASE_MINUTE - HISTORY_MINUTES, BASE_MINUTE
    generated = [
        e for e in episodes(refinery, base_minute=BASE_MINUTE, start=start, end=end) if e.source == "generated"
    ]
    prone = [
        a.index for a in refinery.assets if any(e.asset_index == a.index for e in generated) or a.type != "steam_header"
    ]
    anomalous_minutes = sum(min(e.end, end) - max(e.start, start) for e in generated)

    share = anomalous_minutes / (len(prone) * HISTORY_MINUTES)

    assert 0.015 <= share <= 0.025


def test_excess_air_raises_o2_and_stack_temperature_and_lowers_efficiency(refinery: PlantLayout) -> None:
    heater = refinery.asset_by_tag("H-102").index
    overlay = Overlay("anomaly", heater, BASE_MINUTE + 60, BASE_MINUTE + 600, anomaly_type="excess_air")
    keys = ["H-102.o2", "H-102.stack_temp", "H-102.efficiency", "H-102.co"]
    minutes = window(0, 600)
    before = sensor_values(refinery, [sensor(refinery, k) for k in keys], minutes, base_minute=BASE_MINUTE)
    after = sensor_values(
        refinery, [sensor(refinery, k) for k in keys], minutes, base_minute=BASE_MINUTE, overlays=[overlay]
    )
    change = (after[:, 300:] - before[:, 300:]).mean(axis=1)

    assert change[0] == pytest.approx(3.0, abs=0.1)  # O2 +3 points
    assert change[1] > 5  # hotter stack
    assert change[2] < -1  # less efficient
    assert change[3] < 0  # CO burns out with more air


def test_tube_fouling_makes_tube_metal_temperature_creep_up_over_days(refinery: PlantLayout) -> None:
    # The refinery's script fouls H-105 from BASE_TS - 9d for six days.
    tmt = sensor_values(
        refinery, [sensor(refinery, "H-105.tmt_a")], window(-9 * 1440, -3 * 1440, 60), base_minute=BASE_MINUTE
    )[0]
    daily = tmt.reshape(6, 24).mean(axis=1)

    assert daily[-1] - daily[0] > 20
    assert (np.diff(daily) > -3).all()  # a creep, not a step


def test_scripted_incident_sits_at_its_marker(refinery: PlantLayout) -> None:
    found = episodes(refinery, base_minute=BASE_MINUTE, start=BASE_MINUTE - 5 * 1440, end=BASE_MINUTE)
    scripted = [e for e in found if e.source == "scripted" and e.type == "permit_exceedance"]

    assert [(refinery.assets[e.asset_index].tag, e.start - BASE_MINUTE) for e in scripted] == [("B-203", -3 * 1440)]


def test_events_come_from_the_same_episodes_newest_first(refinery: PlantLayout) -> None:
    found = events(refinery, base_minute=BASE_MINUTE, start=BASE_MINUTE - 30 * 1440, end=BASE_MINUTE)

    assert found
    assert [e.minute for e in found] == sorted((e.minute for e in found), reverse=True)
    scripted = next(e for e in found if e.source == "scripted" and e.anomaly == "permit_exceedance")
    assert (scripted.kind, scripted.asset, scripted.minute) == ("permit_exceedance", "B-203", BASE_MINUTE - 3 * 1440)
    assert {e.kind for e in found} <= {"alarm", "maintenance_due", "permit_exceedance"}


def test_o2_setpoint_raises_efficiency_and_cuts_fuel_from_its_start(refinery: PlantLayout) -> None:
    heater = refinery.asset_by_tag("H-104").index
    trim = Overlay("o2_setpoint", heater, BASE_MINUTE + 30, value=3.0)
    keys = ["H-104.o2", "H-104.efficiency", "H-104.firing_rate"]
    minutes = window(0, 240)
    before = sensor_values(refinery, [sensor(refinery, k) for k in keys], minutes, base_minute=BASE_MINUTE)
    after = sensor_values(
        refinery, [sensor(refinery, k) for k in keys], minutes, base_minute=BASE_MINUTE, overlays=[trim]
    )

    np.testing.assert_array_equal(before[:, :30], after[:, :30])  # nothing changes before it was applied
    assert after[0, 120:].mean() == pytest.approx(3.0, abs=0.3)
    assert after[1, 120:].mean() > before[1, 120:].mean() + 1.0
    assert after[2, 120:].mean() < before[2, 120:].mean() * 0.99


def test_equipment_failure_takes_the_asset_down(refinery: PlantLayout) -> None:
    turbine = refinery.asset_by_tag("TG-1001").index
    trip = Overlay("anomaly", turbine, BASE_MINUTE, BASE_MINUTE + 120, anomaly_type="equipment_failure")
    power = sensor_values(
        refinery, [sensor(refinery, "TG-1001.power")], window(30, 120), base_minute=BASE_MINUTE, overlays=[trip]
    )

    assert power.mean() < 0.2 * refinery.assets[turbine].capacity


def test_a_window_starting_just_after_an_episode_still_sees_its_fading_effect(refinery: PlantLayout) -> None:
    # B-203's scripted NOx excursion runs from BASE_TS - 3d for 300 minutes; its effect fades after that.
    end = -3 * 1440 + 300
    index = [sensor(refinery, "B-203.nox")]
    long = sensor_values(refinery, index, window(end - 100, end + 100), base_minute=BASE_MINUTE)
    short = sensor_values(refinery, index, window(end + 2, end + 100), base_minute=BASE_MINUTE)

    np.testing.assert_array_equal(long[:, 102:], short)


def test_parallel_parts_equal_one_computation(refinery: PlantLayout) -> None:
    indices = [sensor(refinery, "H-101.efficiency"), sensor(refinery, "B-203.nox")]
    minutes = window(-60_000, 0)

    np.testing.assert_array_equal(
        sensor_values_parallel(refinery, indices, minutes, base_minute=BASE_MINUTE),
        sensor_values(refinery, indices, minutes, base_minute=BASE_MINUTE),
    )
