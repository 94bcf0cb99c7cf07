"""How the plant's figures read on a page, and rows a template can read by key (``ByKey``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ByKey:
    """A typed object whose fields also read as ``obj["field"]``: what the pages show were dicts before, and
    their templates and tests read it by key."""

    def __getitem__(self, name: str) -> Any:
        try:
            return getattr(self, name)
        except AttributeError:
            raise KeyError(name) from None


def figure(value: float) -> str:
    """A figure as people read it: thousands separated, decimals only where they carry information."""
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return f"{value:,.{digits}f}"


def bound(value: float) -> str:
    """A normal-range limit as an engineer writes it: 1.5, 420, 1,450; no trailing zeros."""
    return f"{value:,.4g}"


@dataclass(frozen=True)
class Kpi(ByKey):
    """One of the scenario's key figures (``plant_kpis``), or one figure of "right now" on the home (its key
    is what the page's script updates)."""

    key: str
    name: str
    value: float
    unit: str

    @property
    def display(self) -> str:
        return figure(self.value)
