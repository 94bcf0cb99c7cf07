from django.db import migrations

from demoportal.core.staff_groups import staff_groups_sync


class Migration(migrations.Migration):
    """The Sales group gets the calls-to-action models (listed in demoportal/core/staff_groups.py)."""

    dependencies = [
        ("crm", "0001_initial"),
        ("demoportal", "0002_staff_groups"),
    ]

    operations = [migrations.RunPython(staff_groups_sync, migrations.RunPython.noop)]
