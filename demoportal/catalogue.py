"""The read-only catalogue of products and industries, loaded once from ``fixtures/``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"


@dataclass(frozen=True)
class Product:
    key: str
    name: str
    summary: str


@dataclass(frozen=True)
class Industry:
    key: str
    name: str
    facility: str


def load_products(path: Path = FIXTURES_DIR / "products.json") -> tuple[Product, ...]:
    return tuple(Product(**row) for row in json.loads(path.read_text())["products"])


def load_industries(path: Path = FIXTURES_DIR / "industries.json") -> tuple[Industry, ...]:
    return tuple(Industry(**row) for row in json.loads(path.read_text())["industries"])


PRODUCTS = load_products()
INDUSTRIES = load_industries()
