"""How precise a figure of the plant is: the one rounding rule for the numbers the plant is laid out with
(normal-range limits, capacities) and for how the pages write them (``simulation.selectors.display``).

An engineer writes a limit with about three significant figures and never rounds away whole units:
218.75 t/h is "219", 28.875 t/h is "28.9", 0.125 in is "0.125", 1,075 °C stays "1,075". Django-free.
"""

from __future__ import annotations

import math

SIGNIFICANT_DIGITS = 3


def decimals_for(value: float, *, significant: int = SIGNIFICANT_DIGITS, at_least: int = 0) -> int:
    """Decimal places that give ``value`` ``significant`` figures, but no fewer than ``at_least`` and never
    fewer than zero (a number's whole units are always kept)."""
    if value == 0 or not math.isfinite(value):
        return at_least
    whole_digits = math.floor(math.log10(abs(value))) + 1
    return max(at_least, significant - whole_digits)


def engineering_round(value: float, *, at_least: int = 0) -> float:
    """``value`` rounded to three significant figures, its whole units kept (``decimals_for``)."""
    return round(value, decimals_for(value, at_least=at_least))


def engineering_text(value: float) -> str:
    """``value`` as an engineer writes a limit or a size: three significant figures, whole units kept,
    thousands separated, no trailing zeros (1,450; 219; 28.9; 1.5; 0.125)."""
    decimals = decimals_for(value)
    text = f"{round(value, decimals):,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
