"""Writes for the calls to action: each stores the request and records its analytics event in one
transaction; a booked call also sends its invitation once that transaction has committed.

A request asks to be contacted, so it needs the person's consent to be contacted: given at sign-up, or with
the request (``contact_consent=True``, recorded in the request's transaction before its event, so the event
scores the new lead); without either it is refused (``contact_consent_require``) and nothing is stored."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from icalendar import Calendar, vCalAddress, vText
from icalendar import Event as CalendarEvent

from analytics.services.events import event_record
from crm import pdf
from crm.models import PocRequest, PricingRequest, SalesCallBooking, SalesCallSlot
from crm.selectors import sandbox_findings
from demoportal.core import catalogue
from demoportal.core.exceptions import DomainError
from demoportal.core.formats import span_text
from demoportal.core.mail import mail_subject
from demoportal.core.models import User
from demoportal.core.services import contact_consent_require
from sandboxes.models import Sandbox

SLOT_TAKEN = "Someone has just booked this time."
SLOT_PASSED = "This time has already passed."


class SlotTakenError(DomainError):
    """Someone else booked the slot first (409): the page then offers the nearest free times."""

    def __init__(self) -> None:
        super().__init__(SLOT_TAKEN, errors={"slot": [SLOT_TAKEN]}, status_code=409)


def pricing_request_create(
    *,
    user: User,
    sandbox: Sandbox | None,
    company_size: str,
    sites: int,
    timeframe: str,
    message: str = "",
    contact_consent: bool = False,
) -> PricingRequest:
    """Store a pricing request from ``sandbox`` and record ``pricing_requested`` (``contact_consent``: see above)."""
    with transaction.atomic():
        contact_consent_require(user=user, given=contact_consent)
        request = PricingRequest.objects.create(
            user=user,
            sandbox=sandbox,
            product=sandbox.product if sandbox else "",
            industry=sandbox.industry if sandbox else "",
            company_size=company_size,
            sites=sites,
            timeframe=timeframe,
            message=message,
        )
        if not user.company_size:  # what they told us counts for their lead's fit
            user.company_size = company_size
            user.save(update_fields=["company_size"])
        event_record(
            name="pricing_requested",
            user=user,
            sandbox=sandbox,
            properties={"request_id": request.pk, "product": request.product, "sites": sites, "timeframe": timeframe},
        )
    return request


def poc_request_create(
    *,
    user: User,
    sandbox: Sandbox | None,
    sites: int,
    objective: str,
    start_month: date,
    message: str = "",
    contact_consent: bool = False,
) -> PocRequest:
    """Store a proof-of-concept request from ``sandbox`` and record ``poc_started`` (``contact_consent``: see
    above)."""
    with transaction.atomic():
        contact_consent_require(user=user, given=contact_consent)
        request = PocRequest.objects.create(
            user=user,
            sandbox=sandbox,
            product=sandbox.product if sandbox else "",
            industry=sandbox.industry if sandbox else "",
            sites=sites,
            objective=objective,
            start_month=start_month.replace(day=1),
            message=message,
        )
        event_record(
            name="poc_started",
            user=user,
            sandbox=sandbox,
            properties={"request_id": request.pk, "product": request.product, "objective": objective},
        )
    return request


def sales_call_book(
    *, user: User, sandbox: Sandbox | None, slot: SalesCallSlot, message: str = "", contact_consent: bool = False
) -> SalesCallBooking:
    """Book ``slot`` for ``user`` and record ``sales_contact_requested``; once committed, the prospect and
    the salesperson get the invitation (``booking_confirmation_send``). ``contact_consent``: see above.

    A slot that has started is a DomainError on ``slot`` (409); one that is taken, a ``SlotTakenError``.
    Two requests for the same free slot at once: the one-to-one key lets exactly one insert through, the
    other gets ``SlotTakenError`` (and a consent given with it is not kept: the booking never happened).
    """
    if slot.starts_at <= timezone.now():
        raise DomainError(SLOT_PASSED, errors={"slot": [SLOT_PASSED]}, status_code=409)
    consent_before = (user.contact_consent_at, user.contact_consent_version)
    try:
        with transaction.atomic():
            contact_consent_require(user=user, given=contact_consent)
            booking = SalesCallBooking.objects.create(
                user=user,
                sandbox=sandbox,
                product=sandbox.product if sandbox else "",
                industry=sandbox.industry if sandbox else "",
                slot=slot,
                message=message,
            )
            event_record(
                name="sales_contact_requested",
                user=user,
                sandbox=sandbox,
                properties={"booking_id": booking.pk, "slot_starts_at": slot.starts_at.isoformat()},
            )
    except IntegrityError:
        user.contact_consent_at, user.contact_consent_version = consent_before  # rolled back with the booking
        raise SlotTakenError from None
    booking_id = booking.pk
    # robust: a mail server that fails is logged; the booking stands and the admin shows it unconfirmed.
    transaction.on_commit(lambda: booking_confirmation_send(booking_id=booking_id), robust=True)
    return booking


def _slot_label(slot: SalesCallSlot) -> str:
    return span_text(slot.starts_at, slot.ends_at)


def _demo_of(booking: SalesCallBooking) -> str:
    """ "your BoilerOptimizer demo (Food & beverage)": the product and industry by their catalogue names."""
    if not booking.product:
        return "your demo"
    industry = f" ({catalogue.industry_name(booking.industry)})" if booking.industry else ""
    return f"your {catalogue.product_name(booking.product)} demo{industry}"


def booking_invitation_ics(*, booking: SalesCallBooking) -> bytes:
    """The booking as an iCalendar invitation (RFC 5545, METHOD:REQUEST), times in UTC."""
    slot, prospect, salesperson = booking.slot, booking.user, booking.slot.salesperson
    calendar = Calendar()
    calendar.add("prodid", "-//Process Heat Demo Portal//Sales call//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = CalendarEvent()
    event.add("uid", f"sales-call-{booking.pk}@{settings.PORTAL_HOST}")
    event.add("dtstamp", booking.created_at)
    event.add("dtstart", slot.starts_at)
    event.add("dtend", slot.ends_at)
    event.add("summary", f"Call about {_demo_of(booking)}")
    description = f"{salesperson.display_name} will walk through your demo sandbox and answer your questions."
    if booking.message:
        description += f"\n\nYour note: {booking.message}"
    if slot.meeting_link:
        description += f"\n\nJoin: {slot.meeting_link}"
        event.add("location", slot.meeting_link)
        event.add("url", slot.meeting_link)
    event.add("description", description)
    organizer = vCalAddress(f"mailto:{salesperson.email}")
    organizer.params["cn"] = vText(salesperson.display_name)
    event.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{prospect.email}")
    attendee.params["cn"] = vText(prospect.display_name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    attendee.params["partstat"] = vText("NEEDS-ACTION")
    attendee.params["rsvp"] = vText("TRUE")
    event.add("attendee", attendee)
    calendar.add_component(event)
    return bytes(calendar.to_ical())


def booking_confirmation_send(*, booking_id: int) -> SalesCallBooking:
    """E-mail the invitation (.ics attached) to the prospect, and a copy to the salesperson; stamps
    ``confirmation_sent_at``. Runs after the booking's transaction commits."""
    booking = SalesCallBooking.objects.select_related("slot__salesperson", "user", "sandbox").get(pk=booking_id)
    slot, prospect, salesperson = booking.slot, booking.user, booking.slot.salesperson
    ics = booking_invitation_ics(booking=booking)
    when = _slot_label(slot)
    join = f"\nJoin the call: {slot.meeting_link}\n" if slot.meeting_link else ""
    to_prospect = EmailMessage(
        subject=mail_subject(f"Your call with {salesperson.display_name}: {when}"),
        body=(
            f"Hello {prospect.greeting_name},\n\n"
            f"Your call about {_demo_of(booking)} is booked for {when} ({slot.duration_minutes} minutes) "
            f"with {salesperson.display_name} ({salesperson.email}).\n{join}\n"
            "The invitation is attached: open it to add the call to your calendar.\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[prospect.email],
        reply_to=[salesperson.email],
    )
    sandbox_line = f"Sandbox: {booking.sandbox.name} ({booking.sandbox.slug})\n" if booking.sandbox else ""
    company = f", {prospect.company}" if prospect.company else ""
    product = catalogue.product_name(booking.product) if booking.product else "—"
    industry = catalogue.industry_name(booking.industry) if booking.industry else "—"
    to_salesperson = EmailMessage(
        subject=mail_subject(f"Call booked: {prospect.display_name}{company}, {when}"),
        body=(
            f"{prospect.display_name} <{prospect.email}> ({prospect.job_title or 'no title'} at "
            f"{prospect.company or 'no company given'}) booked your slot {when}.\n"
            f"Product: {product} · Industry: {industry}\n{sandbox_line}"
            f"Phone: {prospect.phone or '—'}\nNote: {booking.message or '—'}\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[salesperson.email],
        reply_to=[prospect.email],
    )
    for message in (to_prospect, to_salesperson):
        message.attach("sales-call.ics", ics, "text/calendar")
    get_connection().send_messages([to_prospect, to_salesperson])
    booking.confirmation_sent_at = timezone.now()
    SalesCallBooking.objects.filter(pk=booking.pk).update(confirmation_sent_at=booking.confirmation_sent_at)
    return booking


def report_generate(*, sandbox: Sandbox, user: User) -> tuple[str, bytes]:
    """This sandbox's findings as a PDF: (file name, bytes). Records ``report_generated``."""
    findings = sandbox_findings(sandbox=sandbox)
    document = pdf.findings_report_pdf(findings)
    event_record(
        name="report_generated",
        user=user,
        sandbox=sandbox,
        properties={"kind": "findings_pdf", "annual_savings_usd": round(findings.annual_savings_usd)},
    )
    filename = f"{slugify(findings.plant_name)}-findings-{findings.computed_at:%Y-%m-%d}.pdf"
    return filename, document


def product_sheet_render(*, product_key: str) -> bytes:
    """The catalogue product's sheet as a PDF; an unknown product is a DomainError (404).
    The catalogue is read-only at run time, so each sheet is drawn once per process."""
    if catalogue.product(product_key) is None:
        raise DomainError(f"No product {product_key!r}.", status_code=404)
    return _product_sheet(product_key)


@cache
def _product_sheet(product_key: str) -> bytes:
    product = catalogue.product(product_key)
    assert product is not None
    shown_in = [
        (scenario.name, story.name)
        for scenario in sorted(catalogue.scenarios().values(), key=lambda s: s.name)
        for story in scenario.stories
        if any(feature.startswith(f"{product_key}.") for feature in story.features)
    ]
    return pdf.product_sheet_pdf(product, shown_in)


DEMO_SLOT_HOURS_UTC = (9, 11, 14, 16)


def demo_slots_ensure(*, salesperson: User, weekdays: int = 5, now: datetime | None = None) -> int:
    """Development data: call times for ``salesperson`` on the next ``weekdays`` working days at
    DEMO_SLOT_HOURS_UTC, so a newcomer can book a call in `make run`. Idempotent; returns how many it made."""
    now = now or timezone.now()
    day = now.date()
    made = 0
    while weekdays:
        day += timedelta(days=1)
        if day.weekday() >= 5:
            continue
        weekdays -= 1
        for hour in DEMO_SLOT_HOURS_UTC:
            starts_at = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
            _, created = SalesCallSlot.objects.get_or_create(salesperson=salesperson, starts_at=starts_at)
            made += created
    return made
