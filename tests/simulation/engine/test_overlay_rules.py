"""Which overlays an asset type takes, and that every one it takes computes (history, KPIs, a live tick)
while every one it does not take, stored anyway, is ignored instead of breaking the plant."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.engine.assets import ANOMALY_EVENTS, ASSET_TYPES, sensor_bounds
from simulation.engine.kpis import Clock, scenario_kpis
from simulation.engine.live import LiveBatch, LiveMember
from simulation.engine.plant import plant_build
from simulation.engine.scenario import Scenario
from simulation.engine.signals import Overlay, sensor_values
from tests.simulation.engine.conftest import BASE_MINUTE

O2_TRIM = 3.25
WINDOW = np.arange(BASE_MINUTE + 10, BASE_MINUTE + 2 * 1440, 7)


def overlay_of(kind: str, asset_index: int) -> Overlay:
    if kind == "o2_setpoint":
        return Overlay("o2_setpoint", asset_index, BASE_MINUTE, value=O2_TRIM)
    return Overlay("anomaly", asset_index, BASE_MINUTE, BASE_MINUTE + 1440, anomaly_type=kind, magnitude=3.0)


OVERLAY_KINDS = [*ANOMALY_EVENTS, "o2_setpoint"]


@pytest.mark.parametrize("scenario_key", ["oil_gas", "cement", "steel", "chemicals", "food_beverage"])
def test_every_overlay_on_every_asset_type_is_refused_or_computes(
    scenarios: dict[str, Scenario], scenario_key: str
) -> None:
    plant = plant_build(scenarios[scenario_key], seed=5)
    first_of_type = {asset.type: asset.index for asset in reversed(plant.assets)}
    clock = Clock(base=BASE_MINUTE, now=BASE_MINUTE + 2 * 1440)
    for asset_type, asset_index in sorted(first_of_type.items()):
        for kind in OVERLAY_KINDS:
            refusal = ASSET_TYPES[asset_type].overlay_refusal(kind)
            if refusal is not None:
                field, message = refusal
                assert field in ("type", "asset_id"), (asset_type, kind)
                assert message, (asset_type, kind)
                continue
            overlays = [overlay_of(kind, asset_index)]
            every = range(len(plant.sensors))
            history = sensor_values(plant, every, WINDOW, base_minute=BASE_MINUTE, overlays=overlays)
            assert np.isfinite(history).all(), (asset_type, kind)
            member = LiveMember(plant, BASE_MINUTE, overlays)
            tick = LiveBatch([member]).tick(int(WINDOW[-1]))[0]
            np.testing.assert_array_equal(tick, history[:, -1], err_msg=f"{asset_type} {kind}")
            assert all(np.isfinite(kpi.value) for kpi in scenario_kpis(plant, clock, overlays)), (asset_type, kind)


def test_an_o2_trim_is_for_assets_whose_combustion_efficiency_it_changes() -> None:
    takers = sorted(key for key, asset_type in ASSET_TYPES.items() if asset_type.overlay_refusal("o2_setpoint") is None)

    assert takers == ["boiler", "fired_heater"]
    field, message = ASSET_TYPES["cement_kiln"].overlay_refusal("o2_setpoint") or ("", "")
    assert field == "asset_id"
    assert "rotary kiln" in message.lower()


def test_an_anomaly_type_is_for_the_asset_types_that_list_it() -> None:
    assert ASSET_TYPES["fired_heater"].overlay_refusal("excess_air") is None
    assert ASSET_TYPES["steam_trap"].overlay_refusal("excess_air") == (
        "type",
        "A steam trap can have: trap_failure.",
    )
    assert ASSET_TYPES["fired_heater"].overlay_refusal("meteor_strike") is not None


def test_a_stored_overlay_the_asset_cannot_take_is_ignored(scenarios: dict[str, Scenario]) -> None:
    """Rows stored before the rule (an O2 trim on a kiln, an anomaly a type has not) must not break the plant."""
    plant = plant_build(scenarios["cement"], seed=5)
    kiln = next(asset.index for asset in plant.assets if asset.type == "cement_kiln")
    cooler = next(asset.index for asset in plant.assets if asset.type == "clinker_cooler")
    stored = [overlay_of("o2_setpoint", kiln), overlay_of("trap_failure", cooler), overlay_of("meteor_strike", kiln)]
    every = range(len(plant.sensors))

    with_rows = sensor_values(plant, every, WINDOW, base_minute=BASE_MINUTE, overlays=stored)
    tick = LiveBatch([LiveMember(plant, BASE_MINUTE, stored)]).tick(int(WINDOW[-1]))[0]

    np.testing.assert_array_equal(with_rows, sensor_values(plant, every, WINDOW, base_minute=BASE_MINUTE))
    np.testing.assert_array_equal(tick, with_rows[:, -1])


def test_every_sensor_kind_has_physical_bounds() -> None:
    for asset_type in ASSET_TYPES.values():
        for template in asset_type.sensors(10.0, {}):
            low, high = sensor_bounds(template)
            assert low < high, template.kind
            assert low <= template.low, template.kind  # the normal range is physical
            assert template.high <= high, template.kind
