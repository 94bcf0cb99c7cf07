from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The base of the house: the user model, partners, the catalogue, errors and the helpers every app uses.

    Its label stays ``demoportal``: the user model is ``demoportal.User`` and its tables and migrations
    keep their names.
    """

    name = "demoportal.core"
    label = "demoportal"
    verbose_name = "Demo portal"

    def ready(self) -> None:
        # Every Django process (web, shell, tests) sends tasks through our Celery app, not a default one.
        # Partner enrolment listens to allauth's signals for verified addresses.
        from demoportal import celery  # noqa: F401
        from demoportal.core import signals  # noqa: F401
