from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The portal host's own pages (landing, demo selection, my sandboxes) and ``manage.py bootstrap``."""

    name = "demoportal.portal"
    label = "portal"
    verbose_name = "Portal pages"
