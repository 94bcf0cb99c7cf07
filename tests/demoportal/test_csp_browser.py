"""The Content-Security-Policy in a real browser (Debian's Chromium, driven by Playwright): the pages a
prospect and staff use run with no violation, the chart drawn, live values arriving over the websocket,
the guided tour (Shepherd) open. uvicorn and the simulator run on the test database; no `make run`.

A screenshot of the sandbox home with the tour open is kept in ``artefacts/csp/``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import Page, expect

from demoportal.core.models import User
from sandboxes.models import Sandbox
from tests import conftest
from tests.conftest import BASE_DIR, TEST_SANDBOX_SLUG, subprocess_environment, wait_for
from tests.demoportal.test_health import free_port
from tests.e2e import journey
from tests.simulation import test_simulator as simulator_tests

ARTEFACTS = BASE_DIR / "artefacts" / "csp"
PROSPECT = "csp.prospect@refinery.example"
ADMIN = "csp.admin@vendor.example"
PASSWORD = journey.PASSWORD

# Runs before any page script (the browser injects it, so the policy does not apply to it): every
# violation the page's policy reports is kept for the test to read.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${where}`);
});
"""


@pytest.fixture
def portal(committed_db: None, tmp_path: Path) -> Iterator[str]:
    """uvicorn and the simulator on the test database; a verified prospect who owns the test sandbox and a
    superuser, removed afterwards. Yields the portal's address."""
    if not Path(journey.CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium when it runs as root.")
    prospect = User.objects.create_user(email=PROSPECT, password=PASSWORD)
    EmailAddress.objects.create(user=prospect, email=PROSPECT, verified=True, primary=True)
    User.objects.create_superuser(email=ADMIN, password=PASSWORD)
    sandbox = Sandbox.objects.get(slug=TEST_SANDBOX_SLUG)
    Sandbox.objects.filter(pk=sandbox.pk).update(owner=prospect, product="thermalcommand")
    port = free_port()
    database_url = conftest.test_database_url()
    with (tmp_path / "web.log").open("wb") as log:
        web = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "demoportal.asgi:application", "--port", str(port)),
                *("--ws", "websockets-sansio", "--no-proxy-headers", "--log-level", "warning"),
            ],
            cwd=BASE_DIR,
            env=subprocess_environment(DATABASE_URL=database_url),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    simulator = simulator_tests.simulator_start(os.environ["REDIS_URL"], tmp_path / "simulator.log")
    try:
        wait_for(lambda: answers(f"http://localhost:{port}/") or web.poll() is not None, "uvicorn to start")
        assert web.poll() is None, (tmp_path / "web.log").read_text()
        yield f"http://localhost:{port}/"
    finally:
        for process in (web, simulator):
            process.terminate()
            process.wait(timeout=30)
        Sandbox.objects.filter(pk=sandbox.pk).update(owner=sandbox.owner, product=sandbox.product)
        User.objects.filter(email__in=[PROSPECT, ADMIN]).delete()


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=5)  # noqa: S310  # our own server on localhost
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def violations(page: Page) -> list[str]:
    found: list[str] = page.evaluate("window.__cspViolations")
    return found


def sign_in(page: Page, portal: str, login_path: str, email: str) -> None:
    page.goto(f"{portal}{login_path}")
    page.fill("#id_login" if "accounts" in login_path else "#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.locator("form [type=submit]").last.click()
    page.wait_for_load_state()


def test_the_pages_run_under_the_policy_without_a_violation(portal: str) -> None:
    sandbox_id = Sandbox.objects.get(slug=TEST_SANDBOX_SLUG).pk  # now: Playwright's calls run an event loop
    console: list[str] = []
    seen: dict[str, list[str]] = {}
    with journey.chromium() as browser:
        page = journey.new_page(browser)
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", lambda message: console.append(message.text))

        def visit(url: str) -> None:
            page.goto(url)
            page.wait_for_load_state("load")

        def check(name: str) -> None:
            seen[name] = violations(page)

        visit(portal)
        check("landing")
        visit(f"{portal}accounts/signup/")
        check("sign-up")
        sign_in(page, portal, "accounts/login/", PROSPECT)
        visit(f"{portal}demo/")
        page.check("input[name=product][value=thermalcommand]")
        page.check("input[name=role][value=engineer]")
        expect(page.locator("[data-tour-estimate]")).to_be_visible()  # demo-new.js ran
        check("demo selection")
        visit(f"{portal}sandboxes/")
        check("my sandboxes")
        page.get_by_role("button", name="Enter").first.click()  # the hand-off to the sandbox's own host

        page.wait_for_url(re.compile(rf"http://{TEST_SANDBOX_SLUG}\.localhost:\d+/$"))
        page.locator("[data-chart][data-state=ready] canvas").first.wait_for()  # uPlot drew the chart
        expect(page.locator("[data-live]")).to_have_attribute("data-state", "live", timeout=15_000)
        expect(page.locator("[data-live-sensor]").first).to_have_text(re.compile(r"^-?[\d,]+\.?\d*$"))
        expect(page.locator(".shepherd-element").first).to_be_visible()  # the guided tour opened
        journey.shoot(page, ARTEFACTS, "sandbox-home-with-tour")
        check("sandbox home")
        journey.tour_skip(page)
        visit(portal.replace("//localhost", f"//{TEST_SANDBOX_SLUG}.localhost") + "assets/H-101/")
        page.locator("[data-chart][data-state=ready] canvas").first.wait_for()
        check("asset page")

        staff = journey.new_page(browser)
        staff.add_init_script(RECORD_VIOLATIONS)
        staff.on("console", lambda message: console.append(message.text))
        sign_in(staff, portal, "admin/login/", ADMIN)
        for path in ("admin/", "admin/sandboxes/sandbox/", f"admin/sandboxes/sandbox/{sandbox_id}/change/"):
            staff.goto(f"{portal}{path}")
            staff.wait_for_load_state("load")
            seen[path] = violations(staff)
        staff.goto(f"{portal}admin/demoportal/user/add/")
        seen["admin user add"] = violations(staff)

    blocked = {name: found for name, found in seen.items() if found}
    assert not blocked, "\n".join(f"{name}: {violation}" for name, found in blocked.items() for violation in found)
    assert [text for text in console if "Content Security Policy" in text] == []
