"""Writes to a sandbox's plant. Every function runs inside the sandbox's schema (``schema_context``)."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from analytics.services.events import event_record
from demoportal.core import catalogue
from demoportal.core.exceptions import DomainError
from demoportal.core.models import User
from sandboxes.models import Sandbox, template_schema_name
from sandboxes.services import audit
from simulation.engine.assets import ASSET_TYPES
from simulation.engine.calculations import annual_fuel_cost_saving, co2_tonnes, fuel_saving_fraction
from simulation.engine.plant import plant_build
from simulation.models import (
    Acknowledgement,
    AppliedOptimization,
    Asset,
    InjectedAnomaly,
    Plant,
    RaisedAlarm,
    Sensor,
)
from simulation.selectors.alarms import alarm_rows
from simulation.selectors.plant import asset_firing_rate_mmbtu_per_h, plant_get, plant_sim_now, to_minute

logger = logging.getLogger(__name__)


def plant_load(*, scenario_key: str, seed: int, started_at: datetime) -> Plant:
    """Load the scenario's plant (plant, assets, sensors) into the current sandbox schema.

    All or nothing, in one transaction; no history rows (the engine computes them). ``started_at``
    is BASE_TS, truncated to the minute.
    """
    scenarios = catalogue.scenarios()
    if scenario_key not in scenarios:
        raise DomainError(
            f"Unknown scenario {scenario_key!r}.",
            errors={"industry": [f"Choose one of {', '.join(sorted(scenarios))}."]},
        )
    scenario = scenarios[scenario_key]
    layout = plant_build(scenario, seed)
    with transaction.atomic():
        if Plant.objects.exists():
            raise DomainError("This sandbox already has a plant.", status_code=409)
        plant = Plant.objects.create(
            scenario=scenario.key,
            scenario_version=scenario.version,
            name=scenario.name,
            seed=seed,
            started_at=started_at.replace(second=0, microsecond=0),
        )
        assets = Asset.objects.bulk_create(
            Asset(
                plant=plant,
                index=a.index,
                tag=a.tag,
                type=a.type,
                name=a.name,
                capacity=a.capacity,
                capacity_unit=a.capacity_unit,
            )
            for a in layout.assets
        )
        Sensor.objects.bulk_create(
            Sensor(
                asset=assets[s.asset_index],
                index=s.index,
                key=s.key,
                tag=s.tag,
                kind=s.kind,
                name=s.name,
                unit=s.unit,
                normal_low=s.low,
                normal_high=s.high,
                parameters={
                    "base": s.template.base,
                    "per_load": s.template.per_load,
                    "noise_sd": s.template.noise_sd,
                    "wander_sd": s.template.wander_sd,
                    "tau_min": s.template.tau_min,
                    "derived": s.template.derived,
                },
            )
            for s in layout.sensors
        )
    return plant


def plant_start(*, scenario_key: str, seed: int, started_at: datetime) -> Plant:
    """Give this sandbox's plant its own seed and start (BASE_TS): the rows cloned from the scenario's
    template, or a fresh load when the sandbox was not cloned."""
    plant = plant_get()
    if plant is None:
        return plant_load(scenario_key=scenario_key, seed=seed, started_at=started_at)
    if plant.scenario != scenario_key:
        raise DomainError(f"This sandbox's plant is {plant.scenario!r}, not {scenario_key!r}.", status_code=409)
    plant.seed = seed
    plant.started_at = started_at.replace(second=0, microsecond=0)
    plant.time_scale, plant.clock_wall_at, plant.clock_sim_at = 1, None, None  # a new plant runs at 1×
    plant.save(update_fields=["seed", "started_at", "time_scale", "clock_wall_at", "clock_sim_at"])
    return plant


def template_ensure(*, industry: str) -> Sandbox:
    """The scenario's template: a migrated schema holding the scenario's plant, ready to clone.

    Rebuilt when the scenario file's version changed, so a clone always carries the current plant.
    """
    scenario = catalogue.scenarios()[industry]
    template: Sandbox | None = Sandbox.objects.filter(kind=Sandbox.Kind.TEMPLATE, industry=industry).first()
    if template is not None:
        with schema_context(template.schema_name):
            plant = plant_get()
        if plant is not None and plant.scenario_version == scenario.version:
            return template
        # One transaction: each delete drops a schema, then deletes its row; a process killed between the two
        # must not leave a pooled sandbox without its schema for a prospect to claim.
        with schema_context(get_public_schema_name()), transaction.atomic():
            template.delete(force_drop=True)
            # Pooled clones carry the old plant; nobody has seen them, so they go too (the pool refills).
            for pooled in Sandbox.objects.filter(
                kind=Sandbox.Kind.DEMO, status=Sandbox.Status.POOLED, industry=industry
            ):
                pooled.delete(force_drop=True)
    with schema_context(get_public_schema_name()), transaction.atomic():
        template = Sandbox(
            schema_name=template_schema_name(industry),
            slug=f"template-{industry}",
            name=f"Template: {scenario.name}",
            kind=Sandbox.Kind.TEMPLATE,
            industry=industry,
        )
        template.save(verbosity=0)
        with schema_context(template.schema_name):
            plant_load(scenario_key=industry, seed=0, started_at=timezone.now())
    return template


MAX_OVERLAY_MINUTES = 7 * 24 * 60
O2_SETPOINT_RANGE = (1.0, 8.0)  # % flue-gas O2 a combustion controller would accept


def overlay_errors(*, asset: Asset, kind: str) -> dict[str, list[str]]:
    """The field errors of putting overlay ``kind`` (an anomaly type or ``o2_setpoint``) on ``asset``: the
    engine's rule (``AssetType.overlay_refusal``), so that nothing is stored that the plant cannot compute."""
    refusal = ASSET_TYPES[asset.type].overlay_refusal(kind)
    if refusal is None:
        return {}
    field, message = refusal
    return {field: [f"{asset.tag}: {message}"]}


def anomaly_inject(
    *,
    sandbox: Sandbox,
    asset_id: int,
    type: str,
    duration_minutes: int,
    magnitude: float = 1.0,
    actor: User | None,
) -> InjectedAnomaly:
    """Put an anomaly into the live plant from now on (sales during a call, or a tour step). Stored in the
    sandbox, so a reload or a second viewer sees the same plant, and history shows it afterwards.

    One transaction: the anomaly and its audit entry (``anomaly_injected``, by ``actor``), whether sales
    inject it from the admin or through the API."""
    errors: dict[str, list[str]] = {}
    asset = Asset.objects.filter(pk=asset_id).first()
    if asset is None:
        errors["asset_id"] = [f"No asset with id {asset_id} in this sandbox."]
    else:
        errors.update(overlay_errors(asset=asset, kind=type))
    if not 1 <= duration_minutes <= MAX_OVERLAY_MINUTES:
        errors["duration_minutes"] = [f"Between 1 and {MAX_OVERLAY_MINUTES} minutes (7 days)."]
    if not 0 < magnitude <= 3:
        errors["magnitude"] = ["Above 0 and at most 3 (1 is the scenario's typical size)."]
    if errors:
        raise DomainError("Some fields are not valid.", errors=errors)
    assert asset is not None  # checked above
    now = plant_sim_now(asset.plant)  # the plant's now: ahead of the wall clock when time runs faster
    with transaction.atomic():
        anomaly = InjectedAnomaly.objects.create(
            asset=asset,
            type=type,
            starts_at=now,
            ends_at=now + timedelta(minutes=duration_minutes),
            magnitude=magnitude,
            created_by=actor.email if actor is not None else "",
        )
        audit(
            sandbox=sandbox,
            action="anomaly_injected",
            before=sandbox.status,
            actor=actor,
            type=type,
            asset_id=asset.pk,
            minutes=duration_minutes,
            magnitude=magnitude,
        )
        live_reload_later(sandbox.pk)
    return anomaly


def optimization_apply(
    *, sandbox: Sandbox, asset_id: int, kind: str, parameters: dict[str, Any], actor: User | None
) -> AppliedOptimization:
    """Apply a change the product recommends, e.g. a new O2 setpoint, to the live plant from now on, and
    record ``optimization_applied`` for the sandbox's owner: the prospect trying the product is engagement
    (an analytics event), not a sales audit entry (docs/architecture.md, "Audit")."""
    errors: dict[str, list[str]] = {}
    asset = Asset.objects.filter(pk=asset_id).first()
    if kind != "o2_setpoint":
        errors["kind"] = ["The one optimisation a demo plant takes is o2_setpoint."]
    if asset is None:
        errors["asset_id"] = [f"No asset with id {asset_id} in this sandbox."]
    elif kind == "o2_setpoint":
        errors.update(overlay_errors(asset=asset, kind=kind))
    value = parameters.get("o2_pct") if isinstance(parameters, dict) else None
    low, high = O2_SETPOINT_RANGE
    if not isinstance(value, int | float) or isinstance(value, bool) or not low <= value <= high:
        errors["parameters"] = [f'Send {{"o2_pct": <number from {low} to {high}>}}.']
    if errors:
        raise DomainError("Some fields are not valid.", errors=errors)
    assert asset is not None  # checked above
    assert isinstance(value, int | float)
    optimization = AppliedOptimization.objects.create(
        asset=asset,
        kind=kind,
        parameters={"o2_pct": float(value)},
        applied_at=plant_sim_now(asset.plant),
        created_by=actor.email if actor is not None else "",
    )
    event_record(
        name="optimization_applied",
        user=sandbox.owner or actor,
        sandbox=sandbox,
        properties={"kind": kind, "asset_id": asset.pk, "o2_pct": float(value)},
    )
    live_reload_later(sandbox.pk)
    return optimization


ALARM_MESSAGE_MAX = 300  # RaisedAlarm.message's max_length


def alarm_raise(*, sandbox: Sandbox, asset_id: int, kind: str, message: str, actor: User | None) -> RaisedAlarm:
    """Raise an event in the plant now, by hand (sales during a live call) or by a tour step (``actor``
    None): it shows among the plant's events and alarms beside those the engine derives, can be
    acknowledged like them, and is sent in the sandbox's next live tick.

    One transaction: the event and its audit entry (``alarm_raised``)."""
    errors: dict[str, list[str]] = {}
    asset = Asset.objects.filter(pk=asset_id).first()
    if asset is None:
        errors["asset_id"] = [f"No asset with id {asset_id} in this sandbox."]
    kinds = [key for key, _ in RaisedAlarm.KIND_CHOICES]
    if kind not in kinds:
        errors["kind"] = [f"One of: {', '.join(kinds)}."]
    message = message.strip()
    if not message:
        errors["message"] = ["Say what happened; the prospect reads it in the events list."]
    elif len(message) > ALARM_MESSAGE_MAX:
        errors["message"] = [f"At most {ALARM_MESSAGE_MAX} characters."]
    if errors:
        raise DomainError("Some fields are not valid.", errors=errors)
    assert asset is not None  # checked above
    with transaction.atomic():
        triggered = RaisedAlarm.objects.create(
            asset=asset,
            kind=kind,
            message=message,
            occurred_at=plant_sim_now(asset.plant),
            created_by=actor.email if actor is not None else "",
        )
        audit(
            sandbox=sandbox,
            action="alarm_raised",
            before=sandbox.status,
            actor=actor,
            kind=kind,
            asset_id=asset.pk,
            message=message,
        )
        live_reload_later(sandbox.pk)
    return triggered


MAX_TIME_SCALE = 3600  # an hour of plant time per second


def clock_set(*, sandbox: Sandbox, plant: Plant, time_scale: int, actor: User | None) -> Plant:
    """Run the plant's clock ``time_scale`` times faster than the wall clock (1 to 3600) from now on.

    Re-anchors at the plant's current simulated time, so its clock never jumps, only changes speed;
    the simulator takes the new speed at its next tick. A reset starts a new plant at 1×. One
    transaction: the new speed and its audit entry (``clock_set``, by ``actor``)."""
    if isinstance(time_scale, bool) or not isinstance(time_scale, int) or not 1 <= time_scale <= MAX_TIME_SCALE:
        raise DomainError(
            "Some fields are not valid.", errors={"time_scale": [f"A whole number from 1 to {MAX_TIME_SCALE}."]}
        )
    with transaction.atomic():
        plant = Plant.objects.select_for_update().get(pk=plant.pk)
        wall_now = timezone.now()
        plant.clock_sim_at = plant_sim_now(plant, wall_now)
        plant.clock_wall_at = wall_now
        plant.time_scale = time_scale
        plant.save(update_fields=["clock_sim_at", "clock_wall_at", "time_scale"])
        audit(sandbox=sandbox, action="clock_set", before=sandbox.status, actor=actor, time_scale=time_scale)
        logger.info("sandbox %s: clock at %d× (by %s)", sandbox.pk, time_scale, actor.email if actor else "the system")
        live_reload_later(sandbox.pk)
    return plant


def live_reload_later(sandbox_id: int) -> None:
    """The simulator reads this sandbox's plant again at its next tick (not only at the next minute)."""
    from simulation.live import live_reload_request  # the live module reads the plant through selectors

    transaction.on_commit(lambda: live_reload_request(sandbox_id))


ACKNOWLEDGE_WINDOW_DAYS = 30  # how far back an event can still be acknowledged (what the events API shows)


def alarm_acknowledge(*, sandbox: Sandbox, plant: Plant, key: str, actor: User | None) -> tuple[Acknowledgement, bool]:
    """Acknowledge one of the plant's events or alarms of the last 30 days: (acknowledgement, new?).
    The first time records ``alert_acknowledged`` for the sandbox's owner (engagement, not a sales audit
    entry). Idempotent; an unknown key (or one older than the window) is a 404."""
    now_minute = to_minute(plant_sim_now(plant))
    since = now_minute - ACKNOWLEDGE_WINDOW_DAYS * 1440
    if not any(row["key"] == key for row in alarm_rows(plant, since_minute=since, end_minute=now_minute + 1)):
        raise DomainError("No such event in this sandbox's last 30 days.", status_code=404)
    acknowledgement, created = Acknowledgement.objects.get_or_create(
        alarm_key=key, defaults={"acknowledged_by": actor.email if actor is not None else ""}
    )
    if created:
        event_record(
            name="alert_acknowledged", user=sandbox.owner or actor, sandbox=sandbox, properties={"alarm_key": key}
        )
    return acknowledgement, created


# Inputs the savings calculator accepts (fuel prices as the scenario catalogue allows them).
SAVINGS_FUEL_PRICE_RANGE = (0.5, 100.0)  # USD/MMBtu
SAVINGS_HOURS_RANGE = (1, 8760)  # operating hours per year
SAVINGS_EFFICIENCY_RANGE = (50.0, 99.0)  # % combustion efficiency (HHV)


@dataclass(frozen=True)
class SavingsEstimate:
    """What a better combustion efficiency is worth on one asset, per year (see ``savings_calculate``)."""

    fuel_price_usd_per_mmbtu: float
    operating_hours_per_year: int
    efficiency_current_pct: float
    efficiency_target_pct: float
    firing_rate_mmbtu_per_h: float
    fuel: str
    fuel_mmbtu_per_year: float
    fuel_saving_fraction: float
    saving_usd_per_year: float
    co2_avoided_t_per_year: float


def savings_calculate(
    *,
    sandbox: Sandbox,
    plant: Plant,
    asset: Asset,
    fuel_price_usd_per_mmbtu: float,
    operating_hours_per_year: int,
    efficiency_current_pct: float,
    efficiency_target_pct: float,
    actor: User | None,
) -> SavingsEstimate:
    """The annual saving of raising ``asset``'s combustion efficiency from current to target, and record
    ``savings_calculated`` (inputs and result) for the sandbox's owner.

    Fuel per year [MMBtu] = the asset's mean firing rate over the last 7 days of its data × hours;
    fuel saved = 1 − E_current / E_target (US DOE Steam Tip Sheet #4); USD = fuel cost × that fraction;
    CO2 avoided [t] by 40 CFR 98 Eq. C-1 with the scenario fuel's Table C-1 factor.
    """
    errors: dict[str, list[str]] = {}
    firing_rate = asset_firing_rate_mmbtu_per_h(plant, asset=asset)
    if firing_rate is None or not asset.sensors.filter(kind="efficiency").exists():
        errors["asset"] = [f"{asset.tag} has no combustion efficiency and fuel meter to calculate savings from."]
    checks = [
        ("fuel_price_usd_per_mmbtu", fuel_price_usd_per_mmbtu, SAVINGS_FUEL_PRICE_RANGE, "USD/MMBtu"),
        ("operating_hours_per_year", operating_hours_per_year, SAVINGS_HOURS_RANGE, "hours a year"),
        ("efficiency_current_pct", efficiency_current_pct, SAVINGS_EFFICIENCY_RANGE, "%"),
        ("efficiency_target_pct", efficiency_target_pct, SAVINGS_EFFICIENCY_RANGE, "%"),
    ]
    for field, value, (low, high), unit in checks:
        if not low <= value <= high:
            errors[field] = [f"Between {low:g} and {high:g} {unit}."]
    if "efficiency_target_pct" not in errors and efficiency_target_pct <= efficiency_current_pct:
        errors["efficiency_target_pct"] = ["Above the current efficiency: the calculator prices a gain."]
    if errors:
        raise DomainError("Some fields are not valid.", errors=errors)
    assert firing_rate is not None  # checked above
    scenario = catalogue.scenarios()[plant.scenario]
    fuel_mmbtu = firing_rate * operating_hours_per_year
    fraction = fuel_saving_fraction(efficiency_old_pct=efficiency_current_pct, efficiency_new_pct=efficiency_target_pct)
    estimate = SavingsEstimate(
        fuel_price_usd_per_mmbtu=fuel_price_usd_per_mmbtu,
        operating_hours_per_year=operating_hours_per_year,
        efficiency_current_pct=efficiency_current_pct,
        efficiency_target_pct=efficiency_target_pct,
        firing_rate_mmbtu_per_h=firing_rate,
        fuel=scenario.fuel,
        fuel_mmbtu_per_year=fuel_mmbtu,
        fuel_saving_fraction=fraction,
        saving_usd_per_year=annual_fuel_cost_saving(
            annual_fuel_cost=fuel_mmbtu * fuel_price_usd_per_mmbtu,
            efficiency_old_pct=efficiency_current_pct,
            efficiency_new_pct=efficiency_target_pct,
        ),
        co2_avoided_t_per_year=co2_tonnes(fuel_mmbtu=fuel_mmbtu * fraction, fuel=scenario.fuel),
    )
    event_record(
        name="savings_calculated",
        user=sandbox.owner or actor,
        sandbox=sandbox,
        properties={"asset_id": asset.pk, "asset_tag": asset.tag, **asdict(estimate)},
    )
    return estimate
