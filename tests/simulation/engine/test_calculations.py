"""Product calculations against published figures and hand calculations (no database needed)."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.engine.calculations import (
    NSPS_SUBPART_D_GAS_NOX_LIMIT,
    Stream,
    annual_fuel_cost_saving,
    cement_process_co2_tonnes,
    co2_tonnes,
    co2e_tonnes,
    combustion_efficiency,
    combustion_efficiency_celsius,
    correct_to_reference_o2,
    fuel_saving_fraction,
    gj_per_t_to_kcal_per_kg,
    kcal_per_kg_to_gj_per_t,
    nox_lb_per_mmbtu,
    nox_permit_margin_pct,
    npv,
    pinch_analysis,
    ppm_to_mg_per_nm3,
    simple_payback_years,
    specific_energy_gj_per_t,
    steam_trap_loss_cost,
    steam_trap_loss_lb_per_h,
)

# US DOE Steam Tip Sheet #4, "Combustion Efficiency for Natural Gas", typed in again here rather than
# imported, so a typo in the module's table fails the test. (O2 %, excess air %) -> efficiency % at
# flue-gas-minus-air ΔT 200, 300, 400, 500, 600 °F.
DOE_TIP_4 = {
    (2.0, 9.5): (85.4, 83.1, 80.8, 78.4, 76.0),
    (3.0, 15.0): (85.2, 82.8, 80.4, 77.9, 75.4),
    (5.0, 28.1): (84.7, 82.1, 79.5, 76.7, 74.0),
    (7.0, 44.9): (84.1, 81.2, 78.2, 75.2, 72.1),
    (10.0, 81.6): (82.8, 79.3, 75.6, 71.9, 68.2),
}
DELTA_T_F = (200.0, 300.0, 400.0, 500.0, 600.0)


# --- combustion efficiency ----------------------------------------------------------------------


@pytest.mark.parametrize(("o2", "excess_air", "delta_t", "published"), [
    (o2, excess_air, delta_t, value)
    for (o2, excess_air), row in DOE_TIP_4.items()
    for delta_t, value in zip(DELTA_T_F, row, strict=True)
])  # fmt: skip
def test_every_doe_table_cell_is_reproduced(o2: float, excess_air: float, delta_t: float, published: float) -> None:
    assert combustion_efficiency(o2_pct=o2, stack_minus_air_f=delta_t) == pytest.approx(published, abs=1e-9)


def test_mid_cell_interpolation_matches_hand_calculation() -> None:
    # O2 4 %, ΔT 350 °F: centre of the cell (3-5 % O2, 300-400 °F), so the mean of its corners:
    # (82.8 + 80.4 + 82.1 + 79.5) / 4 = 81.2.
    assert combustion_efficiency(o2_pct=4.0, stack_minus_air_f=350.0) == pytest.approx(81.2)
    # O2 8.5 %, ΔT 320 °F: halfway between the 7 and 10 % rows, 20 % of the way from 300 to 400 °F.
    # 7 % row: 81.2 + 0.2 * (78.2 - 81.2) = 80.6; 10 % row: 79.3 + 0.2 * (75.6 - 79.3) = 78.56;
    # mean 79.58.
    assert combustion_efficiency(o2_pct=8.5, stack_minus_air_f=320.0) == pytest.approx(79.58)


def test_outside_the_table_extrapolates_linearly_from_the_edge_cell() -> None:
    # ΔT 150 °F at 2 % O2: 85.4 + 0.5 * (85.4 - 83.1) = 86.55.
    assert combustion_efficiency(o2_pct=2.0, stack_minus_air_f=150.0) == pytest.approx(86.55)
    # ΔT 700 °F at 10 % O2: 68.2 - (71.9 - 68.2) = 64.5.
    assert combustion_efficiency(o2_pct=10.0, stack_minus_air_f=700.0) == pytest.approx(64.5)
    # O2 13 % at ΔT 600 °F: 68.2 + 3 * (68.2 - 72.1) / 3 = 64.3.
    assert combustion_efficiency(o2_pct=13.0, stack_minus_air_f=600.0) == pytest.approx(64.3)


def test_efficiency_is_clipped_to_50_percent_far_outside_the_table() -> None:
    assert combustion_efficiency(o2_pct=18.0, stack_minus_air_f=1500.0) == 50.0


def test_rule_of_thumb_one_point_per_40_f_of_stack_temperature() -> None:
    # "+1 % efficiency per 40 °F lower stack temperature" (Tip Sheet #4): holds within 0.5 points for
    # every 40 °F step on every row (steepest: 10 % O2, 3.7 points per 100 °F = 1.48 per 40 °F).
    o2 = np.array([2.0, 3.0, 5.0, 7.0, 10.0])[:, None]
    delta_t = np.arange(200.0, 561.0, 10.0)[None, :]
    gain = combustion_efficiency(o2_pct=o2, stack_minus_air_f=delta_t) - combustion_efficiency(
        o2_pct=o2, stack_minus_air_f=delta_t + 40.0
    )
    assert np.all(np.abs(gain - 1.0) <= 0.5)


@pytest.mark.parametrize("delta_t", [200.0, 300.0, 400.0, 500.0])
def test_rule_of_thumb_one_point_per_15_percent_excess_air(delta_t: float) -> None:
    # "+1 % efficiency per 15 % less excess air": across the whole table (81.6 % -> 9.5 % excess air)
    # it holds within 0.5 points per 15 % for ΔT 200-500 °F (0.54 to 1.35). At 600 °F it does not:
    # 7.8 points over 72.1 % excess air is 1.62 per 15 %.
    gain = combustion_efficiency(o2_pct=2.0, stack_minus_air_f=delta_t) - combustion_efficiency(
        o2_pct=10.0, stack_minus_air_f=delta_t
    )
    per_15_pct_excess_air = gain * 15.0 / (81.6 - 9.5)
    assert per_15_pct_excess_air == pytest.approx(1.0, abs=0.5)


def test_efficiency_of_array_input_is_an_array_of_the_same_shape() -> None:
    rng = np.random.default_rng(1)
    o2 = rng.uniform(1.0, 12.0, 500_000)
    delta_t = rng.uniform(150.0, 700.0, 500_000)

    result = combustion_efficiency(o2_pct=o2, stack_minus_air_f=delta_t)

    assert isinstance(result, np.ndarray)
    assert result.shape == (500_000,)
    assert result.dtype == np.float64
    assert result[7] == pytest.approx(combustion_efficiency(o2_pct=float(o2[7]), stack_minus_air_f=float(delta_t[7])))
    grid = combustion_efficiency(o2_pct=np.array([[2.0], [7.0]]), stack_minus_air_f=np.array([200.0, 400.0, 600.0]))
    np.testing.assert_allclose(grid, [[85.4, 80.8, 76.0], [84.1, 78.2, 72.1]])


def test_scalar_input_gives_a_plain_float() -> None:
    assert type(combustion_efficiency(o2_pct=3.0, stack_minus_air_f=400.0)) is float


def test_nan_samples_propagate_instead_of_raising() -> None:
    result = combustion_efficiency(o2_pct=np.array([3.0, np.nan]), stack_minus_air_f=400.0)

    assert result[0] == pytest.approx(80.4)
    assert np.isnan(result[1])


def test_celsius_convenience_converts_the_temperature_difference() -> None:
    # Stack 230 °C, air 8 °C: ΔT = 222 K = 399.6 °F, which is 0.4 °F short of the 400 °F column:
    # 78.2 + 0.004 * (81.2 - 78.2) = 78.212 at 7 % O2.
    assert combustion_efficiency_celsius(o2_pct=7.0, stack_c=230.0, air_c=8.0) == pytest.approx(78.212)


@pytest.mark.parametrize("o2", [20.9, 21.0, -0.1])
def test_impossible_o2_raises(o2: float) -> None:
    with pytest.raises(ValueError, match="o2_pct"):
        combustion_efficiency(o2_pct=o2, stack_minus_air_f=300.0)


def test_one_impossible_sample_in_an_array_raises() -> None:
    with pytest.raises(ValueError, match="o2_pct"):
        combustion_efficiency(o2_pct=np.array([3.0, 3.5, 20.95]), stack_minus_air_f=300.0)


def test_flue_gas_colder_than_its_air_raises() -> None:
    with pytest.raises(ValueError, match="stack_minus_air_f"):
        combustion_efficiency(o2_pct=3.0, stack_minus_air_f=-5.0)


# --- fuel saving ---------------------------------------------------------------------------------


def test_fuel_saving_of_the_doe_tip_4_tune_up() -> None:
    # Tip Sheet #4 example: 44.9 % excess air at ΔT 400 °F (78.2 %) tuned to 9.5 % at 300 °F (83.1 %),
    # on 500,000 MMBtu/yr: 1 - 78.2 / 83.1 = 0.058965 -> 29,482 MMBtu/yr.
    old = combustion_efficiency(o2_pct=7.0, stack_minus_air_f=400.0)
    new = combustion_efficiency(o2_pct=2.0, stack_minus_air_f=300.0)

    fraction = fuel_saving_fraction(efficiency_old_pct=old, efficiency_new_pct=new)

    assert fraction * 500_000 == pytest.approx(29_482, abs=1)


def test_annual_fuel_cost_saving_in_the_fuel_bill_currency() -> None:
    # $4,000,000/yr fuel at 80 % -> 85 %: 4e6 * (1 - 80/85) = 235,294.12.
    saving = annual_fuel_cost_saving(annual_fuel_cost=4_000_000.0, efficiency_old_pct=80.0, efficiency_new_pct=85.0)
    assert saving == pytest.approx(235_294.12, abs=0.01)


def test_lower_new_efficiency_is_a_negative_saving() -> None:
    assert fuel_saving_fraction(efficiency_old_pct=85.0, efficiency_new_pct=80.0) == pytest.approx(-0.0625)


@pytest.mark.parametrize(("old", "new"), [(0.0, 80.0), (80.0, 101.0), (-5.0, 80.0)])
def test_impossible_efficiency_raises(old: float, new: float) -> None:
    with pytest.raises(ValueError, match="efficiency"):
        fuel_saving_fraction(efficiency_old_pct=old, efficiency_new_pct=new)


# --- greenhouse gases ----------------------------------------------------------------------------


@pytest.mark.parametrize(("fuel", "kg_co2_per_mmbtu"), [
    ("natural_gas", 53.06),
    ("distillate_oil", 73.96),
    ("residual_oil", 75.10),
    ("bituminous_coal", 93.28),
    ("petroleum_coke", 102.41),
    ("propane", 62.87),
])  # fmt: skip
def test_co2_uses_40_cfr_98_table_c1(fuel: str, kg_co2_per_mmbtu: float) -> None:
    assert co2_tonnes(fuel_mmbtu=1000.0, fuel=fuel) == pytest.approx(kg_co2_per_mmbtu)


def test_natural_gas_co2e_is_53_11_kg_per_mmbtu() -> None:
    # 53.06 + 25 * 1.0e-3 + 298 * 1.0e-4 = 53.1148 kg CO2e/MMBtu.
    assert co2e_tonnes(fuel_mmbtu=1.0e6) * 1e3 / 1.0e6 == pytest.approx(53.1148)
    assert co2e_tonnes(fuel_mmbtu=1.0) * 1e3 == pytest.approx(53.11, abs=0.005)


@pytest.mark.parametrize(("fuel", "kg_co2e_per_mmbtu"), [
    ("bituminous_coal", 93.28 + 25 * 1.1e-2 + 298 * 1.6e-3),  # Table C-2 coal and coke: 94.0318
    ("residual_oil", 75.10 + 25 * 3.0e-3 + 298 * 6.0e-4),  # petroleum products: 75.3538
    ("petroleum_coke", 102.41 + 25 * 3.0e-3 + 298 * 6.0e-4),  # a petroleum product in Table C-1
])  # fmt: skip
def test_co2e_adds_table_c2_methane_and_nitrous_oxide(fuel: str, kg_co2e_per_mmbtu: float) -> None:
    assert co2e_tonnes(fuel_mmbtu=1000.0, fuel=fuel) == pytest.approx(kg_co2e_per_mmbtu)


def test_co2_of_an_array_of_fuel_is_an_array() -> None:
    result = co2_tonnes(fuel_mmbtu=np.array([[0.0, 1000.0], [2000.0, 3000.0]]))
    np.testing.assert_allclose(result, [[0.0, 53.06], [106.12, 159.18]])


def test_negative_fuel_raises() -> None:
    with pytest.raises(ValueError, match="fuel_mmbtu"):
        co2_tonnes(fuel_mmbtu=-1.0)
    with pytest.raises(ValueError, match="fuel_mmbtu"):
        co2e_tonnes(fuel_mmbtu=np.array([10.0, -0.5]))


def test_unknown_fuel_raises_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match="known: bituminous_coal"):
        co2_tonnes(fuel_mmbtu=1.0, fuel="unobtainium")


def test_cement_process_co2_for_a_5000_t_per_day_kiln() -> None:
    # 5,000 t clinker/d * 0.507 t CO2/t = 2,535 t CO2/d of calcination CO2.
    assert cement_process_co2_tonnes(clinker_t=5000.0) == pytest.approx(2535.0)
    with pytest.raises(ValueError, match="clinker_t"):
        cement_process_co2_tonnes(clinker_t=-1.0)


# --- NOx --------------------------------------------------------------------------------------------


def test_nox_30_ppm_at_3_percent_o2_on_gas() -> None:
    # 1.194e-7 * 30 * 8710 * 20.9 / 17.9 = 0.036428 lb/MMBtu.
    assert nox_lb_per_mmbtu(nox_ppm=30.0, o2_pct=3.0) == pytest.approx(0.036428, rel=1e-4)


def test_nox_uses_the_fuel_f_factor() -> None:
    # Same reading on bituminous coal: Fd 9780 instead of 8710.
    gas = nox_lb_per_mmbtu(nox_ppm=100.0, o2_pct=6.0)
    coal = nox_lb_per_mmbtu(nox_ppm=100.0, o2_pct=6.0, fuel="bituminous_coal")
    assert coal / gas == pytest.approx(9780.0 / 8710.0)


def test_nox_of_500k_samples_is_vectorised() -> None:
    rng = np.random.default_rng(2)
    ppm = rng.uniform(5.0, 50.0, 500_000)
    o2 = rng.uniform(2.0, 8.0, 500_000)

    result = nox_lb_per_mmbtu(nox_ppm=ppm, o2_pct=o2)

    assert result.shape == (500_000,)
    assert result[123] == pytest.approx(nox_lb_per_mmbtu(nox_ppm=float(ppm[123]), o2_pct=float(o2[123])))


@pytest.mark.parametrize(("ppm", "o2"), [(30.0, 20.9), (30.0, 25.0), (-1.0, 3.0)])
def test_impossible_nox_reading_raises(ppm: float, o2: float) -> None:
    with pytest.raises(ValueError, match=r"nox_ppm|o2_pct"):
        nox_lb_per_mmbtu(nox_ppm=ppm, o2_pct=o2)


def test_permit_margin_against_nsps_subpart_d() -> None:
    assert NSPS_SUBPART_D_GAS_NOX_LIMIT == 0.20
    assert nox_permit_margin_pct(emission_lb_per_mmbtu=0.05, limit_lb_per_mmbtu=0.20) == pytest.approx(75.0)
    assert nox_permit_margin_pct(emission_lb_per_mmbtu=0.25, limit_lb_per_mmbtu=0.20) == pytest.approx(-25.0)
    with pytest.raises(ValueError, match="limit"):
        nox_permit_margin_pct(emission_lb_per_mmbtu=0.05, limit_lb_per_mmbtu=0.0)


def test_correct_to_reference_o2() -> None:
    # 100 mg/Nm³ measured at 6 % O2, reported at 3 %: 100 * (21 - 3) / (21 - 6) = 120.
    assert correct_to_reference_o2(concentration=100.0, o2_measured_pct=6.0, o2_reference_pct=3.0) == pytest.approx(
        120.0
    )
    with pytest.raises(ValueError, match="o2_measured_pct"):
        correct_to_reference_o2(concentration=100.0, o2_measured_pct=21.0, o2_reference_pct=3.0)


def test_ppm_of_no2_to_mg_per_nm3() -> None:
    # 1 ppm NO2 = 46.01 / 22.41 = 2.053 mg/Nm³, the usual "x 2.05" for NOx as NO2.
    assert ppm_to_mg_per_nm3(ppm=100.0, molecular_weight=46.01) == pytest.approx(205.31, abs=0.01)


# --- steam traps ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("orifice_in", "psig", "published_lb_per_h"), [
    (1 / 32, 15.0, 0.85),
    (1 / 32, 100.0, 3.3),
    (1 / 32, 150.0, 4.8),
    (1 / 16, 15.0, 3.4),
    (1 / 16, 100.0, 13.2),
    (1 / 8, 150.0, 75.8),
])  # fmt: skip
def test_trap_loss_reproduces_doe_steam_tip_1_table(orifice_in: float, psig: float, published_lb_per_h: float) -> None:
    # DOE Steam Tip Sheet #1 "Leaking Steam Trap Discharge Rate"; within 3 % (the 1/32" row is printed
    # to two figures).
    assert steam_trap_loss_lb_per_h(orifice_in=orifice_in, pressure_psig=psig) == pytest.approx(
        published_lb_per_h, rel=0.03
    )


def test_napier_24_24_form_would_miss_the_doe_figure() -> None:
    # 24.24 * 164.7 psia * (1/8)² = 62.4 lb/h, 18 % below 75.8: the same rule with Cd 0.60.
    napier_24_24 = steam_trap_loss_lb_per_h(orifice_in=0.125, pressure_psig=150.0, discharge_coefficient=0.60)
    assert napier_24_24 == pytest.approx(24.24 * 164.696 * 0.125**2, rel=1e-3)
    assert napier_24_24 < 0.85 * 75.8


def test_trap_loss_cost_of_the_doe_tip_1_example() -> None:
    # 75.8 lb/h * 8,760 h/yr * $4.50 / 1,000 lb = 664,008 lb * $0.0045/lb = $2,988.04/yr (DOE: $2,988/yr).
    cost = steam_trap_loss_cost(loss_lb_per_h=75.8, hours_per_year=8760.0, steam_cost_per_1000_lb=4.50)
    assert cost == pytest.approx(2988.04, abs=0.01)


def test_trap_under_vacuum_raises() -> None:
    with pytest.raises(ValueError, match="pressure_psig"):
        steam_trap_loss_lb_per_h(orifice_in=0.125, pressure_psig=-2.0)


# --- specific energy -------------------------------------------------------------------------------


def test_kiln_of_179_mw_on_5000_t_per_day_is_3_1_gj_per_t() -> None:
    # DOMAIN: 5,000 t/d * 3.1 GJ/t ≈ 179 MW. 179.4 MW * 86,400 s = 15,500 GJ/d.
    fuel_gj_per_day = 179.398 * 86_400 / 1000
    assert specific_energy_gj_per_t(fuel_gj=fuel_gj_per_day, product_t=5000.0) == pytest.approx(3.1, abs=1e-4)


def test_gj_per_t_and_kcal_per_kg() -> None:
    assert gj_per_t_to_kcal_per_kg(1.0) == pytest.approx(238.85, abs=0.005)
    # World-average kiln 3.4-3.5 GJ/t ≈ 810-840 kcal/kg; the "above 750 kcal/kg" problem is 3.14 GJ/t.
    assert gj_per_t_to_kcal_per_kg(3.4) == pytest.approx(812.1, abs=0.1)
    assert kcal_per_kg_to_gj_per_t(750.0) == pytest.approx(3.140, abs=0.001)
    np.testing.assert_allclose(kcal_per_kg_to_gj_per_t(gj_per_t_to_kcal_per_kg(np.array([1.6, 3.5]))), [1.6, 3.5])


def test_zero_product_raises() -> None:
    with pytest.raises(ValueError, match="product_t"):
        specific_energy_gj_per_t(fuel_gj=100.0, product_t=0.0)


# --- economics -----------------------------------------------------------------------------------


def test_simple_payback() -> None:
    assert simple_payback_years(capex=150_000.0, annual_saving=100_000.0) == pytest.approx(1.5)


@pytest.mark.parametrize("saving", [0.0, -1000.0])
def test_payback_without_a_saving_raises(saving: float) -> None:
    with pytest.raises(ValueError, match="annual_saving"):
        simple_payback_years(capex=150_000.0, annual_saving=saving)


def test_npv_against_hand_calculation() -> None:
    # 100,000 now, 30,000 at the end of each of 5 years, 8 %:
    # 1.08^5 = 1.469328; UPV = (1 - 1/1.469328) / 0.08 = 3.992710; 30,000 * 3.992710 - 100,000 = 19,781.30.
    result = npv(capex=100_000.0, annual_saving=30_000.0, years=5, discount_rate=0.08)
    assert result == pytest.approx(19_781.30, abs=0.01)
    discounted = sum(30_000.0 / 1.08**year for year in range(1, 6)) - 100_000.0
    assert result == pytest.approx(discounted)


def test_npv_at_zero_discount_rate_is_undiscounted() -> None:
    assert npv(capex=100_000.0, annual_saving=30_000.0, years=5, discount_rate=0.0) == pytest.approx(50_000.0)
    # and it is the limit of small rates
    assert npv(capex=100_000.0, annual_saving=30_000.0, years=5, discount_rate=1e-9) == pytest.approx(50_000.0)


# --- pinch analysis ------------------------------------------------------------------------------

# Kemp, "Pinch Analysis and Process Integration", 2nd ed., four-stream example, CP in kW/K.
FOUR_STREAMS = [
    Stream("H1", supply_c=250.0, target_c=40.0, cp_kw_per_k=150.0),
    Stream("H2", supply_c=200.0, target_c=80.0, cp_kw_per_k=250.0),
    Stream("C1", supply_c=20.0, target_c=180.0, cp_kw_per_k=200.0),
    Stream("C2", supply_c=140.0, target_c=230.0, cp_kw_per_k=300.0),
]


def test_pinch_of_the_four_stream_textbook_example() -> None:
    # Hand calculation, ΔTmin 10 K: hot streams shifted down 5 K (H1 245->35, H2 195->75), cold up 5 K
    # (C1 25->185, C2 145->235). Intervals (shifted °C), net CP (hot - cold, MW/K), surplus (MW):
    #   245-235  0.15          +1.5     cascade  +1.5
    #   235-195  0.15-0.30     -6.0              -4.5
    #   195-185  0.40-0.30     +1.0              -3.5
    #   185-145  0.40-0.50     -4.0              -7.5  <- most negative
    #   145- 75  0.40-0.20    +14.0              +6.5
    #    75- 35  0.15-0.20     -2.0              +4.5
    #    35- 25  0    -0.20    -2.0              +2.5
    # Qh,min = 7.5 MW, Qc,min = 2.5 + 7.5 = 10.0 MW, pinch at 145 °C shifted = 150 °C hot / 140 °C cold.
    # Hot duty 0.15*210 + 0.25*120 = 61.5 MW, so recovery = 61.5 - 10.0 = 51.5 MW. This agrees with
    # the published targets.
    result = pinch_analysis(streams=FOUR_STREAMS, dt_min_c=10.0)

    assert result.min_hot_utility_kw == pytest.approx(7500.0)
    assert result.min_cold_utility_kw == pytest.approx(10_000.0)
    assert result.pinch_hot_c == pytest.approx(150.0)
    assert result.pinch_cold_c == pytest.approx(140.0)
    assert result.heat_recovery_kw == pytest.approx(51_500.0)


def test_pinch_targets_satisfy_the_overall_energy_balance() -> None:
    # Qh - Qc = cold duty - hot duty = (32 + 27) - (31.5 + 30) = -2.5 MW, at any ΔTmin.
    for dt_min in (5.0, 10.0, 20.0, 30.0):
        result = pinch_analysis(streams=FOUR_STREAMS, dt_min_c=dt_min)
        assert result.min_hot_utility_kw - result.min_cold_utility_kw == pytest.approx(-2500.0)


def test_wider_dt_min_costs_cp_times_the_extra_approach() -> None:
    # One hot (150->50 °C) and one cold (40->140 °C) stream, both 10 kW/K. At ΔTmin 10 K they match
    # exactly (no utilities); at ΔTmin 20 K the cold stream's top 10 K and the hot stream's bottom
    # 10 K go unmatched: 10 kW/K * 10 K = 100 kW of each utility.
    pair = [Stream("H", 150.0, 50.0, 10.0), Stream("C", 40.0, 140.0, 10.0)]

    matched = pinch_analysis(streams=pair, dt_min_c=10.0)
    wider = pinch_analysis(streams=pair, dt_min_c=20.0)

    assert (matched.min_hot_utility_kw, matched.min_cold_utility_kw) == pytest.approx((0.0, 0.0))
    assert matched.heat_recovery_kw == pytest.approx(1000.0)
    assert (wider.min_hot_utility_kw, wider.min_cold_utility_kw) == pytest.approx((100.0, 100.0))
    assert wider.heat_recovery_kw == pytest.approx(900.0)


def test_streams_of_one_kind_need_all_their_duty_from_utility() -> None:
    only_cold = pinch_analysis(streams=[Stream("C", 20.0, 120.0, 5.0)], dt_min_c=10.0)

    assert only_cold.min_hot_utility_kw == pytest.approx(500.0)
    assert only_cold.min_cold_utility_kw == pytest.approx(0.0)
    assert only_cold.heat_recovery_kw == pytest.approx(0.0)


def test_invalid_streams_raise() -> None:
    with pytest.raises(ValueError, match="cp_kw_per_k"):
        Stream("bad", 100.0, 50.0, 0.0)
    with pytest.raises(ValueError, match="no duty"):
        Stream("flat", 100.0, 100.0, 1.0)
    with pytest.raises(ValueError, match="dt_min_c"):
        pinch_analysis(streams=FOUR_STREAMS, dt_min_c=-1.0)
    with pytest.raises(ValueError, match="empty"):
        pinch_analysis(streams=[], dt_min_c=10.0)
