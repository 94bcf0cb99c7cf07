from django.db import migrations

from demoportal.core.staff_groups import staff_groups_sync


class Migration(migrations.Migration):
    dependencies = [
        ("demoportal", "0001_initial"),
        ("sandboxes", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(staff_groups_sync, migrations.RunPython.noop)]
