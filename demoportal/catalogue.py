"""The read-only catalogue (``fixtures/``): products, roles and scenarios, loaded and validated once."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from simulation.engine.scenario import Scenario, load_catalogue

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"


@cache
def catalogue() -> tuple[dict[str, Scenario], dict[str, Any]]:
    """(scenarios by key, {"products": ..., "roles": ...}); raises ScenarioError naming every problem."""
    return load_catalogue(FIXTURES_DIR)


def scenarios() -> dict[str, Scenario]:
    return catalogue()[0]


def products() -> list[dict[str, Any]]:
    return list(catalogue()[1]["products"]["products"])


def roles() -> list[dict[str, Any]]:
    return list(catalogue()[1]["roles"]["roles"])
