"""Product data API of one sandbox: /api/v1/sandboxes/<id>/…"""

from django.urls import path

from simulation import apis

urlpatterns = [
    path("sandboxes/<int:sandbox_id>/assets", apis.AssetListApi.as_view(), name="sandbox-assets"),
    path("sandboxes/<int:sandbox_id>/sensors", apis.SensorListApi.as_view(), name="sandbox-sensors"),
    path(
        "sandboxes/<int:sandbox_id>/sensors/<int:sensor_id>/series",
        apis.SensorSeriesApi.as_view(),
        name="sandbox-sensor-series",
    ),
    path("sandboxes/<int:sandbox_id>/alarms", apis.AlarmListApi.as_view(), name="sandbox-alarms"),
    path(
        "sandboxes/<int:sandbox_id>/alarms/<str:key>/acknowledge",
        apis.AlarmAcknowledgeApi.as_view(),
        name="sandbox-alarm-acknowledge",
    ),
    # Renamed from …/events (a plant's alarms are no prospect's events): the old paths answer until 2027-06.
    path("sandboxes/<int:sandbox_id>/events", apis.AlarmListOldPathApi.as_view(), name="sandbox-events"),
    path(
        "sandboxes/<int:sandbox_id>/events/<str:key>/acknowledge",
        apis.AlarmAcknowledgeOldPathApi.as_view(),
        name="sandbox-event-acknowledge",
    ),
    path("sandboxes/<int:sandbox_id>/kpis", apis.KpiApi.as_view(), name="sandbox-kpis"),
    path("sandboxes/<int:sandbox_id>/anomalies", apis.AnomalyCreateApi.as_view(), name="sandbox-anomalies"),
    path("sandboxes/<int:sandbox_id>/clock", apis.ClockApi.as_view(), name="sandbox-clock"),
    path(
        "sandboxes/<int:sandbox_id>/optimizations", apis.OptimizationCreateApi.as_view(), name="sandbox-optimizations"
    ),
]
