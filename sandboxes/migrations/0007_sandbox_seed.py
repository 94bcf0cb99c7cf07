"""Sandbox.seed: the plant's random seed moves up to the sandbox's row, so a reset (which replaces the schema)
keeps it without reading the plant first. Existing sandboxes take the seed their plant already has."""

from django.db import migrations, models


def seeds_copy(apps, schema_editor):  # type: ignore[no-untyped-def]
    Sandbox = apps.get_model("sandboxes", "Sandbox")
    with schema_editor.connection.cursor() as cursor:
        for sandbox in Sandbox.objects.exclude(schema_name="public").only("pk", "schema_name"):
            # The plant's table: simulation_facility, or simulation_plant once the sandbox's schema has migrated.
            cursor.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s"
                " AND table_name IN ('simulation_facility', 'simulation_plant')",
                [sandbox.schema_name],
            )
            found = cursor.fetchone()
            if found is None:
                continue  # ended: its schema is gone
            cursor.execute(f'SELECT seed FROM "{sandbox.schema_name}".{found[0]} LIMIT 1')  # noqa: S608
            row = cursor.fetchone()
            if row is not None:
                Sandbox.objects.filter(pk=sandbox.pk).update(seed=row[0])


class Migration(migrations.Migration):
    dependencies = [
        ("sandboxes", "0006_partner_purpose"),
    ]

    operations = [
        migrations.AddField(
            model_name="sandbox",
            name="seed",
            field=models.IntegerField(
                default=0, help_text="Its plant's random story: drawn when it is made or claimed, kept across resets."
            ),
        ),
        migrations.RunPython(seeds_copy, migrations.RunPython.noop),
    ]
