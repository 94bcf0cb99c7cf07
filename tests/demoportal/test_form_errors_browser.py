"""Form errors in a real browser (Debian's Chromium, driven by Playwright; uvicorn on the test database): a form
that comes back with errors starts at its error summary, whose links move the focus to the field to fix, and
the errors look like errors (not like help text), on a desktop and on a phone."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from demoportal.core.models import User
from tests import conftest
from tests.conftest import BASE_DIR, subprocess_environment, wait_for
from tests.demoportal.test_csp_browser import answers
from tests.demoportal.test_health import free_port
from tests.e2e import journey


@pytest.fixture
def portal(committed_db: None, tmp_path: Path) -> Iterator[str]:
    if not Path(journey.CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium when it runs as root.")
    port = free_port()
    with (tmp_path / "web.log").open("wb") as log:
        web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "demoportal.asgi:application",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=BASE_DIR,
            env=subprocess_environment(DATABASE_URL=conftest.test_database_url()),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: answers(f"http://localhost:{port}/") or web.poll() is not None, "uvicorn to start")
        assert web.poll() is None, (tmp_path / "web.log").read_text()
        yield f"http://localhost:{port}/"
    finally:
        web.terminate()
        web.wait(timeout=30)


def submit_bad_signup(page: Page, portal: str) -> None:
    page.goto(f"{portal}accounts/signup/")
    page.fill("#id_first_name", "Jane")
    page.fill("#id_email", "jane.doe@northwind")
    page.fill("#id_phone", "call me")
    page.evaluate("document.querySelectorAll('form').forEach((form) => { form.noValidate = true; })")
    page.locator("form [type=submit]").last.click()
    page.wait_for_load_state()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_error_summary_takes_the_focus_and_its_links_lead_to_the_fields(portal: str, width: int) -> None:
    with journey.chromium() as browser:
        page = journey.new_page(browser, width=width)
        submit_bad_signup(page, portal)

        summary = page.get_by_role("alert")
        expect(summary).to_be_focused()
        expect(summary).to_contain_text("Please correct the following")
        summary.get_by_role("link", name="Phone: Enter a phone number with its country code").click()
        expect(page.locator("#id_phone")).to_be_focused()
        # Red, not the grey of help text, and marked by more than colour: an icon and a bar beside the field.
        error = page.locator("#id_phone_error li")
        help_text = page.locator("#id_phone_helptext")
        assert error.evaluate("e => getComputedStyle(e).color") != help_text.evaluate("e => getComputedStyle(e).color")
        assert error.evaluate("e => getComputedStyle(e).color") == "rgb(180, 35, 24)"  # 6.6:1 on white
        assert error.evaluate("e => getComputedStyle(e, '::before').content").startswith('"!"')
        assert (
            page.locator(".form-field-invalid:has(#id_phone)").evaluate("e => getComputedStyle(e).borderLeftStyle")
            == "solid"
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing sticks out on a phone
    assert not User.objects.filter(email="jane.doe@northwind").exists()
