"""Book a sales call: free future slots, one booking per slot (the database decides, also in a race),
a taken slot answered with the nearest free times, and the invitation e-mailed with an .ics file."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import icalendar
import pytest
from django.core import mail
from django.db import connection
from django.test import Client

from analytics.models import Event
from crm.forms import slot_label
from crm.models import SalesCallBooking, SalesCallSlot
from crm.selectors import slots_nearest_free
from crm.services import SLOT_PASSED, SLOT_TAKEN, SlotTakenError, demo_slots_ensure, sales_call_book
from demoportal.core.exceptions import DomainError
from demoportal.core.models import User
from sandboxes.models import Sandbox
from tests.crm.conftest import in_days

MakeSlot = Callable[..., SalesCallSlot]


def test_the_page_lists_free_future_slots_in_utc(member: Client, make_slot: MakeSlot, prospect: User) -> None:
    free = make_slot(in_days(1))
    booked = make_slot(in_days(2))
    SalesCallBooking.objects.create(user=prospect, slot=booked)
    past = make_slot(in_days(-1))

    page = member.get("/contact/call/")

    assert page.status_code == 200
    assert f'value="{free.pk}"'.encode() in page.content
    assert f'value="{booked.pk}"'.encode() not in page.content
    assert f'value="{past.pk}"'.encode() not in page.content
    assert f"{free.starts_at:%H:%M}–{free.ends_at:%H:%M} UTC · with Jane Seller".encode() in page.content


def test_with_no_free_slot_the_page_says_so_and_offers_pricing(member: Client) -> None:
    page = member.get("/contact/call/")

    assert page.status_code == 200
    assert b"No call times are open right now" in page.content
    assert b'name="slot"' not in page.content
    assert b"/contact/pricing/" in page.content


def test_booking_a_slot_stores_it_records_the_event_and_mails_the_invitation(
    member: Client,
    make_slot: MakeSlot,
    prospect: User,
    salesperson: User,
    own_sandbox: Sandbox,
    django_capture_on_commit_callbacks: Any,
) -> None:
    slot = make_slot(in_days(3), duration_minutes=45, meeting_link="https://meet.example/abc")

    with django_capture_on_commit_callbacks(execute=True):
        response = member.post("/contact/call/", {"slot": slot.pk, "message": "Heater H-101 O2"})

    assert response.status_code == 302
    booking = SalesCallBooking.objects.get(slot=slot)
    assert (booking.user, booking.sandbox, booking.product, booking.industry) == (
        prospect,
        own_sandbox,
        "thermalcommand",
        "oil_gas",
    )
    assert booking.confirmation_sent_at is not None
    event = Event.objects.get(name="sales_contact_requested")
    assert (event.user, event.sandbox, event.properties["booking_id"]) == (prospect, own_sandbox, booking.pk)

    to_prospect, to_salesperson = mail.outbox
    assert to_prospect.to == ["buyer@refinery.example"]
    assert to_salesperson.to == ["jane.seller@vendor.example"]
    assert f"{slot.starts_at:%H:%M}–{slot.ends_at:%H:%M} UTC" in to_prospect.body
    assert "https://meet.example/abc" in to_prospect.body
    assert "Gulf Refining" in to_salesperson.body
    # Branded, addressed by name, products and industries by their names, never their keys.
    # The pages' one date-time format (demoportal/core/formats.py): "6 Dec 2026 14:00–14:45 UTC".
    when = f"{slot.starts_at.day} {slot.starts_at:%b %Y %H:%M}–{slot.ends_at:%H:%M} UTC"
    assert to_prospect.subject == f"Process Heat · Your call with Jane Seller: {when}"
    assert to_salesperson.subject == f"Process Heat · Call booked: Ada Buyer, Gulf Refining, {when}"
    assert {message.from_email for message in mail.outbox} == {"Process Heat Demo Portal <demo@localhost>"}
    assert to_prospect.body.startswith("Hello Ada,\n")
    assert "Your call about your ThermalCommand demo (Oil & gas) is booked" in to_prospect.body
    assert to_salesperson.body.startswith("Ada Buyer <buyer@refinery.example> (Energy manager at Gulf Refining)")
    assert "Product: ThermalCommand · Industry: Oil & gas" in to_salesperson.body
    for message in mail.outbox:
        assert "thermalcommand" not in message.body
        assert "oil_gas" not in message.body
        assert "localhost:" not in message.subject
    for message in mail.outbox:
        ((filename, content, mimetype),) = message.attachments
        assert (filename, mimetype) == ("sales-call.ics", "text/calendar")
        calendar = icalendar.Calendar.from_ical(content)
        (event_ics,) = calendar.walk("VEVENT")
        assert calendar["METHOD"] == "REQUEST"
        assert event_ics.decoded("DTSTART") == slot.starts_at
        assert event_ics.decoded("DTEND") == slot.ends_at
        assert str(event_ics["ORGANIZER"]) == "mailto:jane.seller@vendor.example"
        assert str(event_ics["ATTENDEE"]) == "mailto:buyer@refinery.example"
        assert str(event_ics["LOCATION"]) == "https://meet.example/abc"
        assert str(event_ics["SUMMARY"]) == "Call about your ThermalCommand demo (Oil & gas)"
        assert (event_ics["ORGANIZER"].params["CN"], event_ics["ATTENDEE"].params["CN"]) == ("Jane Seller", "Ada Buyer")
        raw = content.decode() if isinstance(content, bytes) else str(content)
        assert f"DTSTART:{slot.starts_at:%Y%m%dT%H%M%S}Z" in raw  # UTC, the zone named


def test_no_mail_goes_out_before_the_booking_commits(member: Client, make_slot: MakeSlot) -> None:
    slot = make_slot(in_days(3))

    member.post("/contact/call/", {"slot": slot.pk})  # the test's transaction never commits

    assert SalesCallBooking.objects.filter(slot=slot).exists()
    assert mail.outbox == []


def test_a_taken_slot_is_an_error_offering_the_three_nearest_free_times(member: Client, make_slot: MakeSlot) -> None:
    wanted = make_slot(in_days(5, hour=10))
    far_before, before = make_slot(in_days(1, hour=10)), make_slot(in_days(4, hour=16))
    after, later, far_after = make_slot(in_days(5, hour=11)), make_slot(in_days(6)), make_slot(in_days(20))
    other = User.objects.create_user(email="first@plant.example", password="pw")
    sales_call_book(user=other, sandbox=None, slot=wanted, contact_consent=True)
    mail.outbox.clear()

    response = member.post("/contact/call/", {"slot": wanted.pk})

    assert response.status_code == 400
    (error,) = response.context["form"].errors["slot"]
    assert error.startswith(SLOT_TAKEN)
    for suggested in (before, after, later):
        assert slot_label(suggested) in error
    for not_suggested in (far_before, far_after):
        assert slot_label(not_suggested) not in error
    assert b'id="id_slot_error"' in response.content
    assert f'value="{wanted.pk}"'.encode() not in response.content  # no longer offered
    assert SalesCallBooking.objects.filter(slot=wanted).get().user == other
    assert SalesCallBooking.objects.count() == 1
    assert not Event.objects.filter(name="sales_contact_requested").exclude(user=other).exists()
    assert mail.outbox == []


def test_a_taken_slot_with_nothing_else_free_says_so(member: Client, make_slot: MakeSlot) -> None:
    wanted = make_slot(in_days(2))
    sales_call_book(
        user=User.objects.create_user(email="first@plant.example", password="pw"),
        sandbox=None,
        slot=wanted,
        contact_consent=True,
    )

    response = member.post("/contact/call/", {"slot": wanted.pk})

    assert response.status_code == 400
    assert "No other time is free right now" in response.context["form"].errors["slot"][0]


@pytest.mark.parametrize(
    ("slot", "error"),
    [
        ("", "Choose one of the times."),
        ("999999", "This time is not offered"),
        ("abc", "This time is not offered"),
    ],
)
def test_a_missing_or_unknown_slot_is_an_error(member: Client, slot: str, error: str) -> None:
    response = member.post("/contact/call/", {"slot": slot})

    assert response.status_code == 400
    assert error in response.context["form"].errors["slot"][0]
    assert not SalesCallBooking.objects.exists()


def test_a_slot_that_has_started_cannot_be_booked(member: Client, make_slot: MakeSlot) -> None:
    past = make_slot(in_days(-1))

    response = member.post("/contact/call/", {"slot": past.pk})

    assert response.status_code == 400
    assert "already passed" in response.context["form"].errors["slot"][0]
    assert response.context["form"].errors["slot"] == [f"{SLOT_PASSED} Choose a later one."]  # no "taken"
    assert not SalesCallBooking.objects.exists()


def test_the_service_tells_a_started_slot_from_a_taken_one(make_slot: MakeSlot, prospect: User) -> None:
    with pytest.raises(DomainError) as refused:
        sales_call_book(user=prospect, sandbox=None, slot=make_slot(in_days(-1)))

    assert not isinstance(refused.value, SlotTakenError)
    assert (refused.value.errors, refused.value.status_code) == ({"slot": [SLOT_PASSED]}, 409)


def test_a_too_long_note_is_an_error(member: Client, make_slot: MakeSlot) -> None:
    slot = make_slot(in_days(2))

    response = member.post("/contact/call/", {"slot": slot.pk, "message": "x" * 2001})

    assert response.status_code == 400
    assert "message" in response.context["form"].errors
    assert not SalesCallBooking.objects.exists()


def test_the_second_booking_of_a_slot_fails_at_the_database(make_slot: MakeSlot, prospect: User) -> None:
    slot = make_slot(in_days(2))
    other = User.objects.create_user(email="first@plant.example", password="pw")
    sales_call_book(user=other, sandbox=None, slot=slot, contact_consent=True)
    late = User.objects.create_user(email="late@plant.example", password="pw")  # agrees with the booking

    with pytest.raises(SlotTakenError) as refused:
        sales_call_book(user=prospect, sandbox=None, slot=slot)  # no check before the insert: the key refuses
    with pytest.raises(SlotTakenError):
        sales_call_book(user=late, sandbox=None, slot=slot, contact_consent=True)

    assert refused.value.errors == {"slot": [SLOT_TAKEN]}
    assert refused.value.status_code == 409
    assert SalesCallBooking.objects.get(slot=slot).user == other
    assert Event.objects.filter(name="sales_contact_requested").count() == 1
    # The consent given with a booking that never happened is not kept, in the database nor on the object.
    assert late.contact_consent_at is None
    late.refresh_from_db()
    assert (late.contact_consent_at, late.contact_consent_version) == (None, "")


def test_two_bookings_of_one_slot_at_the_same_moment_one_wins(committed_db: None) -> None:
    salesperson = User.objects.create_user(email="race.seller@vendor.example", password="pw", is_staff=True)
    prospects = [User.objects.create_user(email=f"racer{i}@plant.example", password="pw") for i in range(2)]
    slot = SalesCallSlot.objects.create(starts_at=in_days(2), salesperson=salesperson)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def book(user: User) -> None:
        try:
            barrier.wait(timeout=10)
            sales_call_book(user=user, sandbox=None, slot=slot, contact_consent=True)
            outcomes[user.email] = "booked"
        except DomainError as error:
            outcomes[user.email] = error.detail
        finally:
            connection.close()

    try:
        threads = [threading.Thread(target=book, args=(user,)) for user in prospects]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert sorted(outcomes.values()) == sorted(["booked", SLOT_TAKEN])
        winner = next(email for email, outcome in outcomes.items() if outcome == "booked")
        assert SalesCallBooking.objects.get(slot=slot).user.email == winner
        assert Event.objects.filter(name="sales_contact_requested", user__in=prospects).count() == 1
        consented = set(User.objects.filter(pk__in=[p.pk for p in prospects], contact_consent_at__isnull=False))
        assert {user.email for user in consented} == {winner}  # the loser's consent went with its booking
    finally:
        Event.objects.filter(user__in=prospects).delete()
        SalesCallBooking.objects.filter(slot=slot).delete()
        slot.delete()
        for user in [*prospects, salesperson]:
            user.delete()


def test_nearest_free_slots_are_the_nearest_on_either_side_in_time_order(make_slot: MakeSlot) -> None:
    around = in_days(10)
    slots = {offset: make_slot(in_days(10 + offset)) for offset in (-3, -1, 2, 4, 7)}

    nearest = slots_nearest_free(around=around, limit=3)

    assert nearest == [slots[-3], slots[-1], slots[2]]  # 3, 1 and 2 days away; in time order


@pytest.mark.django_db
def test_demo_call_times_are_offered_on_working_days_once() -> None:
    sales = User.objects.create_user(email="demo-sales@vendor.example", password="pw", is_staff=True)
    friday = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)

    made = demo_slots_ensure(salesperson=sales, weekdays=2, now=friday)

    starts = list(SalesCallSlot.objects.filter(salesperson=sales).values_list("starts_at", flat=True))
    assert made == 8
    assert {start.date().isoformat() for start in starts} == {"2026-11-23", "2026-11-24"}  # Monday, Tuesday
    assert demo_slots_ensure(salesperson=sales, weekdays=2, now=friday) == 0
