from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "CRM sync"

    def ready(self) -> None:
        # A lead scored because of a triggering event is synced to the CRMs (analytics/signals.py).
        from crm import receivers  # noqa: F401
        from crm.health import check_crm
        from demoportal.core.health import health_check_add

        health_check_add("crm", check_crm)
