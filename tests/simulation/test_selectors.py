"""The plant's read selectors behind its pages and read endpoints: what they assemble, and what they refuse."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
import redis
from django_tenants.utils import schema_context

from demoportal.core import catalogue
from demoportal.core.exceptions import DomainError
from sandboxes.models import Sandbox
from simulation.engine.signals import sensor_values
from simulation.models import Acknowledgement, Asset, Plant, RaisedAlarm, Sensor
from simulation.selectors.alarms import AlarmRow, alarm_rows, alarm_rows_since, alarms_with_acknowledgement
from simulation.selectors.display import bound, figure
from simulation.selectors.pages import SensorReading, asset_overview, plant_home
from simulation.selectors.plant import (
    from_minute,
    history_bounds,
    plant_get,
    plant_kpis,
    plant_layout,
    plant_sim_now,
    to_minute,
)
from simulation.selectors.series import sensor_series_window

pytestmark = pytest.mark.django_db


@pytest.fixture
def plant(sandbox: Sandbox) -> Iterator[Plant]:
    """The test sandbox's plant, with its schema active for the test."""
    with schema_context(sandbox.schema_name):
        found = plant_get()
        assert found is not None
        yield found


def sensor_id(key: str) -> int:
    return Sensor.objects.get(key=key).pk


def triggered(tag: str, message: str, plant: Plant, minutes_ago: int) -> str:
    """An alarm raised by hand on asset ``tag``; its event key."""
    event = RaisedAlarm.objects.create(
        asset=Asset.objects.get(tag=tag),
        kind="alarm",
        message=message,
        occurred_at=plant_sim_now(plant) - timedelta(minutes=minutes_ago),
    )
    return f"triggered:{event.pk}"


# --- alarm rows: the one place that asks whether an event was acknowledged --------------------------------


def test_alarm_rows_say_who_acknowledged_and_when_in_one_query(plant: Plant, django_assert_num_queries: Any) -> None:
    seen = triggered("B-201", "Flame scanner fault", plant, 5)
    unseen = triggered("B-201", "Low drum level", plant, 10)
    acknowledgement = Acknowledgement.objects.create(alarm_key=seen, acknowledged_by="operator@plant.example")
    now = to_minute(plant_sim_now(plant))
    rows = alarm_rows(plant, since_minute=now - 1440, end_minute=now + 1)

    with django_assert_num_queries(1):
        alarms = alarms_with_acknowledgement(rows)

    assert [alarm.key for alarm in alarms] == [row["key"] for row in rows]  # in the rows' order
    by_key = {alarm.key: alarm for alarm in alarms}
    assert by_key[seen].acknowledged
    assert (by_key[seen].acknowledged_at, by_key[seen].acknowledged_by) == (
        acknowledgement.acknowledged_at,
        "operator@plant.example",
    )
    assert not by_key[unseen].acknowledged
    assert (by_key[unseen].acknowledged_at, by_key[unseen].acknowledged_by) == (None, "")
    assert by_key[unseen].message == "Low drum level"
    assert by_key[unseen].origin == "triggered"


def test_no_rows_are_no_alarm_rows_and_no_query(plant: Plant, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        assert alarms_with_acknowledgement([]) == []


def test_an_alarm_row_reads_by_key_and_labels_its_kind(plant: Plant) -> None:
    permit = AlarmRow(
        key="k",
        kind="permit_exceedance",
        anomaly=None,
        asset="B-203",
        occurred_at=plant.started_at,
        ends_at=None,
        origin="scripted",
        message="NOx above the permit limit",
        acknowledged_at=None,
        acknowledged_by="",
    )

    assert permit["kind_label"] == "Permit exceedance"
    assert permit["acknowledged"] is False
    assert AlarmRow(**{**vars(permit), "kind": "flood"}).kind_label == "flood"  # a kind without a label: as is
    with pytest.raises(KeyError):
        permit["no_such_field"]


# --- events since --------------------------------------------------------------------------------------


def test_events_since_default_to_the_last_thirty_days_and_filter_by_kind(plant: Plant) -> None:
    key = triggered("H-101", "High TMT pass A", plant, 1)

    alarms = alarm_rows_since(plant, kind="alarm")
    everything = alarm_rows_since(plant)

    assert alarms
    assert {row["kind"] for row in alarms} == {"alarm"}
    assert alarms[0]["key"] == key  # newest first
    assert len(everything) > len(alarms)
    thirty_days_ago = plant_sim_now(plant) - timedelta(days=30, minutes=1)
    assert min(row["occurred_at"] for row in everything) >= thirty_days_ago


def test_events_since_before_the_history_is_an_error_on_since(plant: Plant) -> None:
    first, _ = history_bounds(plant)

    with pytest.raises(DomainError) as refused:
        alarm_rows_since(plant, since=from_minute(first - 60))

    assert refused.value.status_code == 400
    assert list(refused.value.errors) == ["since"]
    assert "history begins" in refused.value.errors["since"][0]


# --- a sensor's series window --------------------------------------------------------------------------


def test_the_series_window_is_the_last_day_up_to_the_plants_now_by_default(plant: Plant) -> None:
    before = to_minute(plant_sim_now(plant))

    window = sensor_series_window(plant=plant, sensor_id=sensor_id("H-101.o2"))

    assert before <= to_minute(window.end) <= to_minute(plant_sim_now(plant))
    assert window.end - window.start == timedelta(days=1)
    assert (window.unit, window.resolution) == ("%", "min/max buckets")  # 1,440 minutes > 1,000 points
    assert 900 <= len(window.points) <= 1000


def test_a_short_window_has_every_minute_as_the_engine_computes_it(plant: Plant) -> None:
    end = plant_sim_now(plant).replace(second=0, microsecond=0) - timedelta(hours=2)
    start = end - timedelta(minutes=30)

    window = sensor_series_window(plant=plant, sensor_id=sensor_id("B-202.nox"), start=start, end=end)

    assert window.resolution == "minute"
    assert len(window.points) == 30
    layout = plant_layout(plant)
    minutes = np.arange(to_minute(start), to_minute(end), dtype=np.int64)
    expected = sensor_values(layout, [layout.sensor_by_key("B-202.nox").index], minutes, base_minute=plant.base_minute)[
        0
    ]
    assert window.points[0][0] == start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [value for _, value in window.points] == pytest.approx(expected.tolist(), abs=1e-4)


def test_fewer_points_asked_for_are_min_max_buckets(plant: Plant) -> None:
    end = plant_sim_now(plant) - timedelta(hours=1)

    window = sensor_series_window(
        plant=plant, sensor_id=sensor_id("H-101.o2"), start=end - timedelta(minutes=100), end=end, max_points=10
    )

    assert window.resolution == "min/max buckets"
    assert len(window.points) <= 10


@pytest.mark.parametrize(
    ("window", "errors"),
    [
        ({"start": timedelta(hours=-1), "end": timedelta(hours=-2)}, {"start": "start must be before end."}),
        ({"start": timedelta(days=-400)}, {"start": "history begins"}),
        ({"end": timedelta(days=1)}, {"end": "end is in the future"}),
        ({"start": timedelta(days=-400), "end": timedelta(days=1)}, {"start": "history begins", "end": "future"}),
        ({"max_points": 1}, {"max_points": "From 2 to 10000"}),
        ({"max_points": 10_001}, {"max_points": "From 2 to 10000"}),
    ],
)
def test_a_bad_window_is_an_error_on_its_field(plant: Plant, window: dict[str, Any], errors: dict[str, str]) -> None:
    now = plant_sim_now(plant)
    given: dict[str, Any] = {
        name: now + value if isinstance(value, timedelta) else value for name, value in window.items()
    }

    with pytest.raises(DomainError) as refused:
        sensor_series_window(plant=plant, sensor_id=sensor_id("H-101.o2"), **given)

    assert refused.value.status_code == 400
    assert sorted(refused.value.errors) == sorted(errors)
    for field, message in errors.items():
        assert message in refused.value.errors[field][0]


def test_an_unknown_sensor_is_not_found(plant: Plant) -> None:
    with pytest.raises(DomainError) as refused:
        sensor_series_window(plant=plant, sensor_id=999_999)

    assert refused.value.status_code == 404


# --- the sandbox home ----------------------------------------------------------------------------------


def test_the_home_groups_assets_by_type_and_opens_the_chart_on_efficiency(
    plant: Plant, test_redis: redis.Redis
) -> None:
    home = plant_home(plant=plant)

    groups = {group.name: group for group in home.asset_types}
    heaters = groups["Process heater"]
    assert [asset["tag"] for asset in heaters.assets][:2] == ["H-101", "H-102"]
    assert len(heaters.assets) == 12
    assert heaters.capacity_unit == "MMBtu/h"
    assert heaters.capacity_min <= heaters.capacity_max
    assert heaters.chart_sensor is not None
    assert heaters.chart_sensor["kind"] == "efficiency"
    assert home.asset_count == sum(len(group.assets) for group in home.asset_types) == 219
    assert home.sensor_count == len(home.sensors) == 537
    assert home.selected_sensor == home.asset_types[0].chart_sensor
    assert [entry.story for entry in home.stories] == list(catalogue.scenarios()["oil_gas"].stories)
    assert home.kpis is None  # not computed yet: the page fetches them


def test_the_home_shows_the_kpis_once_computed(plant: Plant, test_redis: redis.Redis) -> None:
    computed = plant_kpis(plant)

    home = plant_home(plant=plant)

    assert home.kpis is not None
    assert [(kpi.key, kpi.value) for kpi in home.kpis] == [(kpi["key"], kpi["value"]) for kpi in computed]
    assert all(kpi.display == figure(kpi.value) for kpi in home.kpis)


def test_the_home_charts_the_sensor_asked_for_and_falls_back_for_one_not_of_the_plant(plant: Plant) -> None:
    nox = sensor_id("B-202.nox")

    chosen = plant_home(plant=plant, chart_sensor_id=nox).selected_sensor
    fallback = plant_home(plant=plant, chart_sensor_id=999_999).selected_sensor

    assert chosen is not None
    assert chosen["id"] == nox
    assert fallback is not None
    assert fallback["kind"] == "efficiency"


def test_the_homes_recent_events_are_the_newest_eight_with_their_acknowledgement(plant: Plant) -> None:
    key = triggered("B-201", "Burner flame-out", plant, 1)
    Acknowledgement.objects.create(alarm_key=key, acknowledged_by="operator@plant.example")

    events = plant_home(plant=plant).events

    assert 0 < len(events) <= 8
    assert events[0].key == key
    assert events[0].acknowledged
    assert events[0].acknowledged_by == "operator@plant.example"
    assert [event.occurred_at for event in events] == sorted((event.occurred_at for event in events), reverse=True)


def test_the_homes_figures_now_are_what_its_script_keeps_live(plant: Plant) -> None:
    now = plant_home(plant=plant).now

    live = json.loads(now.live_json)
    assert set(live) == {"meters", "process_meters", "price", "co2_per_unit"}
    assert now.unit == "MMBtu/h"  # a refinery's meters read MMBtu/h
    assert live["price"] == 5.5
    assert live["process_meters"] == []  # no clinker: its CO2 is the fuel's alone
    assert [meter["id"] for meter in live["meters"]] == [meter["id"] for meter in now.meters]
    assert [(card.key, card.display) for card in now.cards] == [
        ("firing", figure(now.firing)),
        ("cost", figure(now.cost)),
        ("co2", figure(now.co2)),
    ]


def test_the_home_reads_the_plants_overlays_once(plant: Plant, django_assert_max_num_queries: Any) -> None:
    plant_home(plant=plant)  # the engine's plant built

    # overlays (anomalies, optimisations), assets, sensors, triggered events, acknowledgements, sensor indices
    with django_assert_max_num_queries(7):
        plant_home(plant=plant)


# --- an asset's page -----------------------------------------------------------------------------------


def test_an_asset_overview_plots_its_default_trends_and_has_its_tools(plant: Plant) -> None:
    overview = asset_overview(plant=plant, asset=Asset.objects.get(tag="H-101"))

    assert overview.asset_type_name == "Process heater"
    assert [sensor.kind for sensor in overview.trend] == ["efficiency", "o2", "stack_temp"]
    assert {sensor.id for sensor in overview.sensors if sensor.trended} == {sensor.id for sensor in overview.trend}
    assert overview.o2_trim is not None
    assert overview.o2_trim.sensor.kind == "o2"
    assert overview.o2_trim.setpoint["applied_at"] is None  # nobody changed it: the design value
    basis = overview.savings_basis
    assert basis is not None
    assert basis.firing_rate > 0
    assert basis.fuel == "natural gas"
    assert basis.efficiency_current_pct == round(basis.efficiency_sensor.value, 1)
    assert basis.efficiency_target_pct == round(min(basis.efficiency_current_pct + 2.0, 95.0), 1)


def test_an_asset_overview_plots_the_trends_asked_for_of_its_own_sensors(plant: Plant) -> None:
    nox = sensor_id("H-101.nox")

    overview = asset_overview(
        plant=plant, asset=Asset.objects.get(tag="H-101"), trend=[nox, sensor_id("B-202.nox"), 999_999]
    )

    assert [sensor.id for sensor in overview.trend] == [nox]  # another asset's sensor and no sensor: left out


def test_an_asset_without_a_burner_has_no_trim_or_calculator_and_plots_its_first_sensor(plant: Plant) -> None:
    overview = asset_overview(plant=plant, asset=Asset.objects.get(tag="E-301"))

    assert overview.o2_trim is None
    assert overview.savings_basis is None
    assert overview.trend == overview.sensors[:1]


def test_an_asset_overview_lists_only_its_own_events_with_their_acknowledgement(plant: Plant) -> None:
    own = triggered("B-201", "Flame scanner fault", plant, 3)
    triggered("H-101", "High TMT pass A", plant, 2)
    Acknowledgement.objects.create(alarm_key=own, acknowledged_by="operator@plant.example")

    events = asset_overview(plant=plant, asset=Asset.objects.get(tag="B-201")).events

    assert {event.asset for event in events} == {"B-201"}
    assert next(event for event in events if event.key == own).acknowledged


def test_a_reading_outside_its_normal_range_is_flagged_and_written_as_engineers_do() -> None:
    reading = SensorReading(
        id=1,
        asset_id=1,
        asset_tag="H-101",
        key="H-101.o2",
        tag="AI-10102",
        kind="o2",
        name="Flue gas O2",
        unit="%",
        normal_range={"low": 1.5, "high": 9.0},
        value=9.25,
        trended=False,
    )

    assert reading.out_of_range
    assert (reading.display, reading.range_display) == ("9.25", "1.5 to 9")
    assert reading["normal_range"]["low"] == 1.5
    assert not SensorReading(**{**vars(reading), "value": 9.0}).out_of_range  # the limits are in range


@pytest.mark.parametrize(
    ("value", "shown"), [(1234.4, "1,234"), (-250.0, "-250"), (12.34, "12.3"), (1.234, "1.23"), (0.0, "0.00")]
)
def test_a_figure_keeps_the_decimals_that_carry_information(value: float, shown: str) -> None:
    assert figure(value) == shown


@pytest.mark.parametrize(("value", "shown"), [(1.5, "1.5"), (420.0, "420"), (1450.0, "1,450"), (0.25, "0.25")])
def test_a_bound_has_no_trailing_zeros(value: float, shown: str) -> None:
    assert bound(value) == shown
