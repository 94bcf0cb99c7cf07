"""How the plant's figures read on a page (readings, limits, sizes and capacities, each written one way, here),
and rows a template can read by key (``ByKey``). Dates and times: ``demoportal.core.formats``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulation.engine.figures import engineering_text


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
    """A normal-range limit or a size as an engineer writes it: three significant figures, whole units kept, no
    trailing zeros (1.5, 219, 28.9, 1,450, 0.125). The plant's limits are laid out by the same rule
    (``simulation.engine.figures``), so the limit a page shows is the one its flag tests against."""
    return engineering_text(value)


# A unit that engineers outside the US read in another one too: (that unit, factor).
ALSO_IN: dict[str, tuple[str, float]] = {"in": ("mm", 25.4)}


def quantity(value: float, unit: str) -> str:
    """A size with its unit, and the metric equivalent where the unit is an inch: "0.125 in (3.2 mm)"."""
    text = f"{bound(value)} {unit}"
    if unit in ALSO_IN:
        other, factor = ALSO_IN[unit]
        text += f" ({value * factor:.1f} {other})"
    return text


def capacity_text(low: float, high: float, unit: str) -> str:
    """An asset's capacity, or a group's range of them: "5,000 t/d clinker", "25–35 t/h", "0.125 in (3.2 mm)"."""
    if low == high:
        return quantity(high, unit)
    if unit in ALSO_IN:
        return f"{quantity(low, unit)} – {quantity(high, unit)}"
    return f"{bound(low)}–{bound(high)} {unit}"


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
