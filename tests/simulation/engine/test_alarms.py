"""The live plant's alarm rules: one event per crossing of a normal range (with hysteresis), NOx permits."""

from __future__ import annotations

import numpy as np

from simulation.engine.alarms import (
    PERMIT_REARM_FRACTION,
    Limits,
    limit_crossings,
    nox_rates,
    permit_crossings,
    plant_limits,
    plant_permit,
)
from simulation.engine.live import LiveMember
from simulation.engine.plant import PlantLayout, plant_build
from simulation.engine.scenario import Scenario
from simulation.engine.signals import Overlay, events
from tests.simulation.engine.conftest import BASE_MINUTE


def test_a_reading_hovering_at_the_edge_raises_one_event_until_it_is_well_back_inside() -> None:
    limits = Limits(low=np.array([0.0]), high=np.array([10.0]), band=np.array([0.5]))
    readings = [9.0, 10.1, 9.8, 10.2, 9.9, 10.3, 9.0, 10.4]  # leaves at 1, hovers in the band, back at 6, leaves
    outside = np.zeros(1, dtype=bool)
    left_at, back_at = [], []
    for minute, reading in enumerate(readings):
        left, returned, outside = limit_crossings(np.array([reading]), limits, outside)
        if left[0]:
            left_at.append(minute)
        if returned[0]:
            back_at.append(minute)

    assert left_at == [1, 7]
    assert back_at == [6]


def test_below_the_range_counts_too_and_each_sensor_on_its_own() -> None:
    limits = Limits(low=np.array([0.0, 5.0]), high=np.array([10.0, 6.0]), band=np.array([0.5, 0.1]))

    left, returned, outside = limit_crossings(np.array([-1.0, 5.5]), limits, np.array([False, True]))

    assert left.tolist() == [True, False]
    assert returned.tolist() == [False, True]
    assert outside.tolist() == [True, False]


def test_the_band_is_at_least_three_sigma_of_noise_and_at_most_half_the_range(refinery: PlantLayout) -> None:
    limits = plant_limits(refinery)

    assert (limits.band >= 0).all()
    assert (limits.band <= (limits.high - limits.low) / 2 + 1e-12).all()
    noisy = refinery.arrays.noise_sd * 3 <= (limits.high - limits.low) / 2
    assert (limits.band[noisy] >= 3 * refinery.arrays.noise_sd[noisy] - 1e-12).all()


def test_the_refinery_permit_covers_its_boilers_and_a_cement_plant_has_none(scenarios: dict[str, Scenario]) -> None:
    refinery = plant_build(scenarios["oil_gas"], 1)
    permit = plant_permit(refinery)

    assert permit is not None
    assert permit.limit_lb_per_mmbtu == 0.10
    assert {refinery.assets[i].type for i in permit.assets.tolist()} == {"boiler"}
    assert len(permit.assets) == sum(a.type == "boiler" for a in refinery.assets)
    assert plant_permit(plant_build(scenarios["cement"], 1)) is None


def test_nox_over_the_permit_raises_once_and_rearms_below_95_percent() -> None:
    rates = nox_rates(np.array([30.0, 90.0]), np.array([3.0, 3.0]), ["natural_gas", "natural_gas"])
    assert 0.035 < rates[0] < 0.037  # DOMAIN.md: 30 ppm at 3 % O2 on gas ≈ 0.036 lb/MMBtu
    assert rates[1] == 3 * rates[0]

    limit = np.array([0.10])
    over = np.zeros(1, dtype=bool)
    raised = []
    for rate in [0.09, 0.101, 0.099, 0.102, PERMIT_REARM_FRACTION * 0.10 - 0.001, 0.11]:
        went_over, over = permit_crossings(np.array([rate]), limit, over)
        raised.append(bool(went_over[0]))

    assert raised == [False, True, False, False, False, True]


def test_a_members_events_between_two_minutes_are_the_engines_events(scenarios: dict[str, Scenario]) -> None:
    plant = plant_build(scenarios["oil_gas"], 5)
    heater = plant.asset_by_tag("H-101").index
    overlays = [Overlay("anomaly", heater, BASE_MINUTE + 100, BASE_MINUTE + 200, anomaly_type="excess_air")]
    member = LiveMember(plant, BASE_MINUTE, overlays)
    member.episodes_at(BASE_MINUTE + 50)  # the cached day, as a tick leaves it

    for start, end in [(BASE_MINUTE + 60, BASE_MINUTE + 160), (BASE_MINUTE - 4 * 1440, BASE_MINUTE + 2 * 1440)]:
        expected = events(plant, base_minute=BASE_MINUTE, start=start, end=end, overlays=overlays)
        assert member.events_between(start, end) == sorted(expected, key=lambda event: event.minute)
    injected = member.events_between(BASE_MINUTE + 100, BASE_MINUTE + 101)
    assert [e.key for e in injected] == [f"injected:H-101:excess_air:{BASE_MINUTE + 100}"]
