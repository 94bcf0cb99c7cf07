"""Per-sandbox plant state (a tenant app: these tables live in each sandbox's schema).

Small by design: the plant, its assets and sensors (hundreds of rows), and what people changed.
No history rows: the engine computes any window of values on demand.
"""

from __future__ import annotations

from django.db import models

from simulation.engine.assets import ANOMALY_EVENTS


class Plant(models.Model):
    """The plant of this sandbox: which scenario, which seed, and when its time began (BASE_TS)."""

    scenario = models.CharField(max_length=40)
    scenario_version = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    seed = models.BigIntegerField()
    # BASE_TS in the scenario files' markers ("BASE_TS - 3d").
    started_at = models.DateTimeField(
        help_text="When the plant's story starts: its history is the 12 months before, its live values after."
    )
    # The plant's own clock: simulated now = clock_sim_at + (wall now - clock_wall_at) × time_scale,
    # re-anchored at each change of scale so it never jumps; no anchor yet means wall time.
    time_scale = models.PositiveIntegerField(
        default=1, help_text="Simulated seconds per wall-clock second: 1 (real time) to 3600 (an hour a second)."
    )
    clock_wall_at = models.DateTimeField(null=True, blank=True, help_text="Wall time of the clock's anchor.")
    clock_sim_at = models.DateTimeField(null=True, blank=True, help_text="Simulated time at the clock's anchor.")

    class Meta:
        verbose_name_plural = "plants"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(time_scale__gte=1) & models.Q(time_scale__lte=3600), name="plant_time_scale_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def base_minute(self) -> int:
        """BASE_TS in the engine's unit: whole minutes since the Unix epoch, UTC."""
        return int(self.started_at.timestamp() // 60)


class Asset(models.Model):
    plant = models.ForeignKey(Plant, on_delete=models.CASCADE, related_name="assets")
    index = models.PositiveIntegerField(help_text="The engine's index of this asset in its plant.")
    tag = models.CharField(max_length=20)
    type = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    capacity = models.FloatField()
    capacity_unit = models.CharField(max_length=20)

    class Meta:
        ordering = ["index"]
        constraints = [
            models.UniqueConstraint(fields=["plant", "tag"], name="asset_tag_unique"),
            models.UniqueConstraint(fields=["plant", "index"], name="asset_index_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.tag} {self.name}"


class Sensor(models.Model):
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="sensors")
    index = models.PositiveIntegerField(help_text="The engine's index of this sensor in its plant.")
    key = models.CharField(max_length=60, help_text="<asset tag>.<kind>")
    tag = models.CharField(max_length=20, help_text="Instrument tag, ISA-5.1 style.")
    kind = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    unit = models.CharField(max_length=20)
    normal_low = models.FloatField()
    normal_high = models.FloatField()
    parameters = models.JSONField(help_text="Engine parameters: base, per_load, noise_sd, wander_sd, tau_min, derived.")

    class Meta:
        ordering = ["index"]
        constraints = [
            models.UniqueConstraint(fields=["key"], name="sensor_key_unique"),
            models.UniqueConstraint(fields=["index"], name="sensor_index_unique"),
            models.CheckConstraint(
                condition=models.Q(normal_low__lte=models.F("normal_high")), name="sensor_range_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tag} {self.name}"


ANOMALY_TYPES = [(key, key.replace("_", " ")) for key in ANOMALY_EVENTS]


class InjectedAnomaly(models.Model):
    """An anomaly someone (sales during a call, or a tour) put into the plant from ``starts_at`` on."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="injected_anomalies")
    type = models.CharField(max_length=40, choices=ANOMALY_TYPES)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    magnitude = models.FloatField(default=1.0)
    created_by = models.EmailField(blank=True, help_text="Who injected it (users live in the public schema).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name_plural = "injected anomalies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(magnitude__gt=0) & models.Q(magnitude__lte=3), name="anomaly_magnitude_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} on {self.asset.tag} from {self.starts_at:%Y-%m-%d %H:%M}"


class AppliedOptimization(models.Model):
    """A change the prospect applied, e.g. an O2 setpoint: changes the live signals from ``applied_at`` on."""

    KIND_CHOICES = [("o2_setpoint", "O2 setpoint")]

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="optimizations")
    kind = models.CharField(max_length=40, choices=KIND_CHOICES)
    parameters = models.JSONField()
    applied_at = models.DateTimeField()
    created_by = models.EmailField(blank=True)

    class Meta:
        ordering = ["applied_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.asset.tag} at {self.applied_at:%Y-%m-%d %H:%M}"


class RaisedAlarm(models.Model):
    """An event raised by hand (sales during a live call), shown beside the events the engine derives."""

    KIND_CHOICES = [(kind, kind.replace("_", " ")) for kind in sorted(set(ANOMALY_EVENTS.values()))]

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="raised_alarms")
    kind = models.CharField(max_length=40, choices=KIND_CHOICES)
    message = models.CharField(max_length=300)
    occurred_at = models.DateTimeField()
    created_by = models.EmailField(blank=True)

    class Meta:
        ordering = ["-occurred_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message}"


class Acknowledgement(models.Model):
    """Someone acknowledged an alarm or event; ``alarm_key`` is the engine event's stable key."""

    alarm_key = models.CharField(max_length=120, unique=True)
    acknowledged_at = models.DateTimeField(auto_now_add=True)
    acknowledged_by = models.EmailField(blank=True)

    def __str__(self) -> str:
        return f"{self.alarm_key} acknowledged"
