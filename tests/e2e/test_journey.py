"""The prospect's journey in a real browser against the whole running system (`make run`'s launcher):
sign-up → verification link from the development mailbox → demo selection → sandbox home with its
chart drawn → book a sales call → sign out. Screenshots of the main pages are kept as artefacts in
``artefacts/e2e/`` (the README shows two of them)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from playwright.sync_api import expect

from bench.system import running_system
from tests.conftest import BASE_DIR, wait_for
from tests.demoportal.test_health import free_port
from tests.e2e import journey

DATABASE = "demoportal_e2e_test"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"  # running_system makes it, then drops it
ARTEFACTS = BASE_DIR / "artefacts" / "e2e"
EMAIL = f"energy.manager.{int(time.time())}@northwind-refining.example"  # one prospect per run


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The whole system on a database and Redis databases of its own; yields the portal's address."""
    if not Path(journey.CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium when it runs as root.")
    port = free_port()
    env = {"DEMO_SANDBOX": "false", "SANDBOX_POOL_SIZE": "1", "EMAIL_FILE_PATH": str(tmp_path_factory.mktemp("mail"))}
    log = tmp_path_factory.mktemp("e2e") / "run.log"
    with running_system(database=DATABASE, redis_dbs=(3, 4, 5), port=port, env=env, log=log):
        yield f"http://localhost:{port}/"


# The elements that stick out past the right edge of the viewport (innermost first), to name the culprit;
# text that overflows its element shows in the screenshot taken then.
WIDER_THAN_THE_SCREEN = """() => [...document.querySelectorAll("body *")]
  .filter((e) => e.getBoundingClientRect().right > innerWidth + 0.5)
  .filter((e) => ![...e.children].some((c) => c.getBoundingClientRect().right > innerWidth + 0.5))
  .map((e) => e.tagName.toLowerCase() + (e.className ? "." + String(e.className).split(" ").join(".") : ""))
  .slice(0, 5)"""


def rows(sql: str, email: str) -> list[tuple[Any, ...]]:
    """What the running system stored for the prospect with this e-mail."""
    with psycopg.connect(DATABASE_URL) as conn:
        return conn.execute(sql, [email]).fetchall()


def lead_of(email: str) -> tuple[str, str]:
    """The stage of the prospect's lead, and why."""
    ((stage, reason),) = rows(
        "SELECT l.stage, l.stage_reason FROM analytics_lead l JOIN demoportal_user u ON u.id = l.user_id"
        " WHERE u.email = %s",
        email,
    )
    return stage, reason


def events_of(email: str) -> list[str]:
    found = rows(
        "SELECT e.name FROM analytics_event e JOIN demoportal_user u ON u.id = e.user_id"
        " WHERE u.email = %s ORDER BY e.id",
        email,
    )
    return [name for (name,) in found]


def test_a_prospect_signs_up_verifies_starts_a_demo_books_a_call_and_signs_out(portal: str) -> None:
    with journey.chromium() as browser:
        page = journey.new_page(browser)
        journey.sign_up(page, portal, EMAIL, ARTEFACTS)
        journey.verify_from_mailbox(page, portal, EMAIL, ARTEFACTS)
        assert page.url == f"{portal}demo/"  # verified in the browser that signed up: signed in, on to the choice

        seconds = journey.choose_demo(
            page, portal, product="thermalcommand", industry="oil_gas", role="engineer", shots=ARTEFACTS
        )

        assert re.match(r"http://[a-z0-9-]+\.localhost:\d+/$", page.url)  # the sandbox's own host
        expect(journey.tour_step(page, "welcome")).to_be_visible()  # the guided tour opens on its first step
        journey.tour_skip(page)
        assert page.locator(".kpi").count() >= 3
        assert page.get_by_role("heading", name="Start with a story").is_visible()
        # The live plant: the simulator's ticks reach the page over /ws/live/.
        expect(page.locator("[data-live]")).to_have_attribute("data-state", "live", timeout=15_000)
        expect(page.locator("[data-live-sensor]").first).to_have_text(re.compile(r"^-?[\d,]+\.?\d*$"))
        (ARTEFACTS / "submit-to-home-seconds.txt").write_text(f"{seconds:.3f}\n")

        phone = journey.new_page(browser, width=360)  # the narrowest width the pages are made for
        phone.context.add_cookies(page.context.cookies())  # type: ignore[arg-type]  # same dicts, stricter stub
        phone.goto(page.url)
        phone.locator("[data-chart][data-state=ready] canvas").wait_for()
        journey.shoot(phone, ARTEFACTS, "06-sandbox-home-phone")
        for url in (
            page.url,
            f"{page.url}contact/call/",
            f"{page.url}materials/",
            f"{portal}demo/",
            f"{portal}sandboxes/",
        ):
            phone.goto(url)
            width = phone.evaluate("document.documentElement.scrollWidth")
            if width > 360:
                journey.shoot(phone, ARTEFACTS, "too-wide")  # the artefact shows what sticks out
            assert width <= 360, f"{url} is {width} px wide on a 360 px phone: {phone.evaluate(WIDER_THAN_THE_SCREEN)}"

        home = page.url
        booked = journey.book_call(page, ARTEFACTS)
        assert "The invitation is in your inbox" in booked
        invitation = journey.mailbox_message(page, portal, "Your call with").inner_text()
        assert f"To {EMAIL}" in invitation
        assert "The invitation is attached" in invitation

        # Booking a call is a hand-raise: the lead is an MQL at once, the Sales login is told by e-mail with
        # the breakdown, and the prospect's sandbox gets a week more, which its bar shows.
        assert lead_of(EMAIL) == ("mql", "Hand-raise: booked a sales call about ThermalCommand")
        told = journey.mailbox_message(page, portal, "New MQL").inner_text()
        assert "To sales@example.com" in told
        assert "+40 booked a sales call about ThermalCommand" in told
        page.goto(home)
        expect(page.locator(".extension-notice")).to_have_text("Our sales team gave you 7 more days to evaluate.")
        journey.shoot(page, ARTEFACTS, "08-sandbox-extended-for-a-qualified-lead")

        journey.sign_out(page)
        assert page.get_by_role("link", name="Sign in").first.is_visible()

    wait_for(lambda: "dashboard_accessed" in events_of(EMAIL), "the client-side events to be stored")
    names = events_of(EMAIL)
    assert names.index("demo_started") < names.index("dashboard_accessed") < names.index("sales_contact_requested")
    assert {"page_view", "feature_viewed"} <= set(names)


def tour_progress(email: str) -> tuple[str, str, list[str]]:
    (status, step, completed), *_ = rows(
        "SELECT p.status, p.step, p.completed FROM tours_tourprogress p"
        " JOIN demoportal_user u ON u.id = p.user_id WHERE u.email = %s",
        email,
    )
    return status, step, completed


def test_a_tour_step_completes_when_the_live_plant_responds_to_the_prospects_action(portal: str) -> None:
    """ThermalCommand for an engineer, on a refinery: the prospect trims the heater's O2, the tour speeds
    the plant's clock up, and the step "Watch the plant respond" completes when the live efficiency has
    risen, as the prospect watches it on the page."""
    email = f"process.engineer.{int(time.time())}@northwind-refining.example"
    with journey.chromium() as browser:
        page = journey.new_page(browser)
        journey.sign_up(page, portal, email)
        journey.verify_from_mailbox(page, portal, email)
        journey.choose_demo(page, portal, product="thermalcommand", industry="oil_gas", role="engineer")

        for step_id in ("welcome", "history"):  # steps that only explain: "Next"
            journey.tour_step(page, step_id).get_by_role("button", name="Next").click()
        elsewhere = journey.tour_step(page, "o2-now")
        expect(elsewhere).to_contain_text("This step is on another page")
        elsewhere.get_by_role("button", name="Take me there").click()
        page.wait_for_url(re.compile(r"/assets/H-101/$"))
        o2_now = journey.tour_step(page, "o2-now")
        expect(o2_now.locator("[data-tour-value]")).to_have_text(re.compile(r"^\d+\.\d+$"))  # live O2
        o2_now.get_by_role("button", name="Next").click()
        journey.tour_step(page, "trend").get_by_role("button", name="Next").click()

        trim = journey.tour_step(page, "o2-trim")
        expect(trim).to_contain_text("Waiting for you to apply it")
        page.locator("#o2-trim input[name=o2_setpoint_pct]").fill("2")
        page.locator("#o2-trim").get_by_role("button").click()

        respond = journey.tour_step(page, "efficiency-rises")  # the trim stored, the tour moved on by itself
        expect(respond.locator("[data-tour-wait]")).to_have_text("Watching the live plant…")
        journey.shoot(page, ARTEFACTS, "10-tour-waiting-for-the-plant")
        expect(respond.locator("[data-tour-wait]")).to_have_attribute("data-tour-wait", "done", timeout=120_000)
        journey.shoot(page, ARTEFACTS, "11-tour-the-plant-responded")
        expect(journey.tour_step(page, "alarms")).to_be_visible(timeout=20_000)

    status, step, completed = tour_progress(email)
    assert (status, step) == ("active", "alarms")
    assert completed[-2:] == ["o2-trim", "efficiency-rises"]
    wait_for(lambda: "optimization_applied" in events_of(email), "the trim's event")
    names = events_of(email)
    assert names.count("feature_viewed") >= 5  # each step shown records it once
