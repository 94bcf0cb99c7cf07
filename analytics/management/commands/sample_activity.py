"""``manage.py sample_activity [--leads N] [--seed S] [--remove]``: sample prospects and what they did, scored
(``analytics.services.sample``, which describes the people, the journeys and the marker)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.services.sample import SAMPLE_DOMAIN, sample_activity_create, sample_activity_remove


class Command(BaseCommand):
    help = (
        "Replace the sample prospect activity: consenting prospects in buying committees, free-mail individuals"
        " and partner users, their demos over the last 60 days in ended sandboxes (no schemas), scored under the"
        f" rule set in use. Sample users' addresses are at subdomains of {SAMPLE_DOMAIN}; --remove deletes"
        " them with their events, leads and sandboxes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--leads", type=int, default=300, help="How many sample prospects (default 300).")
        parser.add_argument("--seed", type=int, default=14, help="The same seed draws the same people and journeys.")
        parser.add_argument("--remove", action="store_true", help="Only delete the sample data.")

    def handle(self, *args: Any, leads: int, seed: int, remove: bool, **options: Any) -> None:
        if remove:
            removed = sample_activity_remove()
            self.stdout.write("Removed: " + (", ".join(f"{n:,} {label}" for label, n in removed.items()) or "nothing"))
            return
        if leads < 1:
            raise CommandError("--leads must be at least 1.")
        summary = sample_activity_create(leads=leads, seed=seed)
        if summary.removed:
            self.stdout.write(
                "Replaced the previous sample: " + ", ".join(f"{n:,} {k}" for k, n in summary.removed.items())
            )
        journeys = ", ".join(f"{n:,} {kind.replace('_', ' ')}" for kind, n in sorted(summary.journeys.items()))
        self.stdout.write(
            f"{summary.people:,} sample prospects ({summary.companies:,} companies, {summary.free_mail:,} free-mail,"
            f" {summary.partner_users:,} partner users), {summary.sandboxes:,} ended sandboxes,"
            f" {summary.events:,} events in {summary.write_seconds:.1f} s\nJourneys: {journeys}\n"
            f"Scored {summary.leads:,} leads ({summary.mqls:,} MQL) in {summary.score_seconds:.1f} s\n"
            f"Dashboards' rollups in {summary.rollup_seconds:.1f} s"
        )
