"""The staff groups and the model permissions each one holds.

A migration that adds models a group should see adds them here and runs `staff_groups_sync` again. An
earlier migration running the sync skips models that do not exist yet at its point in the history.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.management import create_permissions

STAFF_GROUP_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    # Sales manage prospects' sandboxes during calls; they never delete users, nor add or edit domains (a
    # sandbox's host is made with it by provisioning).
    "Sales": {
        "sandboxes.sandbox": ("view", "change"),
        "sandboxes.domain": ("view",),
        # A sandbox's audit trail, on its page: what was done to it and by whom.
        "sandboxes.sandboxauditentry": ("view",),
        "demoportal.user": ("view",),
        "demoportal.partner": ("view",),
        # What prospects asked for from their sandbox: sales follow each up and tick it handled.
        "crm.pricingrequest": ("view", "change"),
        "crm.pocrequest": ("view", "change"),
        "crm.salescallbooking": ("view", "change"),
        # Sales offer their own call times.
        "crm.salescallslot": ("view", "add", "change", "delete"),
        # Leads: sales read the score and move the stage (accept, opportunity, recycle, disqualify); the
        # rules are marketing's.
        "analytics.lead": ("view", "change"),
        "analytics.scoreentry": ("view",),
        "analytics.leadstagechange": ("view",),
        "analytics.ruleset": ("view",),
        "analytics.rule": ("view",),
        # The CRM sync log: sales retry a failed sync and resync a lead (change); the rest is read.
        "crm.crmsync": ("view", "change"),
        "crm.crmrecord": ("view",),
        "crm.crmstatus": ("view",),
    },
    # Marketing read who tried what, the events and the archive; they change nothing.
    "Marketing": {
        "sandboxes.sandbox": ("view",),
        "demoportal.user": ("view",),
        "demoportal.partner": ("view",),
        "analytics.event": ("view",),
        "analytics.archivedsandbox": ("view",),
        # Marketing own the scoring rules: new versions, preview, apply.
        "analytics.lead": ("view",),
        "analytics.scoreentry": ("view",),
        "analytics.leadstagechange": ("view",),
        "analytics.ruleset": ("view", "add", "change"),
        "analytics.rule": ("view", "add", "change", "delete"),
        "analytics.rescorejob": ("view", "add"),
        # The hand-raisers (pricing and POC requests), to judge lead quality; sales alone tick them handled.
        "crm.pricingrequest": ("view",),
        "crm.pocrequest": ("view",),
        # Whether leads reach the CRMs.
        "crm.crmsync": ("view",),
        # The dashboards (docs/dashboards.md): the demos behind each figure; the launch targets are theirs to set.
        "analytics.demosummary": ("view",),
        "analytics.launchtargets": ("view", "add", "change"),
    },
}


def staff_groups_sync(apps: Any, schema_editor: Any) -> None:
    """Create the groups and give each exactly the permissions listed above (a RunPython callable).

    Models that do not exist yet in the migration state it runs in are skipped: an earlier migration
    calling it must not need a later app's tables."""
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for group_name, grants in STAFF_GROUP_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=group_name)
        permissions = []
        for model_label, actions in grants.items():
            app_label, model_name = model_label.split(".")
            try:
                apps.get_model(app_label, model_name)
            except LookupError:
                continue  # not created yet at this migration; a later one runs the sync again
            for action in actions:
                permissions.append(
                    permission_model.objects.get(
                        content_type__app_label=app_label,
                        content_type__model=model_name,
                        codename=f"{action}_{model_name}",
                    )
                )
        group.permissions.set(permissions)
