"""TourProgress moved to the tours app (demoportal.tours.definitions): it leaves this app's state; its table stays and is
renamed by tours' first migration."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("demoportal", "0007_tour_progress"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="TourProgress")]),
    ]
