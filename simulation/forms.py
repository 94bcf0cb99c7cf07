"""Forms of the plant's pages on a sandbox's host: the O2 trim and the savings calculator of an asset."""

from __future__ import annotations

from django import forms

from demoportal.core.webforms import BaseForm
from simulation.services import (
    O2_SETPOINT_RANGE,
    SAVINGS_EFFICIENCY_RANGE,
    SAVINGS_FUEL_PRICE_RANGE,
    SAVINGS_HOURS_RANGE,
)

DEFAULT_OPERATING_HOURS = 8000  # a plant running all year but for ~4 weeks of outages (assumed)


class O2TrimForm(BaseForm):
    o2_setpoint_pct = forms.FloatField(
        label="New O2 setpoint (%)",
        min_value=O2_SETPOINT_RANGE[0],
        max_value=O2_SETPOINT_RANGE[1],
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
        help_text=f"Flue-gas O2, % dry, from {O2_SETPOINT_RANGE[0]:g} to {O2_SETPOINT_RANGE[1]:g}.",
    )


class SavingsForm(BaseForm):
    fuel_price_usd_per_mmbtu = forms.FloatField(
        label="Fuel price (USD/MMBtu)",
        min_value=SAVINGS_FUEL_PRICE_RANGE[0],
        max_value=SAVINGS_FUEL_PRICE_RANGE[1],
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    operating_hours_per_year = forms.IntegerField(
        label="Operating hours per year",
        min_value=SAVINGS_HOURS_RANGE[0],
        max_value=SAVINGS_HOURS_RANGE[1],
        initial=DEFAULT_OPERATING_HOURS,
    )
    efficiency_current_pct = forms.FloatField(
        label="Current efficiency (%)",
        min_value=SAVINGS_EFFICIENCY_RANGE[0],
        max_value=SAVINGS_EFFICIENCY_RANGE[1],
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )
    efficiency_target_pct = forms.FloatField(
        label="Target efficiency (%)",
        min_value=SAVINGS_EFFICIENCY_RANGE[0],
        max_value=SAVINGS_EFFICIENCY_RANGE[1],
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )

    def clean(self) -> dict[str, object] | None:
        data = super().clean()
        assert data is not None
        current, target = data.get("efficiency_current_pct"), data.get("efficiency_target_pct")
        if isinstance(current, float) and isinstance(target, float) and target <= current:
            self.add_error("efficiency_target_pct", "Above the current efficiency: the calculator prices a gain.")
        return data


TRAP_PRESSURE_RANGE = (15.0, 600.0)  # psig: Napier's rule holds for choked flow, from about 15 psig
TRAP_STEAM_COST_RANGE = (0.0, 100.0)  # USD per 1,000 lb


class TrapSurveyForm(BaseForm):
    """What the steam-trap survey prices the failed traps' steam at (GET: the figures change, nothing is
    stored)."""

    pressure_psig = forms.FloatField(
        label="Steam pressure at the traps (psig)",
        min_value=TRAP_PRESSURE_RANGE[0],
        max_value=TRAP_PRESSURE_RANGE[1],
        widget=forms.NumberInput(attrs={"step": "1", "inputmode": "decimal"}),
    )
    steam_cost_per_1000_lb = forms.FloatField(
        label="Steam cost (USD per 1,000 lb)",
        min_value=TRAP_STEAM_COST_RANGE[0],
        max_value=TRAP_STEAM_COST_RANGE[1],
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )
    hours_per_year = forms.IntegerField(label="Hours in service a year", min_value=1, max_value=8784)


DT_MIN_RANGE = (1.0, 50.0)  # K: the approach temperatures heat-exchanger networks are designed for


class PinchForm(BaseForm):
    """The minimum approach temperature the pinch analysis targets for (GET: nothing is stored)."""

    dt_min_c = forms.FloatField(
        label="ΔTmin (K)",
        min_value=DT_MIN_RANGE[0],
        max_value=DT_MIN_RANGE[1],
        widget=forms.NumberInput(attrs={"step": "1", "inputmode": "decimal"}),
        help_text=f"The smallest temperature difference allowed in an exchanger, {DT_MIN_RANGE[0]:g} to "
        f"{DT_MIN_RANGE[1]:g} K: a smaller one recovers more heat with more exchanger area.",
    )


EUA_PRICE_DEFAULT = (
    70.0  # EUR per allowance: an assumption, about the EU ETS price of 2024-2025; the prospect sets theirs
)
EUA_PRICE_RANGE = (1.0, 500.0)


class AllowancePriceForm(BaseForm):
    """The allowance price the CO2 account's EU ETS position is costed at (GET: nothing is stored)."""

    eua_price = forms.FloatField(
        label="Allowance price (EUR per t CO2)",
        min_value=EUA_PRICE_RANGE[0],
        max_value=EUA_PRICE_RANGE[1],
        widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
    )


ECONOMISER_OUTLET_RANGE = (121.0, 300.0)  # °C: below 121 (250 °F) a gas boiler's flue gas condenses acid (DOE Tip #3)


class EconomiserForm(BaseForm):
    """The economiser the screen prices (GET: nothing is stored): its flue-gas outlet and, for a payback, its
    installed cost."""

    outlet_c = forms.FloatField(
        label="Flue gas out of the economiser (°C)",
        min_value=ECONOMISER_OUTLET_RANGE[0],
        max_value=ECONOMISER_OUTLET_RANGE[1],
        widget=forms.NumberInput(attrs={"step": "1", "inputmode": "decimal"}),
        help_text="From 121 °C (250 °F): colder, a gas boiler's flue gas condenses acid on a plain economiser.",
    )
    capex_usd = forms.FloatField(
        label="Installed cost of the economisers (USD)",
        required=False,
        min_value=0,
        max_value=100_000_000,
        widget=forms.NumberInput(attrs={"step": "1000", "inputmode": "decimal"}),
        help_text="Optional: for the payback. From 0 to 100,000,000.",
    )
