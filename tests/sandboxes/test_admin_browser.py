"""The sales admin in a real browser (Debian's Chromium, driven by Playwright) on a 1280 × 800 screen: the sandbox
list fits it with each row's actions in view, and "Watch live" shows where the prospect is, follows them from page
to page and leads back to the admin. uvicorn runs on the test database (no simulator: nothing here needs live
values). Screenshots are kept in ``artefacts/admin/``."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import Page, expect

from analytics.models import Event
from demoportal.core.models import User
from sandboxes.access import handoff_token
from sandboxes.models import Sandbox, SandboxAuditEntry
from tests import conftest
from tests.conftest import BASE_DIR, TEST_SANDBOX_SLUG, subprocess_environment, wait_for
from tests.demoportal.test_csp_browser import answers
from tests.demoportal.test_health import free_port
from tests.e2e import journey

ARTEFACTS = BASE_DIR / "artefacts" / "admin"
SALES = "browser.sales@vendor.example"
PROSPECT = "browser.prospect@refinery.example"
PASSWORD = journey.PASSWORD
WIDTH, HEIGHT = 1280, 800

# The rightmost edge of anything on the page: wider than the screen means a horizontal scroll bar.
WIDEST = "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
SCROLLS_SIDEWAYS = """() => {
  const box = document.querySelector("#changelist .results");
  return { scrollWidth: box.scrollWidth, clientWidth: box.clientWidth };
}"""


@dataclass(frozen=True)
class Running:
    portal: str  # http://localhost:<port>/
    sandbox: Sandbox
    enter_link: str  # signs the prospect in on the sandbox's host


@pytest.fixture
def running(committed_db: None, tmp_path: Path) -> Iterator[Running]:
    """uvicorn on the test database; a salesperson, and a prospect with long names who owns the test sandbox
    (restored and removed afterwards, with the events and audit entries the test made)."""
    if not Path(journey.CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium when it runs as root.")
    salesperson = User.objects.create_user(email=SALES, password=PASSWORD, is_staff=True)
    salesperson.groups.add(Group.objects.get(name="Sales"))
    prospect = User.objects.create_user(
        email=PROSPECT,
        password=PASSWORD,
        first_name="Maximiliana",
        last_name="Oyelaran-Whitcombe",
        company="Acero del Norte Refining & Petrochemicals S.A. de C.V.",
    )
    sandbox = Sandbox.objects.get(slug=TEST_SANDBOX_SLUG)
    before = Sandbox.objects.filter(pk=sandbox.pk).values("owner", "product", "role", "last_accessed_at").get()
    last_audit = SandboxAuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    Sandbox.objects.filter(pk=sandbox.pk).update(
        owner=prospect,
        product="wasteheatrecovery",  # the longest product name
        role="consultant",
        last_accessed_at=timezone.now() - timedelta(minutes=3),
    )
    sandbox.refresh_from_db()
    port = free_port()
    with (tmp_path / "web.log").open("wb") as log:
        web = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "demoportal.asgi:application", "--port", str(port)),
                *("--ws", "websockets-sansio", "--no-proxy-headers", "--log-level", "warning"),
            ],
            cwd=BASE_DIR,
            env=subprocess_environment(DATABASE_URL=conftest.test_database_url()),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: answers(f"http://localhost:{port}/") or web.poll() is not None, "uvicorn to start")
        assert web.poll() is None, (tmp_path / "web.log").read_text()
        host = f"http://{TEST_SANDBOX_SLUG}.localhost:{port}"
        yield Running(f"http://localhost:{port}/", sandbox, f"{host}/enter/{handoff_token(sandbox=sandbox)}")
    finally:
        web.terminate()
        web.wait(timeout=30)
        Sandbox.objects.filter(pk=sandbox.pk).update(
            owner_id=before["owner"],
            product=before["product"],
            role=before["role"],
            last_accessed_at=before["last_accessed_at"],
        )
        Event.objects.filter(user=prospect).delete()
        SandboxAuditEntry.objects.filter(pk__gt=last_audit).delete()
        User.objects.filter(email__in=[SALES, PROSPECT]).delete()


def sign_in_to_the_admin(page: Page, portal: str) -> None:
    page.goto(f"{portal}admin/login/")
    page.fill("#id_username", SALES)
    page.fill("#id_password", PASSWORD)
    page.locator("form [type=submit]").last.click()
    page.wait_for_load_state()


def test_the_sandbox_list_fits_a_1280_px_screen_with_its_row_actions(running: Running) -> None:
    with journey.chromium() as browser:
        page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
        sign_in_to_the_admin(page, running.portal)
        page.goto(f"{running.portal}admin/sandboxes/sandbox/")
        row = page.locator("#result_list tbody tr", has_text="Oyelaran-Whitcombe")
        expect(row).to_be_visible()
        journey.shoot(page, ARTEFACTS, "sandbox-list-1280")

        widest = page.evaluate(WIDEST)
        # The list scrolls sideways inside its own box (Django's .results) when its columns do not fit.
        results = page.evaluate(SCROLLS_SIDEWAYS)
        shown = page.locator("#changelist .results").bounding_box()
        actions = [row.get_by_role("link", name=name).bounding_box() for name in ("Watch live", "Inject anomaly")]

    assert widest <= WIDTH, f"the page is {widest} px wide on a {WIDTH} px screen"
    assert results["scrollWidth"] <= results["clientWidth"], f"the list needs {results} px: it scrolls sideways"
    assert shown is not None
    for box in actions:
        assert box is not None
        assert shown["x"] <= box["x"]
        assert box["x"] + box["width"] <= shown["x"] + shown["width"]  # in sight, not under the filters


# The watch bar asks every 4 s, after the prospect's page has sent its page view: on a busy machine that can
# take longer than expect's default 5 s.
FOLLOW_TIMEOUT = 20_000


def test_watch_live_follows_the_prospect_and_leads_back_to_the_admin(running: Running) -> None:
    host = running.enter_link.split("/enter/", 1)[0]
    with journey.chromium() as browser:
        prospect = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}).new_page()
        prospect.goto(running.enter_link)  # signed in on the sandbox's host, on its home page
        prospect.wait_for_url(f"{host}/")

        staff_context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
        admin = staff_context.new_page()
        sign_in_to_the_admin(admin, running.portal)
        admin.goto(f"{running.portal}admin/sandboxes/sandbox/{running.sandbox.pk}/change/")
        with staff_context.expect_page() as opened:
            admin.click("#watch-live")  # a new tab, as from the list
        watcher = opened.value
        watcher.set_default_timeout(20_000)
        watcher.wait_for_url(f"{host}/")
        where = watcher.locator("[data-watch-where]")
        expect(where).to_contain_text("The prospect is on Plant overview", timeout=FOLLOW_TIMEOUT)
        expect(where).to_contain_text("you are there too", timeout=FOLLOW_TIMEOUT)

        prospect.goto(f"{host}/assets/H-101/")
        go_there = where.get_by_role("link", name="go there")
        expect(go_there).to_have_attribute("href", "/assets/H-101/", timeout=FOLLOW_TIMEOUT)
        journey.shoot(watcher, ARTEFACTS, "watch-bar-go-there")

        watcher.check("[data-watch-follow]")  # from now on the watcher's page follows by itself
        watcher.wait_for_url(f"{host}/assets/H-101/")
        prospect.goto(f"{host}/contact/pricing/")
        watcher.wait_for_url(f"{host}/contact/pricing/")
        expect(where).to_contain_text("Request pricing", timeout=FOLLOW_TIMEOUT)
        expect(watcher.locator("[data-watch-follow]")).to_be_checked()  # ticked across pages
        journey.shoot(watcher, ARTEFACTS, "watch-bar-following")

        watcher.get_by_role("link", name="Back to the admin").click()
        watcher.wait_for_url(
            re.compile(rf"{re.escape(running.portal)}admin/sandboxes/sandbox/{running.sandbox.pk}/change/$")
        )
        expect(watcher.get_by_role("heading", name="Change sandbox")).to_be_visible()
