"""The tours as the catalogue states them: which steps a plant keeps, and the estimate derived from them."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from simulation.engine.plant import plant_build
from simulation.engine.scenario import load_catalogue, scenario_assets
from simulation.engine.tours import TourPace, tour_minutes, tour_parse, tour_steps_kept

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"
PACE = TourPace(card_seconds=40, hands_on_seconds=90)
HEATER = [{"tag": "H-101", "sensors": {"o2", "efficiency"}}]
KILN = [{"tag": "K-101", "sensors": {"specific_heat"}}]


def card(id: str, **fields: Any) -> dict[str, Any]:
    return {"id": id, "page": "home", "title": id.title(), "text": "Text", **fields}


TOUR = tour_parse(
    {
        "version": 1,
        "title": "Test tour",
        "steps": [
            card("welcome"),
            card("kpis", target="#kpis"),
            card("trim", page="asset", asset=["o2", "efficiency"], until={"event": "optimization_applied"}),
            card(
                "respond",
                page="asset",
                asset=["o2", "efficiency"],
                until={"sensor": "efficiency", "rises_by": 0.3},
                time_scale=60,
            ),
            card("kiln", page="asset", asset=["specific_heat"], target="#asset-values"),
            card("next", target=".cta-band"),
        ],
    },
    key="p.r",
    source="p.r.json",
)


def test_a_plant_keeps_the_steps_it_has_an_asset_for() -> None:
    assert [step.id for step in tour_steps_kept(TOUR, assets=HEATER)] == ["welcome", "kpis", "trim", "respond", "next"]
    assert [step.id for step in tour_steps_kept(TOUR, assets=KILN)] == ["welcome", "kpis", "kiln", "next"]
    assert [step.id for step in tour_steps_kept(TOUR, assets=[])] == ["welcome", "kpis", "next"]


def test_the_estimate_is_the_kept_cards_and_hands_on_steps_at_the_pace() -> None:
    # A heater: three cards read and two hands-on steps (apply the trim, watch the plant respond).
    assert tour_minutes(TOUR, pace=PACE, assets=HEATER) == math.ceil((3 * 40 + 2 * 90) / 60) == 5
    # A kiln: four cards, nothing to do: under three minutes, said as three (rounded up).
    assert tour_minutes(TOUR, pace=PACE, assets=KILN) == math.ceil(4 * 40 / 60) == 3
    # A slower reader's pace makes every tour longer, in proportion.
    assert tour_minutes(TOUR, pace=TourPace(card_seconds=60, hands_on_seconds=180), assets=HEATER) == 9


def test_a_tour_is_never_estimated_at_zero_minutes() -> None:
    quick = TourPace(card_seconds=5, hands_on_seconds=10)

    assert tour_minutes(TOUR, pace=quick, assets=[]) == 1


@pytest.mark.parametrize("seed", [1, 2024])
def test_the_estimate_sees_the_plant_a_sandbox_gets(seed: int) -> None:
    """``scenario_assets`` (one entry per asset type) has the sensor kinds of the assets ``plant_build`` makes."""
    scenarios, _ = load_catalogue(FIXTURES)
    for scenario in scenarios.values():
        plant = plant_build(scenario, seed)
        built = {frozenset(s.kind for s in plant.sensors_of(asset.index)) for asset in plant.assets}

        assert {frozenset(asset["sensors"]) for asset in scenario_assets(scenario)} == built, scenario.key
