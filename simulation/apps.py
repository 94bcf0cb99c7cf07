from django.apps import AppConfig


class SimulationConfig(AppConfig):
    name = "simulation"
    verbose_name = "Plant simulation"

    def ready(self) -> None:
        # The plant starts when a sandbox's lifecycle says so (sandboxes/signals.py).
        from simulation import receivers  # noqa: F401
