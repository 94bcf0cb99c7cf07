"""A prospect's journey in a real browser (Debian's Chromium, driven by Playwright), step by step.

Used by the browser test (tests/e2e/test_journey.py) and by bench/journey.py, which times the demo
selection over many runs. Playwright never downloads a browser here: it launches /usr/bin/chromium.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
# As the machine's notes advise: no background networking (this network is closed), no sandbox as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PASSWORD = "Furnace-Tuning-2026!"


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Browser, *, width: int = 1280) -> Page:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.set_default_timeout(20_000)
    page.on("dialog", lambda dialog: dialog.accept())  # the "are you sure?" of extend / reset / end
    return page


def shoot(page: Page, folder: Path | None, name: str) -> None:
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def sign_up(page: Page, portal: str, email: str, shots: Path | None = None) -> None:
    """From the landing page's call to action through the registration form."""
    page.goto(portal)
    shoot(page, shots, "01-landing")
    page.get_by_role("link", name="Start a demo").first.click()
    page.fill("#id_first_name", "Nora")
    page.fill("#id_last_name", "Lindqvist")
    page.fill("#id_email", email)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.fill("#id_company", "Northwind Refining")
    page.fill("#id_job_title", "Energy manager")
    page.select_option("#id_role", "engineer")
    page.fill("#id_phone", "+44 20 7946 0958")
    page.select_option("#id_country", "GB")
    page.check("#id_contact_consent")  # optional: this prospect agrees to be contacted
    shoot(page, shots, "02-sign-up")
    page.locator("form").get_by_role("button", name=re.compile("Sign up", re.IGNORECASE)).click()
    expect(page.get_by_role("heading", name=re.compile("verify your e-?mail", re.IGNORECASE))).to_be_visible()


def mailbox_message(page: Page, portal: str, text: str) -> Locator:
    """The newest message in the development mailbox containing ``text``, waiting for it to arrive."""
    message = page.locator("article.mail", has_text=text).first
    deadline = time.monotonic() + 30
    page.goto(f"{portal}dev/mailbox/")
    while not message.count() and time.monotonic() < deadline:  # mail is written as its transaction commits
        page.wait_for_timeout(250)
        page.reload()
    expect(message).to_be_visible()
    return message


def verify_from_mailbox(page: Page, portal: str, email: str, shots: Path | None = None) -> None:
    """Opens the verification link from the development mailbox and confirms: the browser that signed up is
    signed in and lands on demo selection; another one signs in first."""
    mail = mailbox_message(page, portal, email)
    shoot(page, shots, "03-mailbox")
    mail.locator("a[href*='/accounts/confirm-email/']").first.click()
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(re.compile(r"/demo/$|/accounts/login/"))
    if "/accounts/login/" in page.url:
        page.fill("#id_login", email)
        page.fill("#id_password", PASSWORD)
        page.locator("form").get_by_role("button", name=re.compile("Sign in", re.IGNORECASE)).click()
        page.wait_for_load_state()


def choose_demo(page: Page, portal: str, *, product: str, industry: str, role: str, shots: Path | None = None) -> float:
    """Demo selection to a sandbox home with its chart drawn; returns the seconds from submit to drawn."""
    page.goto(f"{portal}demo/")
    page.check(f"input[name=product][value={product}]")
    page.check(f"input[name=industry][value={industry}]")
    page.check(f"input[name=role][value={role}]")
    shoot(page, shots, "04-demo-selection")
    started = time.perf_counter()
    page.get_by_role("button", name="Start my sandbox").click()
    page.locator("[data-chart][data-state=ready] canvas").wait_for()
    elapsed = time.perf_counter() - started
    shoot(page, shots, "05-sandbox-home")
    return elapsed


def tour_step(page: Page, step_id: str) -> Locator:
    """The guided tour's card for one step (Shepherd marks it with the step's id)."""
    return page.locator(f'.shepherd-element[data-shepherd-step-id="{step_id}"]')


def tour_skip(page: Page) -> None:
    """Skip the guided tour, which opens on the first page of a new sandbox, leaving "Resume tour" in the bar."""
    page.locator(".shepherd-element").get_by_role("button", name="Skip tour").first.click()
    page.get_by_role("button", name=re.compile(r"^Resume tour")).wait_for()


def end_sandbox(page: Page) -> None:
    page.get_by_role("button", name="End", exact=True).click()
    page.wait_for_url(re.compile(r"/sandboxes/|/accounts/login/"))


def sign_out(page: Page) -> None:
    """Out of the sandbox's host, then out of the portal (allauth asks to confirm)."""
    page.get_by_role("button", name="Sign out").click()
    page.locator("form").get_by_role("button", name="Sign Out").click()
    page.wait_for_url(re.compile(r"localhost:\d+/$"))


def book_call(page: Page, shots: Path | None = None) -> str:
    """From the sandbox's call to action: the first offered time; returns the confirmation shown."""
    page.get_by_role("link", name="Book a sales call").click()
    page.locator("input[name=slot]").first.check()
    page.fill("textarea[name=message]", "Excess-air trim on our twelve heaters.")
    shoot(page, shots, "07-book-a-call")
    page.get_by_role("button", name="Book this call").click()
    confirmation = page.get_by_text("Your call is booked")
    confirmation.wait_for()
    return confirmation.inner_text()
