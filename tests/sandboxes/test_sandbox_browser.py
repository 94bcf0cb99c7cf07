"""A sandbox's pages in a real browser (Debian's Chromium, driven by Playwright), as a prospect on a phone
(390 × 844) and on a desktop: the page's own content on the first screen with the sandbox's actions folded
into a keyboard-usable disclosure, the plant's clock shown while it runs fast, a chart's figures as a table,
and the guided tour's card never over the element it points at. uvicorn and the simulator run on the test
database (the ``portal`` fixture of tests/demoportal/test_csp_browser.py). Screenshots: ``artefacts/sandbox/``."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import Page, expect

from sandboxes.models import Sandbox
from simulation.models import Plant
from tests.conftest import BASE_DIR, TEST_SANDBOX_SLUG
from tests.demoportal import test_csp_browser as csp
from tests.e2e import journey

portal = csp.portal  # the fixture: uvicorn and the simulator on the test database, the prospect and their sandbox
ARTEFACTS = BASE_DIR / "artefacts" / "sandbox"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

# The card's and its target's boxes in the window, and the window's height.
BOXES = """() => {
  const card = document.querySelector(".shepherd-element.shepherd-enabled");
  const target = document.querySelector(".shepherd-target:not(body)");
  const box = (e) => {
    const r = e.getBoundingClientRect();
    return {left: r.left, top: r.top, right: r.right, bottom: r.bottom};
  };
  return {card: card && box(card), target: target && box(target), height: innerHeight};
}"""


@pytest.fixture
def sandbox_portal(portal: str) -> Iterator[str]:
    """The portal, and the test sandbox's plant clock back at real time afterwards."""
    yield portal
    with schema_context(Sandbox.objects.get(slug=TEST_SANDBOX_SLUG).schema_name):
        Plant.objects.update(time_scale=1, clock_wall_at=None, clock_sim_at=None)


def enter(page: Page, address: str) -> str:
    """Signed in on the portal at ``address`` as the prospect, into their sandbox's home (its chart drawn)."""
    csp.sign_in(page, address, "accounts/login/", csp.PROSPECT)
    page.goto(f"{address}sandboxes/")
    page.get_by_role("button", name="Enter").first.click()
    page.wait_for_url(re.compile(rf"http://{TEST_SANDBOX_SLUG}\.localhost:\d+/$"))
    page.locator("[data-chart][data-state=ready] canvas").first.wait_for()
    return page.url


def sized(page: Page, viewport: dict[str, int]) -> Page:
    page.set_viewport_size(viewport)  # type: ignore[arg-type]  # the two keys Playwright's ViewportSize has
    return page


def test_on_a_phone_the_page_comes_first_and_the_bar_is_one_line_you_can_open(sandbox_portal: str) -> None:
    with journey.chromium() as browser:
        page = sized(journey.new_page(browser), PHONE)
        enter(page, sandbox_portal)
        journey.tour_skip(page)
        expect(page.locator("[data-live]")).to_have_attribute("data-state", "live", timeout=15_000)
        journey.shoot(page, ARTEFACTS, "phone-home")

        hero = page.locator(".sandbox-hero").bounding_box()
        bar = page.locator(".sandbox-bar").bounding_box()
        assert hero is not None
        assert bar is not None
        assert hero["y"] < 320, f"the page's own content starts {hero['y']:.0f} px down on an 844 px screen"
        assert bar["height"] < 60, "the sandbox bar is one line on a phone"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        extend = page.get_by_role("button", name="Extend 24 h")
        expect(extend).to_be_hidden()

        # The keyboard opens the disclosure, walks into it, and Escape closes it with focus back on its button.
        toggle = page.locator("[data-sandbox-menu]")
        toggle.focus()
        page.keyboard.press("Enter")
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(extend).to_be_visible()
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Extend 24 h"
        journey.shoot(page, ARTEFACTS, "phone-sandbox-menu-open")
        page.keyboard.press("Escape")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(extend).to_be_hidden()
        assert page.evaluate("document.activeElement.dataset.sandboxMenu") == ""
        toggle.click()
        page.locator("h1").click()  # a click elsewhere closes it too
        expect(toggle).to_have_attribute("aria-expanded", "false")


def test_a_fast_plant_clock_is_shown_in_the_bar_and_said_when_it_changes(sandbox_portal: str) -> None:
    with journey.chromium() as browser:
        page = sized(journey.new_page(browser), PHONE)
        enter(page, sandbox_portal)
        journey.tour_skip(page)
        clock = page.locator("[data-plant-clock]")
        expect(page.locator("[data-live]")).to_have_attribute("data-state", "live", timeout=15_000)
        expect(clock).to_be_hidden()  # at real time the bar says nothing of it

        def clock_set(scale: int) -> None:  # as the tour does, through the API with the prospect's session
            status = page.evaluate(
                """([id, scale]) => fetch(`/api/v1/sandboxes/${id}/clock`, {
                  method: "POST", credentials: "same-origin", body: JSON.stringify({time_scale: scale}),
                  headers: {"Content-Type": "application/json",
                            "X-CSRFToken": document.querySelector("input[name=csrfmiddlewaretoken]").value},
                }).then((r) => r.status)""",
                [page.locator("[data-sandbox-id]").get_attribute("data-sandbox-id"), scale],
            )
            assert status == 200

        clock_set(60)
        expect(clock).to_be_visible(timeout=15_000)
        expect(clock).to_contain_text(re.compile(r"Plant time \d\d:\d\d"))
        expect(clock.locator("[data-plant-speed]")).to_have_text("· 60× speed")
        expect(page.locator("[data-plant-speed-news]")).to_contain_text("runs at 60× speed")
        journey.shoot(page, ARTEFACTS, "phone-fast-clock")

        page.wait_for_function(  # the plant two minutes ahead (two seconds at 60×)
            "() => Date.parse(document.querySelector('[data-plant-time] time').dateTime) - Date.now() > 120000",
            timeout=15_000,
        )
        clock_set(1)  # back at real time, but the plant ran ahead: its time stays, its speed goes
        expect(clock.locator("[data-plant-speed]")).to_be_hidden(timeout=15_000)
        expect(clock).to_be_visible()
        expect(page.locator("[data-plant-speed-news]")).to_have_text("The plant's clock is back to real time.")


def test_a_chart_is_named_by_what_it_shows_and_its_figures_are_a_table(sandbox_portal: str) -> None:
    with journey.chromium() as browser:
        page = sized(journey.new_page(browser), DESKTOP)
        enter(page, sandbox_portal)
        journey.tour_skip(page)
        chart = page.locator("#history [data-chart]")
        name = chart.locator("[data-chart-plot]").get_attribute("aria-label") or ""
        status = chart.locator("[data-chart-status]").inner_text()
        points = int(re.match(r"([\d,]+) points", status).group(1).replace(",", ""))  # type: ignore[union-attr]

        assert re.match(r"Chart of .+, \d+ points from \d{4}-\d\d-\d\d \d\d:\d\d to .+ UTC, lowest [\d.]+", name), name
        assert chart.get_by_role("img").count() == 1
        table = chart.locator("[data-chart-table]")
        table.locator("summary").focus()
        page.keyboard.press("Enter")  # a <details>: the keyboard opens it
        rows = table.locator("[data-chart-rows] tr")
        expect(rows.first).to_be_visible()
        assert rows.count() >= points  # every point the chart drew (and the live ones since)
        first = rows.first.locator("td").all_inner_texts()
        assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d$", first[0])
        assert re.match(r"-?\d+\.\d\d$", first[1])
        assert f"from {first[0]} to" in name  # the table starts where the chart does
        journey.shoot(page, ARTEFACTS, "desktop-chart-table")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_tour_card_never_covers_the_element_it_points_at(sandbox_portal: str, viewport: dict[str, int]) -> None:
    """The first steps of the engineer's tour (the sandbox has no role): the history chart, the heater's live
    values and its trends — elements taller than a phone's window among them."""
    seen: list[str] = []
    with journey.chromium() as browser:
        page = sized(journey.new_page(browser), viewport)
        enter(page, sandbox_portal)
        for step in ("welcome", "history", "o2-now", "trend", "o2-trim"):
            card = journey.tour_step(page, step)
            expect(card).to_be_visible(timeout=20_000)
            page.wait_for_timeout(1_500)  # the page scrolled to the step (smoothly) and the card followed
            boxes = page.evaluate(BOXES)
            journey.shoot(page, ARTEFACTS, f"tour-{step}-{'phone' if viewport is PHONE else 'desktop'}")
            if boxes["target"] is not None:
                seen.append(step)
                card_box, target = boxes["card"], boxes["target"]
                apart = (
                    card_box["bottom"] <= target["top"]
                    or card_box["top"] >= target["bottom"]
                    or card_box["right"] <= target["left"]
                    or card_box["left"] >= target["right"]
                )
                assert apart, (step, card_box, target)
                assert 0 <= target["top"] < boxes["height"], (step, target)  # the target's start is on screen
                assert card_box["top"] >= 0, (step, card_box)  # the whole card on screen
                assert card_box["bottom"] <= boxes["height"], (step, card_box)
            if step == "o2-trim":
                break
            if step == "history":
                card.get_by_role("button", name="Next").click()
                journey.tour_step(page, "o2-now").get_by_role("button", name="Take me there").click()
                page.wait_for_url(re.compile(r"/assets/H-101/$"))
            else:
                card.get_by_role("button", name="Next").click()

    assert seen == ["history", "o2-now", "trend", "o2-trim"]
