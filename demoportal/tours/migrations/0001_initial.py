"""TourProgress, moved here from the demoportal app: the state is created; the table it had is renamed."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("demoportal", "0008_tour_progress_moved"),
        ("sandboxes", "0006_partner_purpose"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE demoportal_tourprogress RENAME TO tours_tourprogress",
                    "ALTER TABLE tours_tourprogress RENAME TO demoportal_tourprogress",
                ),
            ],
            state_operations=[
                migrations.CreateModel(
                    name="TourProgress",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("tour", models.CharField(help_text="<product>.<role>, the fixture it follows.", max_length=60)),
                        ("step", models.CharField(blank=True, help_text="The step they are on (empty once finished).", max_length=60)),
                        ("step_started_at", models.DateTimeField(help_text="A condition counts what happened from here on.")),
                        ("shown", models.JSONField(default=list, help_text="Steps shown, each recorded once as its event.")),
                        ("completed", models.JSONField(default=list, help_text="Steps done, in order.")),
                        ("missing", models.JSONField(default=list, help_text="Steps skipped because the page lacked their element.")),
                        ("status", models.CharField(choices=[("active", "Active"), ("dismissed", "skipped by the prospect"), ("finished", "Finished")], default="active", max_length=10)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("sandbox", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="tour_progress", to="sandboxes.sandbox")),
                        ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="tour_progress", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "verbose_name_plural": "tour progress",
                        "constraints": [models.UniqueConstraint(fields=("user", "sandbox"), name="tour_progress_once_per_sandbox")],
                    },
                ),
            ],
        ),
    ]
