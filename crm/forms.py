"""Forms of the calls to action. Contact details are not asked: they come from the prospect's profile. Someone
who did not agree to be contacted at sign-up is asked here, explicitly: sales cannot answer otherwise."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import forms
from django.utils import timezone

from crm.models import PocRequest, PricingRequest, SalesCallSlot
from crm.selectors import slots_free, slots_nearest_free
from crm.services import SLOT_TAKEN
from demoportal.core.formats import span_text
from demoportal.core.forms import contact_consent_field
from demoportal.core.webforms import BaseForm

MESSAGE_MAX = 2000
FREE_SLOTS_SHOWN = 30
POC_MONTHS_AHEAD = 12


def message_field(label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": MESSAGE_MAX}),
    )


class CtaForm(BaseForm):
    """A call to action's form. ``ask_consent``: the person has not agreed to be contacted yet, so the form
    carries the consent checkbox (unticked, required: the request cannot be answered without contact)."""

    def __init__(self, *args: Any, ask_consent: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if ask_consent:
            self.fields["contact_consent"] = contact_consent_field(required=True)

    @property
    def asks_consent(self) -> bool:
        return "contact_consent" in self.fields

    def request_fields(self) -> dict[str, Any]:
        """The cleaned request, without the consent (which the service takes on its own)."""
        return {name: value for name, value in self.cleaned_data.items() if name != "contact_consent"}


class PricingRequestForm(CtaForm):
    company_size = forms.ChoiceField(
        label="Company size", choices=[("", "Choose a size"), *PricingRequest.CompanySize.choices]
    )
    sites = forms.IntegerField(
        label="Number of sites",
        min_value=1,
        max_value=10_000,
        help_text="Plants or sites the product would cover.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    timeframe = forms.ChoiceField(
        label="When would you start?", choices=[("", "Choose a timeframe"), *PricingRequest.Timeframe.choices]
    )
    message = message_field("Anything we should know? (optional)")


def month_choices(today: date) -> list[tuple[str, str]]:
    """This month and the next POC_MONTHS_AHEAD - 1, as ("2026-12", "December 2026")."""
    choices = []
    year, month = today.year, today.month
    for _ in range(POC_MONTHS_AHEAD):
        first = date(year, month, 1)
        choices.append((f"{first:%Y-%m}", f"{first:%B %Y}"))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return choices


class PocRequestForm(CtaForm):
    sites = forms.IntegerField(
        label="Sites in the proof of concept",
        min_value=1,
        max_value=50,
        initial=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    objective = forms.ChoiceField(
        label="Main objective", choices=PocRequest.Objective.choices, widget=forms.RadioSelect
    )
    start_month = forms.ChoiceField(label="Desired start")
    message = message_field("What should the proof of concept show? (optional)")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["start_month"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "Choose a month"), *month_choices(timezone.now().date())]

    def clean_start_month(self) -> date:
        year, month = self.cleaned_data["start_month"].split("-")
        return date(int(year), int(month), 1)


def slot_label(slot: SalesCallSlot) -> str:
    """ "3 Dec 2026 14:00–14:30 UTC · with Jane Doe": stored and shown in UTC, the zone named, in the pages'
    one date-time format (``demoportal.core.formats``)."""
    return f"{span_text(slot.starts_at, slot.ends_at)} · with {slot.salesperson.display_name}"


def slot_taken_message(slot: SalesCallSlot, *, now: datetime | None = None) -> str:
    """The error beside the slot field, naming the free times nearest to the one asked for."""
    nearest = slots_nearest_free(around=slot.starts_at, limit=3, now=now)
    if not nearest:
        return f"{SLOT_TAKEN} No other time is free right now: request pricing and sales will contact you."
    return f"{SLOT_TAKEN} The nearest free times: {'; '.join(slot_label(s) for s in nearest)}."


class SlotChoiceField(forms.ModelChoiceField[SalesCallSlot]):
    """Shows the free slots, but accepts any slot's id: whether it is still free is for the booking service
    to say (the database decides, races included), and a taken slot then gets a helpful error naming the
    nearest free times instead of "Select a valid choice"."""

    def label_from_instance(self, obj: SalesCallSlot) -> str:
        return slot_label(obj)

    def to_python(self, value: Any) -> SalesCallSlot | None:
        if value in self.empty_values:
            return None
        try:
            return SalesCallSlot.objects.select_related("salesperson").get(pk=int(value))
        except (TypeError, ValueError, SalesCallSlot.DoesNotExist):
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice") from None


class SalesCallForm(CtaForm):
    slot = SlotChoiceField(
        label="Choose a time (UTC)",
        queryset=SalesCallSlot.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": "Choose one of the times.",
            "invalid_choice": "This time is not offered; choose one of the times listed.",
        },
    )
    message = message_field("What would you like to cover? (optional)")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["slot"]
        assert isinstance(field, SlotChoiceField)
        field.queryset = slots_free()[:FREE_SLOTS_SHOWN]

    @property
    def has_free_slots(self) -> bool:
        field = self.fields["slot"]
        assert isinstance(field, SlotChoiceField)
        assert field.queryset is not None
        return field.queryset.exists()
