"""URLs of a sandbox's own host, <slug>.<DEMO_DOMAIN> (its schema is active)."""

from django.urls import include, path

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
                ],
                "sandbox",
            )
        ),
    ),
    path("", include("crm.urls", namespace="crm")),
]
