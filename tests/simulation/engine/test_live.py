"""A live tick across many sandboxes equals what history says for that minute, sandbox by sandbox."""

from __future__ import annotations

import numpy as np

from simulation.engine.live import LiveBatch, LiveMember
from simulation.engine.plant import plant_build
from simulation.engine.scenario import Scenario
from simulation.engine.signals import Overlay, sensor_values
from tests.simulation.engine.conftest import BASE_MINUTE


def history_at(member: LiveMember, minute: int) -> np.ndarray:
    plant = member.plant
    return sensor_values(
        plant, range(len(plant.sensors)), np.array([minute]), base_minute=member.base_minute, overlays=member.overlays
    )[:, 0]


def test_a_tick_equals_history_for_every_sandbox_and_sensor(scenarios: dict[str, Scenario]) -> None:
    members = [
        LiveMember(plant_build(scenarios[key], seed), BASE_MINUTE - shift)
        for key, seed, shift in [("oil_gas", 1, 0), ("cement", 2, 600), ("food_beverage", 3, 7), ("oil_gas", 4, 90)]
    ]
    batch = LiveBatch(members)

    for minute in (BASE_MINUTE + 5, BASE_MINUTE + 1441, BASE_MINUTE + 3 * 1440 + 17):
        for member, values in zip(members, batch.tick(minute), strict=True):
            np.testing.assert_allclose(values, history_at(member, minute), rtol=1e-9, atol=1e-9)


def test_a_tick_follows_injected_anomalies_and_setpoints(scenarios: dict[str, Scenario]) -> None:
    plant = plant_build(scenarios["oil_gas"], 9)
    heater = plant.asset_by_tag("H-107").index
    overlays = [
        Overlay("anomaly", heater, BASE_MINUTE + 10, BASE_MINUTE + 500, anomaly_type="equipment_failure"),
        Overlay("o2_setpoint", plant.asset_by_tag("H-108").index, BASE_MINUTE + 20, value=3.0),
    ]
    member = LiveMember(plant, BASE_MINUTE, overlays)
    batch = LiveBatch([member, LiveMember(plant_build(scenarios["steel"], 1), BASE_MINUTE)])

    values = batch.tick(BASE_MINUTE + 200)[0]

    np.testing.assert_allclose(values, history_at(member, BASE_MINUTE + 200), rtol=1e-9, atol=1e-9)
    assert values[plant.sensor_by_key("H-107.firing_rate").index] < 0.2 * plant.assets[heater].capacity
    assert abs(values[plant.sensor_by_key("H-108.o2").index] - 3.0) < 0.5


def test_each_member_at_its_own_minute_equals_history_at_that_minute(scenarios: dict[str, Scenario]) -> None:
    """Sandboxes whose clocks run at different speeds share one tick, each at its own minute."""
    members = [
        LiveMember(plant_build(scenarios[key], seed), BASE_MINUTE)
        for key, seed in [("oil_gas", 1), ("cement", 2), ("steel", 3), ("chemicals", 4)]
    ]
    batch = LiveBatch(members)
    minutes = [BASE_MINUTE + 5, BASE_MINUTE + 3 * 1440 + 17, BASE_MINUTE + 60, BASE_MINUTE + 40 * 1440]

    for member, minute, values in zip(members, minutes, batch.tick(minutes), strict=True):
        np.testing.assert_array_equal(values, history_at(member, minute))
    some = batch.tick([minutes[3], minutes[1]], members=[3, 1])  # only the sandboxes due a new minute
    np.testing.assert_array_equal(some[0], history_at(members[3], minutes[3]))
    np.testing.assert_array_equal(some[1], history_at(members[1], minutes[1]))


def test_minute_after_minute_across_the_wanders_grid_and_a_new_batch_it_stays_equal(
    scenarios: dict[str, Scenario],
) -> None:
    """A running tick keeps the noise's grid points between minutes and across batches; not a bit may change."""
    plant = plant_build(scenarios["oil_gas"], 11)
    failing = Overlay(
        "anomaly", plant.asset_by_tag("H-103").index, BASE_MINUTE + 230, BASE_MINUTE + 300, "equipment_failure"
    )
    members = [
        LiveMember(plant, BASE_MINUTE, [failing]),
        LiveMember(plant_build(scenarios["chemicals"], 12), BASE_MINUTE - 33),
        LiveMember(plant_build(scenarios["food_beverage"], 13), BASE_MINUTE),
    ]
    batch = LiveBatch(members)
    for minute in range(BASE_MINUTE + 235, BASE_MINUTE + 245):  # crosses 240: both wanders' grid points move
        for member, values in zip(members, batch.tick(minute), strict=True):
            np.testing.assert_array_equal(values, history_at(member, minute))
        odd = batch.tick([minute + 7], members=[1])[0]  # one member alone, further on
        np.testing.assert_array_equal(odd, history_at(members[1], minute + 7))
    batch.keep_state()
    again = LiveBatch([members[2], members[0]])  # a viewer left: the others' state carries over
    for minute in (BASE_MINUTE + 245, BASE_MINUTE + 246, BASE_MINUTE + 480):
        for member, values in zip([members[2], members[0]], again.tick(minute), strict=True):
            np.testing.assert_array_equal(values, history_at(member, minute))
