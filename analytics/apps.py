from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Analytics"

    def ready(self) -> None:
        # A sandbox's lifecycle begins, extends and archives demos (sandboxes/signals.py).
        from analytics import receivers  # noqa: F401
