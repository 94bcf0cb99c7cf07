from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Analytics"

    def ready(self) -> None:
        # A sandbox's lifecycle begins, extends and archives demos (sandboxes/signals.py).
        from analytics import receivers  # noqa: F401
        from analytics.health import check_dashboards
        from demoportal.core.health import health_check_add

        health_check_add("dashboards", check_dashboards)
