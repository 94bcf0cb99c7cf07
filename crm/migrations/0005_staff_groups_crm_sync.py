from django.db import migrations

from demoportal.core.staff_groups import staff_groups_sync


class Migration(migrations.Migration):
    """Sales see and act on the CRM sync log, Marketing read it (demoportal/core/staff_groups.py). The sync sets
    each group's whole list, so it depends on each app's latest migration."""

    dependencies = [
        ("crm", "0004_crm_sync"),
        ("demoportal", "0011_staff_groups_leads"),
        ("sandboxes", "0009_sandbox_extension_notice"),
        ("analytics", "0007_archived_sandbox_sample"),
    ]

    operations = [migrations.RunPython(staff_groups_sync, migrations.RunPython.noop)]
