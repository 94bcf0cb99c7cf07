"""Sales see every request in the admin, tick them handled, and offer call slots."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from crm.models import PocRequest, PricingRequest, SalesCallBooking, SalesCallSlot
from demoportal.core.models import User
from sandboxes.models import Sandbox
from tests.crm.conftest import in_days


@pytest.fixture
def sales_client(client: Client, salesperson: User) -> Client:
    client.force_login(salesperson)
    client.defaults["HTTP_HOST"] = "localhost"  # the admin is on the portal's host
    return client


@pytest.fixture
def requests_made(own_sandbox: Sandbox, prospect: User, make_slot: Callable[..., SalesCallSlot]) -> dict[str, object]:
    common = {"user": prospect, "sandbox": own_sandbox, "product": "thermalcommand", "industry": "oil_gas"}
    slot = make_slot(in_days(2))
    return {
        "pricingrequest": PricingRequest.objects.create(company_size="1-249", sites=2, timeframe="0-3m", **common),
        "pocrequest": PocRequest.objects.create(sites=1, objective="fuel", start_month=date(2030, 1, 1), **common),
        "salescallbooking": SalesCallBooking.objects.create(slot=slot, **common),
        "salescallslot": slot,
    }


def test_the_sales_group_may_view_and_change_requests_and_manage_slots(db: None) -> None:
    codenames = set(Group.objects.get(name="Sales").permissions.values_list("codename", flat=True))

    assert {"view_pricingrequest", "change_pricingrequest", "view_pocrequest", "change_pocrequest"} <= codenames
    assert {"view_salescallbooking", "change_salescallbooking"} <= codenames
    assert {"view_salescallslot", "add_salescallslot", "change_salescallslot", "delete_salescallslot"} <= codenames
    assert "delete_pricingrequest" not in codenames


@pytest.mark.parametrize("model", ["pricingrequest", "pocrequest", "salescallbooking", "salescallslot"])
def test_admin_lists_and_pages_load_for_sales(
    sales_client: Client, requests_made: dict[str, object], model: str
) -> None:
    listing = sales_client.get(f"/admin/crm/{model}/")
    detail = sales_client.get(f"/admin/crm/{model}/{requests_made[model].pk}/change/")  # type: ignore[attr-defined]
    searched = sales_client.get(f"/admin/crm/{model}/?q=gulf")

    assert listing.status_code == 200
    assert detail.status_code == 200
    assert searched.status_code == 200
    assert searched.context["cl"].result_count == 1
    if model != "salescallslot":
        assert b"buyer@refinery.example" in listing.content
        assert b"Gulf Refining" in listing.content
        assert b"test-sandbox" in listing.content


def test_slots_show_who_booked_them_and_filter_by_booked(
    sales_client: Client, requests_made: dict[str, object]
) -> None:
    free = SalesCallSlot.objects.create(
        starts_at=in_days(9), salesperson=User.objects.get(email="jane.seller@vendor.example")
    )

    listing = sales_client.get("/admin/crm/salescallslot/")
    only_free = sales_client.get("/admin/crm/salescallslot/?booked=no")

    assert b"Ada Buyer (Gulf Refining)" in listing.content  # by name
    assert list(only_free.context["cl"].result_list) == [free]


def test_sales_add_a_slot_in_utc(sales_client: Client, salesperson: User) -> None:
    response = sales_client.post(
        "/admin/crm/salescallslot/add/",
        {
            "starts_at_0": "2030-03-04",
            "starts_at_1": "15:30:00",
            "duration_minutes": "30",
            "salesperson": salesperson.pk,
            "meeting_link": "https://meet.example/jane",
        },
    )

    assert response.status_code == 302
    slot = SalesCallSlot.objects.get()
    assert slot.starts_at.isoformat() == "2030-03-04T15:30:00+00:00"


def test_sales_tick_a_request_handled_but_cannot_add_or_delete_one(
    sales_client: Client, requests_made: dict[str, object]
) -> None:
    pricing = requests_made["pricingrequest"]
    assert isinstance(pricing, PricingRequest)

    response = sales_client.post(
        "/admin/crm/pricingrequest/", {"action": "mark_handled", "_selected_action": [pricing.pk]}
    )

    assert response.status_code == 302
    pricing.refresh_from_db()
    assert pricing.handled
    assert sales_client.get("/admin/crm/pricingrequest/add/").status_code == 403
    assert sales_client.get(f"/admin/crm/pricingrequest/{pricing.pk}/delete/").status_code == 403


def test_a_booked_slot_cannot_be_deleted(sales_client: Client, requests_made: dict[str, object]) -> None:
    slot = requests_made["salescallslot"]
    assert isinstance(slot, SalesCallSlot)

    assert sales_client.get(f"/admin/crm/salescallslot/{slot.pk}/delete/").status_code == 403
    assert SalesCallSlot.objects.filter(pk=slot.pk).exists()


@pytest.fixture
def marketing_client(client: Client, db: None) -> Client:
    marketer = User.objects.create_user(email="m@vendor.example", password="pw", is_staff=True)
    marketer.groups.add(Group.objects.get(name="Marketing"))
    client.force_login(marketer)
    client.defaults["HTTP_HOST"] = "localhost"
    return client


@pytest.mark.parametrize("model", ["pricingrequest", "pocrequest"])
def test_marketing_read_the_hand_raisers_but_change_nothing(
    marketing_client: Client, requests_made: dict[str, object], model: str
) -> None:
    request = requests_made[model]
    assert isinstance(request, PricingRequest | PocRequest)

    listing = marketing_client.get(f"/admin/crm/{model}/")
    detail = marketing_client.get(f"/admin/crm/{model}/{request.pk}/change/")
    posted = marketing_client.post(f"/admin/crm/{model}/{request.pk}/change/", {"handled": "on"})
    bulk = marketing_client.post(
        f"/admin/crm/{model}/",
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": request.pk,
            "form-0-handled": "on",
            "_save": "1",
        },
    )
    action = marketing_client.post(f"/admin/crm/{model}/", {"action": "mark_handled", "_selected_action": [request.pk]})

    assert (listing.status_code, detail.status_code) == (200, 200)
    assert b"Gulf Refining" in listing.content
    assert b'name="form-0-handled"' not in listing.content  # no box to tick
    assert b"mark_handled" not in listing.content  # nor the action
    assert b'name="_save"' not in detail.content  # no save button
    assert b'name="handled"' not in detail.content
    assert (posted.status_code, bulk.status_code) == (403, 403)
    assert action.status_code in (200, 302)  # Django's "no action selected", not the action
    request.refresh_from_db()
    assert not request.handled


def test_marketing_see_no_call_bookings_or_slots(marketing_client: Client, requests_made: dict[str, object]) -> None:
    assert marketing_client.get("/admin/crm/salescallbooking/").status_code == 403
    assert marketing_client.get("/admin/crm/salescallslot/").status_code == 403


def test_requests_read_with_names_not_keys(sales_client: Client, requests_made: dict[str, object]) -> None:
    pricing, poc, booking = (requests_made[m] for m in ("pricingrequest", "pocrequest", "salescallbooking"))

    listing = sales_client.get("/admin/crm/pricingrequest/")
    html = listing.content.decode()
    filters = {
        spec.title: [c["display"] for c in spec.choices(listing.context["cl"])]
        for spec in listing.context["cl"].filter_specs
    }

    assert str(pricing) == "Pricing for ThermalCommand (Ada Buyer, Gulf Refining)"
    assert str(poc) == "POC of ThermalCommand from Jan 2030 (Ada Buyer, Gulf Refining)"
    assert str(booking).startswith("Call with Ada Buyer, Gulf Refining: ")
    assert '<td class="field-product_name">ThermalCommand</td>' in html
    assert '<td class="field-industry_name">Oil &amp; gas</td>' in html
    assert ">thermalcommand<" not in html
    assert ">oil_gas<" not in html
    assert "EmissionsGuardian" in filters["product"]
    assert "Oil & gas" in filters["industry"]


def test_a_request_of_a_prospect_without_a_name_or_company_reads_their_e_mail(db: None) -> None:
    anonymous = User.objects.create_user(email="someone@plant.example", password="pw")

    pricing = PricingRequest(user=anonymous, product="", company_size="1-249", sites=1, timeframe="0-3m")

    assert str(pricing) == "Pricing for a product (someone@plant.example)"
