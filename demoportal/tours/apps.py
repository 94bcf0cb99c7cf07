from django.apps import AppConfig


class ToursConfig(AppConfig):
    """Guided tours on a sandbox's host: their definitions, each prospect's progress and the tour API."""

    name = "demoportal.tours"
    label = "tours"
    verbose_name = "Guided tours"
