"""Asset types the engine knows: the sensors each one carries and how they respond to load and faults.

Figures come from DOMAIN.md's references; where none exists the value is an assumption, marked
"assumed" here. Units: temperatures °C, pressures bar(g) unless named, firing rates MMBtu/h (US
refinery and boiler practice) or GJ/h (cement, steel), O2 % dry volume, NOx/CO ppm dry.

Every sensor value is ``base + per_load × (load − NOMINAL_LOAD)`` plus slow process wander,
measurement noise, anomaly effects and overlays (see ``signals``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from simulation.engine.calculations import AMBIENT_O2_PCT

NOMINAL_LOAD = 0.75  # fraction of capacity a plant runs at on average (assumed)

# Anomaly types and the event each raises when it starts.
ANOMALY_EVENTS: dict[str, str] = {
    "efficiency_drop": "alarm",
    "excess_air": "alarm",
    "sensor_drift": "maintenance_due",
    "tube_fouling": "maintenance_due",
    "trap_failure": "alarm",
    "equipment_failure": "alarm",
    "permit_exceedance": "permit_exceedance",
}
# Mean episode length in minutes (assumed; fouling and drift develop over days, a trip lasts hours).
ANOMALY_MEAN_MINUTES: dict[str, float] = {
    "efficiency_drop": 24 * 60,
    "excess_air": 8 * 60,
    "sensor_drift": 3 * 24 * 60,
    "tube_fouling": 6 * 24 * 60,
    "trap_failure": 4 * 24 * 60,
    "equipment_failure": 6 * 60,
    "permit_exceedance": 4 * 60,
}


@dataclass(frozen=True)
class Effect:
    """How an anomaly changes one sensor kind: ``step`` ramps in and holds, ``creep`` grows linearly over
    the episode (fouling, drift). An equipment failure needs no effect: it takes the asset's load to
    zero, and every sensor follows its load response."""

    delta: float
    shape: str = "step"


@dataclass(frozen=True)
class SensorTemplate:
    kind: str
    name: str
    tag: str  # ISA-5.1 style prefix: TI temperature, AI analyser, FI flow, PI pressure, PDI differential pressure
    unit: str
    base: float
    per_load: float
    low: float  # normal operating range
    high: float
    noise_sd: float  # measurement noise (repeatability)
    wander_sd: float  # slow process variability, hours scale
    tau_min: float = 5.0  # first-order time constant (assumed)
    derived: str | None = None  # computed from the asset's other sensors instead of generated
    effects: dict[str, Effect] = field(default_factory=dict)


# What a combustion efficiency is computed from. An O2 trim moves the flue-gas O2, cools the stack, and
# saves the fuel the better efficiency saves: an asset type takes one only when it has all three.
EFFICIENCY_INPUTS = ("o2", "stack_temp", "air_temp")
OVERLAY_KINDS = ("anomaly", "o2_setpoint")  # what people can put on a running plant


# Physical bounds of a reading, whatever anomalies and overlays are stacked on it and however fast the
# clock runs: an effect adds to a value, and several at once must not take it past what physics allows.
# By sensor kind where the kind has its own, else by unit.
ABSOLUTE_ZERO_C = -273.15
ATMOSPHERE_BAR = 1.01325  # a gauge pressure is never below full vacuum: -1 atm (ISO 80000-4)
ATMOSPHERE_INWC = 406.8  # 1 atm in inches of water column (4 °C), for draft, also a gauge pressure
UNBOUNDED = float("inf")
BOUNDS_BY_KIND: dict[str, tuple[float, float]] = {
    # Flue gas is air with some of its O2 burnt: it cannot hold more than air's 20.9 % (dry; EPA Method 19).
    "o2": (0.0, AMBIENT_O2_PCT),
    "kiln_inlet_o2": (0.0, AMBIENT_O2_PCT),
    "exit_gas_o2": (0.0, AMBIENT_O2_PCT),
    # Strictly between 0 and 100 %: some heat always leaves with the flue gas, and some is always used.
    # 0.1 point inside, so that a ratio of two efficiencies (fuel saved) stays finite.
    "efficiency": (0.1, 99.9),
}
BOUNDS_BY_UNIT: dict[str, tuple[float, float]] = {
    "°C": (ABSOLUTE_ZERO_C, UNBOUNDED),
    "%": (0.0, 100.0),  # a share of a whole: calcination, heat regeneration
    "ppm": (0.0, 1e6),  # a concentration: parts per million of the gas
    "bar(g)": (-ATMOSPHERE_BAR, UNBOUNDED),
    "inWC": (-ATMOSPHERE_INWC, UNBOUNDED),
    # Pressure differences a flow or a fan makes (coil, mill, under-grate): never negative.
    "bar": (0.0, UNBOUNDED),
    "mbar": (0.0, UNBOUNDED),
    # Rates, flows, powers, speeds and energies per product: never negative.
    **dict.fromkeys(
        ("MMBtu/h", "GJ/h", "t/h", "klb/h", "m³/h", "MW", "kW", "rpm", "kcal/kg", "GJ/t"), (0.0, UNBOUNDED)
    ),
}


def sensor_bounds(template: SensorTemplate) -> tuple[float, float]:
    """The lowest and highest value a sensor of this template can physically read."""
    return BOUNDS_BY_KIND.get(template.kind) or BOUNDS_BY_UNIT[template.unit]


@dataclass(frozen=True)
class AssetType:
    key: str
    name: str
    capacity_unit: str
    anomalies: tuple[str, ...]
    sensors: Callable[[float, dict[str, float]], list[SensorTemplate]]
    fuel_sensor: str | None = None  # the sensor kind that measures fuel input (MMBtu/h or GJ/h)
    # The sensor kind (t/h of clinker) whose every tonne releases calcination CO2 (CLINKER_CO2_T_PER_T).
    process_co2_sensor: str | None = None
    # The asset type whose fuel this one grinds (a coal mill, the kiln's): its feed is that fuel as mass.
    grinds_fuel_for: str | None = None
    capacity_label: str = "Capacity"  # what ``capacity`` is: a steam trap's is the size of its orifice
    # Where an O2 trim's fuel saving comes from, with its source, for the type's that take one.
    o2_trim_basis: str = ""

    @cached_property
    def sensor_kinds(self) -> frozenset[str]:
        """The kinds of sensor every asset of this type carries (they do not depend on capacity or design)."""
        return frozenset(template.kind for template in self.sensors(1.0, {}))

    def overlay_refusal(self, kind: str) -> tuple[str, str] | None:
        """Why an asset of this type cannot take the overlay ``kind`` (an anomaly type or ``o2_setpoint``):
        (the request's field at fault, a message), or None when it can. The one rule every entry point
        (API, pages, admin) and the engine itself apply."""
        if kind == "o2_setpoint":
            if set(EFFICIENCY_INPUTS) <= self.sensor_kinds:
                return None
            return "asset_id", (
                f"A {self.name.lower()} takes no O2 trim: it has no flue-gas O2, stack and combustion-air "
                "temperature to compute the efficiency the trim changes. Choose a fired heater or boiler."
            )
        if kind in self.anomalies:
            return None
        return "type", f"A {self.name.lower()} can have: {', '.join(self.anomalies) or 'no anomalies'}."


@dataclass(frozen=True)
class FlueGas:
    """What sets a gas-fired asset's flue-gas sensors apart: design defaults (``o2_pct``, ``stack_c`` and
    ``nox_ppm``, each overridden by the asset group's design of the same name), load responses, normal
    ranges, wander and anomaly effects. Units as the sensors': O2 %, temperatures °C, NOx/CO ppm."""

    o2_pct: float
    o2_per_load: float
    o2_high: float
    o2_wander_sd: float
    stack_c: float
    stack_per_load: float
    stack_below: float  # normal range: design stack - below ... design stack + above
    stack_above: float
    stack_wander_sd: float
    stack_effects: dict[str, Effect]
    efficiency_low: float
    nox_ppm: float
    nox_per_load: float
    nox_low: float
    nox_noise_sd: float
    nox_wander_sd: float
    nox_effects: dict[str, Effect]
    co_ppm: float
    co_per_load: float
    co_effects: dict[str, Effect] = field(default_factory=dict)


FLUE_GAS: dict[str, FlueGas] = {
    "fired_heater": FlueGas(
        o2_pct=3.0,
        o2_per_load=-1.0,
        o2_high=9.0,
        o2_wander_sd=0.15,
        stack_c=280.0,  # 530 °F design stack (DOMAIN.md upset example)
        stack_per_load=40.0,
        stack_below=60,
        stack_above=90,
        stack_wander_sd=3.0,
        stack_effects={
            "excess_air": Effect(12.0),
            "efficiency_drop": Effect(45.0),
            "tube_fouling": Effect(15.0, "creep"),
        },
        efficiency_low=65.0,
        nox_ppm=35.0,
        nox_per_load=12.0,
        nox_low=10.0,
        nox_noise_sd=0.8,
        nox_wander_sd=2.0,
        nox_effects={"excess_air": Effect(8.0), "permit_exceedance": Effect(55.0)},
        co_ppm=25.0,
        co_per_load=10.0,
        co_effects={"excess_air": Effect(-12.0)},
    ),
    "boiler": FlueGas(
        o2_pct=3.5,
        o2_per_load=-0.8,
        o2_high=8.0,
        o2_wander_sd=0.12,
        stack_c=200.0,
        stack_per_load=30.0,
        stack_below=50,
        stack_above=80,
        stack_wander_sd=2.5,
        stack_effects={"excess_air": Effect(10.0), "efficiency_drop": Effect(40.0)},
        efficiency_low=70.0,
        nox_ppm=30.0,
        nox_per_load=10.0,
        nox_low=5.0,
        nox_noise_sd=0.6,
        nox_wander_sd=1.5,
        nox_effects={"excess_air": Effect(6.0), "permit_exceedance": Effect(50.0)},
        co_ppm=30.0,
        co_per_load=8.0,
    ),
}


class FlueGasSensors(NamedTuple):
    o2: SensorTemplate
    stack_temp: SensorTemplate
    air_temp: SensorTemplate
    efficiency: SensorTemplate
    nox: SensorTemplate
    co: SensorTemplate


def _flue_gas(gas: FlueGas, design: dict[str, float]) -> FlueGasSensors:
    """The sensors of a gas-fired asset's flue gas and combustion air, and the combustion efficiency
    derived from them (``EFFICIENCY_INPUTS``)."""
    o2 = design.get("o2_pct", gas.o2_pct)
    stack = design.get("stack_c", gas.stack_c)
    return FlueGasSensors(
        o2=SensorTemplate(
            "o2",
            "Flue gas O2",
            "AI",
            "%",
            o2,
            gas.o2_per_load,
            1.5,
            gas.o2_high,
            0.05,
            gas.o2_wander_sd,
            tau_min=0.5,
            effects={"excess_air": Effect(3.0), "sensor_drift": Effect(1.2, "creep")},
        ),
        stack_temp=SensorTemplate(
            "stack_temp",
            "Stack temperature",
            "TI",
            "°C",
            stack,
            gas.stack_per_load,
            stack - gas.stack_below,
            stack + gas.stack_above,
            0.8,
            gas.stack_wander_sd,
            tau_min=10,
            effects=gas.stack_effects,
        ),
        air_temp=SensorTemplate("air_temp", "Combustion air temperature", "TI", "°C", 25.0, 0.0, -10.0, 45.0, 0.3, 1.5),
        efficiency=SensorTemplate(
            "efficiency", "Combustion efficiency", "EI", "%", 0, 0, gas.efficiency_low, 90.0, 0, 0, derived="efficiency"
        ),
        nox=SensorTemplate(
            "nox",
            "Flue gas NOx",
            "AI",
            "ppm",
            design.get("nox_ppm", gas.nox_ppm),
            gas.nox_per_load,
            gas.nox_low,
            80.0,
            gas.nox_noise_sd,
            gas.nox_wander_sd,
            effects=gas.nox_effects,
        ),
        co=SensorTemplate(
            "co", "Flue gas CO", "AI", "ppm", gas.co_ppm, gas.co_per_load, 0.0, 100.0, 2.0, 4.0, effects=gas.co_effects
        ),
    )


def _firing_rate(capacity: float) -> SensorTemplate:
    """Fuel input of a gas-fired asset, MMBtu/h: ``capacity`` at full load."""
    return SensorTemplate(
        "firing_rate",
        "Firing rate",
        "FI",
        "MMBtu/h",
        NOMINAL_LOAD * capacity,
        capacity,
        0.2 * capacity,
        1.05 * capacity,
        0.004 * capacity,
        0.02 * capacity,
        tau_min=2,
    )


def _fired_heater(capacity: float, design: dict[str, float]) -> list[SensorTemplate]:
    """Refinery process heater, natural gas (API RP 535). O2 just below the radiant roof; TMT per pass."""
    gas = _flue_gas(FLUE_GAS["fired_heater"], design)
    return [
        _firing_rate(capacity),
        gas.o2,
        gas.stack_temp,
        gas.air_temp,
        gas.efficiency,
        SensorTemplate(
            "tmt_a",
            "Tube metal temperature, pass A",
            "TI",
            "°C",
            480.0,
            60.0,
            400.0,
            560.0,
            1.0,
            3.0,
            tau_min=20,
            effects={"tube_fouling": Effect(40.0, "creep"), "sensor_drift": Effect(5.0, "creep")},
        ),
        SensorTemplate(
            "tmt_b",
            "Tube metal temperature, pass B",
            "TI",
            "°C",
            485.0,
            60.0,
            400.0,
            560.0,
            1.0,
            3.0,
            tau_min=20,
            effects={"tube_fouling": Effect(35.0, "creep")},
        ),
        SensorTemplate(
            "coil_dp",
            "Coil pressure drop",
            "PDI",
            "bar",
            1.6,
            1.2,
            0.8,
            2.8,
            0.01,
            0.03,
            effects={"tube_fouling": Effect(0.6, "creep")},
        ),
        SensorTemplate("draft", "Draft at firebox top", "PI", "inWC", -0.10, -0.04, -0.25, -0.05, 0.003, 0.01),
        gas.co,
        gas.nox,
    ]


def _boiler(capacity: float, design: dict[str, float]) -> list[SensorTemplate]:
    """Natural-gas water-tube boiler (DOE Steam Tip #4; low-NOx: O2 5-7 %, NOx < 20 ppm, CO < 100 ppm)."""
    gas = _flue_gas(FLUE_GAS["boiler"], design)
    pressure = design.get("pressure_barg", 17.0)
    steam = capacity * 0.82 / 1.0  # klb/h: 1 MMBtu/h input at ~82 % makes ~0.82 klb/h (≈1,000 Btu/lb, assumed)
    return [
        _firing_rate(capacity),
        SensorTemplate(
            "steam_flow",
            "Steam flow",
            "FI",
            "klb/h",
            NOMINAL_LOAD * steam,
            steam,
            0.2 * steam,
            1.05 * steam,
            0.004 * steam,
            0.02 * steam,
            tau_min=3,
        ),
        SensorTemplate(
            "drum_pressure",
            "Drum pressure",
            "PI",
            "bar(g)",
            pressure,
            0.3,
            0.85 * pressure,
            1.08 * pressure,
            0.02,
            0.08,
        ),
        gas.o2,
        gas.stack_temp,
        gas.air_temp,
        gas.efficiency,
        SensorTemplate(
            "feedwater_temp",
            "Feedwater temperature",
            "TI",
            "°C",
            design.get("feedwater_c", 105.0),
            3.0,
            95.0,
            150.0,
            0.3,
            1.0,
        ),
        gas.nox,
        gas.co,
    ]


def _heat_exchanger(capacity: float, design: dict[str, float]) -> list[SensorTemplate]:
    """Shell-and-tube, plate or air-cooled exchanger; fouling raises hot outlet, lowers cold outlet."""
    hot_in = design.get("hot_in_c", 250.0)
    cold_in = design.get("cold_in_c", 60.0)
    approach = design.get("approach_c", 25.0)
    cold_out = hot_in - approach - 0.25 * (hot_in - cold_in)
    hot_out = cold_in + approach + 0.25 * (hot_in - cold_in)
    return [
        SensorTemplate("hot_in", "Hot side inlet", "TI", "°C", hot_in, 8.0, hot_in - 25, hot_in + 25, 0.5, 2.0),
        SensorTemplate(
            "hot_out",
            "Hot side outlet",
            "TI",
            "°C",
            hot_out,
            6.0,
            hot_out - 20,
            hot_out + 30,
            0.5,
            2.0,
            tau_min=8,
            effects={"tube_fouling": Effect(18.0, "creep")},
        ),
        SensorTemplate("cold_in", "Cold side inlet", "TI", "°C", cold_in, 2.0, cold_in - 15, cold_in + 15, 0.5, 1.5),
        SensorTemplate(
            "cold_out",
            "Cold side outlet",
            "TI",
            "°C",
            cold_out,
            5.0,
            cold_out - 30,
            cold_out + 20,
            0.5,
            2.0,
            tau_min=8,
            effects={"tube_fouling": Effect(-15.0, "creep"), "sensor_drift": Effect(5.0, "creep")},
        ),
    ]


def _steam_header(capacity: float, design: dict[str, float]) -> list[SensorTemplate]:
    pressure = design.get("pressure_barg", capacity)
    return [
        SensorTemplate(
            "pressure",
            "Header pressure",
            "PI",
            "bar(g)",
            pressure,
            0.02 * pressure,
            0.9 * pressure,
            1.08 * pressure,
            0.01 * pressure,
            0.008 * pressure,
        ),
        SensorTemplate(
            "steam_flow",
            "Header flow",
            "FI",
            "klb/h",
            design.get("flow_klbh", 200.0),
            design.get("flow_klbh", 200.0) * 0.8,
            0,
            design.get("flow_klbh", 200.0) * 1.6,
            1.0,
            0.02 * design.get("flow_klbh", 200.0),
        ),
        SensorTemplate(
            "temperature",
            "Header temperature",
            "TI",
            "°C",
            design.get("temperature_c", 260.0),
            4.0,
            design.get("temperature_c", 260.0) - 25,
            design.get("temperature_c", 260.0) + 25,
            0.5,
            1.5,
        ),
    ]


def _steam_trap(capacity: float, design: dict[str, float]) -> list[SensorTemplate]:
    """Thermodisc/inverted-bucket trap with a downstream temperature sensor; ``capacity`` is its orifice's
    diameter in inches (the US DOE Steam Tip Sheet #1 table's sizes, 1/32-1/2 in). Failed open ⇒ live steam
    passes and the outlet sits near saturation (≈ 160 °C, assumed) instead of ≈ 95 °C condensate."""
    outlet = 160.0 if design.get("failed") else 95.0
    return [
        SensorTemplate(
            "trap_temp",
            "Trap outlet temperature",
            "TI",
            "°C",
            outlet,
            4.0,
            70.0,
            120.0,
            0.6,
            2.0,
            tau_min=3,
            effects={"trap_failure": Effect(60.0)},
        ),
    ]


def _steam_turbine(capacity: float, design: dict[str, float]) -> list[SensorTemplate]:
    return [
        SensorTemplate(
            "power",
            "Generator output",
            "JI",
            "MW",
            NOMINAL_LOAD * capacity,
            capacity,
            0.2 * capacity,
            1.05 * capacity,
            0.003 * capacity,
            0.02 * capacity,
        ),
        SensorTemplate(
            "speed",
            "Shaft speed",
            "SI",
            "rpm",
            3600.0,
            0.0,
            3550.0,
            3650.0,
            1.5,
            3.0,
            effects={"equipment_failure": Effect(-3600.0)},
        ),
        SensorTemplate("inlet_pressure", "Inlet pressure", "PI", "bar(g)", 41.0, 2.0, 38.0, 44.0, 0.05, 0.2),
        SensorTemplate("exhaust_pressure", "Exhaust pressure", "PI", "bar(g)", 3.5, 0.5, 2.8, 4.4, 0.02, 0.05),
    ]


def _cement_kiln(capacity: float, design: dict[str, float]) -> list[SensorTemplate]:
    """Rotary kiln, t/d clinker. Burning zone ≈ 1,450 °C; kiln inlet 1,050-1,100 °C, O2 ≤ 10 %, CO 100-10,000
    ppm, NOx 200-700 ppm; shell normal < 350 °C (DOMAIN.md, cement).

    Kiln inlet O2 is a kiln's own combustion control, not a boiler's: the DOE boiler table (Steam Tip #4) and
    its efficiency do not apply, so a kiln takes no O2 trim here (``EFFICIENCY_INPUTS``). Its basis: the
    ENERGY STAR cement guide (Worrell, Kermeli & Galitsky, "Energy Efficiency Improvement and Cost Saving
    Opportunities for Cement Making", US EPA 430-R-13-009, 2013, "Kiln combustion system improvements"):
    poorly adjusted firing, incomplete burn-out with CO, and excess (false) air waste kiln fuel; better
    combustion saves 2-10 %. The design O2 (3.5 %, the scenario's ``design.o2_pct``) and its 1.5-6.5 % band
    are assumed operating practice inside DOMAIN.md's range: lower O2 makes CO, higher heats false air."""
    rate = capacity / 24.0  # t/h clinker
    shc = design.get("specific_heat_kcal_per_kg", 800.0)
    fuel = rate * 1000 * shc * 4.1868e-6  # GJ/h = t/h × kg/t × kcal/kg × GJ/kcal
    return [
        SensorTemplate(
            "clinker_rate",
            "Clinker production",
            "WI",
            "t/h",
            0.95 * rate,
            0.4 * rate,
            0.6 * rate,
            1.05 * rate,
            0.003 * rate,
            0.01 * rate,
            tau_min=30,
        ),
        SensorTemplate(
            "fuel_rate",
            "Kiln and calciner fuel",
            "FI",
            "GJ/h",
            fuel * 0.95,
            0.4 * fuel,
            0.6 * fuel,
            1.1 * fuel,
            0.004 * fuel,
            0.01 * fuel,
            tau_min=5,
            effects={"efficiency_drop": Effect(0.05 * fuel)},
        ),
        SensorTemplate(
            "specific_heat",
            "Specific heat consumption",
            "EI",
            "kcal/kg",
            0,
            0,
            700.0,
            900.0,
            0,
            0,
            derived="specific_heat",
        ),
        SensorTemplate(
            "burning_zone_temp",
            "Burning zone temperature",
            "TI",
            "°C",
            1450.0,
            20.0,
            1400.0,
            1500.0,
            3.0,
            8.0,
            tau_min=20,
        ),
        SensorTemplate(
            "kiln_inlet_temp",
            "Kiln inlet gas temperature",
            "TI",
            "°C",
            1075.0,
            25.0,
            1030.0,
            1120.0,
            2.0,
            6.0,
            tau_min=15,
        ),
        SensorTemplate(
            "kiln_inlet_o2",
            "Kiln inlet O2",
            "AI",
            "%",
            design.get("o2_pct", 3.5),
            -0.5,
            1.5,
            6.5,
            0.05,
            0.2,
            tau_min=1,
            effects={"excess_air": Effect(2.5), "sensor_drift": Effect(1.0, "creep")},
        ),
        SensorTemplate(
            "kiln_inlet_co",
            "Kiln inlet CO",
            "AI",
            "ppm",
            450.0,
            150.0,
            100.0,
            1500.0,
            15.0,
            80.0,
            effects={"excess_air": Effect(-250.0)},
        ),
        SensorTemplate(
            "kiln_inlet_nox",
            "Kiln inlet NOx",
            "AI",
            "ppm",
            450.0,
            80.0,
            200.0,
            700.0,
            5.0,
            25.0,
            effects={"permit_exceedance": Effect(220.0), "excess_air": Effect(60.0)},
        ),
        SensorTemplate(
            "shell_temp",
            "Kiln shell temperature (max)",
            "TI",
            "°C",
            285.0,
            20.0,
            200.0,
            350.0,
            2.0,
            8.0,
            tau_min=60,
            effects={"tube_fouling": Effect(150.0, "creep")},
        ),
    ]


def _preheater(capacity: float, design: dict[str, float]) -> list[SensorTemplate]:
    """5-stage cyclone preheater with in-line calciner: calciner ≈ 900 °C, up to 95 % calcination."""
    return [
        SensorTemplate(
            "calciner_temp", "Calciner outlet temperature", "TI", "°C", 890.0, 15.0, 860.0, 920.0, 1.5, 4.0, tau_min=10
        ),
        SensorTemplate("calcination", "Degree of calcination", "AI", "%", 91.5, 1.5, 88.0, 95.0, 0.3, 0.5),
        SensorTemplate(
            "exit_gas_temp",
            "Preheater exit gas temperature",
            "TI",
            "°C",
            330.0,
            15.0,
            290.0,
            370.0,
            1.0,
            4.0,
            effects={"efficiency_drop": Effect(30.0)},
        ),
        SensorTemplate(
            "exit_gas_o2",
            "Preheater exit O2",
            "AI",
            "%",
            4.5,
            -0.5,
            2.5,
            7.0,
            0.05,
            0.2,
            effects={"excess_air": Effect(2.0)},
        ),
    ]


def _clinker_cooler(capacity: float, design: dict[str, float]) -> list[SensorTemplate]:
    return [
        SensorTemplate(
            "secondary_air_temp",
            "Secondary air temperature",
            "TI",
            "°C",
            1000.0,
            40.0,
            900.0,
            1100.0,
            3.0,
            10.0,
            effects={"efficiency_drop": Effect(-80.0)},
        ),
        SensorTemplate(
            "clinker_out_temp", "Clinker outlet temperature", "TI", "°C", 110.0, 15.0, 80.0, 150.0, 1.0, 4.0
        ),
        SensorTemplate("grate_pressure", "Under-grate pressure", "PI", "mbar", 55.0, 8.0, 40.0, 70.0, 0.5, 1.5),
    ]


def _coal_mill(capacity: float, design: dict[str, float]) -> list[SensorTemplate]:
    """Vertical roller mill grinding the kiln's coal/petcoke, t/h (``capacity``: its rated throughput).

    Its feed is the fuel the kiln burns, as mass: the kiln's fuel meter (GJ/h, net calorific value, the basis
    of kcal/kg clinker) divided by the fuel's LHV (``calculations.FUEL_LHV_GJ_PER_T``, IPCC 2006), shared
    among the mills. ``plant_build`` puts the kiln's share into ``design``: ``fuel_gj_per_h`` (at nominal
    load), ``fuel_per_load_gj_per_h`` (its load response) and ``lhv_gj_per_t``. A fine-coal bin between mill
    and burner lets each mill run on its own load; over hours and longer, feed × LHV equals the kiln's fuel.
    Main drive ≈ 20 kWh per t ground (assumed). Without a kiln's share (only when asking which sensors the
    type has) the feed is the nominal share of the capacity."""
    lhv = design.get("lhv_gj_per_t")
    fuel = design.get("fuel_gj_per_h")
    feed = fuel / lhv if fuel is not None and lhv else NOMINAL_LOAD * capacity
    feed_per_load = design.get("fuel_per_load_gj_per_h", 0.0) / lhv if lhv else capacity
    kwh_per_t = 20.0  # assumed main-drive specific power
    return [
        SensorTemplate(
            "feed_rate",
            "Coal feed",
            "WI",
            "t/h",
            feed,
            feed_per_load,
            0.6 * feed,
            1.05 * capacity,
            0.004 * feed,
            0.02 * feed,
        ),
        SensorTemplate("outlet_temp", "Mill outlet temperature", "TI", "°C", 80.0, 3.0, 70.0, 90.0, 0.4, 1.2),
        SensorTemplate("mill_dp", "Mill differential pressure", "PDI", "mbar", 45.0, 10.0, 35.0, 60.0, 0.4, 1.5),
        SensorTemplate(
            "motor_power",
            "Main drive power",
            "JI",
            "kW",
            kwh_per_t * feed,
            kwh_per_t * feed_per_load,
            0.3 * kwh_per_t * capacity,
            kwh_per_t * capacity,
            0.005 * kwh_per_t * feed,
            0.02 * kwh_per_t * feed,
        ),
    ]


def _reheat_furnace(capacity: float, design: dict[str, float]) -> list[SensorTemplate]:
    """Walking-beam reheat furnace, t/h; 1.0-2.0 GJ/t typical, billets out at 1,000-1,200 °C (DOMAIN.md, steel)."""
    sec = design.get("specific_energy_gj_per_t", 1.9)
    fuel = capacity * sec  # GJ/h at full rate
    return [
        SensorTemplate(
            "throughput",
            "Billet throughput",
            "WI",
            "t/h",
            NOMINAL_LOAD * capacity,
            capacity,
            0.2 * capacity,
            1.05 * capacity,
            0.004 * capacity,
            0.03 * capacity,
            tau_min=15,
        ),
        SensorTemplate(
            "fuel_rate",
            "Fuel input",
            "FI",
            "GJ/h",
            NOMINAL_LOAD * fuel,
            fuel,
            0.3 * fuel,
            1.1 * fuel,
            0.004 * fuel,
            0.02 * fuel,
            tau_min=5,
            effects={"excess_air": Effect(0.06 * fuel), "efficiency_drop": Effect(0.08 * fuel)},
        ),
        SensorTemplate(
            "specific_energy", "Specific energy", "EI", "GJ/t", 0, 0, 1.3, 2.7, 0, 0, derived="specific_energy"
        ),
        SensorTemplate("soak_zone_temp", "Soak zone temperature", "TI", "°C", 1250.0, 10.0, 1220.0, 1280.0, 1.5, 4.0),
        SensorTemplate(
            "discharge_temp",
            "Billet discharge temperature",
            "TI",
            "°C",
            1170.0,
            -15.0,
            1120.0,
            1210.0,
            2.0,
            6.0,
            tau_min=20,
        ),
        SensorTemplate(
            "o2",
            "Flue gas O2",
            "AI",
            "%",
            design.get("o2_pct", 2.5),
            -0.5,
            1.0,
            6.0,
            0.05,
            0.15,
            tau_min=0.5,
            effects={"excess_air": Effect(3.0), "sensor_drift": Effect(1.2, "creep")},
        ),
        SensorTemplate(
            "recuperator_air_temp",
            "Recuperator air preheat",
            "TI",
            "°C",
            450.0,
            20.0,
            380.0,
            520.0,
            1.5,
            5.0,
            effects={"tube_fouling": Effect(-60.0, "creep")},
        ),
    ]


def _ladle_preheater(capacity: float, design: dict[str, float]) -> list[SensorTemplate]:
    """Ladle preheat station: 100 t ladle to 2,100 °F (1,150 °C) hot face, holding ≈ 1.4 MMBtu/h."""
    return [
        SensorTemplate("firing_rate", "Firing rate", "FI", "MMBtu/h", 1.4 + 0.5, 2.5, 0.8, 3.5, 0.02, 0.15),
        SensorTemplate(
            "hot_face_temp",
            "Ladle hot face temperature",
            "TI",
            "°C",
            1090.0,
            40.0,
            950.0,
            1180.0,
            3.0,
            10.0,
            tau_min=30,
        ),
    ]


def _pasteuriser(capacity: float, design: dict[str, float]) -> list[SensorTemplate]:
    """HTST pasteuriser: 161 °F (71.7 °C) for 15 s; holding tube temperature is the legal record."""
    return [
        SensorTemplate(
            "holding_temp", "Holding tube temperature", "TI", "°C", 72.5, 0.3, 71.7, 74.0, 0.05, 0.15, tau_min=1
        ),
        SensorTemplate(
            "product_flow",
            "Product flow",
            "FI",
            "m³/h",
            NOMINAL_LOAD * capacity,
            capacity,
            0.0,
            capacity,
            0.003 * capacity,
            0.02 * capacity,
        ),
        SensorTemplate(
            "regeneration",
            "Regeneration efficiency",
            "EI",
            "%",
            90.0,
            1.0,
            85.0,
            94.0,
            0.1,
            0.4,
            effects={"tube_fouling": Effect(-6.0, "creep")},
        ),
    ]


def _spray_dryer(capacity: float, design: dict[str, float]) -> list[SensorTemplate]:
    """Dairy spray dryer: inlet air ≈ 175 °C; outlet 85-95 °C (assumed)."""
    gas = design.get("gas_mmbtu_per_h", 12.0)
    return [
        SensorTemplate("inlet_air_temp", "Inlet air temperature", "TI", "°C", 175.0, 10.0, 160.0, 200.0, 0.6, 2.0),
        SensorTemplate(
            "outlet_air_temp",
            "Outlet air temperature",
            "TI",
            "°C",
            90.0,
            4.0,
            80.0,
            100.0,
            0.4,
            1.2,
            effects={"efficiency_drop": Effect(8.0)},
        ),
        SensorTemplate(
            "firing_rate",
            "Air heater firing rate",
            "FI",
            "MMBtu/h",
            NOMINAL_LOAD * gas,
            gas,
            0.2 * gas,
            1.05 * gas,
            0.004 * gas,
            0.02 * gas,
            effects={"efficiency_drop": Effect(0.08 * gas)},
        ),
        SensorTemplate(
            "powder_rate",
            "Powder output",
            "WI",
            "t/h",
            NOMINAL_LOAD * capacity,
            capacity,
            0.2 * capacity,
            1.05 * capacity,
            0.004 * capacity,
            0.02 * capacity,
        ),
    ]


def _retort(capacity: float, design: dict[str, float]) -> list[SensorTemplate]:
    """Batch retort: 121 °C, F0 ≥ 3 min (5-15 typical)."""
    return [
        SensorTemplate(
            "retort_temp",
            "Retort temperature",
            "TI",
            "°C",
            121.8,
            0.3,
            120.5,
            123.2,
            0.1,
            0.2,
            effects={"sensor_drift": Effect(1.5, "creep")},
        ),
        SensorTemplate("steam_flow", "Steam flow", "FI", "klb/h", 6.0, 4.0, 1.0, 10.0, 0.05, 0.3),
    ]


def _ammonia_refrigeration(capacity: float, design: dict[str, float]) -> list[SensorTemplate]:
    """Ammonia blast freezer: evaporator coil ≈ -58 °F (-50 °C)."""
    return [
        SensorTemplate("coil_temp", "Evaporator coil temperature", "TI", "°C", -50.0, -2.0, -54.0, -45.0, 0.2, 0.6),
        SensorTemplate("suction_pressure", "Suction pressure", "PI", "bar(g)", -0.45, -0.05, -0.6, -0.3, 0.005, 0.02),
        SensorTemplate(
            "compressor_power",
            "Compressor power",
            "JI",
            "kW",
            NOMINAL_LOAD * capacity,
            capacity,
            0.2 * capacity,
            1.05 * capacity,
            0.004 * capacity,
            0.02 * capacity,
        ),
    ]


def _reactor(capacity: float, design: dict[str, float]) -> list[SensorTemplate]:
    """Jacketed exothermic reactor whose cooling duty is waste heat (chemicals)."""
    temp = design.get("temperature_c", 180.0)
    return [
        SensorTemplate("reactor_temp", "Reactor temperature", "TI", "°C", temp, 4.0, temp - 10, temp + 10, 0.3, 1.0),
        SensorTemplate(
            "cooling_duty",
            "Cooling duty",
            "JI",
            "MW",
            NOMINAL_LOAD * capacity,
            capacity,
            0.2 * capacity,
            1.05 * capacity,
            0.004 * capacity,
            0.02 * capacity,
        ),
        SensorTemplate("pressure", "Reactor pressure", "PI", "bar(g)", 12.0, 1.0, 10.0, 14.0, 0.03, 0.1),
    ]


def _distillation_column(capacity: float, design: dict[str, float]) -> list[SensorTemplate]:
    """Column with a steam reboiler and a water-cooled condenser (the pinch story's cold and hot streams)."""
    return [
        SensorTemplate(
            "reboiler_duty",
            "Reboiler steam duty",
            "JI",
            "MW",
            NOMINAL_LOAD * capacity,
            capacity,
            0.2 * capacity,
            1.05 * capacity,
            0.004 * capacity,
            0.02 * capacity,
            effects={"tube_fouling": Effect(0.06 * capacity, "creep")},
        ),
        SensorTemplate(
            "top_temp",
            "Column top temperature",
            "TI",
            "°C",
            design.get("top_c", 95.0),
            2.0,
            design.get("top_c", 95.0) - 8,
            design.get("top_c", 95.0) + 8,
            0.2,
            0.8,
        ),
        SensorTemplate(
            "bottom_temp",
            "Column bottom temperature",
            "TI",
            "°C",
            design.get("bottom_c", 165.0),
            2.0,
            design.get("bottom_c", 165.0) - 8,
            design.get("bottom_c", 165.0) + 8,
            0.2,
            0.8,
        ),
    ]


ASSET_TYPES: dict[str, AssetType] = {
    asset_type.key: asset_type
    for asset_type in [
        AssetType(
            "fired_heater",
            "Process heater",
            "MMBtu/h",
            ("excess_air", "efficiency_drop", "tube_fouling", "sensor_drift", "equipment_failure", "permit_exceedance"),
            _fired_heater,
            fuel_sensor="firing_rate",
            o2_trim_basis=(
                "About 15 % excess air (≈ 3 % O2) is right for a heater on gas (API RP 535). The fuel saved comes"
                " from the combustion efficiency of the natural-gas table in US DOE Steam Tip Sheet #4 (flue-gas"
                " O2 and stack temperature): about 1 % per 15 % less excess air. Too little O2 makes CO."
            ),
        ),
        AssetType(
            "boiler",
            "Boiler",
            "MMBtu/h",
            ("excess_air", "efficiency_drop", "sensor_drift", "equipment_failure", "permit_exceedance"),
            _boiler,
            fuel_sensor="firing_rate",
            o2_trim_basis=(
                "Less excess air burns less fuel: about 1 % efficiency per 15 % less excess air (US DOE Steam Tip"
                " Sheet #4, natural-gas boilers). Too little O2 makes CO."
            ),
        ),
        AssetType("heat_exchanger", "Heat exchanger", "MW", ("tube_fouling", "sensor_drift"), _heat_exchanger),
        AssetType("steam_header", "Steam header", "bar(g)", (), _steam_header),
        AssetType("steam_trap", "Steam trap", "in", ("trap_failure",), _steam_trap, capacity_label="Orifice"),
        AssetType("steam_turbine", "Steam turbine", "MW", ("equipment_failure",), _steam_turbine),
        AssetType(
            "cement_kiln",
            "Rotary kiln",
            "t/d clinker",
            ("excess_air", "efficiency_drop", "tube_fouling", "sensor_drift", "permit_exceedance", "equipment_failure"),
            _cement_kiln,
            fuel_sensor="fuel_rate",
            process_co2_sensor="clinker_rate",
        ),
        AssetType("preheater", "Preheater and calciner", "stages", ("efficiency_drop", "excess_air"), _preheater),
        AssetType("clinker_cooler", "Grate cooler", "t/d", ("efficiency_drop",), _clinker_cooler),
        AssetType(
            "coal_mill",
            "Vertical roller coal mill",
            "t/h",
            ("equipment_failure",),
            _coal_mill,
            grinds_fuel_for="cement_kiln",
        ),
        AssetType(
            "reheat_furnace",
            "Reheat furnace",
            "t/h",
            ("excess_air", "efficiency_drop", "tube_fouling", "sensor_drift", "equipment_failure"),
            _reheat_furnace,
            fuel_sensor="fuel_rate",
        ),
        AssetType("ladle_preheater", "Ladle preheater", "t ladle", (), _ladle_preheater, fuel_sensor="firing_rate"),
        AssetType("pasteuriser", "HTST pasteuriser", "m³/h", ("tube_fouling", "equipment_failure"), _pasteuriser),
        AssetType(
            "spray_dryer",
            "Spray dryer",
            "t/h powder",
            ("efficiency_drop", "equipment_failure"),
            _spray_dryer,
            fuel_sensor="firing_rate",
        ),
        AssetType("retort", "Retort", "baskets", ("sensor_drift",), _retort),
        AssetType(
            "ammonia_refrigeration", "Ammonia refrigeration", "kW", ("equipment_failure",), _ammonia_refrigeration
        ),
        AssetType("reactor", "Reactor", "MW cooling", ("equipment_failure",), _reactor),
        AssetType("distillation_column", "Distillation column", "MW reboiler", ("tube_fouling",), _distillation_column),
    ]
}
