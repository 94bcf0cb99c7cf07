from django.db import migrations

from demoportal.core.staff_groups import staff_groups_sync


class Migration(migrations.Migration):
    """Marketing may view pricing and POC requests (listed in demoportal/core/staff_groups.py). The sync sets each
    group's whole list, so every model in it must exist here: it depends on each app's latest migration."""

    dependencies = [
        ("crm", "0002_staff_groups"),
        ("demoportal", "0009_user_help_texts_in_words"),
        ("sandboxes", "0008_sandbox_plural_and_help_texts"),
        ("analytics", "0003_event_partner"),
    ]

    operations = [migrations.RunPython(staff_groups_sync, migrations.RunPython.noop)]
