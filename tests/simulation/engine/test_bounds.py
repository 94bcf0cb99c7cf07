"""Every signal stays within its physical bounds whatever people stack on the plant and however fast its
clock runs (property-based: hypothesis draws the overlay stacks and the clock)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation.engine.assets import ASSET_TYPES, sensor_bounds
from simulation.engine.kpis import Clock, scenario_kpis
from simulation.engine.live import LiveBatch, LiveMember
from simulation.engine.plant import PlantLayout, plant_build
from simulation.engine.scenario import Scenario, load_catalogue
from simulation.engine.signals import Overlay, sensor_values
from tests.simulation.engine.conftest import BASE_MINUTE, FIXTURES

SCENARIOS: dict[str, Scenario] = load_catalogue(FIXTURES)[0]
PLANTS: dict[str, PlantLayout] = {key: plant_build(scenario, seed=11) for key, scenario in SCENARIOS.items()}


def bounds_of(plant: PlantLayout) -> tuple[np.ndarray, np.ndarray]:
    pairs = np.array([sensor_bounds(sensor.template) for sensor in plant.sensors])
    return pairs[:, 0, None], pairs[:, 1, None]


@st.composite
def stacks(draw: st.DrawFn) -> tuple[PlantLayout, list[Overlay], np.ndarray]:
    """A plant, up to six overlays it accepts on a few of its assets, and minutes a clock of 1× to 3600×
    would tick through (a faster clock samples the plant sparser and further on)."""
    plant = PLANTS[draw(st.sampled_from(sorted(PLANTS)))]
    overlays = []
    for _ in range(draw(st.integers(0, 6))):
        asset = plant.assets[draw(st.integers(0, len(plant.assets) - 1))]
        asset_type = ASSET_TYPES[asset.type]
        start = BASE_MINUTE + draw(st.integers(0, 2 * 1440))
        if asset_type.overlay_refusal("o2_setpoint") is None and draw(st.booleans()):
            overlays.append(Overlay("o2_setpoint", asset.index, start, value=draw(st.floats(1.0, 8.0))))
        elif asset_type.anomalies:
            kind = draw(st.sampled_from(asset_type.anomalies))
            end = start + draw(st.integers(1, 7 * 1440))
            magnitude = draw(st.floats(0.1, 3.0))
            overlays.append(Overlay("anomaly", asset.index, start, end, anomaly_type=kind, magnitude=magnitude))
    scale = draw(st.sampled_from([1, 10, 60, 600, 3600]))
    first = BASE_MINUTE + draw(st.integers(0, 3 * 1440))
    minutes = first + np.arange(0, 40) * max(1, scale // 60)
    return plant, overlays, minutes


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stacks())
def test_every_signal_stays_within_physical_bounds(stack: tuple[PlantLayout, list[Overlay], np.ndarray]) -> None:
    plant, overlays, minutes = stack
    low, high = bounds_of(plant)

    history = sensor_values(plant, range(len(plant.sensors)), minutes, base_minute=BASE_MINUTE, overlays=overlays)
    tick = LiveBatch([LiveMember(plant, BASE_MINUTE, overlays)]).tick(int(minutes[-1]))[0]

    assert np.isfinite(history).all()
    outside = np.argwhere((history < low) | (history > high))
    assert not len(outside), [(plant.sensors[i].key, float(history[i, j])) for i, j in outside[:5]]
    np.testing.assert_array_equal(tick, history[:, -1])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stacks())
def test_the_kpis_compute_whatever_the_overlays(stack: tuple[PlantLayout, list[Overlay], np.ndarray]) -> None:
    plant, overlays, minutes = stack

    kpis = scenario_kpis(plant, Clock(BASE_MINUTE, int(minutes[-1])), overlays)

    assert all(np.isfinite(kpi.value) for kpi in kpis), kpis


def test_three_excess_air_anomalies_keep_flue_gas_o2_below_air_and_the_kpis_compute() -> None:
    """The issue's case: stacked excess air on one heater drove O2 to 34 % and the KPIs to a 500."""
    plant = PLANTS["oil_gas"]
    heater = plant.asset_by_tag("H-101").index
    overlays = [
        Overlay("anomaly", heater, BASE_MINUTE, BASE_MINUTE + 3 * 1440, anomaly_type="excess_air", magnitude=3.0)
    ] * 3
    o2 = plant.sensor_by_key("H-101.o2").index
    minutes = np.arange(BASE_MINUTE + 120, BASE_MINUTE + 1440, 30)

    values = sensor_values(plant, [o2], minutes, base_minute=BASE_MINUTE, overlays=overlays)[0]
    kpis = scenario_kpis(plant, Clock(BASE_MINUTE, BASE_MINUTE + 1440), overlays)

    assert values.max() <= 20.95
    assert all(np.isfinite(kpi.value) for kpi in kpis)


def test_a_kiln_inlet_co_never_reads_below_zero_under_excess_air() -> None:
    plant = PLANTS["cement"]
    kiln = next(asset for asset in plant.assets if asset.type == "cement_kiln")
    co = plant.sensor_by_key(f"{kiln.tag}.kiln_inlet_co").index
    overlays = [Overlay("anomaly", kiln.index, BASE_MINUTE, BASE_MINUTE + 1440, anomaly_type="excess_air", magnitude=3)]
    minutes = BASE_MINUTE + np.arange(60, 1440, 10)  # 600×: ten plant minutes a second

    values = sensor_values(plant, [co], minutes, base_minute=BASE_MINUTE, overlays=overlays)[0]

    assert values.min() >= 0.0
