"""One name per concept (docs/architecture.md, "Glossary"): the plant's row is Plant (was Facility), an alarm
raised by hand is RaisedAlarm (was TriggeredEvent), and an acknowledgement names its alarm_key (was event_key).
Renames only: tables and columns are renamed in place, no data moves."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("simulation", "0002_facility_clock"),
    ]

    operations = [
        migrations.RenameModel(old_name="Facility", new_name="Plant"),
        migrations.AlterModelOptions(name="plant", options={"verbose_name_plural": "plants"}),
        migrations.RenameField(model_name="asset", old_name="facility", new_name="plant"),
        # The two unique constraints follow the renamed column in the database; the state is told so here.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(model_name="asset", name="asset_tag_unique"),
                migrations.RemoveConstraint(model_name="asset", name="asset_index_unique"),
                migrations.AddConstraint(
                    model_name="asset",
                    constraint=models.UniqueConstraint(fields=("plant", "tag"), name="asset_tag_unique"),
                ),
                migrations.AddConstraint(
                    model_name="asset",
                    constraint=models.UniqueConstraint(fields=("plant", "index"), name="asset_index_unique"),
                ),
            ]
        ),
        migrations.RemoveConstraint(model_name="plant", name="facility_time_scale_range"),
        migrations.AddConstraint(
            model_name="plant",
            constraint=models.CheckConstraint(
                condition=models.Q(("time_scale__gte", 1), ("time_scale__lte", 3600)), name="plant_time_scale_range"
            ),
        ),
        migrations.RenameModel(old_name="TriggeredEvent", new_name="RaisedAlarm"),
        migrations.AlterField(
            model_name="raisedalarm",
            name="asset",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="raised_alarms", to="simulation.asset"
            ),
        ),
        migrations.RenameField(model_name="acknowledgement", old_name="event_key", new_name="alarm_key"),
        # PostgreSQL keeps a renamed table's id sequence under its old name; name them as a new table's would be,
        # so a migrated schema and a clone of a template are the same (tests/sandboxes/test_lifecycle.py).
        migrations.RunSQL(
            "ALTER SEQUENCE IF EXISTS simulation_facility_id_seq RENAME TO simulation_plant_id_seq;"
            " ALTER SEQUENCE IF EXISTS simulation_triggeredevent_id_seq RENAME TO simulation_raisedalarm_id_seq;",
            "ALTER SEQUENCE IF EXISTS simulation_plant_id_seq RENAME TO simulation_facility_id_seq;"
            " ALTER SEQUENCE IF EXISTS simulation_raisedalarm_id_seq RENAME TO simulation_triggeredevent_id_seq;",
        ),
    ]
