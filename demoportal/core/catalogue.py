"""The read-only catalogue (``fixtures/``): products, roles and scenarios, loaded and validated once."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from simulation.engine.scenario import Scenario, load_catalogue

FIXTURES_DIR = Path(__file__).resolve().parents[2] / "fixtures"


@cache
def catalogue() -> tuple[dict[str, Scenario], dict[str, Any]]:
    """(scenarios by key, {"products": ..., "roles": ...}); raises ScenarioError naming every problem."""
    return load_catalogue(FIXTURES_DIR)


def scenarios() -> dict[str, Scenario]:
    return catalogue()[0]


def products() -> list[dict[str, Any]]:
    return list(catalogue()[1]["products"]["products"])


def product(key: str) -> dict[str, Any] | None:
    return next((item for item in products() if item["key"] == key), None)


def roles() -> list[dict[str, Any]]:
    return list(catalogue()[1]["roles"]["roles"])


def product_name(key: str) -> str:
    """The product's name for a stored key ("emissionsguardian" → "EmissionsGuardian"); an unknown key as it is."""
    found = product(key)
    return str(found["name"]) if found is not None else key


def industry_name(key: str) -> str:
    """The industry of a scenario key ("oil_gas" → "Oil & gas"); an unknown key as it is."""
    scenario = scenarios().get(key)
    return scenario.industry if scenario is not None else key


def role_name(key: str) -> str:
    """A role's name for its key ("engineer" → "Process engineer"); an unknown key as it is."""
    return next((str(role["name"]) for role in roles() if role["key"] == key), key)


def tour_minutes(*, product: str, role: str) -> int:
    """Estimated length of the guided tour of ``product`` for ``role``, in minutes (``products.json``)."""
    for item in products():
        if item["key"] == product:
            return int(item["tour_minutes"][role])
    raise KeyError(product)


def tour_minutes_by_role() -> dict[str, tuple[int, int]]:
    """Per role, the shortest and longest estimated tour across the products, in minutes."""
    spans: dict[str, tuple[int, int]] = {}
    for role in roles():
        figures = [int(product["tour_minutes"][role["key"]]) for product in products()]
        spans[role["key"]] = (min(figures), max(figures))
    return spans


@cache
def personal_email_domains() -> tuple[frozenset[str], tuple[str, ...]]:
    """(exact domains, prefixes ending in ".") from ``fixtures/personal_email_domains.txt``."""
    lines = (FIXTURES_DIR / "personal_email_domains.txt").read_text().splitlines()
    domains = [line.strip().lower() for line in lines if line.strip() and not line.startswith("#")]
    return frozenset(d for d in domains if not d.endswith(".")), tuple(d for d in domains if d.endswith("."))


def is_personal_email(email: str) -> bool:
    """True for a free-mail address (gmail.com, yahoo.co.uk, ...): allowed, but flagged for scoring."""
    domain = email.rpartition("@")[2].lower()
    exact, prefixes = personal_email_domains()
    return domain in exact or domain.startswith(prefixes)
