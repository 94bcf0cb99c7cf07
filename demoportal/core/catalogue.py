"""The read-only catalogue (``fixtures/``): products, roles, scenarios and tours, loaded and validated once."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from simulation.engine.scenario import Scenario, load_catalogue
from simulation.engine.tours import Tour

FIXTURES_DIR = Path(__file__).resolve().parents[2] / "fixtures"


@cache
def catalogue() -> tuple[dict[str, Scenario], dict[str, Any]]:
    """(scenarios by key, {"products", "roles", "tours", "tour_minutes"}: see ``load_catalogue``); raises
    ScenarioError naming every problem."""
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


def tours() -> dict[str, Tour]:
    """Every tour by ``<product>.<role>``."""
    return dict(catalogue()[1]["tours"])


def tour_minutes(*, product: str, role: str, industry: str) -> int:
    """Estimated length of the guided tour of ``product`` for ``role`` on ``industry``'s plant, in minutes: derived
    from the tour's own steps (``simulation.engine.tours.tour_minutes``), never stated by hand. KeyError for a
    product, role or industry not in the catalogue."""
    return int(catalogue()[1]["tour_minutes"][product][role][industry])


def tour_minutes_span(*, product: str | None = None, role: str | None = None) -> tuple[int, int]:
    """The shortest and longest tour estimate, in minutes, across the industries and across whatever of
    ``product`` and ``role`` is not given (e.g. a role's span across products and industries)."""
    figures = [
        minutes
        for product_key, by_role in catalogue()[1]["tour_minutes"].items()
        if product in (None, product_key)
        for role_key, by_industry in by_role.items()
        if role in (None, role_key)
        for minutes in by_industry.values()
    ]
    if not figures:
        raise KeyError(product if product is not None else role)
    return min(figures), max(figures)


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
