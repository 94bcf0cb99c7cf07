from django.db import migrations

from demoportal.core.staff_groups import staff_groups_sync

# When each lead first qualified and was first accepted, from its stage history; and who made its first demo's
# sandbox, as far as can be told without the demo's own record of it (a partner's user: the partner's). Every
# existing demo is marked for the dashboards' first refresh.
BACKFILL = """
UPDATE analytics_lead AS lead SET mql_at = first.at FROM (
    SELECT lead_id, min(at) AS at FROM analytics_leadstagechange
    WHERE after IN ('mql', 'sql', 'opportunity') GROUP BY lead_id
) AS first WHERE first.lead_id = lead.id;
UPDATE analytics_lead AS lead SET sql_at = first.at FROM (
    SELECT lead_id, min(at) AS at FROM analytics_leadstagechange
    WHERE after IN ('sql', 'opportunity') GROUP BY lead_id
) AS first WHERE first.lead_id = lead.id;
UPDATE analytics_lead AS lead
SET source = CASE WHEN u.partner_id IS NULL THEN 'self_service' ELSE 'partner' END
FROM demoportal_user AS u WHERE u.id = lead.user_id AND lead.products <> '[]'::jsonb;
INSERT INTO analytics_demostale (sandbox_id, marked_at)
SELECT DISTINCT sandbox_id, now() FROM analytics_event WHERE name = 'demo_started' AND sandbox_id IS NOT NULL;
"""


class Migration(migrations.Migration):
    """Marketing read the demos and set the launch targets (demoportal/core/staff_groups.py); the leads get the
    dashboards' fields from their history. Existing demos are summarised by `manage.py dashboards_rebuild`."""

    dependencies = [
        ("analytics", "0008_dashboards"),
        ("crm", "0005_staff_groups_crm_sync"),
    ]

    operations = [
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
        migrations.RunPython(staff_groups_sync, migrations.RunPython.noop),
    ]
