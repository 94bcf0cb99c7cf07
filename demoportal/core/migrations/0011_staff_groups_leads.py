from django.db import migrations

from demoportal.core.staff_groups import staff_groups_sync


class Migration(migrations.Migration):
    """Sales and Marketing get their permissions on leads and scoring rules."""

    dependencies = [
        ("demoportal", "0010_user_company_size"),
        ("analytics", "0005_first_rule_set"),
        ("crm", "0003_staff_groups_marketing_requests"),  # each sync sets a group's whole list: run last
    ]

    operations = [migrations.RunPython(staff_groups_sync, migrations.RunPython.noop)]
