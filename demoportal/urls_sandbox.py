"""URLs of a sandbox's own host, <slug>.<DEMO_DOMAIN> (its schema is active)."""

from django.urls import include, path, re_path

import sandboxes.views
import simulation.views
from demoportal.core.apis import UnknownApiPath
from demoportal.core.openapi import sandbox_host_schema_views
from demoportal.tours.apis import TourApi

api_schema, api_docs = sandbox_host_schema_views()

urlpatterns = [
    path(
        "",
        include(
            (
                [
                    path("", simulation.views.sandbox_home, name="home"),
                    path("enter/<str:token>", sandboxes.views.sandbox_enter, name="enter"),
                    path("sandbox/<str:action>", sandboxes.views.sandbox_action, name="action"),
                    path("sign-out", sandboxes.views.sandbox_sign_out, name="sign-out"),
                    path(
                        "alarms/<str:key>/acknowledge", simulation.views.sandbox_alarm_acknowledge, name="acknowledge"
                    ),
                    # The path until the rename (a plant's alarms are no prospect's events), answered until 2027-06.
                    path("events/<str:key>/acknowledge", simulation.views.sandbox_alarm_acknowledge),
                    path("assets/<str:tag>/", simulation.views.asset_detail, name="asset"),
                    path("assets/<str:tag>/o2-trim", simulation.views.asset_o2_trim, name="asset-o2-trim"),
                    path("assets/<str:tag>/savings", simulation.views.asset_savings, name="asset-savings"),
                    # The products' areas: a product's landing and its features' screens.
                    path("products/<slug:product>/", simulation.views.product_landing, name="product"),
                    path("products/<slug:product>/<slug:feature>/", simulation.views.feature_detail, name="feature"),
                    path(
                        "products/<slug:product>/<slug:feature>/export.csv",
                        simulation.views.feature_export,
                        name="feature-export",
                    ),
                    # Where the prospect is, for the bar of staff watching their sandbox.
                    path("watching/prospect", simulation.views.watching_prospect, name="watching-prospect"),
                ],
                "sandbox",
            )
        ),
    ),
    path("api/v1/tour", TourApi.as_view(), name="tour"),  # the guided tour of this sandbox (demoportal/tours/)
    path("", include("crm.urls", namespace="crm")),  # the calls to action
    # The same plant and events API as on the portal host, so the sandbox's pages call it same-origin with
    # the session they are signed in with on this host.
    path("api/v1/", include("simulation.urls")),
    path("api/v1/", include("analytics.urls")),
    re_path(
        r"^api/v1/", UnknownApiPath.as_view(), name="api-unknown"
    ),  # last of the API: a JSON 404, not the HTML page
    # This host's own API (the tour and the plant), documented apart from the portal's (docs/api.md).
    path("api/schema/", api_schema, name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),
]
