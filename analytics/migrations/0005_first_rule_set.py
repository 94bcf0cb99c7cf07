"""The first scoring rule set (``analytics.scoring.DEFAULT_RULES``, docs/scoring.md), in use from the start."""

from typing import Any

from django.db import migrations

from analytics.scoring import DEFAULT_RULES


def first_rule_set(apps: Any, schema_editor: Any) -> None:
    rule_set_model = apps.get_model("analytics", "RuleSet")
    rule_model = apps.get_model("analytics", "Rule")
    if rule_set_model.objects.exists():
        return
    rule_set = rule_set_model.objects.create(version=1, status="active", note="The specification's defaults")
    rule_model.objects.bulk_create(
        rule_model(
            rule_set=rule_set,
            kind=spec.kind,
            signal=spec.signal,
            points=spec.points,
            max_per_demo=spec.max_per_demo,
            group=spec.group,
            hand_raise=spec.hand_raise,
        )
        for spec in DEFAULT_RULES
    )


class Migration(migrations.Migration):
    dependencies = [("analytics", "0004_lead_scoring")]

    operations = [migrations.RunPython(first_rule_set, migrations.RunPython.noop)]
