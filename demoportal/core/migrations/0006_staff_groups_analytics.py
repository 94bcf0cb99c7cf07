from django.db import migrations

from demoportal.core.staff_groups import staff_groups_sync


class Migration(migrations.Migration):
    """Marketing may view events and archived sandboxes; Sales and Marketing may view partners."""

    dependencies = [
        ("demoportal", "0005_partner"),
        ("analytics", "0003_event_partner"),
        ("sandboxes", "0006_partner_purpose"),
    ]

    operations = [migrations.RunPython(staff_groups_sync, migrations.RunPython.noop)]
