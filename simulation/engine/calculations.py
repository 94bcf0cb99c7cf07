"""Product calculations: combustion efficiency, emissions, steam-trap losses, energy intensity,
investment economics and pinch analysis.

Django-free and numpy-only. Every function that takes plant measurements accepts floats or numpy
arrays (broadcast against each other, no Python loop per sample): floats in give a float out, any
array in gives a float64 array out. NaN samples (sensor dropouts) propagate as NaN rather than raising.
Physically impossible input (negative fuel, O2 at or above ambient, ...) raises ``ValueError``.

Units are US customary where the cited source is (°F, psig, lb/h, MMBtu, lb/MMBtu) and SI elsewhere
(°C, kW, GJ/t); every name and docstring states its unit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar, overload

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
FloatOrArray = float | Array
_T = TypeVar("_T")


def _array(value: FloatOrArray) -> Array:
    return np.asarray(value, dtype=np.float64)


def _result(values: Array, *inputs: object) -> FloatOrArray:
    """An array if any input was an array, else a plain float."""
    if any(isinstance(value, np.ndarray) for value in inputs):
        return values
    return float(values)


def _reject(invalid: NDArray[np.bool_], message: str) -> None:
    if np.any(invalid):
        raise ValueError(message)


# ---------------------------------------------------------------------------------------------------
# Combustion efficiency (natural gas)
# ---------------------------------------------------------------------------------------------------

#: US DOE Steam Tip Sheet #4 "Improve Your Boiler's Combustion Efficiency", table "Combustion Efficiency
#: for Natural Gas" (assumes complete combustion, no water vapour in the combustion air). All five
#: published rows; DOMAIN.md quotes the 2, 7 and 10 % rows. Excess air per row: 9.5, 15.0, 28.1, 44.9,
#: 81.6 %.
DOE_TABLE_O2_PCT = np.array([2.0, 3.0, 5.0, 7.0, 10.0])
DOE_TABLE_EXCESS_AIR_PCT = np.array([9.5, 15.0, 28.1, 44.9, 81.6])
DOE_TABLE_STACK_MINUS_AIR_F = np.array([200.0, 300.0, 400.0, 500.0, 600.0])
DOE_TABLE_EFFICIENCY_PCT = np.array(
    [
        [85.4, 83.1, 80.8, 78.4, 76.0],
        [85.2, 82.8, 80.4, 77.9, 75.4],
        [84.7, 82.1, 79.5, 76.7, 74.0],
        [84.1, 81.2, 78.2, 75.2, 72.1],
        [82.8, 79.3, 75.6, 71.9, 68.2],
    ]
)
EFFICIENCY_CLIP_PCT = (50.0, 95.0)
AMBIENT_O2_PCT = 20.9  # dry air, the basis of EPA Method 19 and of the DOE table


def _cell(grid: Array, x: Array) -> tuple[NDArray[np.intp], Array]:
    """Index of the grid cell holding ``x`` (the edge cell outside the grid) and the fraction across it.

    Outside the grid the fraction is < 0 or > 1, so the bilinear formula continues the edge cell's
    slopes: linear extrapolation from the nearest cell edge.
    """
    index = np.clip(np.searchsorted(grid, x, side="right") - 1, 0, grid.size - 2)
    fraction = (x - grid[index]) / (grid[index + 1] - grid[index])
    return index, fraction


@overload
def combustion_efficiency(*, o2_pct: float, stack_minus_air_f: float) -> float: ...
@overload
def combustion_efficiency(*, o2_pct: Array, stack_minus_air_f: FloatOrArray) -> Array: ...
@overload
def combustion_efficiency(*, o2_pct: float, stack_minus_air_f: Array) -> Array: ...
def combustion_efficiency(*, o2_pct: FloatOrArray, stack_minus_air_f: FloatOrArray) -> FloatOrArray:
    """Combustion efficiency of a natural-gas boiler, % (of fuel HHV), from flue-gas O2 and stack ΔT.

    Bilinear interpolation of the US DOE Steam Tip Sheet #4 table (``DOE_TABLE_EFFICIENCY_PCT``).
    ``o2_pct`` is flue-gas O2, % by volume dry; ``stack_minus_air_f`` is flue-gas temperature minus
    combustion-air temperature, °F (a difference). Grid points reproduce the published cells exactly.

    Outside the table (O2 < 2 % or > 10 %, ΔT < 200 °F or > 600 °F) the edge cell's slopes are
    continued linearly; that is an extrapolation of published data, not a published value. The result
    is clipped to [50, 95] %.

    Raises ``ValueError`` for O2 < 0 or ≥ 20.9 % and for a negative ΔT (flue gas colder than its air).
    """
    o2 = _array(o2_pct)
    delta_t = _array(stack_minus_air_f)
    _reject((o2 < 0) | (o2 >= AMBIENT_O2_PCT), f"o2_pct must be in [0, {AMBIENT_O2_PCT}) % (dry flue gas)")
    _reject(delta_t < 0, "stack_minus_air_f must be ≥ 0 °F: flue gas cannot be colder than its combustion air")
    o2, delta_t = np.broadcast_arrays(o2, delta_t)
    row, t = _cell(DOE_TABLE_O2_PCT, o2)
    col, u = _cell(DOE_TABLE_STACK_MINUS_AIR_F, delta_t)
    # Flat gathers: one 1-D index per sample instead of four 2-D fancy indexes (same numbers, faster).
    flat = DOE_TABLE_EFFICIENCY_PCT.ravel()
    width = DOE_TABLE_EFFICIENCY_PCT.shape[1]
    index = row * width + col
    low_o2 = flat[index] + u * (flat[index + 1] - flat[index])
    high_o2 = flat[index + width] + u * (flat[index + width + 1] - flat[index + width])
    efficiency = low_o2 + t * (high_o2 - low_o2)
    return _result(np.clip(efficiency, *EFFICIENCY_CLIP_PCT), o2_pct, stack_minus_air_f)


@overload
def combustion_efficiency_celsius(*, o2_pct: float, stack_c: float, air_c: float) -> float: ...
@overload
def combustion_efficiency_celsius(*, o2_pct: Array, stack_c: FloatOrArray, air_c: FloatOrArray) -> Array: ...
@overload
def combustion_efficiency_celsius(*, o2_pct: float, stack_c: Array, air_c: FloatOrArray) -> Array: ...
@overload
def combustion_efficiency_celsius(*, o2_pct: float, stack_c: float, air_c: Array) -> Array: ...
def combustion_efficiency_celsius(*, o2_pct: FloatOrArray, stack_c: FloatOrArray, air_c: FloatOrArray) -> FloatOrArray:
    """``combustion_efficiency`` (%, DOE Steam Tip Sheet #4) from stack and combustion-air temperatures in °C.

    A temperature difference converts as ΔT[°F] = 1.8 * ΔT[°C] (NIST SP 811, Appendix B).
    """
    delta_f = 1.8 * (_array(stack_c) - _array(air_c))
    efficiency = combustion_efficiency(o2_pct=_array(o2_pct), stack_minus_air_f=delta_f)
    return _result(efficiency, o2_pct, stack_c, air_c)


def _check_efficiency(value: Array, name: str) -> None:
    _reject((value <= 0) | (value > 100), f"{name} must be in (0, 100] %")


@overload
def fuel_saving_fraction(*, efficiency_old_pct: float, efficiency_new_pct: float) -> float: ...
@overload
def fuel_saving_fraction(*, efficiency_old_pct: Array, efficiency_new_pct: FloatOrArray) -> Array: ...
@overload
def fuel_saving_fraction(*, efficiency_old_pct: float, efficiency_new_pct: Array) -> Array: ...
def fuel_saving_fraction(*, efficiency_old_pct: FloatOrArray, efficiency_new_pct: FloatOrArray) -> FloatOrArray:
    """Fraction of fuel saved (0-1) for the same heat output: 1 - E_old / E_new (US DOE Steam Tip Sheet #4).

    Efficiencies in %. Negative when the new efficiency is lower (more fuel).
    """
    old = _array(efficiency_old_pct)
    new = _array(efficiency_new_pct)
    _check_efficiency(old, "efficiency_old_pct")
    _check_efficiency(new, "efficiency_new_pct")
    return _result(1.0 - old / new, efficiency_old_pct, efficiency_new_pct)


@overload
def annual_fuel_cost_saving(
    *, annual_fuel_cost: float, efficiency_old_pct: float, efficiency_new_pct: float
) -> float: ...
@overload
def annual_fuel_cost_saving(
    *, annual_fuel_cost: Array, efficiency_old_pct: FloatOrArray, efficiency_new_pct: FloatOrArray
) -> Array: ...
@overload
def annual_fuel_cost_saving(
    *, annual_fuel_cost: float, efficiency_old_pct: Array, efficiency_new_pct: FloatOrArray
) -> Array: ...
@overload
def annual_fuel_cost_saving(
    *, annual_fuel_cost: float, efficiency_old_pct: float, efficiency_new_pct: Array
) -> Array: ...
def annual_fuel_cost_saving(
    *, annual_fuel_cost: FloatOrArray, efficiency_old_pct: FloatOrArray, efficiency_new_pct: FloatOrArray
) -> FloatOrArray:
    """Annual fuel-cost saving, in the currency of ``annual_fuel_cost`` (per year), from an efficiency gain.

    annual_fuel_cost * (1 - E_old / E_new), US DOE Steam Tip Sheet #4. ``annual_fuel_cost`` is today's
    spend (at E_old); efficiencies in %.
    """
    cost = _array(annual_fuel_cost)
    _reject(cost < 0, "annual_fuel_cost must be ≥ 0")
    fraction = fuel_saving_fraction(
        efficiency_old_pct=_array(efficiency_old_pct), efficiency_new_pct=_array(efficiency_new_pct)
    )
    return _result(cost * fraction, annual_fuel_cost, efficiency_old_pct, efficiency_new_pct)


# ---------------------------------------------------------------------------------------------------
# Greenhouse gases
# ---------------------------------------------------------------------------------------------------

#: 40 CFR 98 Subpart C, Table C-1: default CO2 emission factors, kg CO2/MMBtu (HHV).
CO2_KG_PER_MMBTU: dict[str, float] = {
    "natural_gas": 53.06,
    "distillate_oil": 73.96,  # Distillate Fuel Oil No. 2
    "residual_oil": 75.10,  # Residual Fuel Oil No. 6
    "bituminous_coal": 93.28,
    "petroleum_coke": 102.41,  # "Petroleum products—solid"
    "propane": 62.87,  # liquid propane (NGL); propane *gas* is 61.46
}

#: 40 CFR 98 Subpart C, Table C-2: default (CH4, N2O) emission factors, kg/MMBtu, by Table C-1 category.
#: Petroleum coke sits under "Petroleum products" in Table C-1, so it takes the petroleum factors,
#: not the coal-and-coke ones.
CH4_N2O_KG_PER_MMBTU: dict[str, tuple[float, float]] = {
    "natural_gas": (1.0e-3, 1.0e-4),
    "distillate_oil": (3.0e-3, 6.0e-4),
    "residual_oil": (3.0e-3, 6.0e-4),
    "bituminous_coal": (1.1e-2, 1.6e-3),
    "petroleum_coke": (3.0e-3, 6.0e-4),
    "propane": (3.0e-3, 6.0e-4),
}

#: 100-year GWPs of IPCC AR4 (40 CFR 98 Subpart A, Table A-1 as used in DOMAIN.md). EPA's 2024 GHGRP
#: revisions move Table A-1 to AR5 (CH4 28, N2O 265) for later reporting years; for natural gas the
#: CO2e factor is 53.11 kg/MMBtu either way.
GWP_CH4 = 25.0
GWP_N2O = 298.0

#: Process CO2 from calcination, t CO2 per t clinker: IPCC Tier 1 default (64.6 % CaO in clinker * 44/56),
#: as DOMAIN.md states it. (The IPCC 2006 Guidelines, Vol. 3 ch. 2, round it up to 0.52 by adding 2 % for
#: cement kiln dust; this keeps the DOMAIN.md figure.)
CLINKER_CO2_T_PER_T = 0.507

#: Net calorific values (LHV) of solid fuels, GJ per t: IPCC 2006 Guidelines for National Greenhouse Gas
#: Inventories, Vol. 2 (Energy), ch. 1, Table 1.2 (default NCV, TJ/Gg = GJ/t). Petroleum coke 32.5 (range
#: 29.7-41.9); "other bituminous coal" 25.8 (19.9-30.5). A kiln's heat consumption (kcal/kg clinker) is on
#: this basis, so a fuel meter in GJ/h divided by it gives the fuel's mass flow.
FUEL_LHV_GJ_PER_T: dict[str, float] = {
    "petroleum_coke": 32.5,
    "bituminous_coal": 25.8,
}


def fuel_lhv_gj_per_t(fuel: str) -> float:
    """Net calorific value of a solid fuel, GJ/t (``FUEL_LHV_GJ_PER_T``); ValueError for a fuel without one."""
    return _fuel_factor(FUEL_LHV_GJ_PER_T, fuel, "IPCC 2006 Vol. 2 Table 1.2 (solid fuels' LHV)")


def _fuel_factor(table: dict[str, _T], fuel: str, source: str) -> _T:
    try:
        return table[fuel]
    except KeyError:
        known = ", ".join(sorted(table))
        raise ValueError(f"unknown fuel {fuel!r} for {source}; known: {known}") from None


@overload
def co2_tonnes(*, fuel_mmbtu: float, fuel: str = "natural_gas") -> float: ...
@overload
def co2_tonnes(*, fuel_mmbtu: Array, fuel: str = "natural_gas") -> Array: ...
def co2_tonnes(*, fuel_mmbtu: FloatOrArray, fuel: str = "natural_gas") -> FloatOrArray:
    """Combustion CO2, metric tonnes, from fuel heat input in MMBtu (HHV).

    40 CFR 98 Subpart C Eq. C-1 (Tier 1): CO2 = 1e-3 * fuel * HHV * EF, with fuel * HHV given here
    directly as MMBtu and EF from Table C-1 (``CO2_KG_PER_MMBTU``).
    """
    energy = _array(fuel_mmbtu)
    _reject(energy < 0, "fuel_mmbtu must be ≥ 0")
    factor = _fuel_factor(CO2_KG_PER_MMBTU, fuel, "40 CFR 98 Table C-1")
    return _result(1e-3 * energy * factor, fuel_mmbtu)


@overload
def co2e_tonnes(*, fuel_mmbtu: float, fuel: str = "natural_gas") -> float: ...
@overload
def co2e_tonnes(*, fuel_mmbtu: Array, fuel: str = "natural_gas") -> Array: ...
def co2e_tonnes(*, fuel_mmbtu: FloatOrArray, fuel: str = "natural_gas") -> FloatOrArray:
    """Combustion CO2 + CH4 + N2O as metric tonnes CO2e, from fuel heat input in MMBtu (HHV).

    CO2 by 40 CFR 98 Eq. C-1 and Table C-1; CH4 and N2O by Eq. C-8 with the Table C-2 defaults
    (``CH4_N2O_KG_PER_MMBTU``), weighted by ``GWP_CH4`` and ``GWP_N2O``. Natural gas: 53.11 kg CO2e/MMBtu.
    """
    energy = _array(fuel_mmbtu)
    _reject(energy < 0, "fuel_mmbtu must be ≥ 0")
    co2 = _fuel_factor(CO2_KG_PER_MMBTU, fuel, "40 CFR 98 Table C-1")
    ch4, n2o = _fuel_factor(CH4_N2O_KG_PER_MMBTU, fuel, "40 CFR 98 Table C-2")
    return _result(1e-3 * energy * (co2 + GWP_CH4 * ch4 + GWP_N2O * n2o), fuel_mmbtu)


@overload
def cement_process_co2_tonnes(*, clinker_t: float) -> float: ...
@overload
def cement_process_co2_tonnes(*, clinker_t: Array) -> Array: ...
def cement_process_co2_tonnes(*, clinker_t: FloatOrArray) -> FloatOrArray:
    """Process (calcination) CO2 of clinker production, t, from clinker in t: 0.507 t CO2/t (IPCC Tier 1).

    Fuel CO2 of the kiln is separate (``co2_tonnes``).
    """
    clinker = _array(clinker_t)
    _reject(clinker < 0, "clinker_t must be ≥ 0")
    return _result(CLINKER_CO2_T_PER_T * clinker, clinker_t)


# ---------------------------------------------------------------------------------------------------
# NOx and concentration conversions
# ---------------------------------------------------------------------------------------------------

#: EPA Method 19 (40 CFR 60 Appendix A-7), Table 19-2: dry F-factors Fd, dscf per MMBtu (HHV).
METHOD_19_FD_DSCF_PER_MMBTU: dict[str, float] = {
    "natural_gas": 8710.0,
    "propane": 8710.0,
    "distillate_oil": 9190.0,
    "residual_oil": 9190.0,
    "bituminous_coal": 9780.0,
}
#: EPA Method 19 Table 19-1: ppm NOx (as NO2) to lb/scf.
NOX_LB_PER_SCF_PER_PPM = 1.194e-7
#: 40 CFR 60 Subpart D NOx standard for gaseous fossil fuel, lb/MMBtu heat input.
NSPS_SUBPART_D_GAS_NOX_LIMIT = 0.20
#: Ideal-gas molar volume at 0 °C and 101.325 kPa ("normal" m³), L/mol (CODATA 22.414).
MOLAR_VOLUME_NORMAL_L_PER_MOL = 22.41


@overload
def nox_lb_per_mmbtu(*, nox_ppm: float, o2_pct: float, fuel: str = "natural_gas") -> float: ...
@overload
def nox_lb_per_mmbtu(*, nox_ppm: Array, o2_pct: FloatOrArray, fuel: str = "natural_gas") -> Array: ...
@overload
def nox_lb_per_mmbtu(*, nox_ppm: float, o2_pct: Array, fuel: str = "natural_gas") -> Array: ...
def nox_lb_per_mmbtu(*, nox_ppm: FloatOrArray, o2_pct: FloatOrArray, fuel: str = "natural_gas") -> FloatOrArray:
    """NOx emission rate, lb/MMBtu heat input, from a dry NOx reading in ppm (as NO2) and dry O2 in %.

    EPA Method 19, Eq. 19-1 (O2 basis, dry): E = C * Fd * 20.9 / (20.9 - %O2), with C = 1.194e-7 lb/scf
    per ppm and Fd from Table 19-2 (``METHOD_19_FD_DSCF_PER_MMBTU``). 30 ppm at 3 % O2 on gas ≈ 0.036.
    """
    ppm = _array(nox_ppm)
    o2 = _array(o2_pct)
    _reject(ppm < 0, "nox_ppm must be ≥ 0")
    _reject((o2 < 0) | (o2 >= AMBIENT_O2_PCT), f"o2_pct must be in [0, {AMBIENT_O2_PCT}) % (dry flue gas)")
    fd = _fuel_factor(METHOD_19_FD_DSCF_PER_MMBTU, fuel, "EPA Method 19 Table 19-2")
    rate = NOX_LB_PER_SCF_PER_PPM * ppm * fd * AMBIENT_O2_PCT / (AMBIENT_O2_PCT - o2)
    return _result(rate, nox_ppm, o2_pct)


@overload
def nox_permit_margin_pct(*, emission_lb_per_mmbtu: float, limit_lb_per_mmbtu: float) -> float: ...
@overload
def nox_permit_margin_pct(*, emission_lb_per_mmbtu: Array, limit_lb_per_mmbtu: float) -> Array: ...
def nox_permit_margin_pct(*, emission_lb_per_mmbtu: FloatOrArray, limit_lb_per_mmbtu: float) -> FloatOrArray:
    """Headroom below a permit limit, % of the limit: (limit - E) / limit * 100; negative when exceeding.

    Both rates in lb/MMBtu (e.g. ``NSPS_SUBPART_D_GAS_NOX_LIMIT``, 40 CFR 60.44).
    """
    emission = _array(emission_lb_per_mmbtu)
    _reject(emission < 0, "emission_lb_per_mmbtu must be ≥ 0")
    if not limit_lb_per_mmbtu > 0:
        raise ValueError("limit_lb_per_mmbtu must be > 0")
    return _result((limit_lb_per_mmbtu - emission) / limit_lb_per_mmbtu * 100.0, emission_lb_per_mmbtu)


@overload
def correct_to_reference_o2(*, concentration: float, o2_measured_pct: float, o2_reference_pct: float) -> float: ...
@overload
def correct_to_reference_o2(
    *, concentration: Array, o2_measured_pct: FloatOrArray, o2_reference_pct: float
) -> Array: ...
@overload
def correct_to_reference_o2(*, concentration: float, o2_measured_pct: Array, o2_reference_pct: float) -> Array: ...
def correct_to_reference_o2(
    *, concentration: FloatOrArray, o2_measured_pct: FloatOrArray, o2_reference_pct: float
) -> FloatOrArray:
    """Concentration corrected to a reference O2: C * (21 - O2_ref) / (21 - O2_meas), same unit as C.

    Dry-basis dilution correction as in EU Directive 2010/75/EU (IED) Annex VI Part 6 and EN 14792
    practice, which takes air as 21 % O2 (EPA Method 19 uses 20.9). O2 in % by volume, dry.
    """
    value = _array(concentration)
    o2 = _array(o2_measured_pct)
    _reject(value < 0, "concentration must be ≥ 0")
    _reject((o2 < 0) | (o2 >= 21.0), "o2_measured_pct must be in [0, 21) %")
    if not 0 <= o2_reference_pct < 21.0:
        raise ValueError("o2_reference_pct must be in [0, 21) %")
    return _result(value * (21.0 - o2_reference_pct) / (21.0 - o2), concentration, o2_measured_pct)


@overload
def ppm_to_mg_per_nm3(*, ppm: float, molecular_weight: float) -> float: ...
@overload
def ppm_to_mg_per_nm3(*, ppm: Array, molecular_weight: float) -> Array: ...
def ppm_to_mg_per_nm3(*, ppm: FloatOrArray, molecular_weight: float) -> FloatOrArray:
    """Concentration in mg/Nm³ (0 °C, 101.325 kPa) from ppm by volume: ppm * MW / 22.41.

    ``molecular_weight`` in g/mol (NO2 46.01 for NOx, SO2 64.06, CO 28.01); 22.41 L/mol is the
    ideal-gas molar volume at normal conditions (CODATA).
    """
    value = _array(ppm)
    _reject(value < 0, "ppm must be ≥ 0")
    if not molecular_weight > 0:
        raise ValueError("molecular_weight must be > 0 g/mol")
    return _result(value * molecular_weight / MOLAR_VOLUME_NORMAL_L_PER_MOL, ppm)


# ---------------------------------------------------------------------------------------------------
# Steam traps
# ---------------------------------------------------------------------------------------------------

ATMOSPHERIC_PSIA = 14.696
#: Discharge coefficient of the US DOE Steam Tip Sheet #1 table (re-entrant orifice, Boiler Efficiency
#: Institute data). The common "24.24 * P * D²" form of Napier's rule is the same equation with 0.60.
STEAM_TRAP_DISCHARGE_COEFFICIENT = 0.72
#: Napier's rule: saturated steam through an orifice at choked flow, lb/s = area [in²] * P [psia] / 70.
_NAPIER_LB_PER_H_PER_IN2_PSIA = 3600.0 / 70.0


@overload
def steam_trap_loss_lb_per_h(
    *, orifice_in: float, pressure_psig: float, discharge_coefficient: float = STEAM_TRAP_DISCHARGE_COEFFICIENT
) -> float: ...
@overload
def steam_trap_loss_lb_per_h(
    *,
    orifice_in: Array,
    pressure_psig: FloatOrArray,
    discharge_coefficient: float = STEAM_TRAP_DISCHARGE_COEFFICIENT,
) -> Array: ...
@overload
def steam_trap_loss_lb_per_h(
    *, orifice_in: float, pressure_psig: Array, discharge_coefficient: float = STEAM_TRAP_DISCHARGE_COEFFICIENT
) -> Array: ...
def steam_trap_loss_lb_per_h(
    *,
    orifice_in: FloatOrArray,
    pressure_psig: FloatOrArray,
    discharge_coefficient: float = STEAM_TRAP_DISCHARGE_COEFFICIENT,
) -> FloatOrArray:
    """Steam lost through a trap failed open to atmosphere, lb/h, from orifice diameter (in) and psig.

    Napier's rule W = Cd * (π/4 * D²) * P_abs / 70 lb/s with Cd = 0.72, the basis of the US DOE Steam
    Tip Sheet #1 "Leaking Steam Trap Discharge Rate" table; it reproduces that table within 3 %
    (1/8″ at 150 psig: 74.8 vs 75.8 lb/h). The often-quoted 24.24 * P_abs * D² (Cd = 0.60) gives 62 lb/h
    there, 18 % below the DOE figure. Napier's rule assumes choked flow (P_abs ≳ 2 * atmospheric, about
    15 psig and up); at lower pressure it overstates the loss.
    """
    diameter = _array(orifice_in)
    gauge = _array(pressure_psig)
    _reject(diameter < 0, "orifice_in must be ≥ 0")
    _reject(gauge < 0, "pressure_psig must be ≥ 0: a trap under vacuum does not blow steam to atmosphere")
    if not 0 < discharge_coefficient <= 1:
        raise ValueError("discharge_coefficient must be in (0, 1]")
    area_in2 = np.pi / 4.0 * diameter**2
    loss = discharge_coefficient * _NAPIER_LB_PER_H_PER_IN2_PSIA * area_in2 * (gauge + ATMOSPHERIC_PSIA)
    return _result(loss, orifice_in, pressure_psig)


@overload
def steam_trap_loss_cost(*, loss_lb_per_h: float, hours_per_year: float, steam_cost_per_1000_lb: float) -> float: ...
@overload
def steam_trap_loss_cost(*, loss_lb_per_h: Array, hours_per_year: float, steam_cost_per_1000_lb: float) -> Array: ...
def steam_trap_loss_cost(
    *, loss_lb_per_h: FloatOrArray, hours_per_year: float, steam_cost_per_1000_lb: float
) -> FloatOrArray:
    """Annual cost of lost steam, currency per year: lb/h * h/yr * cost per 1,000 lb / 1,000.

    US DOE Steam Tip Sheet #1 (75.8 lb/h * 8,760 h * $4.50/1,000 lb = $2,988/yr).
    """
    loss = _array(loss_lb_per_h)
    _reject(loss < 0, "loss_lb_per_h must be ≥ 0")
    if not 0 <= hours_per_year <= 8784:
        raise ValueError("hours_per_year must be in [0, 8784]")
    if steam_cost_per_1000_lb < 0:
        raise ValueError("steam_cost_per_1000_lb must be ≥ 0")
    return _result(loss * hours_per_year * steam_cost_per_1000_lb / 1000.0, loss_lb_per_h)


# ---------------------------------------------------------------------------------------------------
# Specific energy
# ---------------------------------------------------------------------------------------------------

#: 1 GJ/t = 1 MJ/kg = 1e6 / 4186.8 kcal/kg (International Table calorie, 4.1868 J; NIST SP 811).
KCAL_PER_KG_PER_GJ_PER_T = 1e6 / 4186.8


@overload
def specific_energy_gj_per_t(*, fuel_gj: float, product_t: float) -> float: ...
@overload
def specific_energy_gj_per_t(*, fuel_gj: Array, product_t: FloatOrArray) -> Array: ...
@overload
def specific_energy_gj_per_t(*, fuel_gj: float, product_t: Array) -> Array: ...
def specific_energy_gj_per_t(*, fuel_gj: FloatOrArray, product_t: FloatOrArray) -> FloatOrArray:
    """Specific energy consumption, GJ per t of product (e.g. clinker, steel): fuel GJ / product t.

    The intensity metric of the IEA/WBCSD cement and steel benchmarks (GJ/t clinker, GJ/t steel).
    """
    fuel = _array(fuel_gj)
    product = _array(product_t)
    _reject(fuel < 0, "fuel_gj must be ≥ 0")
    _reject(product <= 0, "product_t must be > 0")
    return _result(fuel / product, fuel_gj, product_t)


@overload
def gj_per_t_to_kcal_per_kg(value: float) -> float: ...
@overload
def gj_per_t_to_kcal_per_kg(value: Array) -> Array: ...
def gj_per_t_to_kcal_per_kg(value: FloatOrArray) -> FloatOrArray:
    """GJ/t to kcal/kg: * 238.85 (International Table calorie, NIST SP 811)."""
    return _result(_array(value) * KCAL_PER_KG_PER_GJ_PER_T, value)


@overload
def kcal_per_kg_to_gj_per_t(value: float) -> float: ...
@overload
def kcal_per_kg_to_gj_per_t(value: Array) -> Array: ...
def kcal_per_kg_to_gj_per_t(value: FloatOrArray) -> FloatOrArray:
    """kcal/kg to GJ/t: ÷ 238.85 (International Table calorie, NIST SP 811)."""
    return _result(_array(value) / KCAL_PER_KG_PER_GJ_PER_T, value)


# ---------------------------------------------------------------------------------------------------
# Investment economics
# ---------------------------------------------------------------------------------------------------


def simple_payback_years(*, capex: float, annual_saving: float) -> float:
    """Simple payback, years: capex / annual saving (same currency per year), as defined in NIST Handbook 135."""
    if capex < 0:
        raise ValueError("capex must be ≥ 0")
    if not annual_saving > 0:
        raise ValueError("annual_saving must be > 0: a project that saves nothing never pays back")
    return capex / annual_saving


def npv(*, capex: float, annual_saving: float, years: float, discount_rate: float) -> float:
    """Net present value, currency, of capex now and a uniform annual saving at each year end.

    NIST Handbook 135 uniform present value factor: saving * (1 - (1 + d)^-n) / d - capex; for d = 0,
    saving * n - capex. ``discount_rate`` is a real rate as a fraction per year (0.03 = 3 %).
    """
    if capex < 0:
        raise ValueError("capex must be ≥ 0")
    if years < 0:
        raise ValueError("years must be ≥ 0")
    if not discount_rate > -1:
        raise ValueError("discount_rate must be > -1")
    if discount_rate == 0:
        return annual_saving * years - capex
    uniform_present_value = (1.0 - math.pow(1.0 + discount_rate, -years)) / discount_rate
    return annual_saving * uniform_present_value - capex


# ---------------------------------------------------------------------------------------------------
# Pinch analysis
# ---------------------------------------------------------------------------------------------------

ABSOLUTE_ZERO_C = -273.15


@dataclass(frozen=True)
class Stream:
    """A process stream for pinch analysis: hot if it cools (supply > target). °C and kW/K."""

    name: str
    supply_c: float
    target_c: float
    cp_kw_per_k: float

    def __post_init__(self) -> None:
        if self.cp_kw_per_k <= 0:
            raise ValueError(f"stream {self.name!r}: cp_kw_per_k must be > 0")
        if self.supply_c == self.target_c:
            raise ValueError(f"stream {self.name!r}: supply and target temperature are equal (no duty)")
        if min(self.supply_c, self.target_c) < ABSOLUTE_ZERO_C:
            raise ValueError(f"stream {self.name!r}: temperature below absolute zero")

    @property
    def is_hot(self) -> bool:
        return self.supply_c > self.target_c

    @property
    def duty_kw(self) -> float:
        return self.cp_kw_per_k * abs(self.supply_c - self.target_c)


@dataclass(frozen=True)
class PinchResult:
    """Targets from the problem table: pinch temperatures (°C, real hot- and cold-side) and duties (kW)."""

    pinch_hot_c: float
    pinch_cold_c: float
    min_hot_utility_kw: float
    min_cold_utility_kw: float
    heat_recovery_kw: float


def pinch_analysis(*, streams: Sequence[Stream], dt_min_c: float) -> PinchResult:
    """Minimum utility targets and pinch by the Linnhoff problem table algorithm.

    Hot streams are shifted down and cold streams up by ΔTmin/2; for each shifted temperature interval
    the surplus is (ΣCP_hot - ΣCP_cold) * ΔT; the heat cascade from the top is the running sum, and its
    most negative value (0 if none) is the minimum hot utility. The cascade's bottom plus that hot
    utility is the minimum cold utility, and the pinch is at the most negative point (shifted
    temperature; the hot side is ΔTmin/2 above it, the cold side ΔTmin/2 below). Heat recovery = total
    hot-stream duty - minimum cold utility. Linnhoff & Flower (1978); Kemp, "Pinch Analysis and Process
    Integration", 2nd ed., ch. 2. A threshold problem (no hot utility needed) reports the pinch at
    the hottest shifted temperature.
    """
    if not streams:
        raise ValueError("streams must not be empty")
    if dt_min_c < 0:
        raise ValueError("dt_min_c must be ≥ 0 K")
    hot = np.array([stream.is_hot for stream in streams])
    cp = np.array([stream.cp_kw_per_k for stream in streams])
    shift = np.where(hot, -dt_min_c / 2.0, dt_min_c / 2.0)
    supply = np.array([stream.supply_c for stream in streams]) + shift
    target = np.array([stream.target_c for stream in streams]) + shift
    high = np.maximum(supply, target)
    low = np.minimum(supply, target)

    boundaries = np.unique(np.concatenate([high, low]))[::-1]  # descending shifted temperatures
    upper, lower = boundaries[:-1], boundaries[1:]
    present = (high[:, None] >= upper[None, :]) & (low[:, None] <= lower[None, :])  # stream x interval
    signed_cp = np.where(hot, cp, -cp)
    surplus_kw = (signed_cp[:, None] * present).sum(axis=0) * (upper - lower)
    cascade_kw = np.concatenate([[0.0], np.cumsum(surplus_kw)])

    pinch_index = int(np.argmin(cascade_kw))
    min_hot_utility_kw = max(0.0, -float(cascade_kw[pinch_index]))
    min_cold_utility_kw = float(cascade_kw[-1]) + min_hot_utility_kw
    pinch_shifted_c = float(boundaries[pinch_index])
    hot_duty_kw = sum(stream.duty_kw for stream in streams if stream.is_hot)
    return PinchResult(
        pinch_hot_c=pinch_shifted_c + dt_min_c / 2.0,
        pinch_cold_c=pinch_shifted_c - dt_min_c / 2.0,
        min_hot_utility_kw=min_hot_utility_kw,
        min_cold_utility_kw=min_cold_utility_kw,
        heat_recovery_kw=hot_duty_kw - min_cold_utility_kw,
    )
