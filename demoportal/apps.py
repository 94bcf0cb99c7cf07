from django.apps import AppConfig


class DemoPortalConfig(AppConfig):
    name = "demoportal"
    verbose_name = "Demo portal"

    def ready(self) -> None:
        # Every Django process (web, shell, tests) sends tasks through our Celery app, not a default one.
        from demoportal import celery  # noqa: F401
