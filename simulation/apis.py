"""Product data API, sandbox-scoped: assets, sensors, series, events and KPIs of one sandbox's plant.

Staff (`Authorization: Token <key>`) or the sandbox's own token (`Authorization: Bearer <token>`), which
is valid for that sandbox only. Every database read happens inside the sandbox's schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.cache import cache
from django_tenants.utils import schema_context
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from demoportal.core.exceptions import DomainError
from sandboxes.access import acting_user, sandbox_for
from sandboxes.authentication import DemoPlantIsReadOnly, SandboxScoped
from sandboxes.models import Sandbox
from simulation.models import Plant
from simulation.selectors.alarms import DEFAULT_ALARMS_DAYS, alarm_rows_since, alarms_with_acknowledgement
from simulation.selectors.plant import asset_list, asset_rows, plant_get, plant_kpis, plant_sim_now, sensor_rows
from simulation.selectors.series import MAX_POINTS_LIMIT, SERIES_DEFAULT_POINTS, sensor_series_window
from simulation.services import (
    MAX_OVERLAY_MINUTES,
    MAX_TIME_SCALE,
    alarm_acknowledge,
    anomaly_inject,
    clock_set,
    optimization_apply,
)

MASTER_DATA_CACHE_SECONDS = 3600


@contextmanager
def sandbox_plant(request: Request, sandbox_id: int) -> Iterator[tuple[Sandbox, Plant]]:
    """The sandbox and its plant, with its schema active for the duration.

    Found, scoped and counted like every sandbox endpoint (``sandbox_for``); an ended sandbox has no
    plant left (410), one being provisioned or reset has none yet (409).
    """
    sandbox = sandbox_for(request, sandbox_id)
    if sandbox.has_ended:
        raise DomainError(f"This sandbox has ended ({sandbox.status}); its plant data is gone.", status_code=410)
    if sandbox.status != Sandbox.Status.READY:
        raise DomainError(f"This sandbox is {sandbox.status}; try again in a moment.", status_code=409, retry_after=5)
    with schema_context(sandbox.schema_name):
        plant = plant_get()
        if plant is None:
            raise NotFound("This sandbox has no plant.")
        yield sandbox, plant


def master_data(plant: Plant, name: str, build: Callable[[], Any]) -> Any:
    """Assets and sensors never change in a demo (they are read-only), so their serialised lists are
    cached per plant; a reset starts the plant again and so reads a new key."""
    key = f"plant-master:{plant.pk}:{plant.seed}:{plant.started_at.timestamp():.0f}:{name}"
    return cache.get_or_set(key, build, MASTER_DATA_CACHE_SECONDS)  # the schema prefixes every cache key


class SandboxApi(APIView):
    """A read-only view of one sandbox's plant; the actions a prospect may take get views of their own."""

    permission_classes = [SandboxScoped, DemoPlantIsReadOnly]
    reads_sandbox_plant = True  # every view uses sandbox_plant: the schema documents its 409 and 410


# AssetOutput and SensorOutput document the shape (OpenAPI); selectors.asset_rows and sensor_rows build it.
class AssetOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    tag = serializers.CharField()
    type = serializers.CharField()
    name = serializers.CharField()
    capacity = serializers.FloatField()
    capacity_unit = serializers.CharField()


class AssetListApi(SandboxApi):
    @extend_schema(responses=AssetOutput(many=True), summary="Assets of the sandbox's plant")
    def get(self, request: Request, sandbox_id: int) -> Response:
        with sandbox_plant(request, sandbox_id) as (_, plant):
            return Response(master_data(plant, "assets", asset_rows))


class SensorListInput(serializers.Serializer[Any]):
    asset = serializers.IntegerField(required=False, help_text="Only this asset's sensors (an asset id).")


class NormalRange(serializers.Serializer[Any]):
    low = serializers.FloatField(source="normal_low")
    high = serializers.FloatField(source="normal_high")


class SensorOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    asset_id = serializers.IntegerField()
    asset_tag = serializers.CharField(source="asset.tag")
    key = serializers.CharField()
    tag = serializers.CharField()
    kind = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.CharField()
    normal_range = NormalRange(source="*")


class SensorListApi(SandboxApi):
    @extend_schema(
        parameters=[SensorListInput], responses=SensorOutput(many=True), summary="Sensors, optionally of one asset"
    )
    def get(self, request: Request, sandbox_id: int) -> Response:
        params = SensorListInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        asset_id = params.validated_data.get("asset")
        with sandbox_plant(request, sandbox_id) as (_, plant):
            if asset_id is not None and not asset_list().filter(pk=asset_id).exists():
                raise ValidationError({"asset": [f"No asset with id {asset_id} in this sandbox."]})
            return Response(master_data(plant, f"sensors:{asset_id}", lambda: sensor_rows(asset_id=asset_id)))


class SeriesInput(serializers.Serializer[Any]):
    start = serializers.DateTimeField(required=False, help_text="ISO 8601; default: 24 hours before end.")
    end = serializers.DateTimeField(required=False, help_text="ISO 8601; default: now.")
    max_points = serializers.IntegerField(
        required=False, default=SERIES_DEFAULT_POINTS, min_value=2, max_value=MAX_POINTS_LIMIT
    )


class SeriesOutput(serializers.Serializer[Any]):
    sensor_id = serializers.IntegerField()
    unit = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    resolution = serializers.CharField(
        help_text="'minute' when every sample is there, 'min/max buckets' when downsampled."
    )
    points = serializers.ListField(child=serializers.ListField(), help_text="[[ISO time, value], ...]")


class SensorSeriesApi(SandboxApi):
    @extend_schema(parameters=[SeriesInput], responses=SeriesOutput, summary="A sensor's values over a window")
    def get(self, request: Request, sandbox_id: int, sensor_id: int) -> Response:
        params = SeriesInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        with sandbox_plant(request, sandbox_id) as (_, plant):
            window = sensor_series_window(
                plant=plant,
                sensor_id=sensor_id,
                start=params.validated_data.get("start"),
                end=params.validated_data.get("end"),
                max_points=params.validated_data["max_points"],
            )
        return Response(SeriesOutput(window).data)


class AlarmListInput(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=["alarm", "maintenance_due", "permit_exceedance"], required=False)
    since = serializers.DateTimeField(required=False, help_text=f"ISO 8601; default: {DEFAULT_ALARMS_DAYS} days ago.")


class AlarmOutput(serializers.Serializer[Any]):
    key = serializers.CharField()
    kind = serializers.CharField()
    anomaly = serializers.CharField(allow_null=True)
    asset = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True)
    origin = serializers.CharField(help_text="generated | scripted | injected | triggered")
    message = serializers.CharField()
    acknowledged = serializers.BooleanField()


class AlarmPagination(PageNumberPagination):
    page_size = 50


class AlarmListApi(SandboxApi):
    pagination_class = AlarmPagination  # the schema documents the pages' envelope from it

    @extend_schema(
        parameters=[AlarmListInput], responses=AlarmOutput(many=True), summary="Events and alarms, newest first"
    )
    def get(self, request: Request, sandbox_id: int) -> Response:
        params = AlarmListInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        with sandbox_plant(request, sandbox_id) as (_, plant):
            rows = alarm_rows_since(
                plant, since=params.validated_data.get("since"), kind=params.validated_data.get("kind")
            )
            paginator = self.pagination_class()
            page: list[dict[str, Any]] = paginator.paginate_queryset(rows, request, view=self) or []  # type: ignore[arg-type]
            return paginator.get_paginated_response(AlarmOutput(alarms_with_acknowledgement(page), many=True).data)


class KpiOutput(serializers.Serializer[Any]):
    key = serializers.CharField()
    name = serializers.CharField()
    value = serializers.FloatField()
    unit = serializers.CharField()


class KpiApi(SandboxApi):
    @extend_schema(responses=KpiOutput(many=True), summary="The scenario's key figures, computed from the plant's data")
    def get(self, request: Request, sandbox_id: int) -> Response:
        with sandbox_plant(request, sandbox_id) as (_, plant):
            return Response(KpiOutput(plant_kpis(plant), many=True).data)


class OverlayApi(APIView):
    """Changes to the live plant: staff (sales during a call), the sandbox's own token (its tour), or the
    owner's session. Never the master data: these add to the plant from now on, kept in its schema."""

    permission_classes = [SandboxScoped]
    reads_sandbox_plant = True  # every view uses sandbox_plant: the schema documents its 409 and 410


# Above 0, at most 3 (anomaly_inject checks it): JSON Schema's exclusive minimum, which DRF's fields cannot state.
@extend_schema_field({"type": "number", "format": "double", "exclusiveMinimum": True, "minimum": 0, "maximum": 3})
class MagnitudeField(serializers.FloatField):
    pass


class AnomalyInput(serializers.Serializer[Any]):
    type = serializers.CharField(help_text="An anomaly the asset's type can have, e.g. excess_air, tube_fouling.")
    asset_id = serializers.IntegerField()
    duration_minutes = serializers.IntegerField(
        min_value=1, max_value=MAX_OVERLAY_MINUTES, help_text="1 to 10080 (7 days)."
    )
    magnitude = MagnitudeField(required=False, default=1.0, help_text="Above 0, at most 3; 1 is typical.")


class AnomalyOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    type = serializers.CharField()
    asset_id = serializers.IntegerField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    magnitude = serializers.FloatField()


class AnomalyCreateApi(OverlayApi):
    @extend_schema(
        request=AnomalyInput,
        examples=[
            OpenApiExample(
                "Excess air on the refinery's heater H-101",
                request_only=True,
                value={"type": "excess_air", "asset_id": 1, "duration_minutes": 60, "magnitude": 1.0},
            )
        ],
        responses={201: AnomalyOutput},
        summary="Inject an anomaly into the live plant",
    )
    def post(self, request: Request, sandbox_id: int) -> Response:
        data = AnomalyInput(data=request.data)
        data.is_valid(raise_exception=True)
        with sandbox_plant(request, sandbox_id) as (sandbox, _):
            anomaly = anomaly_inject(sandbox=sandbox, **data.validated_data, actor=acting_user(request))
        return Response(AnomalyOutput(anomaly).data, status=201)


class OptimizationInput(serializers.Serializer[Any]):
    kind = serializers.CharField(help_text="o2_setpoint")
    asset_id = serializers.IntegerField()
    parameters = serializers.DictField(help_text='For o2_setpoint: {"o2_pct": 1.0 to 8.0}.')


class OptimizationOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    asset_id = serializers.IntegerField()
    parameters = serializers.DictField()
    applied_at = serializers.DateTimeField()


class OptimizationCreateApi(OverlayApi):
    @extend_schema(
        request=OptimizationInput,
        examples=[
            OpenApiExample(
                "O2 trim on the refinery's heater H-101",
                request_only=True,
                value={"kind": "o2_setpoint", "asset_id": 1, "parameters": {"o2_pct": 3.0}},
            )
        ],
        responses={201: OptimizationOutput},
        summary="Apply an optimisation to the live plant",
    )
    def post(self, request: Request, sandbox_id: int) -> Response:
        data = OptimizationInput(data=request.data)
        data.is_valid(raise_exception=True)
        with sandbox_plant(request, sandbox_id) as (sandbox, _):
            optimization = optimization_apply(sandbox=sandbox, **data.validated_data, actor=acting_user(request))
        return Response(OptimizationOutput(optimization).data, status=201)


class AcknowledgementOutput(serializers.Serializer[Any]):
    key = serializers.CharField(source="alarm_key")
    acknowledged_at = serializers.DateTimeField()
    acknowledged_by = serializers.CharField()


class AlarmAcknowledgeApi(OverlayApi):
    @extend_schema(request=None, responses=AcknowledgementOutput, summary="Acknowledge an event or alarm")
    def post(self, request: Request, sandbox_id: int, key: str) -> Response:
        with sandbox_plant(request, sandbox_id) as (sandbox, plant):
            acknowledgement, _ = alarm_acknowledge(sandbox=sandbox, plant=plant, key=key, actor=acting_user(request))
        return Response(AcknowledgementOutput(acknowledgement).data)


# The paths these had until the rename (…/events…): still answered until 2027-06, documented as deprecated.
@extend_schema_view(get=extend_schema(deprecated=True, summary="Deprecated: GET …/alarms"))
class AlarmListOldPathApi(AlarmListApi):
    pass


@extend_schema_view(post=extend_schema(deprecated=True, summary="Deprecated: POST …/alarms/{key}/acknowledge"))
class AlarmAcknowledgeOldPathApi(AlarmAcknowledgeApi):
    pass


class ClockInput(serializers.Serializer[Any]):
    time_scale = serializers.IntegerField(
        min_value=1, max_value=MAX_TIME_SCALE, help_text="Simulated seconds per second: 1 (real time) to 3600."
    )


class ClockOutput(serializers.Serializer[Any]):
    time_scale = serializers.IntegerField()
    sim_ts = serializers.DateTimeField(help_text="The plant's simulated now, right after the change.")


class ClockApi(OverlayApi):
    @extend_schema(
        request=ClockInput,
        examples=[OpenApiExample("An hour a minute", request_only=True, value={"time_scale": 60})],
        responses=ClockOutput,
        summary="Speed the plant's clock up, or back to 1×",
    )
    def post(self, request: Request, sandbox_id: int) -> Response:
        data = ClockInput(data=request.data)
        data.is_valid(raise_exception=True)
        with sandbox_plant(request, sandbox_id) as (sandbox, plant):
            scale = data.validated_data["time_scale"]
            plant = clock_set(sandbox=sandbox, plant=plant, time_scale=scale, actor=acting_user(request))
            body = {"time_scale": plant.time_scale, "sim_ts": plant_sim_now(plant)}
        return Response(ClockOutput(body).data)
