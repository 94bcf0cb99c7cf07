"""`manage.py bootstrap [--migrate]`: the rows the system needs to run, created idempotently.

- with --migrate, first `migrate_schemas` (public, then every sandbox) — only when a schema lacks a
  migration, so a start with nothing to migrate does not pay for it;
- the public tenant (the portal) and its domains, and one template per scenario (cloned for new sandboxes);
- the demo superuser, and with DEMO_STAFF_USERS the demo Sales and Marketing users;
- with DEMO_SANDBOX a sandbox at demo.<DEMO_DOMAIN> to try the live connection on;
- with DEMO_SAMPLE_ACTIVITY, that many labelled sample prospects for the leads and dashboards, once.

A password comes from DEMO_ADMIN_PASSWORD or is generated; a generated one is printed when the user is
created and, with --credentials-file, kept there so later runs can print it again (development only).
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from analytics.services.sample import SAMPLE_DOMAIN, sample_activity_create, sample_users
from crm.services import demo_slots_ensure
from demoportal.core import catalogue
from demoportal.core.models import User
from sandboxes.access import sandbox_host
from sandboxes.models import Sandbox
from sandboxes.selectors import schemas_with_pending_migrations
from sandboxes.services import portal_tenant_ensure, sandbox_create
from simulation.selectors.plant import plant_get
from simulation.services import plant_load, template_ensure

DEMO_SANDBOX_SLUG = "demo"
DEMO_SANDBOX_NAME = "Demo Refinery Complex"
DEMO_SANDBOX_SCENARIO = "oil_gas"
# The demo staff logins' names: prospects see the salesperson's on call times and in the invitation.
DEMO_STAFF = [("sales@example.com", "Sales", "Sam", "Rivera"), ("marketing@example.com", "Marketing", "Mia", "Chen")]


class Command(BaseCommand):
    help = "Create the public tenant, demo logins and demo sandbox if missing, then print how to sign in."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--port", type=int, default=8000, help="port the web server listens on, for the URLs printed"
        )
        parser.add_argument("--credentials-file", type=Path, help="keep generated demo passwords here (development)")
        parser.add_argument("--migrate", action="store_true", help="apply pending migrations to every schema first")

    def handle(self, *args: Any, port: int, credentials_file: Path | None, migrate: bool, **options: Any) -> None:
        if migrate:
            self.migrate()
        portal_tenant_ensure()
        known = load_credentials(credentials_file)
        logins: list[tuple[str, str | None, str, str]] = [(settings.DEMO_ADMIN_EMAIL, None, "", "")]
        if settings.DEMO_STAFF_USERS:
            logins += DEMO_STAFF
        password = settings.DEMO_ADMIN_PASSWORD or known.get("password") or secrets.token_urlsafe(12)
        created_any = False
        for email, group_name, first_name, last_name in logins:
            created_any |= self.ensure_login(email, group_name, password)
            if first_name:  # named once; a name staff changed later stays
                User.objects.filter(email=email, first_name="", last_name="").update(
                    first_name=first_name, last_name=last_name
                )
        if created_any and not settings.DEMO_ADMIN_PASSWORD and credentials_file is not None:
            save_credentials(credentials_file, {"password": password})
        if settings.DEMO_STAFF_USERS:
            made = demo_slots_ensure(salesperson=User.objects.get(email="sales@example.com"))
            if made:
                self.stdout.write(f"offered {made} sales-call times for sales@example.com")
        for industry in sorted(catalogue.scenarios()):
            template_ensure(industry=industry)  # cheap when current; rebuilt when its scenario changed
        if settings.DEMO_SANDBOX:
            self.ensure_demo_sandbox()
        if settings.DEMO_SAMPLE_ACTIVITY and not sample_users().exists():
            sample = sample_activity_create(leads=settings.DEMO_SAMPLE_ACTIVITY, seed=14)
            self.stdout.write(
                f"sample activity: {sample.people:,} sample prospects (at *.{SAMPLE_DOMAIN}), {sample.events:,} events"
                " for the leads and dashboards; remove with `manage.py sample_activity --remove`"
            )

        shown_password = password if (created_any or settings.DEMO_ADMIN_PASSWORD or known) else None
        self.print_banner(port, [email for email, *_ in logins], shown_password)

    def ensure_demo_sandbox(self) -> None:
        demo = Sandbox.objects.filter(slug=DEMO_SANDBOX_SLUG).first()
        if demo is None:
            sandbox_create(slug=DEMO_SANDBOX_SLUG, name=DEMO_SANDBOX_NAME, scenario=DEMO_SANDBOX_SCENARIO)
            self.stdout.write(f"created sandbox {DEMO_SANDBOX_SLUG}")
            return
        with schema_context(demo.schema_name):
            if plant_get() is None:  # made before sandboxes had plants
                plant_load(scenario_key=DEMO_SANDBOX_SCENARIO, seed=1, started_at=timezone.now())
                self.stdout.write(f"loaded the {DEMO_SANDBOX_SCENARIO} plant into sandbox {DEMO_SANDBOX_SLUG}")

    def migrate(self) -> None:
        pending = schemas_with_pending_migrations() if sandbox_table_exists() else ["public"]
        if not pending:
            self.stdout.write("migrations: every schema is up to date")
            return
        self.stdout.write(f"migrations: applying to {', '.join(pending)}")
        call_command("migrate_sandboxes", interactive=False, verbosity=0)

    def ensure_login(self, email: str, group_name: str | None, password: str) -> bool:
        if User.objects.filter(email=email).exists():
            return False
        if group_name is None:
            User.objects.create_superuser(email=email, password=password)
        else:
            user = User.objects.create_user(email=email, password=password, is_staff=True)
            user.groups.add(Group.objects.get(name=group_name))
        self.stdout.write(f"created login {email}")
        return True

    def print_banner(self, port: int, emails: list[str], password: str | None) -> None:
        base = f"http://{settings.PORTAL_HOST}:{port}"
        lines = [
            "",
            "Demo portal is starting:",
            f"  portal     {base}/",
            f"  admin      {base}/admin/",
            f"  API docs   {base}/api/docs/",
            f"  health     {base}/healthz",
        ]
        if settings.DEV_MAILBOX:
            lines.append(f"  mailbox    {base}/dev/mailbox/")
        demo = Sandbox.objects.filter(slug=DEMO_SANDBOX_SLUG).first() if settings.DEMO_SANDBOX else None
        if demo is not None:  # a sandbox's pages are for its owner or staff: staff open it from the admin
            host = sandbox_host(slug=DEMO_SANDBOX_SLUG)
            lines.append(f"  sandbox    {base}/admin/sandboxes/sandbox/{demo.pk}/open/  (opens {host} as staff)")
        for email in emails:
            lines.append(f"  login      {email}")
        if password is not None:
            lines.append(f"  password   {password}")
        else:
            lines.append("  password   as printed when the logins were created (or: manage.py changepassword EMAIL)")
        self.stdout.write(self.style.SUCCESS("\n".join(lines)) + "\n")


def sandbox_table_exists() -> bool:
    """False on a new database, before the first migration."""
    return Sandbox._meta.db_table in connection.introspection.table_names()


def load_credentials(path: Path | None) -> dict[str, str]:
    if path is None or not path.exists():
        return {}
    return dict(json.loads(path.read_text()))


def save_credentials(path: Path, credentials: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(credentials))
    path.chmod(0o600)
