from __future__ import annotations

from pathlib import Path

import pytest

from simulation.engine.plant import PlantLayout, plant_build
from simulation.engine.scenario import Scenario, load_catalogue

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"
BASE_MINUTE = 29_400_000  # 2025-11-23 00:00 UTC, a sandbox's creation


@pytest.fixture(scope="session")
def scenarios() -> dict[str, Scenario]:
    return load_catalogue(FIXTURES)[0]


@pytest.fixture(scope="session")
def refinery(scenarios: dict[str, Scenario]) -> PlantLayout:
    return plant_build(scenarios["oil_gas"], seed=42)
