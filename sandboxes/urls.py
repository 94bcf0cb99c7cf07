"""REST API v1 for sandboxes: /api/v1/sandboxes…"""

from django.urls import path

from sandboxes import apis

urlpatterns = [
    path("sandboxes", apis.SandboxListCreateApi.as_view(), name="sandboxes"),
    path("sandboxes/<int:sandbox_id>", apis.SandboxDetailApi.as_view(), name="sandbox"),
    path("sandboxes/<int:sandbox_id>/reset", apis.SandboxResetApi.as_view(), name="sandbox-reset"),
    path("sandboxes/<int:sandbox_id>/extend", apis.SandboxExtendApi.as_view(), name="sandbox-extend"),
]
