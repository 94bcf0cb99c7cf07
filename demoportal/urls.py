"""URLs of the portal host (the public schema): portal pages, admin, accounts, API."""

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, include, path, re_path

import analytics.admin.dashboards
import analytics.urls
from analytics.selectors.dashboards import DASHBOARD_PERMISSION
from demoportal.core.apis import UnknownApiPath
from demoportal.core.openapi import portal_schema_views
from demoportal.portal import views

admin.site.site_header = "Demo portal administration"
admin.site.site_title = "Demo portal admin"


def admin_home(request: HttpRequest) -> HttpResponse:
    """The admin's home; for someone who reads the dashboards and is not a superuser, Demo Performance."""
    if request.user.has_perm(DASHBOARD_PERMISSION) and not request.user.is_superuser:
        return redirect("dashboards:page", dashboard="demo-performance")
    return admin.site.index(request)


portal_patterns: list[URLPattern] = [
    path("", views.landing, name="landing"),
    path("demo/", views.demo_new, name="demo-new"),
    path("sandboxes/", views.my_sandboxes, name="my-sandboxes"),
    path("sandboxes/<int:sandbox_id>/<str:action>", views.my_sandbox_action, name="my-sandbox"),
]
if settings.DEV_MAILBOX:  # only local settings turn it on: anywhere else the page does not exist at all
    portal_patterns.append(path("dev/mailbox/", views.dev_mailbox, name="dev-mailbox"))

api_schema, api_docs = portal_schema_views()

urlpatterns = [
    path("", include((portal_patterns, "portal"))),
    path("admin/dashboards/", include(analytics.admin.dashboards)),  # marketing's (docs/dashboards.md)
    path("admin/", admin.site.admin_view(admin_home)),  # before the admin's own home, which it calls
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include("sandboxes.urls")),
    path("api/v1/", include(analytics.urls.portal_urlpatterns)),  # staff: sandbox totals, leads, accounts
    path("api/v1/", include("simulation.urls")),
    path("api/v1/", include("analytics.urls")),
    re_path(
        r"^api/v1/", UnknownApiPath.as_view(), name="api-unknown"
    ),  # last of the API: a JSON 404, not the HTML page
    # What this host serves (this URL conf), not a sandbox host's (docs/api.md).
    path("api/schema/", api_schema, name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),
]
