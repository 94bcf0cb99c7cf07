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

    assert b"buyer@refinery.example (Gulf Refining)" in listing.content
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


def test_marketing_does_not_see_the_requests(client: Client, requests_made: dict[str, object]) -> None:
    marketer = User.objects.create_user(email="m@vendor.example", password="pw", is_staff=True)
    marketer.groups.add(Group.objects.get(name="Marketing"))
    client.force_login(marketer)
    client.defaults["HTTP_HOST"] = "localhost"

    assert client.get("/admin/crm/pricingrequest/").status_code == 403
