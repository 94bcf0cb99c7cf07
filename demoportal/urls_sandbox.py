"""URLs of a sandbox's own host, <slug>.<DEMO_DOMAIN> (its schema is active)."""

from django.urls import include, path

from demoportal.apis import TourApi
from sandboxes import views

urlpatterns = [
    path(
        "",
        include(
            (
                [
                    path("", views.sandbox_home, name="home"),
                    path("enter/<str:token>", views.sandbox_enter, name="enter"),
                    path("sandbox/<str:action>", views.sandbox_action, name="action"),
                    path("sign-out", views.sandbox_sign_out, name="sign-out"),
                    path("events/<str:key>/acknowledge", views.sandbox_event_acknowledge, name="acknowledge"),
                ],
                "sandbox",
            )
        ),
    ),
    path("api/v1/tour", TourApi.as_view(), name="tour"),  # the guided tour of this sandbox (demoportal/tours.py)
    path("", include("crm.urls", namespace="crm")),  # the calls to action
    # The same plant and events API as on the portal host, so the sandbox's pages call it same-origin with
    # the session they are signed in with on this host.
    path("api/v1/", include("simulation.urls")),
    path("api/v1/", include("analytics.urls")),
]
