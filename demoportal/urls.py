"""URLs of the portal host (the public schema): portal pages, admin, accounts, API."""

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from demoportal import views

admin.site.site_header = "Demo portal administration"
admin.site.site_title = "Demo portal admin"

portal_patterns: list[URLPattern] = [
    path("", views.landing, name="landing"),
    path("demo/", views.demo_new, name="demo-new"),
    path("sandboxes/", views.my_sandboxes, name="my-sandboxes"),
    path("sandboxes/<int:sandbox_id>/<str:action>", views.my_sandbox_action, name="my-sandbox"),
]
if settings.DEV_MAILBOX:  # only local settings turn it on: anywhere else the page does not exist at all
    portal_patterns.append(path("dev/mailbox/", views.dev_mailbox, name="dev-mailbox"))

urlpatterns = [
    path("", include((portal_patterns, "portal"))),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include("sandboxes.urls")),
    path("api/v1/", include("simulation.urls")),
    path("api/v1/", include("analytics.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
