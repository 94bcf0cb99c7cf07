from __future__ import annotations

from django.db import models

from demoportal.core.models import User


class TourProgress(models.Model):
    """Where one prospect is in the guided tour of one sandbox, so a reload or a later visit resumes."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        DISMISSED = "dismissed", "skipped by the prospect"
        FINISHED = "finished"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tour_progress")
    sandbox = models.ForeignKey("sandboxes.Sandbox", on_delete=models.CASCADE, related_name="tour_progress")
    tour = models.CharField(max_length=60, help_text="<product>.<role>, the fixture it follows.")
    step = models.CharField(max_length=60, blank=True, help_text="The step they are on (empty once finished).")
    step_started_at = models.DateTimeField(help_text="A condition counts what happened from here on.")
    shown = models.JSONField(default=list, help_text="Steps shown, each recorded once as its event.")
    completed = models.JSONField(default=list, help_text="Steps done, in order.")
    missing = models.JSONField(default=list, help_text="Steps skipped because the page lacked their element.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "tour progress"
        constraints = [models.UniqueConstraint(fields=["user", "sandbox"], name="tour_progress_once_per_sandbox")]

    def __str__(self) -> str:
        return f"{self.user} in {self.tour}: {self.status} at {self.step or 'the end'}"
