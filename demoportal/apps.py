from django.apps import AppConfig


class DemoPortalConfig(AppConfig):
    name = "demoportal"
    verbose_name = "Demo portal"

    def ready(self) -> None:
        # Every Django process (web, shell, tests) sends tasks through our Celery app, not a default one.
        # Partner enrolment listens to allauth's signals for verified addresses.
        from demoportal import celery, signals  # noqa: F401
